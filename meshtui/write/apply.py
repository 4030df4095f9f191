"""The write pipeline: validate -> diff -> dry run at the source -> write with the base as
precondition -> audit, and what to do after a conflict.

``Writer.check(plan)`` does everything that writes nothing (read-only check, validation, the
source's dry run) and returns a ``Preview`` for the user to review; ``Writer.commit(preview)``
writes; ``Writer.cancel(preview)`` records that the user said no. ``Writer.run`` chains them for
the command line. Every outcome of ``run``, ``commit`` and ``cancel`` is appended to the audit
log (``check`` alone is a preview, not a write attempt, and is not recorded).

A conflict (the object changed since it was read) writes nothing; the ``Conflict`` holds the
object as it is now, the diff of what the other writer changed, and ``rebase()``: the same
edit on top of the current object, as a new plan that goes through the whole pipeline again.

A write that went out without an answer is audited ``unknown`` at once, then read back for up
to ``resolve_within`` seconds (``meshtui.write.in_doubt``): the outcome reported is what the
read-back shows (applied, not applied, someone else wrote), or ``unknown`` (exit 8) when the
source did not answer in that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from meshtui.sources.base import (
    ConflictError,
    ForbiddenError,
    InvalidObjectError,
    NotFoundError,
    ObjectKey,
    OutcomeUnknownError,
    RawObject,
    SourceError,
    UnavailableError,
    WriteFailedError,
)
from meshtui.write.audit import AuditEntry, AuditLog
from meshtui.write.checks import Analyzer, Validation
from meshtui.write.in_doubt import judge, read_back, resolution
from meshtui.write.ownership import Owner, owners
from meshtui.write.plan import ChangePlan, content, fingerprint, unified_diff

#: Exit codes of the writing commands, by result (DESIGN.md: 0 applied, 1 validation failed,
#: 3 conflict, 4 read-only, 7 OS write failure, 8 outcome unknown; 2 anything else).
EXIT_CODES = {
    "applied": 0, "dry-run": 0, "unchanged": 0, "invalid": 1, "conflict": 3, "forbidden": 4,
    "cancelled": 2, "unavailable": 2, "error": 2, "write-failed": 7, "unknown": 8,
}
#: Seconds a writer keeps reading an in-doubt object back before it reports "unknown".
RESOLVE_WITHIN = 30.0


@dataclass
class Conflict:
    """The object changed at the source after it was read; nothing was written."""

    plan: ChangePlan
    current: RawObject | None

    def their_changes(self) -> str:
        """Unified diff of the object as we read it vs as it is now (what the other writer did)."""
        if self.current is None:
            return ""
        return unified_diff(self.plan.base, self.current, f"{self.plan.label} (as read)",
                            f"{self.plan.label} (now)")

    def rebase(self) -> ChangePlan:
        """The same edit on top of the current object (``RebaseError`` when impossible)."""
        return self.plan.rebase(self.current)


@dataclass
class Outcome:
    """How a write attempt ended: ``result`` (an audit result, or ``unchanged``), a one-line
    ``message``, the object as stored (applied) or as the dry run returned it."""

    result: str
    plan: ChangePlan
    message: str
    stored: RawObject | None = None
    validation: Validation | None = None
    conflict: Conflict | None = None
    #: The audit entry's id (None when not recorded), or why recording failed.
    audit_id: str | None = None
    audit_error: str | None = None

    @property
    def exit_code(self) -> int:
        """The command-line exit code for this outcome."""
        return EXIT_CODES.get(self.result, 2)

    @property
    def ok(self) -> bool:
        """Applied, dry run passed, or nothing to change."""
        return self.exit_code == 0


@dataclass
class Preview:
    """What the user reviews before saying yes: the diff, the validation, the other writers,
    and the source's dry-run result. ``blocked`` is set when the write cannot go ahead."""

    plan: ChangePlan
    diff: str
    validation: Validation
    owners: list[Owner] = field(default_factory=list)
    dry_run: RawObject | None = None
    blocked: Outcome | None = None

    @property
    def needs_confirmation(self) -> bool:
        """Whether there is something beyond the diff to accept: warnings or other writers."""
        return bool(self.validation.warnings or self.owners)


