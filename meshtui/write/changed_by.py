"""Who changed an object at the source, in the words of a message: the field manager the API
server recorded for the last write that was not meshtui's (``kubectl-edit (Update,
2026-12-03T14:03:05Z)``), or the manifest's file and document in files mode."""

from __future__ import annotations

from meshtui.model.managed_fields import last_writer
from meshtui.sources.base import ObjectKey, RawObject, Source


def changed_by(source: Source, obj: RawObject) -> str:
    """`` by MANAGER (OPERATION, TIME)``, `` in FILE document N``, or empty when the source
    cannot tell (prefixed with a space, to follow "changed at the source")."""
    writer = last_writer(obj)
    if writer is not None:
        return f" by {writer}"
    where = source.origin(ObjectKey.of(obj))
    return f" in {where}" if where else ""
