"""The route editor: change one VirtualService's weights, destinations, matches, rule order and
rewrites, or run a release step, then review the change and apply it.

Edits pile up as pending (shown in the tree against the object as read, ``90% → 70%``) until
``enter`` opens the preview (``y`` applies there); ``esc`` asks before it discards them. Weight keys work on
the selected destination: ``←``/``→`` or ``-``/``+`` move it by 5 (``shift`` by 1), ``=``
types an exact weight, ``0`` drains it; the other destinations of the rule are rebalanced so
the total stays exactly 100. The release workflows (one key each) are in
``meshtui.screens.release_forms``. When writes are refused (``--read-only``, read-only
credentials, RBAC) every editing key says why instead of editing.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from meshtui.messages import MeshUpdated
from meshtui.model.index import MeshIndex
from meshtui.routing import edit as rule_edit
from meshtui.routing.rules import ReleaseError, destination_name, weighted_rule_index
from meshtui.screens import release_forms, route_forms
from meshtui.screens.edit_form import FormField, FormScreen
from meshtui.screens.edit_review import ReviewFlow
from meshtui.screens.write_actions import read_only_reason, refuse_if_read_only
from meshtui.widgets.host import session_of
from meshtui.widgets.status_bar import StatusBar
from meshtui.widgets.weight_editor import EditTree
from meshtui.write import edit_api as api
from meshtui.write.pending import EditSession, rule_ref

class RouteEditor(Screen[None]):
    """Edit the VirtualService ``key`` = ``(kind, namespace, name)``; ``select`` is the node
    data to start on (``("dest", rule, position)`` or ``("rule", index)``)."""

    #: Short descriptions for the footer; the tooltips complete them in the `?` panel. The
    #: footer shows them in this order and an 80-column terminal cuts the end: Preview first.
    BINDINGS = [
        Binding("enter", "preview", "Preview", id="preview", tooltip="diff, checks, dry run; then y"),
        Binding("left,minus", "weight(-5)", "-5%", id="weight-down", tooltip="selected destination"),
        Binding("right,plus", "weight(5)", "+5%", id="weight-up", tooltip="selected destination"),
        Binding("shift+left", "weight(-1)", "-1%", show=False, id="weight-down-1", tooltip="weight, finely"),
        Binding("shift+right", "weight(1)", "+1%", show=False, id="weight-up-1", tooltip="weight, finely"),
        Binding("equals_sign", "exact", "Set %", id="weight-exact", tooltip="type the exact weight"),
        Binding("0", "drain", "Drain", id="drain", tooltip="weight 0, kept in the rule"),
        Binding("a", "add_destination", "Add dest", id="add-destination",
                tooltip="a subset of the DestinationRule"),
        Binding("x,delete", "remove", "Remove", id="remove", tooltip="whatever is selected"),
        Binding("m", "match", "Match", id="match", tooltip="add one, or edit the selected"),
        Binding("ctrl+up,K", "move_rule(-1)", "Rule up", show=False, id="rule-up", tooltip="rules are tried in order"),
        Binding("ctrl+down,J", "move_rule(1)", "Rule down", show=False, id="rule-down"),
        Binding("w", "rewrite", "Rewrite", show=False, id="rewrite", tooltip="URI prefix / authority"),
        Binding("r", "retries", "Retries", show=False, id="retries", tooltip="attempts, per-try timeout, retry on"),
        Binding("t", "timeout", "Timeout", show=False, id="timeout", tooltip="request timeout of the rule"),
        *release_forms.BINDINGS,
        Binding("backspace", "undo_pending", "Undo edit", show=False, id="undo-pending",
                tooltip="drop the last pending edit"),
        Binding("u", "undo_applied", "Undo applied", show=False, id="undo-applied",
                tooltip="revert the last write"),
        Binding("escape", "discard", "Back", show=False, id="discard",
                tooltip="asks first when edits are pending"),
        Binding("question_mark", "app.help", "Keys", show=False, id="editor-help", tooltip="show/hide this list"),
    ]

    def __init__(self, key: tuple[str, str, str], select: Any = None) -> None:
        super().__init__()
        self.key = key
        self._select = select
        self.session: EditSession | None = None
        #: Load, follow the source, preview, discard, undo and the autopilot: shared with the
        #: Gateway API route editor.
        self.review = ReviewFlow(self)

    def compose(self) -> ComposeResult:
        yield Static(id="editor-title")
        yield EditTree(id="edit-tree")
        yield Static(id="editor-pending")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def mesh_index(self) -> MeshIndex | None:
        """The live mesh index of the app's session (None while loading)."""
        mesh = session_of(self)
        return mesh.index if mesh is not None else None

    def on_mount(self) -> None:
        """Load the object from the index and focus the tree."""
        found = self.review.load()
        if found is None:
            return
        if self._select is None:  # opened on the object, not a rule: start where the weights are
            weighted = weighted_rule_index(found.raw)
            self._select = ("rule", weighted) if weighted is not None else None
        self.redraw(self._select)
        self.query_one(EditTree).focus()

    # -- state ----------------------------------------------------------------------------------

    @property
    def vs(self) -> dict[str, Any]:
        """The VirtualService with the pending edits applied."""
        assert self.session is not None
        return self.session.current

    def rules(self) -> list[dict[str, Any]]:
        """``spec.http`` of the pending state."""
        return ((self.vs.get("spec") or {}).get("http")) or []

    def selected(self) -> Any:
        """The data of the node under the cursor."""
        return self.query_one(EditTree).selected_data

    def selected_rule(self) -> int | None:
        """The index of the rule the cursor is in (None outside any rule)."""
        data = self.selected()
        return data[1] if isinstance(data, tuple) and len(data) > 1 and isinstance(data[1], int) else None

    def _rule(self) -> int | None:
        i = self.selected_rule()
        if i is None:
            self.notify("select a rule (or a line in it) first", severity="warning")
        return i

    def redraw(self, select: Any = None) -> None:
        """Repaint the tree, title and pending list."""
        if self.session is None:
            return
        self.query_one(EditTree).show(self.session.base, self.session.current, select)
        ns, name = self.key[1], self.key[2]
        title = Text.assemble(("Route editor  ", "bold"), ("VirtualService ", "dim"), (f"{ns}/{name}", "bold cyan"))
        reason = read_only_reason(self.app)
        if reason:
            title.append(f"   READ-ONLY ({reason}): changes cannot be applied", style="bold red")
        self.query_one("#editor-title", Static).update(title)
        pending = Text()
        if self.session.dirty:
            pending.append(f"pending ({len(self.session.edits)}): ", style="bold yellow")
            pending.append(self.session.description())
            pending.append("   enter preview · esc asks to discard · backspace undo the last", style="dim")
            for problem in self.session.problems():
                error = problem.level == "error"
                pending.append(f"\n{'error' if error else 'warning'}: {problem}", style="bold red" if error else "yellow")
        else:
            pending.append("nothing pending   shift+←/→ ±1%  K/J move rule  w rewrite  r retries  t timeout  "
                           "d dark launch  g blue-green  s A/B  i mirror  f fault", style="dim")
        self.query_one("#editor-pending", Static).update(pending)

    def warn(self, warning: str) -> None:
        """Say ``warning`` now and again in the preview, for as long as the last edit is pending."""
        self.review.warn(warning)

    def push(self, action: api.Action, select: Any = None) -> str | None:
        """Queue an action of the edit API; its error as a one-line message (None when it
        applied). Rules the edit leaves unreachable behind a catch-all are warned about."""
        assert self.session is not None
        before = self.session.current
        try:
            self.session.apply(action)
        except ReleaseError as exc:
            return str(exc)
        self.redraw(select)
        for u in rule_edit.newly_unreachable(before, self.session.current):
            self.notify(f"warning: {u}", severity="warning", timeout=10)
        return None

    def refused(self, what: str = "this change") -> bool:
        """True (after saying why) when writes are refused."""
        return refuse_if_read_only(self.app, what)

    def ask(self, title: str, fields: list[FormField], submit: Any, note: str = "") -> None:
        """Open a form; ``submit(values)`` returns an error to show, or None to close."""
        self.app.push_screen(FormScreen(title, fields, submit, note))

    # -- watch events ---------------------------------------------------------------------------

    def on_mesh_updated(self, message: MeshUpdated) -> None:
        """Follow the object at the source: adopt a newer version (pending edits re-applied on top)."""
        self.review.follow_source()

    def on_screen_resume(self) -> None:
        """Back from a modal (which does not get watch events): catch up."""
        self.review.follow_source()

    # -- weights --------------------------------------------------------------------------------

    def _dest(self) -> tuple[int, int] | None:
        data = self.selected()
        if isinstance(data, tuple) and data and data[0] == "dest":
            return data[1], data[2]
        self.notify("select a destination (→ line) first", severity="warning")
        return None

    def weigh(self, i: int, j: int, make: Any) -> None:
        """Run the weight action ``make(rule ref, destination name)`` on destination ``j`` of rule ``i``."""
        rule = self.rules()[i]
        if len(rule.get("route") or []) < 2:
            self.notify("this rule has one destination: add another (a) to split traffic", severity="warning")
            return
        error = self.push(make(rule_ref(self.vs, i), destination_name(rule, j)), ("dest", i, j))
        if error:
            self.notify(error, severity="error")

    def _weights(self, make: Any) -> None:
        if self.refused("a weight change"):
            return
        at = self._dest()
        if at is not None:
            self.weigh(*at, make)

    def action_weight(self, delta: int) -> None:
        """Move the selected destination's weight by ``delta``; the others rebalance."""
        self._weights(lambda ref, name: api.shift(ref, name, delta))

    def action_drain(self) -> None:
        """Weight 0 for the selected destination (kept in the rule)."""
        self._weights(api.drain)

    def action_exact(self) -> None:
        """Type an exact weight for the selected destination."""
        if self.refused("a weight change"):
            return
        at = self._dest()
        if at is not None:
            route_forms.exact_weight(self, *at)

    # -- destinations, conditions, actions -------------------------------------------------------

    def subsets_for(self, host: str) -> list[str]:
        """The subsets the DestinationRule of ``host`` (as seen from the VS namespace) defines."""
        return route_forms.subsets_for(self, host)

    def action_add_destination(self) -> None:
        """Add a destination (service + subset of its DestinationRule) to the selected rule."""
        if self.refused("adding a destination"):
            return
        if (i := self._rule()) is None:
            return
        route_forms.add_destination(self, i)

    def action_remove(self) -> None:
        """Remove the selected destination, match condition, rewrite, mirror or fault."""
        if self.refused("removing"):
            return
        data = self.selected()
        if not isinstance(data, tuple) or data[0] not in ("dest", "cond", "action"):
            self.notify("select a destination, a condition or an action to remove", severity="warning")
            return
        i = data[1]
        ref = rule_ref(self.vs, i)
        if data[0] == "dest":
            action = api.remove_destination(ref, destination_name(self.rules()[i], data[2]))
        elif data[0] == "cond":
            _, _, block, field, name = data
            if field is None:
                self.notify("this rule has no condition to remove", severity="warning")
                return
            action = api.remove_condition(ref, field, name, block)
        else:
            remover = {"rewrite": api.remove_rewrite, "mirror": api.remove_mirror,
                       "mirrors": api.remove_mirror, "fault": api.remove_fault}.get(data[2])
            if remover is None:
                self.notify(f"{data[2]} cannot be removed here (use e to edit the YAML)", severity="warning")
                return
            action = remover(ref)
        error = self.push(action, ("rule", i))
        if error:
            self.notify(error, severity="error")

    def action_match(self) -> None:
        """Add a match condition to the selected rule, or edit the selected condition."""
        if self.refused("a match change"):
            return
        data = self.selected()
        if (i := self._rule()) is None:
            return
        old = data if isinstance(data, tuple) and data[0] == "cond" and data[3] is not None else None
        route_forms.edit_match(self, i, old)

    def action_move_rule(self, step: int) -> None:
        """Move the selected rule up or down (rules are tried in order)."""
        if self.refused("reordering rules"):
            return
        if (i := self._rule()) is None:
            return
        to = i + step
        if not 0 <= to < len(self.rules()):
            return
        error = self.push(api.move_rule(rule_ref(self.vs, i), to), ("rule", to))
        if error:
            self.notify(error, severity="error")

    def action_rewrite(self) -> None:
        """Add or change the URI rewrite of the selected rule."""
        if self.refused("a rewrite change"):
            return
        if (i := self._rule()) is None:
            return
        route_forms.rewrite(self, i)

    def action_retries(self) -> None:
        """Set the retry policy of the selected rule."""
        if self.refused("a retries change"):
            return
        if (i := self._rule()) is not None:
            route_forms.retries(self, i)

    def action_timeout(self) -> None:
        """Set or remove the request timeout of the selected rule."""
        if self.refused("a timeout change"):
            return
        if (i := self._rule()) is not None:
            route_forms.timeout(self, i)

    # -- preview, discard, undo -------------------------------------------------------------------

    def action_preview(self) -> None:
        """Review the pending edits (diff, validation, dry run); ``y`` there applies them."""
        self.review.preview()

    def action_discard(self) -> None:
        """Go back; with pending edits, ask first (yes discards them and goes back)."""
        self.review.discard()

    def action_undo_pending(self) -> None:
        """Drop the last pending edit."""
        self.review.undo_pending()

    def action_undo_applied(self) -> None:
        """Undo the last change applied to this source (through the preview)."""
        self.review.undo_applied()

    # -- release workflows (one key each; forms in release_forms) -----------------------------------

    def action_release(self, name: str) -> None:
        """Run release workflow ``name`` (canary, promote, rollback, bluegreen, dark, ab, mirror, ...)."""
        if self.refused(release_forms.TITLES.get(name, name)):
            return
        release_forms.run(self, name)
