"""Review a change before it is written: diff, validation, other writers, dry run; ``y`` applies.

The checks (``Writer.check``: validation, analyzers, the source's dry run) and the write run in
thread workers. States: checking → ready (``y`` applies, ``n``/``esc`` cancels; errors block,
warnings are shown and ``y`` applies anyway) → writing → applied, conflict (the diff of what the
other writer changed; ``r`` re-applies the same edit on top of the current object and checks
again) or failed. After an apply on a cluster, a sample of client proxies is polled until their
routes carry the change (``meshtui.write.propagation``); then, for a weight change, the changed
rule's traffic is watched and judged (``meshtui.session.outcome_check``: converged / diverging /
no traffic). Both are shown here while the screen is open and as notifications; ``u`` reverts
the applied change (the undo path, with its own preview).

Dismissed with the last ``Outcome`` (None when closed before any write attempt).
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from meshtui.messages import WriteRefused
from meshtui.widgets.host import session_of
from meshtui.write.apply import Outcome, Preview, Writer
from meshtui.write.plan import ChangePlan, RebaseError


class ChangePreview(ModalScreen[Outcome | None]):
    """The diff and checks of one ``ChangePlan``, and the keys to apply, cancel or re-apply."""

    BINDINGS = [
        Binding("y", "apply", "Apply", id="preview-apply"),
        Binding("n,escape", "close", "Cancel / close", id="preview-cancel"),
        Binding("r", "rebase", "Re-apply on top", id="preview-rebase"),
        Binding("u", "revert", "Revert", id="preview-revert", tooltip="Undo the change just applied"),
    ]

    def __init__(self, plan: ChangePlan, writer: Writer | None = None, *, warnings: list[str] | None = None,
                 propagation: bool = True) -> None:
        super().__init__()
        self.plan = plan
        self.writer = writer or Writer()
        self.extra_warnings = list(warnings or [])
        self.propagation = propagation
        #: checking | ready | writing | applied | conflict | failed
        self.state = "checking"
        self.preview: Preview | None = None
        self.outcome: Outcome | None = None
        self.propagation_line = ""
        #: The outcome verdict of an applied weight change ("" until there is one).
        self.outcome_line = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="preview-box"):
            yield Static(id="preview-title")
            with VerticalScroll(id="preview-scroll"):
                yield Static(id="preview-checks")
                yield Static(id="preview-diff")
            yield Static(id="preview-status")

    def on_mount(self) -> None:
        """Start the checks."""
        self._check(self.plan)

    # -- workers ------------------------------------------------------------------------------

    def _check(self, plan: ChangePlan) -> None:
        self.plan, self.state, self.preview = plan, "checking", None
        self._redraw()
        self.run_worker(lambda: self._check_thread(plan), thread=True, exclusive=True, group="preview",
                        exit_on_error=False)

    def _check_thread(self, plan: ChangePlan) -> None:
        try:
            preview = self.writer.check(plan)
        except Exception as exc:  # noqa: BLE001 - any failure must reach the user as one line
            self.app.call_from_thread(self._failed, f"the checks failed: {exc}")
            return
        self.app.call_from_thread(self._checked, preview)

    def _commit_thread(self, preview: Preview) -> None:
        try:
            outcome = self.writer.commit(preview)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._failed, f"the write failed: {exc}")
            return
        self.app.call_from_thread(self._written, outcome)

    # -- on the event loop ------------------------------------------------------------------------

    def _checked(self, preview: Preview) -> None:
        self.preview = preview
        self.state = "ready"
        self._redraw()

    def _failed(self, message: str) -> None:
        self.state = "failed"
        self.propagation_line = message
        self._redraw()

    def _written(self, outcome: Outcome) -> None:
        self.outcome = outcome
        if outcome.audit_error:
            self.notify(outcome.audit_error, severity="warning")
        if outcome.result == "applied":
            self.state = "applied"
            self.notify(outcome.message)
            if self.propagation:
                self._start_propagation(outcome)
        elif outcome.result == "conflict":
            self.state = "conflict"
        else:
            self.state = "failed"
            if outcome.result == "forbidden":
                self.post_message(WriteRefused(outcome.message))
        self._redraw()

    def _start_propagation(self, outcome: Outcome) -> None:
        from meshtui.write.propagation import client_proxies, poll_propagation

        session = session_of(self)
        source, index = self.plan.source, session.index if session is not None else None
        stored = outcome.stored or self.plan.new
        if index is None or not source.capabilities.live_proxies or stored.get("kind") != "VirtualService":
            return  # manifests on disk have no proxies; other kinds are not checked
        proxies = client_proxies(index, stored)
        before = self.plan.base
        app = self.app
        self.propagation_line = f"checking propagation to {len(proxies)} proxies…" if proxies else ""

        def progress(report: Any) -> None:
            app.call_from_thread(self._propagation_progress, report.summary())

        from meshtui.session.outcome_check import OutcomeWatch

        outcome_watch = OutcomeWatch.after_apply(source, index, before, stored)

        def run() -> None:
            from textual.worker import get_current_worker

            worker = get_current_worker()
            report = poll_propagation(source, before, stored, proxies, progress=progress,
                                      cancelled=lambda: worker.is_cancelled)
            if not worker.is_cancelled:
                app.call_from_thread(app.notify, report.summary(),
                                     severity="information" if report.done else "warning", timeout=10)
            if outcome_watch is None:
                return
            app.call_from_thread(self._outcome_progress, f"outcome: watching {outcome_watch.seconds:g} s of traffic…")
            outcome_watch.observe(cancelled=lambda: worker.is_cancelled)
            if not worker.is_cancelled:
                verdict = app.call_from_thread(lambda: outcome_watch.verdict(session.index if session else index))
                app.call_from_thread(self._outcome_progress, verdict.summary())
                app.call_from_thread(app.notify, verdict.summary(), timeout=15,
                                     severity="warning" if verdict.diverging else "information")

        # On the app, so that closing this screen does not stop the polling.
        app.run_worker(run, thread=True, group="propagation", exit_on_error=False)

    def _outcome_progress(self, line: str) -> None:
        self.outcome_line = line
        if self.is_attached:
            self._redraw()

    def _propagation_progress(self, line: str) -> None:
        self.propagation_line = line
        if self.is_attached:
            self._redraw()

    # -- drawing --------------------------------------------------------------------------------

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        plan = self.plan
        title = Text.assemble(("Change ", "bold"), (plan.label, "bold cyan"), "  ", (plan.description, "italic"),
                              ("  at ", "dim"), plan.source.description)
        self.query_one("#preview-title", Static).update(title)
        self.query_one("#preview-checks", Static).update(self._checks_text())
        diff = self._diff_text()
        self.query_one("#preview-diff", Static).update(
            Syntax(diff, "diff", theme="ansi_dark", word_wrap=False) if diff else Text("(no difference)", style="dim"))
        self.query_one("#preview-status", Static).update(self._status_text())

    def _diff_text(self) -> str:
        if self.state == "conflict" and self.outcome is not None and self.outcome.conflict is not None:
            return self.outcome.conflict.their_changes()
        return self.preview.diff if self.preview is not None else self.plan.diff()

    def _checks_text(self) -> Group:
        lines: list[Text] = []
        preview = self.preview
        if self.state == "conflict" and self.outcome is not None:
            lines.append(Text(f"conflict: {self.outcome.message}", style="bold red"))
            lines.append(Text("what the other writer changed since the object was read:", style="bold"))
            return Group(*lines)
        for w in self.extra_warnings:
            lines.append(Text(f"warning: {w}", style="yellow"))
        for w in self._unreachable():
            lines.append(Text(f"warning: {w}", style="yellow"))
        if preview is not None:
            for owner in preview.owners:
                lines.append(Text(f"other writer: {owner.explanation}", style="yellow"))
            for p in preview.validation.errors:
                lines.append(Text(f"error: {p}", style="bold red"))
            for p in preview.validation.warnings:
                lines.append(Text(f"warning: {p}", style="yellow"))
            for p in preview.validation.existing:
                lines.append(Text(f"note: already before this change: {p}", style="dim"))
        return Group(*lines)

    def _unreachable(self) -> list[str]:
        if self.plan.new.get("kind") != "VirtualService":
            return []
        from meshtui.routing.edit import newly_unreachable

        try:
            return [str(u) for u in newly_unreachable(self.plan.base, self.plan.new)]
        except (AttributeError, TypeError, IndexError):
            return []

    def _status_text(self) -> Text:
        preview, state = self.preview, self.state
        where = self.plan.source.description
        if state == "checking":
            return Text("validating and dry-running at the source…", style="italic")
        if state == "writing":
            return Text("writing…", style="italic")
        if state == "applied":
            text = Text(f"applied to {where}. ", style="bold green")
            if self.propagation_line:
                text.append(self.propagation_line, style="green")
            if self.outcome_line:
                text.append("  ")
                text.append(self.outcome_line, style="bold yellow" if "diverging" in self.outcome_line else "green")
            text.append("   u: revert   esc: close", style="dim")
            return text
        if state == "conflict":
            return Text("nothing was written.   r: re-apply the same edit on top   esc: cancel", style="bold yellow")
        if state == "failed":
            message = self.outcome.message if self.outcome is not None else self.propagation_line
            return Text(f"{message}   esc: close", style="bold red")
        assert preview is not None
        if preview.blocked is not None:
            return Text(f"{preview.blocked.message}   esc: close", style="bold red")
        text = Text(f"dry run at {where}: ok.  ", style="green")
        anyway = preview.needs_confirmation or bool(self.extra_warnings) or bool(self._unreachable())
        text.append("y: apply anyway" if anyway else "y: apply", style="bold")
        text.append("   n/esc: cancel", style="dim")
        return text

    # -- keys ---------------------------------------------------------------------------------

    def action_apply(self) -> None:
        """Write the previewed change (only when the checks passed)."""
        if self.state != "ready" or self.preview is None:
            if self.state == "applied":
                self.dismiss(self.outcome)
            return
        if self.preview.blocked is not None:
            self.notify(self.preview.blocked.message, severity="error")
            return
        self.state = "writing"
        self._redraw()
        preview = self.preview
        self.run_worker(lambda: self._commit_thread(preview), thread=True, exclusive=True, group="preview",
                        exit_on_error=False)

    def action_rebase(self) -> None:
        """After a conflict: the same edit on top of the object as it is now, checked again."""
        if self.state != "conflict" or self.outcome is None or self.outcome.conflict is None:
            return
        try:
            plan = self.outcome.conflict.rebase()
        except RebaseError as exc:
            self.notify(str(exc), severity="error")
            return
        self.outcome = None
        self._check(plan)

    def action_revert(self) -> None:
        """After an apply: undo it (the undo path: its own preview, checks and audit entry)."""
        if self.state != "applied":
            return
        from meshtui.screens.write_actions import revert

        app = self.app
        self.dismiss(self.outcome)
        revert(app)

    def action_close(self) -> None:
        """Cancel (recorded in the audit log when a write was offered), or close after a write."""
        if self.state == "writing":
            self.notify("a write is in progress; wait for its result", severity="warning")
            return
        if self.state == "ready" and self.preview is not None and self.preview.blocked is None:
            preview, writer = self.preview, self.writer

            def cancel() -> None:
                try:
                    writer.cancel(preview)
                except Exception:  # noqa: BLE001 - a failed audit line must not keep the screen open
                    pass

            self.app.run_worker(cancel, thread=True, group="audit", exit_on_error=False)
        self.dismiss(self.outcome)
