"""Who last wrote an object, as the API server records it in ``metadata.managedFields``: each
entry names a field manager (``kubectl-edit``, ``kubectl-patch``, a controller, ``meshtui``),
its operation and the time of its last write. meshtui writes as ``FIELD_MANAGER``, so a change
that is not its own can be named after the manager that made it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The field manager meshtui's writes carry (``?fieldManager=``).
FIELD_MANAGER = "meshtui"


@dataclass(frozen=True, slots=True)
class Writer:
    """One ``managedFields`` entry: the manager, its operation (Update, Apply), the time of its
    last write (RFC 3339, as the server wrote it) and the subresource (``status``, or empty)."""

    manager: str
    operation: str
    time: str
    subresource: str = ""

    def __str__(self) -> str:
        what = f"{self.manager} ({self.operation}" + (f" of {self.subresource}" if self.subresource else "")
        return f"{what}, {self.time})" if self.time else f"{what})"


def writers(obj: dict[str, Any]) -> list[Writer]:
    """The object's managedFields entries, newest first (entries without a time last)."""
    out = []
    for e in (obj.get("metadata") or {}).get("managedFields") or []:
        if isinstance(e, dict) and e.get("manager"):
            out.append(Writer(str(e["manager"]), str(e.get("operation") or "Update"), str(e.get("time") or ""),
                              str(e.get("subresource") or "")))
    # Times are to the second: of two entries of the same second, the later in the list (where
    # the server puts the entry it updated last) goes first.
    order = {id(w): i for i, w in enumerate(out)}
    return sorted(out, key=lambda w: (w.time, order[id(w)]), reverse=True)


def last_writer(obj: dict[str, Any]) -> Writer | None:
    """The manager other than meshtui that wrote ``obj`` last, or None when meshtui wrote after
    every other (times are to the second: a tie names the other writer, whose change it must
    be when the object is not what meshtui wrote) or the server records no managers (an object
    from files, an old server)."""
    found = writers(obj)
    ours = next((w.time for w in found if w.manager == FIELD_MANAGER), "")
    other = next((w for w in found if w.manager != FIELD_MANAGER), None)
    if other is None or (ours and other.time < ours):
        return None
    return other
