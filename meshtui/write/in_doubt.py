"""Writes whose outcome is unknown, and how reading the object back resolves them.

A write that went out and got no answer (the API server stalled past the read timeout, the
connection broke after the request was sent) may or may not have been applied. It is audited
as ``unknown`` at once (so a crash right after still leaves the truth: "we do not know"), and
resolved by reading the object back as soon as the source answers: by the writing command
itself for a while, later by ``meshtui undo`` and ``meshtui history`` with the source flags.
The resolution is a second audit line whose ``resolves`` names the ``unknown`` one.

How the object read back decides (the write's precondition was the read resourceVersion, so
the server could only have applied it on top of exactly that version):

- still at the read resourceVersion: not applied (``unavailable``);
- at another resourceVersion, holding the change: ``applied``;
- at another resourceVersion, without the change: someone else wrote (``conflict``);
- gone: deleted meanwhile (``conflict``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from meshtui.sources.base import ObjectKey, RawObject, Source, UnavailableError
from meshtui.write.audit import AuditEntry, AuditLog, source_id
from meshtui.write.plan import content, fingerprint


@dataclass(frozen=True)
class Verdict:
    """What the read-back says: an audit ``result`` and a one-line ``message``."""

    result: str
    message: str
    current: RawObject | None


def _rv(obj: RawObject | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion") or "")


def judge(key: ObjectKey, before: RawObject | None, after: RawObject | None,
          current: RawObject | None) -> Verdict:
    """The outcome of a write of ``before`` -> ``after`` given the object as read back now."""
    if current is None:
        return Verdict("conflict", f"{key} was deleted meanwhile; the change is not there", None)
    now = _rv(current)
    if now and now == _rv(before):
        return Verdict("unavailable", f"not applied: {key} is still at resourceVersion {now}; "
                       "nothing was written", current)
    if fingerprint(content(current)) == fingerprint(content(after)):
        return Verdict("applied", f"{key} holds the change (resourceVersion {now})", current)
    return Verdict("conflict", f"{key} changed since it was read (resourceVersion {_rv(before)} -> {now}) "
                   "and does not hold the change", current)


def read_back(source: Source, key: ObjectKey) -> RawObject | None:
    """The object ``key`` as the source holds it now (None: it does not exist). Raises
    ``SourceError`` when the source cannot tell (unreachable, or the kind could not be listed)."""
    snapshot = source.snapshot()
    for obj in snapshot.objects:
        if ObjectKey.of(obj) == key:
            return obj
    if snapshot.errors:
        raise UnavailableError(f"cannot read {key} back: {snapshot.errors[0]}")
    return None


def pending(entries: Iterable[AuditEntry], sid: str | None = None) -> list[AuditEntry]:
    """The ``unknown`` entries (of source ``sid``, or all) that no later entry resolves, oldest first."""
    items = list(entries)
    resolved = {e.resolves for e in items if e.resolves}
    return [e for e in items if e.result == "unknown" and e.id not in resolved
            and (sid is None or e.source_id == sid)]


def resolution(source: Source, entry: AuditEntry, verdict: Verdict) -> AuditEntry:
    """The audit line that records ``verdict`` as the outcome of the ``unknown`` ``entry``."""
    base = entry.before or {"kind": entry.key.kind, "apiVersion": entry.object.get("apiVersion", ""),
                            "metadata": {"name": entry.key.name, "namespace": entry.key.namespace}}
    applied = verdict.result == "applied"
    return AuditEntry.of(verdict.result, source, base, verdict.current if applied else entry.after,
                         description=entry.description, error=None if applied else verdict.message,
                         undoes=entry.undoes, resolves=entry.id)


def resolve_pending(source: Source, log: AuditLog, objects: list[RawObject]) -> list[tuple[AuditEntry, Verdict]]:
    """Resolve every pending ``unknown`` write of ``source`` against ``objects`` (a snapshot the
    source just answered with) and append the resolutions; returns them with their verdicts.
    Raises ``OSError`` when the audit log cannot be read or written."""
    by_key = {ObjectKey.of(o): o for o in objects}
    # A source scoped to one namespace (-n) did not read the others: absent there is not gone.
    scope = getattr(source, "namespace", None)
    out = []
    for entry in pending(log.entries(), source_id(source)):
        if isinstance(scope, str) and scope and entry.key.namespace not in (scope, ""):
            continue
        verdict = judge(entry.key, entry.before, entry.after, by_key.get(entry.key))
        log.record(resolution(source, entry, verdict))
        out.append((entry, verdict))
    return out