Confirm = Callable[[Preview], bool]


class Writer:
    """Runs change plans against their source and records every attempt in the audit log."""

    def __init__(self, audit: AuditLog | None = None, *, analyzer: Analyzer | None | str = "auto",
                 resolve_within: float = RESOLVE_WITHIN) -> None:
        self.audit = audit if audit is not None else AuditLog()
        self.analyzer = analyzer
        self.resolve_within = resolve_within

    # -- stages ----------------------------------------------------------------------------

    def check(self, plan: ChangePlan) -> Preview:
        """Read-only check, validation, diff, ownership and the source's dry run; writes nothing."""
        validation = Validation()
        preview = Preview(plan, plan.diff(), validation, owners(plan.base, plan.context))
        reason = plan.source.read_only_reason()
        if reason:
            said = reason if reason.lower().startswith("read-only") else f"read-only: {reason}"
            preview.blocked = Outcome("forbidden", plan, f"{said}; nothing was written",
                                      validation=validation)
            return preview
        if not plan.changed():
            preview.blocked = Outcome("unchanged", plan, f"no change: {plan.label} already is as requested",
                                      validation=validation)
            return preview
        preview.validation = validation = plan.validate(self.analyzer)
        if not validation.ok:
            preview.blocked = Outcome("invalid", plan, f"{plan.label}: {validation.summary()}; nothing was written",
                                      validation=validation)
            return preview
        try:
            preview.dry_run = plan.source.apply(plan.new, base=plan.base, dry_run=True).object
        except SourceError as exc:
            preview.blocked = self._failure(plan, exc, validation)
        return preview

    def commit(self, preview: Preview) -> Outcome:
        """Write the previewed plan with its base as precondition, and record the outcome."""
        if preview.blocked is not None:
            return self._record(preview.blocked)
        plan = preview.plan
        try:
            stored = plan.source.apply(plan.new, base=plan.base, dry_run=False).object
        except OutcomeUnknownError as exc:
            return self._in_doubt(preview, exc)
        except SourceError as exc:
            return self._record(self._failure(plan, exc, preview.validation))
        return self._record(Outcome("applied", plan, f"applied: {plan.label} ({plan.description})",
                                    stored=stored, validation=preview.validation))

    def cancel(self, preview: Preview, reason: str = "cancelled") -> Outcome:
        """Record that the previewed write was not made (the user said no, or could not be asked)."""
        return self._record(Outcome("cancelled", preview.plan, f"{reason}; nothing was written",
                                    validation=preview.validation))

    def finish_dry_run(self, preview: Preview) -> Outcome:
        """Record a dry run that passed every check (or the reason it did not)."""
        if preview.blocked is not None:
            return self._record(preview.blocked)
        return self._record(Outcome("dry-run", preview.plan, f"dry run ok: {preview.plan.label} "
                                    f"({preview.plan.description}); nothing was written",
                                    stored=preview.dry_run, validation=preview.validation))

    def run(self, plan: ChangePlan, *, dry_run: bool = False, confirm: Confirm | None = None) -> Outcome:
        """The whole pipeline. ``confirm`` sees the preview and says whether to write (None:
        write without asking)."""
        preview = self.check(plan)
        if dry_run or preview.blocked is not None:
            return self.finish_dry_run(preview) if dry_run else self.commit(preview)
        if confirm is not None and not confirm(preview):
            return self.cancel(preview)
        return self.commit(preview)

    # -- helpers ---------------------------------------------------------------------------

    def _in_doubt(self, preview: Preview, exc: OutcomeUnknownError) -> Outcome:
        """Audit the write as unknown, then read the object back until the source answers (or
        ``resolve_within`` runs out) and report what actually happened."""
        plan = preview.plan
        # What the server would have stored: its dry-run answer (defaults filled in), or ours.
        after = preview.dry_run if preview.dry_run is not None else plan.new
        unknown = Outcome("unknown", plan, f"{plan.label}: {exc}", validation=preview.validation)
        unknown_entry = self._entry(unknown, after)
        self._write_entry(unknown, unknown_entry)
        deadline = time.monotonic() + self.resolve_within
        delay = 0.2
        while True:
            try:
                current = read_back(plan.source, plan.key)
                break
            except SourceError as read_exc:
                cause = str(read_exc)
            if time.monotonic() + delay > deadline:
                unknown.message = (f"outcome unknown: {plan.label} ({plan.description}): {exc}; reading it back "
                                   f"failed too ({cause}). The server may still apply it: `meshtui undo` or "
                                   "`meshtui history` with the same source flags read it back and record the outcome")
                return unknown
            time.sleep(delay)
            delay = min(2.0, delay * 2)
        verdict = judge(plan.key, plan.base, after, current)
        if verdict.result == "applied":
            outcome = Outcome("applied", plan, f"applied: {plan.label} ({plan.description}); the answer was "
                              f"lost, but reading it back shows {verdict.message}", stored=current,
                              validation=preview.validation)
        elif verdict.result == "conflict":
            outcome = Outcome("conflict", plan, f"{plan.label}: no answer to the write, and {verdict.message}",
                              validation=preview.validation, conflict=Conflict(plan, current))
        else:
            outcome = Outcome(verdict.result, plan, f"{plan.label}: no answer to the write ({exc}); "
                              f"{verdict.message}", validation=preview.validation)
        self._write_entry(outcome, resolution(plan.source, unknown_entry, verdict))
        if unknown.audit_error and not outcome.audit_error:
            outcome.audit_error = unknown.audit_error
        return outcome

    def _failure(self, plan: ChangePlan, exc: SourceError, validation: Validation) -> Outcome:
        if isinstance(exc, ConflictError):
            # The source read the one object (kube: a GET; files: the one file): no re-list.
            current = exc.current
            message = str(exc)
            if current is not None and fingerprint(content(current)) == fingerprint(content(plan.new)):
                # A retry after a lost answer: the earlier attempt did land. Still a conflict
                # (nothing written now), but say so instead of blaming another writer.
                message = f"{plan.label}: already applied by an earlier attempt (nothing written now)"
            return Outcome("conflict", plan, message, validation=validation, conflict=Conflict(plan, current))
        if isinstance(exc, ForbiddenError):
            return Outcome("forbidden", plan, str(exc), validation=validation)
        if isinstance(exc, InvalidObjectError):
            causes = f" ({', '.join(exc.causes)})" if exc.causes and not all(c in str(exc) for c in exc.causes) else ""
            return Outcome("invalid", plan, f"{exc}{causes}", validation=validation)
        if isinstance(exc, WriteFailedError):
            return Outcome("write-failed", plan, str(exc), validation=validation)
        if isinstance(exc, UnavailableError):
            return Outcome("unavailable", plan, str(exc), validation=validation)
        if isinstance(exc, NotFoundError):
            return Outcome("conflict", plan, str(exc), validation=validation, conflict=Conflict(plan, None))
        return Outcome("error", plan, str(exc), validation=validation)

    def _entry(self, outcome: Outcome, after: RawObject | None = None) -> AuditEntry:
        """The audit entry of ``outcome`` (``after`` overrides the object recorded as written)."""
        plan = outcome.plan
        if after is None:
            after = outcome.stored if outcome.result == "applied" else plan.new
        entry = AuditEntry.of(outcome.result, plan.source, plan.base, after, description=plan.description,
                              error=None if outcome.ok else outcome.message, undoes=plan.undoes)
        return entry

    def _record(self, outcome: Outcome, after: RawObject | None = None) -> Outcome:
        if outcome.result == "unchanged":
            return outcome  # nothing was attempted
        return self._write_entry(outcome, self._entry(outcome, after))

    def _write_entry(self, outcome: Outcome, entry: AuditEntry) -> Outcome:
        try:
            self.audit.record(entry)
            outcome.audit_id = entry.id
        except OSError as exc:
            outcome.audit_error = f"could not write the audit log {self.audit.path}: {exc.strerror or exc}"
        return outcome


def find_object(objects: list[RawObject], key: ObjectKey) -> RawObject | None:
    """The object with ``key`` among ``objects``."""
    for obj in objects:
        if ObjectKey.of(obj) == key:
            return obj
    return None
