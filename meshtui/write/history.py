"""The audit log read back newest first, for ``meshtui history`` and the ``:history`` view."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from meshtui.write.audit import AuditEntry, AuditLog


def history(log: AuditLog | None = None, *, source_id: str | None = None, limit: int | None = None,
            results: Iterable[str] | None = None) -> list[AuditEntry]:
    """Audit entries newest first, optionally only of one source and of some results."""
    wanted = set(results) if results is not None else None
    out = [
        e for e in (log or AuditLog()).entries()
        if (source_id is None or e.source_id == source_id) and (wanted is None or e.result in wanted)
    ]
    out.reverse()
    return out[:limit] if limit is not None else out


def object_name(entry: AuditEntry) -> str:
    """``VirtualService istioinaction/catalog``."""
    return str(entry.key)


def text_line(entry: AuditEntry, pending: Collection[str] = ()) -> str:
    """One stable, tab-free line: time, result, object, what, where, and the error if any.
    ``pending`` are the ids of ``unknown`` writes not resolved yet (``in_doubt.pending``)."""
    parts = [entry.time, f"{entry.result:<11}", object_name(entry)]
    if entry.description:
        parts.append(entry.description)
    parts.append(f"[{entry.source}]")
    if entry.undoes:
        parts.append(f"(undoes {entry.undoes})")
    if entry.resolves:
        parts.append(f"(outcome of {entry.resolves})")
    if entry.id in pending:
        parts.append("(outcome not known yet)")
    parts.append(f"id={entry.id}")
    line = "  ".join(parts)
    if entry.error:
        line += f"  error: {entry.error}"
    return line
