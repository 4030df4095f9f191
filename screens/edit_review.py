"""The review flow every route editor shares, written once for the VirtualService editor and the
Gateway API route editor: the route loaded from the live index into an ``EditSession``; the
route followed at the source (meshtui's own write recognised when it comes back through the
watch, another writer's change named and rebased onto, or refused when the pending edits no
longer apply); pending edits reviewed in the change preview, where ``y`` applies them; ``esc``
asking before it discards; ``backspace`` dropping the last pending edit and ``u`` reverting the
last applied change; and the canary autopilot's form, whose submit opens the live timeline.
"""

from __future__ import annotations

from typing import Any, Protocol

from textual.app import App

from meshtui.model.base import Resource
from meshtui.routing.rules import ReleaseError
from meshtui.screens.confirm import Confirm
from meshtui.screens.edit_form import FormField, FormScreen
from meshtui.screens.write_actions import refuse_if_read_only, revert
from meshtui.widgets.host import session_of
from meshtui.write.changed_by import changed_by
from meshtui.write.pending import EditSession
from meshtui.write.plan import content, fingerprint
from meshtui.write.scope import affected_objects


class Editor(Protocol):
    """What the flow needs of the screen it serves."""

    key: tuple[str, str, str]
    session: EditSession | None

    @property
    def app(self) -> App[Any]: ...

    def redraw(self, select: Any = None) -> None:
        """Repaint the editor from ``session``."""

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Show a notification."""


class ReviewFlow:
    """The shared review flow of ``editor`` (see the module docstring)."""

    def __init__(self, editor: Editor) -> None:
        self.editor = editor
        #: Warnings for the preview, each with the number of pending edits it belongs to, so
        #: that undoing that edit drops it.
        self._warnings: list[tuple[int, str]] = []
        # The object a write of ours replaced: a watch event still carrying it is old news.
        self._replaced: str | None = None

    @property
    def _what(self) -> str:
        kind, namespace, name = self.editor.key
        return f"{kind} {namespace}/{name}"

    def load(self) -> Resource | None:
        """The route from the live index, now the session's base; None (after saying so and
        closing the editor) when it is not there."""
        mesh = session_of(self.editor)
        found = mesh.index.get(*self.editor.key) if mesh is not None and mesh.index is not None else None
        if found is None:
            self.editor.notify(f"{self._what} not found", severity="error")
            self.editor.app.pop_screen()
            return None
        self.editor.session = EditSession(found.raw)
        return found

    # -- warnings that go to the preview --------------------------------------------------------

    @property
    def warnings(self) -> list[str]:
        """The warnings of the pending edits (shown again in the preview)."""
        return [w for _, w in self._warnings]

    def warn(self, warning: str) -> None:
        """Say ``warning`` now and again in the preview, for as long as the last edit is pending."""
        session = self.editor.session
        assert session is not None
        self._warnings.append((len(session.edits), warning))
        self.editor.notify(f"warning: {warning}", severity="warning", timeout=10)

    # -- the route at the source ------------------------------------------------------------------

    def follow_source(self) -> None:
        """Adopt a newer version of the route: meshtui's own write clears what it applied; another
        writer's change is named and the pending edits re-applied on top, or refused."""
        mesh = session_of(self.editor)
        session = self.editor.session
        if session is None or mesh is None or mesh.index is None:
            return
        found = mesh.index.get(*self.editor.key)
        if found is None:
            self.editor.notify(f"{self._what} was deleted at the source", severity="error", timeout=10)
            return
        raw = found.raw
        now = fingerprint(raw)
        if now == fingerprint(session.base) or now == self._replaced:
            return
        if session.dirty and fingerprint(content(raw)) == fingerprint(content(session.current)):
            # Our own write (the preview may still be open) came back through the watch: what
            # was pending is what is stored now.
            session.reset(raw)
            self._warnings = []
        elif not session.dirty:
            session.reset(raw)
        else:
            who = changed_by(mesh.source, raw) if mesh.source is not None else ""
            try:
                session.rebase(raw)
                self.editor.notify(f"the {self.editor.key[0]} changed at the source{who}: your pending edits now "
                                   "apply on top of the new version", severity="warning")
            except ReleaseError as exc:  # an edit that no longer applies: say why, keep the edits
                self.editor.notify(f"the {self.editor.key[0]} changed at the source{who} and your pending edits "
                                   f"no longer apply ({exc}); esc discards them", severity="error", timeout=10)
                return
        self.editor.redraw()

    # -- preview, discard, undo -------------------------------------------------------------------

    def preview(self) -> None:
        """Review the pending edits (diff, validation, dry run); ``y`` there applies them."""
        session = self.editor.session
        if session is None or refuse_if_read_only(self.editor.app, "applying"):
            return
        if not session.dirty:
            self.editor.notify("no pending edit to preview", severity="warning")
            return
        from meshtui.screens.change_preview import ChangePreview

        mesh = session_of(self.editor)
        if mesh is None or mesh.source is None or mesh.index is None:
            return
        # Only what the edit can affect: found through the index's host maps, not a walk of the mesh.
        plan = session.plan(mesh.source, affected_objects(mesh.index, [session.base, session.current]))
        self.editor.app.push_screen(ChangePreview(plan, warnings=self.warnings), self._previewed)

    def _previewed(self, outcome: Any) -> None:
        session = self.editor.session
        if session is None or outcome is None or outcome.result != "applied":
            return
        self._replaced = fingerprint(outcome.plan.base)
        session.reset(outcome.stored or outcome.plan.new)
        self._warnings = []
        self.editor.redraw()

    def discard(self) -> None:
        """Go back; with pending edits, ask first (yes discards them and goes back)."""
        session = self.editor.session
        if session is None or not session.dirty:
            self.editor.app.pop_screen()
            return
        n = len(session.edits)
        edits = f"{n} pending edit{'s' if n != 1 else ''}"

        def answered(yes: bool | None) -> None:
            if not yes or self.editor.session is None:
                return
            self.editor.session.reset()
            self._warnings = []
            self.editor.app.pop_screen()
            self.editor.notify(f"discarded {edits}")

        self.editor.app.push_screen(Confirm(f"Discard {edits} and leave the editor?", "discard and leave",
                                            "keep editing"), answered)

    def undo_pending(self) -> None:
        """Drop the last pending edit (and the warnings that came with it)."""
        session = self.editor.session
        if session is not None and session.pop() is not None:
            self._warnings = [(n, w) for n, w in self._warnings if n <= len(session.edits)]
            self.editor.redraw()

    def undo_applied(self) -> None:
        """Undo the last change applied to this source (through the preview)."""
        session = self.editor.session
        if session is not None and session.dirty:
            self.editor.notify("discard the pending edits first (esc)", severity="warning")
            return
        revert(self.editor.app)

    # -- the canary autopilot ---------------------------------------------------------------------

    def autopilot(self, rule: str, rule_text: str, to: str, choices: list[str], strict: bool) -> None:
        """The autopilot's form for rule ``rule`` (its reference as ``meshtui canary --rule``
        takes it), moving ``to`` (one of ``choices``; only those when ``strict``); its submit
        opens the live timeline, which runs the canary through the one write path."""
        from meshtui.analysis.canary_gate import GateLimits
        from meshtui.session.canary_run import CanaryConfig, parse_interval

        if refuse_if_read_only(self.editor.app, "a canary autopilot run"):
            return
        session = self.editor.session
        if session is not None and session.dirty:
            self.editor.notify("discard or apply the pending edits first: the autopilot writes each step itself",
                               severity="warning")
            return
        mesh = session_of(self.editor)
        if mesh is None or mesh.source is None:
            return
        source = mesh.source
        kind, namespace, name = self.editor.key

        def submit(v: dict[str, str]) -> str | None:
            from meshtui.screens.canary_timeline import CanaryTimeline

            try:
                interval = parse_interval(v["interval"])
                limits = GateLimits(_number(v["errors"], "max error rate"),
                                    _number(v["p99"], "max p99") if v["p99"] else None,
                                    _whole(v["min"], "min requests"), _whole(v["threshold"], "threshold"))
                config = CanaryConfig(name, namespace, v["to"].strip(), _whole(v["step"], "step"), interval,
                                      _whole(v["max"], "max weight"), limits, rule=rule, kind=kind)
            except ValueError as exc:
                return str(exc)
            # After the form has closed itself (it is still the top screen while this runs).
            self.editor.app.call_later(self.editor.app.push_screen, CanaryTimeline(source, config))
            return None

        self.editor.app.push_screen(FormScreen(f"Canary autopilot on rule {rule_text}", [
            FormField("to", "to (canary)", to, choices, strict=strict),
            FormField("step", "step (points)", "20"), FormField("interval", "interval", "30s"),
            FormField("max", "max weight", "60"), FormField("errors", "max error rate %", "1"),
            FormField("p99", "max p99 ms (empty: not checked)", "", optional=True),
            FormField("min", "min requests per check", "20"),
            FormField("threshold", "failed checks before rollback", "2"),
        ], submit, "each step is written through the write path and gated on the traffic; esc stops, keeping the step"))


def _whole(text: str, what: str) -> int:
    try:
        return int(text.strip().rstrip("%"))
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a whole number") from None


def _number(text: str, what: str) -> float:
    try:
        return float(text.strip().rstrip("%"))
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not a number") from None
