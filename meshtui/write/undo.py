"""Undo the last change applied to a source, with the same protections as any write.

The change to undo is the newest ``applied`` audit entry of the source that is not itself an
undo and has not been undone yet, so repeated undos walk back through the changes one by one.
The undo plan puts the entry's ``before`` content (everything but metadata and status: the
``spec``) and its labels and annotations (what a waypoint enrolment edits) on top of the CURRENT
object, whose other metadata (resourceVersion included) is the write precondition. If the object
changed since our write (its content or labels/annotations are no longer our ``after``), someone
else wrote in between, and the undo is refused as a conflict unless forced.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from meshtui.sources.base import RawObject, Source
from meshtui.write.audit import AuditEntry, AuditLog, source_id
from meshtui.write.plan import ChangePlan, content, fingerprint, unified_diff


class UndoError(Exception):
    """Nothing to undo, or the object is gone; the message is one line."""


class UndoConflict(UndoError):
    """The object changed since the change being undone; ``diff`` shows how (our write -> now)."""

    def __init__(self, message: str, diff: str) -> None:
        super().__init__(message)
        self.diff = diff


def undoable(entries: Iterable[AuditEntry], sid: str) -> AuditEntry | None:
    """The entry an undo reverts: of entries (oldest first) of source ``sid``, the newest
    ``applied`` one that is not an undo and was not undone."""
    applied = [e for e in entries if e.source_id == sid and e.result == "applied"]
    undone = {e.undoes for e in applied if e.undoes}
    for entry in reversed(applied):
        if entry.undoes is None and entry.id not in undone and entry.before is not None:
            return entry
    return None


#: The metadata an edit may change (labels: ``meshtui waypoint use``; annotations: the canary weight).
_EDITED_METADATA = ("labels", "annotations")


def edited_part(obj: RawObject | None) -> dict[str, object]:
    """What an edit changes: the content (spec...) and the labels and annotations."""
    meta = (obj or {}).get("metadata") or {}
    return {**content(obj), "metadata": {k: meta.get(k) or {} for k in _EDITED_METADATA}}


def restore(before: RawObject, current: RawObject) -> RawObject:
    """``current`` with its content (spec...), labels and annotations replaced by ``before``'s; the
    rest of the metadata stays current's."""
    out: RawObject = {}
    for key, value in current.items():
        if key in ("apiVersion", "kind", "metadata", "status"):
            out[key] = copy.deepcopy(value)
    for key, value in before.items():
        if key not in ("apiVersion", "kind", "metadata", "status"):
            out[key] = copy.deepcopy(value)
    meta = out.setdefault("metadata", {})
    old = before.get("metadata") or {}
    for key in _EDITED_METADATA:
        if key in old:
            meta[key] = copy.deepcopy(old[key])
        else:
            meta.pop(key, None)
    return out


def plan_undo(source: Source, entry: AuditEntry, current: RawObject | None, *, force: bool = False,
              context: list[RawObject] | None = None) -> ChangePlan:
    """The plan that reverts ``entry`` given the object as it is now.

    Raises ``UndoError`` when the object is gone, ``UndoConflict`` when it changed since our
    write (unless ``force``)."""
    if current is None:
        raise UndoError(f"{entry.key} no longer exists; nothing to undo")
    if entry.before is None:
        raise UndoError(f"the audit entry {entry.id} has no previous object")
    if not force and fingerprint(edited_part(current)) != fingerprint(edited_part(entry.after)):
        diff = unified_diff(entry.after, current, f"{entry.key} (after our change)", f"{entry.key} (now)")
        raise UndoConflict(
            f"{entry.key} changed since {entry.description or 'the change'} ({entry.time}); "
            "nothing was written (use --force to undo anyway)", diff)
    before = entry.before

    def edit(obj: RawObject) -> RawObject:
        return restore(before, obj)

    what = entry.description or "the last change"
    return ChangePlan(source, current, edit(current), f"undo {what}", edit, list(context or []), undoes=entry.id)


def last_change(source: Source, log: AuditLog | None = None) -> AuditEntry:
    """The entry ``meshtui undo`` would revert for ``source`` (``UndoError`` when none)."""
    log = log or AuditLog()
    entry = undoable(log.entries(), source_id(source))
    if entry is None:
        raise UndoError(f"no applied change to undo for {source.description} in {log.path}")
    return entry
