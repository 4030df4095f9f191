"""The HTTPRoute editor: shift the backendRef weights of one HTTPRoute/GRPCRoute as
percentages, run the release actions the Gateway API can express, edit the rules' matches, then
review and apply.

Weight keys work on the selected backend: ``←``/``→`` (or ``-``/``+``) move its share by 5
points (``shift`` by 1), ``=`` types an exact share, ``0`` drains it; the other backends of the
rule share the rest in proportion. Weights are written on the rule's own scale where that is
exact (a rule written 9/1 becomes 8/2, not 80/20); ``s`` switches to a 100 scale. ``p`` promotes
and ``r`` rolls back to the selected backend, ``c`` moves a canary step to it, ``b`` switches the
rule blue-green, ``A`` types an exact A/B split, ``h`` dark-launches the backend behind a header, ``M`` mirrors a percentage of
the rule's traffic to it.

Match keys work on the match under the cursor (a ``when``/``or`` line), else on every match of
the rule: ``m``/``x`` add or drop a header condition, ``P`` sets the path (Exact, PathPrefix,
RegularExpression), ``V`` the HTTP method (a GRPCRoute: the gRPC service/method), ``Q`` a query
parameter (an empty value drops a condition); ``n`` adds a match to the rule, ``X`` removes the
one under the cursor. A value the CRD refuses is refused as it is typed, with the CRD's message
(schema and CEL rules, as the API server answers). Fault injection (``f``) and DestinationRule
subsets (``a``) are refused with the reason: the Gateway API cannot express them. Pending edits
show against the object as read until ``enter`` opens the preview (``y`` applies there).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from meshtui.model.management import managed_by
from meshtui.routing.gateway_api_matches import PATH_TYPES
from meshtui.routing.gateway_api_release import Scale
from meshtui.routing.rules import ReleaseError
from meshtui.messages import MeshUpdated
from meshtui.screens.edit_form import FormField, FormScreen
from meshtui.screens.edit_review import ReviewFlow
from meshtui.screens.write_actions import refuse_if_read_only
from meshtui.views.httproute_edit import RuleRow, edit_rows
from meshtui.widgets import describe
from meshtui.widgets.host import session_of
from meshtui.widgets.status_bar import StatusBar
from meshtui.write import edit_api_gateway as api
from meshtui.write.edit_api import Action
from meshtui.write.pending import EditSession

_STYLES = ("green", "cyan", "magenta", "yellow", "blue", "bright_red")


class HTTPRouteEditor(Screen[None]):
    """Edit the Gateway API route ``key`` = ``(kind, namespace, name)``."""

    BINDINGS = [
        Binding("left,minus", "weight(-5)", "-5%", id="hr-weight-down", tooltip="selected backend"),
        Binding("right,plus", "weight(5)", "+5%", id="hr-weight-up", tooltip="selected backend"),
        Binding("shift+left", "weight(-1)", "-1%", show=False, id="hr-weight-down-1"),
        Binding("shift+right", "weight(1)", "+1%", show=False, id="hr-weight-up-1"),
        Binding("equals_sign", "exact", "Set %", id="hr-weight-exact", tooltip="type the exact share"),
        Binding("0", "drain", "Drain", id="hr-drain", tooltip="share 0, kept in the rule"),
        Binding("p", "promote", "Promote", id="hr-promote", tooltip="all traffic to the selected backend"),
        Binding("r", "rollback", "Rollback", id="hr-rollback", tooltip="all traffic back to the selected backend"),
        Binding("h", "dark_launch", "Dark launch", id="hr-dark-launch", tooltip="by header, to the selected backend"),
        Binding("M", "mirror", "Mirror", id="hr-mirror", tooltip="a percentage of the rule to the selected backend"),
        Binding("c", "canary_step", "Canary step", id="hr-canary-step",
                tooltip="move a step from the largest other backend to the selected one"),
        Binding("b", "blue_green", "Blue-green", show=False, id="hr-blue-green",
                tooltip="switch the rule to a backend (added when missing)"),
        Binding("s", "ab_split", "A/B split", show=False, id="hr-ab-split",
                tooltip="the exact split of the selected rule, e.g. cart-v1=50 cart-v2=50"),
        Binding("A", "autopilot", "Autopilot", show=False, id="hr-canary-autopilot",
                tooltip="supervised canary: steps gated on traffic, rollback on failure"),
        Binding("m", "match", "Match", id="hr-match", tooltip="require a header in the selected match or rule"),
        Binding("x", "remove_match", "Unmatch", show=False, id="hr-remove-match",
                tooltip="drop a header condition of the selected match or rule"),
        Binding("P", "path_match", "Path", show=False, id="hr-path-match",
                tooltip="the path of the selected match or rule: Exact, PathPrefix, RegularExpression"),
        Binding("V", "method_match", "Method", show=False, id="hr-method-match",
                tooltip="the HTTP method (GRPCRoute: gRPC service/method) of the selected match or rule"),
        Binding("Q", "query_match", "Query", show=False, id="hr-query-match",
                tooltip="a query parameter condition of the selected match or rule"),
        Binding("n", "add_match", "New match", show=False, id="hr-add-match",
                tooltip="one more match (OR) in the selected rule"),
        Binding("X", "drop_match", "Drop match", show=False, id="hr-drop-match",
                tooltip="remove the match under the cursor"),
        Binding("percent_sign", "scale", "Scale", id="hr-scale", tooltip="write weights on the rule's own scale or on 100"),
        Binding("f", "refuse('fault')", "Fault", show=False, id="hr-fault", tooltip="not expressible: says why"),
        Binding("a", "refuse('subset')", "Subset", show=False, id="hr-subset", tooltip="not expressible: says why"),
        # priority: the tree would take enter as "select node".
        Binding("enter", "preview", "Preview", id="hr-preview", tooltip="diff, checks, dry run; then y",
                priority=True),
        Binding("backspace", "undo_pending", "Undo edit", show=False, id="hr-undo-pending"),
        Binding("u", "undo_applied", "Undo applied", show=False, id="hr-undo-applied",
                tooltip="revert the last write"),
        Binding("escape", "discard", "Back", show=False, id="hr-discard",
                tooltip="asks first when edits are pending"),
        Binding("question_mark", "app.help", "Keys", show=False, id="hr-help"),
    ]

    def __init__(self, key: tuple[str, str, str], select: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.key = key
        self._select = select
        self.session: EditSession | None = None
        self.scale = Scale.AUTO
        #: Load, follow the source, preview, discard, undo and the autopilot: shared with the
        #: VirtualService editor.
        self.review = ReviewFlow(self)

    def compose(self) -> ComposeResult:
        yield Static(id="hr-editor-title")
        yield Tree("rules", id="hr-edit-tree")
        yield Static(id="hr-editor-pending")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Load the route from the index and focus the tree."""
        found = self.review.load()
        if found is None:
            return
        mesh = session_of(self)
        self._managers = managed_by(found, mesh.index) if mesh is not None and mesh.index is not None else []
        tree = self.query_one(Tree)
        tree.show_root = False
        self.redraw(self._select)
        tree.focus()

    # -- drawing ----------------------------------------------------------------------------------

    def rows(self) -> list[RuleRow]:
        """The rules of the pending state, with shares as read."""
        assert self.session is not None
        return edit_rows(self.session.base, self.session.current)

    def redraw(self, select: tuple[int, int] | None = None) -> None:
        """Draw the pending state; keep the cursor on ``select`` (rule, backend) or where it was."""
        if self.session is None:
            return
        tree = self.query_one(Tree)
        at = select if select is not None else self._at()
        keep = self._cursor_data() if select is None else None
        scale = "rule's scale where exact" if self.scale is Scale.AUTO else "on 100"
        title = Text.assemble(("Edit ", "bold"), (f"{self.key[0]} {self.key[1]}/{self.key[2]}", "bold cyan"),
                              (f"   weights: {scale} (%)", "dim"))
        self.query_one("#hr-editor-title", Static).update(title)
        tree.clear()
        for reason in self._managers:
            tree.root.add_leaf(Text("⚙ managed: " + reason, style="yellow"))
        cursor: Any = None
        for rule in self.rows():
            head = Text(rule.title, style="bold")
            head.append(f"  weights sum to {rule.total}", style="dim")
            if len(rule.backends) > 1:
                head.append("  ")
                head.append_text(describe.stacked_bar(
                    [(b.label, b.share, _STYLES[b.position % len(_STYLES)]) for b in rule.backends]))
            node = tree.root.add(head, data=("rule", rule.index), expand=True)
            for i, m in enumerate(rule.matches or ["(every request)"]):
                data = ("match", rule.index, i if rule.matches else None)
                leaf = node.add_leaf(Text(("when " if i == 0 else "or   ") + m, style="yellow"), data=data)
                if keep == data:
                    cursor = leaf
            for a in rule.actions:
                node.add_leaf(Text(a, style="italic"))
            for b in rule.backends:
                style = _STYLES[b.position % len(_STYLES)]
                line = Text("→ ")
                line.append(b.label.ljust(28), style=style)
                if b.share_before is not None and (b.share_before, b.weight_before) != (b.share, b.weight):
                    line.append(f"{b.share_before:>3}% → ", style="dim")
                line.append(f"{b.share:>3}% ", style="bold")
                line.append_text(describe.weight_bar(b.share, style))
                if b.weight_before is not None and b.weight_before != b.weight:
                    line.append(f"  weight {b.weight_before} → {b.weight}", style="dim")
                else:
                    line.append(f"  weight {b.weight}", style="dim")
                if b.share_before is None:
                    line.append("  (new)", style="green")
                leaf = node.add_leaf(line, data=("backend", rule.index, b.position))
                if cursor is None and at == (rule.index, b.position):
                    cursor = leaf
        if cursor is None and at is not None:
            cursor = next((n for n in tree.root.children if n.data == ("rule", at[0])), None)
        if cursor is not None:
            # A node has its line only once the cleared tree is laid out again.
            self.call_after_refresh(tree.move_cursor, cursor)
        pending = self.session.description() if self.session.dirty else "no pending edit"
        self.query_one("#hr-editor-pending", Static).update(Text(f"pending: {pending}", style="dim"))

    def _cursor_data(self) -> Any:
        node = self.query_one(Tree).cursor_node
        return node.data if node is not None else None

    def _at(self) -> tuple[int, int] | None:
        """(rule, backend) under the cursor; backend -1 on a rule or a match line."""
        data = self._cursor_data()
        if isinstance(data, tuple) and data and data[0] == "backend":
            return (data[1], data[2])
        if isinstance(data, tuple) and data and data[0] in ("rule", "match"):
            return (data[1], -1)
        return None

    def _match(self) -> int | None:
        """The match under the cursor (its index in the rule); None elsewhere: every match."""
        data = self._cursor_data()
        return data[2] if isinstance(data, tuple) and data and data[0] == "match" else None

    # -- editing ----------------------------------------------------------------------------------

    def _backend(self) -> tuple[RuleRow, int] | None:
        at = self._at()
        if at is None or at[1] < 0:
            self.notify("select a backend of a rule first", severity="warning")
            return None
        rule = next((r for r in self.rows() if r.index == at[0]), None)
        return (rule, at[1]) if rule is not None and at[1] < len(rule.backends) else None

    def queue(self, make: Any, what: str) -> str | None:
        """Queue the action ``make(rule reference)`` builds on the selected rule; returns the
        refusal (the pending state unchanged), else None. A form hands it back to its user, who
        keeps what they typed."""
        if refuse_if_read_only(self.app, what) or self.session is None:
            return None
        at = self._at()
        try:
            action: Action = make(at[0] if at is not None else None)
            self.session.apply(action)
        except ReleaseError as exc:
            return str(exc)
        self.redraw()
        return None

    def run(self, make: Any, what: str) -> None:
        """:meth:`queue`, a refusal shown in a notification and on the bottom line (where it
        stays until the next edit)."""
        refused = self.queue(make, what)
        if refused is not None:
            self.notify(refused, severity="error", timeout=8)
            self.query_one("#hr-editor-pending", Static).update(Text(f"refused: {refused}", style="red"))

    def _set_share(self, value_of: Any) -> None:
        picked = self._backend()
        if picked is None:
            return
        rule, j = picked
        if len(rule.backends) < 2:
            self.notify(f"{rule.title} has one backendRef: there is no split to shift", severity="warning")
            return
        shares = [b.share for b in rule.backends]
        split = api.moved_split(shares, j, value_of(shares[j]))
        targets = {b.target: s for b, s in zip(rule.backends, split)}
        assert self.session is not None
        # Consecutive moves on one rule are one pending step: the split the user ends up seeing.
        last = self.session.edits[-1].description if self.session.edits else ""
        if last.startswith(f"weights of rule #{rule.index}:"):
            self.session.pop()
        self.run(lambda _ref: api.set_split(rule.index, targets, self.scale), "a weight change")

    def action_weight(self, delta: int) -> None:
        """Move the selected backend's share by ``delta`` points."""
        self._set_share(lambda share: share + delta)

    def action_drain(self) -> None:
        """Share 0 for the selected backend (it stays in the rule)."""
        self._set_share(lambda _share: 0)

    def action_exact(self) -> None:
        """Type the exact share of the selected backend."""
        picked = self._backend()
        if picked is None:
            return
        rule, j = picked

        def submit(values: dict[str, str]) -> str | None:
            try:
                value = int(values["share"].rstrip("%"))
            except ValueError:
                return f"{values['share']!r} is not a whole number"
            if not 0 <= value <= 100:
                return f"share {value} must be between 0 and 100 (%)"
            self._set_share(lambda _share: value)
            return None

        self.app.push_screen(FormScreen(f"Share of {rule.backends[j].label} in {rule.title}",
                                        [FormField("share", "share (0-100 %)", str(rule.backends[j].share))], submit,
                                        "the other backends share the rest in proportion to their weights"))

    def action_promote(self) -> None:
        """All traffic of the rule to the selected backend."""
        picked = self._backend()
        if picked is not None:
            target = picked[0].backends[picked[1]].target
            self.run(lambda ref: api.promote(ref, target, self.scale), "a promotion")

    def action_rollback(self) -> None:
        """All traffic of the rule back to the selected backend."""
        picked = self._backend()
        if picked is not None:
            target = picked[0].backends[picked[1]].target
            self.run(lambda ref: api.rollback(ref, target, self.scale), "a rollback")

    def action_dark_launch(self) -> None:
        """A rule before this one sending requests with a header to the selected backend."""
        picked = self._backend()
        if picked is None:
            return
        name = picked[0].backends[picked[1]].target.partition(":")[0].rpartition("/")[2]

        def submit(values: dict[str, str]) -> str | None:
            self.run(lambda ref: api.dark_launch(ref, name, values["header"], values["value"]), "a dark launch")
            return None

        self.app.push_screen(FormScreen(f"Dark launch {name}", [FormField("header", "header", "x-canary"),
                                                                 FormField("value", "value", "true")], submit))

    def action_mirror(self) -> None:
        """Mirror a percentage of the rule's requests to the selected backend."""
        picked = self._backend()
        if picked is None:
            return
        name = picked[0].backends[picked[1]].target.partition(":")[0].rpartition("/")[2]

        def submit(values: dict[str, str]) -> str | None:
            try:
                percent = int(values["percent"].rstrip("%"))
            except ValueError:
                return f"{values['percent']!r} is not a whole number"
            self.run(lambda ref: api.mirror(ref, name, percent), "a mirror")
            return None

        self.app.push_screen(FormScreen(f"Mirror to {name}", [FormField("percent", "percent (1-100)", "10")], submit))

    def action_canary_step(self) -> None:
        """Move a step (default 10 points, capped) from the largest other backend to the
        selected one."""
        picked = self._backend()
        if picked is None:
            return
        rule, j = picked
        others = [b for b in rule.backends if b.position != j]
        if not others:
            self.notify(f"{rule.title} has one backendRef: a canary step needs a stable one beside it",
                        severity="warning")
            return
        stable = max(others, key=lambda b: b.share).target
        canary = rule.backends[j].target

        def submit(values: dict[str, str]) -> str | None:
            try:
                step, cap = int(values["step"].rstrip("%")), int(values["max"].rstrip("%"))
            except ValueError:
                return "step and max are whole numbers of percent"
            self.run(lambda ref: api.canary_step(ref, stable, canary, step, cap, self.scale), "a canary step")
            return None

        self.app.push_screen(FormScreen(f"Canary step {stable} → {canary}",
                                        [FormField("step", "step (%)", "10"), FormField("max", "max (%)", "50")],
                                        submit))

    def action_blue_green(self) -> None:
        """Switch the selected rule to one backend (a Service name; added when missing)."""
        at = self._at()
        rule = next((r for r in self.rows() if at is not None and r.index == at[0]), None)
        if rule is None:
            self.notify("select a rule or a backend first", severity="warning")
            return
        default = rule.backends[at[1]].target.partition(":")[0] if at is not None and at[1] >= 0 else ""

        def submit(values: dict[str, str]) -> str | None:
            self.run(lambda ref: api.blue_green(ref, values["to"].strip(), self.scale), "a blue-green switch")
            return None

        self.app.push_screen(FormScreen(f"Blue-green switch of {rule.title}", [FormField("to", "backend Service",
                                                                                           default)], submit))

    def action_ab_split(self) -> None:
        """Type the exact split of the selected rule (``BACKEND=PERCENT ...``, summing to 100)."""
        at = self._at()
        rule = next((r for r in self.rows() if at is not None and r.index == at[0]), None)
        if rule is None:
            self.notify("select a rule or a backend first", severity="warning")
            return

        def submit(values: dict[str, str]) -> str | None:
            split: dict[str, int] = {}
            for word in values["split"].split():
                target, _, pct = word.partition("=")
                if not pct.rstrip("%").isdigit():
                    return f"{word!r}: expected BACKEND=PERCENT"
                split[target] = int(pct.rstrip("%"))
            self.run(lambda ref: api.ab_split(ref, split, self.scale), "an A/B split")
            return None

        current = " ".join(f"{b.target}={b.share}" for b in rule.backends)
        self.app.push_screen(FormScreen(f"A/B split of {rule.title}", [FormField("split", "BACKEND=PERCENT ...",
                                                                                 current)], submit,
                                        "backends not named get 0; the shares must add up to 100"))

    def _where(self) -> str | None:
        """What a match key edits, for its form title (None, with a warning, off any rule)."""
        at = self._at()
        if at is None:
            self.notify("select a rule, a match or a backend first", severity="warning")
            return None
        match = self._match()
        return f"rules[{at[0]}]" + (" (every match)" if match is None else f" match #{match}")

    def action_match(self) -> None:
        """Require a header (exact, or ``~REGEX``) in the selected match, else in every match of
        the selected rule."""
        if self._where() is None:
            return
        match = self._match()

        def submit(values: dict[str, str]) -> str | None:
            value = values["value"]
            regex = value.startswith("~")
            return self.queue(lambda ref: api.header_match(ref, values["header"], value[1:] if regex else value,
                                                           regex, match), "a match change")

        self.app.push_screen(FormScreen("Header match", [FormField("header", "header", "x-canary"),
                                                         FormField("value", "value (~REGEX for a regex)", "true")],
                                        submit))

    def action_remove_match(self) -> None:
        """Drop the conditions on one header (selected match, else every match of the rule)."""
        if self._where() is None:
            return
        match = self._match()

        def submit(values: dict[str, str]) -> str | None:
            return self.queue(lambda ref: api.remove_header_match(ref, values["header"], match), "a match change")

        self.app.push_screen(FormScreen("Remove header match", [FormField("header", "header", "")], submit))

    def _raw_match(self) -> dict[str, Any]:
        """The pending raw match under the cursor (empty elsewhere): the forms start from it."""
        at, match = self._at(), self._match()
        if self.session is None or at is None or match is None:
            return {}
        rules = (self.session.current.get("spec") or {}).get("rules") or []
        matches = (rules[at[0]].get("matches") or []) if at[0] < len(rules) else []
        found = matches[match] if match < len(matches) else {}
        return found if isinstance(found, dict) else {}

    def action_path_match(self) -> None:
        """Set the path condition (``PathPrefix``, ``Exact``, ``RegularExpression``; an empty
        value drops it) of the selected match, else of every match of the rule."""
        where = self._where()
        if where is None:
            return
        match = self._match()
        path = self._raw_match().get("path") or {}

        def submit(values: dict[str, str]) -> str | None:
            return self.queue(lambda ref: api.path_match(ref, values["type"], values["value"], match),
                              "a match change")

        self.app.push_screen(FormScreen(f"Path match of {where}", [
            FormField("type", "type", str(path.get("type") or "PathPrefix"), choices=PATH_TYPES),
            FormField("value", "path (empty: any path)", str(path.get("value") or "/"), optional=True)], submit,
            "Exact and PathPrefix paths start with /"))

    def action_method_match(self) -> None:
        """Set the HTTP method (a GRPCRoute: the gRPC ``SERVICE/METHOD``, ``~`` first for a
        regex) of the selected match, else of every match of the rule; empty drops it."""
        where = self._where()
        if where is None:
            return
        match = self._match()
        method = self._raw_match().get("method")
        if self.key[0] == "GRPCRoute":
            grpc = method if isinstance(method, dict) else {}
            current = (("~" if grpc.get("type") == "RegularExpression" else "")
                       + f"{grpc.get('service') or '*'}/{grpc.get('method') or '*'}") if grpc else ""

            def submit_grpc(values: dict[str, str]) -> str | None:
                text = values["method"].strip()
                regex = text.startswith("~")
                service, _, name = text.lstrip("~").partition("/")
                return self.queue(lambda ref: api.grpc_method_match(ref, service.strip("* "), name.strip("* "), regex,
                                                                    match), "a match change")

            self.app.push_screen(FormScreen(f"gRPC method match of {where}", [
                FormField("method", "SERVICE/METHOD (~ first for a regex; * or empty: any)", current, optional=True)],
                submit_grpc))
            return

        def submit(values: dict[str, str]) -> str | None:
            return self.queue(lambda ref: api.method_match(ref, values["method"], match), "a match change")

        self.app.push_screen(FormScreen(f"Method match of {where}", [
            FormField("method", "HTTP method (empty: any)", str(method or "GET"), optional=True)], submit))

    def action_query_match(self) -> None:
        """Require a query parameter (exact, or ``~REGEX``; an empty value drops the condition)
        in the selected match, else in every match of the rule."""
        where = self._where()
        if where is None:
            return
        match = self._match()

        def submit(values: dict[str, str]) -> str | None:
            name, value = values["name"], values["value"]
            if not value:
                return self.queue(lambda ref: api.remove_query_match(ref, name, match), "a match change")
            regex = value.startswith("~")
            return self.queue(lambda ref: api.query_match(ref, name, value[1:] if regex else value, regex, match),
                              "a match change")

        self.app.push_screen(FormScreen(f"Query parameter match of {where}", [
            FormField("name", "parameter", ""),
            FormField("value", "value (~REGEX for a regex; empty: drop)", "", optional=True)], submit))

    def action_add_match(self) -> None:
        """Add a match (an alternative, OR) to the selected rule, written as the editor shows
        matches: ``PathPrefix /api, method GET, header x-canary=true, query v=2``."""
        at = self._at()
        if at is None:
            self.notify("select a rule, a match or a backend first", severity="warning")
            return
        grpc = self.key[0] == "GRPCRoute"

        def submit(values: dict[str, str]) -> str | None:
            return self.queue(lambda ref: api.add_match(ref, self.key[0], values["match"]), "a match change")

        example = "grpc SERVICE/METHOD, header N=V" if grpc else "PathPrefix /api, method GET, header N=V, query N=V"
        self.app.push_screen(FormScreen(f"New match of rules[{at[0]}]", [
            FormField("match", "conditions, comma-separated", "" if grpc else "PathPrefix /")], submit,
            f"e.g. {example} (~ instead of = for a regex); a rule without matches takes only the new one"))

    def action_drop_match(self) -> None:
        """Remove the match under the cursor (a rule left without matches takes every request)."""
        match = self._match()
        if match is None:
            self.notify("put the cursor on a match (a when/or line) first", severity="warning")
            return
        self.run(lambda ref: api.remove_match(ref, match), "a match change")

    def action_scale(self) -> None:
        """Switch how the next weight edits are written: the rule's own scale, or 100."""
        self.scale = Scale.PERCENT if self.scale is Scale.AUTO else Scale.AUTO
        self.redraw()

    def action_refuse(self, what: str) -> None:
        """An action the Gateway API cannot express: say why (in a notification and on the
        editor's bottom line, where it stays until the next edit)."""
        reason = str(api.refuse(what, self.session.base if self.session else None))
        self.notify(reason, severity="warning", timeout=10)
        self.query_one("#hr-editor-pending", Static).update(Text(f"refused: {reason}", style="yellow"))

    # -- the canary autopilot ----------------------------------------------------------------------

    def action_autopilot(self) -> None:
        """A supervised canary on the selected rule, moving the selected backend (else the
        lightest one): a form, then the live timeline of its steps and gates."""
        at = self._at()
        rule = next((r for r in self.rows() if at is not None and r.index == at[0]), None)
        if rule is None:
            self.notify("select a rule or a backend first", severity="warning")
            return
        # As `meshtui canary --to` takes them: NAME (or NS/NAME), with :PORT only where the name
        # alone would be ambiguous.
        bare = [b.target.rpartition(":")[0] or b.target for b in rule.backends]
        names = [n if bare.count(n) == 1 else b.target for n, b in zip(bare, rule.backends)]
        if len(names) < 2:
            self.notify(f"{rule.title} has one backendRef: a canary needs a stable one beside it", severity="warning")
            return
        picked = at[1] if at is not None and at[1] >= 0 else min(range(len(names)), key=lambda k: rule.backends[k].share)
        self.review.autopilot(str(rule.index), rule.title, names[picked], names, strict=True)

    # -- reviewing -------------------------------------------------------------------------------

    def on_mesh_updated(self, message: MeshUpdated) -> None:
        """Follow the route at the source: adopt a newer version (pending edits re-applied on top)."""
        self.review.follow_source()

    def on_screen_resume(self) -> None:
        """Back from a modal (which does not get watch events): catch up."""
        self.review.follow_source()

    def action_preview(self) -> None:
        """Review the pending edits (diff, validation, dry run); ``y`` there applies them."""
        self.review.preview()

    def action_undo_pending(self) -> None:
        """Drop the last pending edit."""
        self.review.undo_pending()

    def action_undo_applied(self) -> None:
        """Undo the last change applied to this source (through the preview)."""
        self.review.undo_applied()

    def action_discard(self) -> None:
        """Go back; with pending edits, ask first (yes discards them and goes back)."""
        self.review.discard()
