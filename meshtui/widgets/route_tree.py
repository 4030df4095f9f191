"""The routes of one service drawn as a tree: VirtualService → rule → match → destinations."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from meshtui.views.dataplane_line import gateway_proxy_gateways
from meshtui.widgets import describe

# Backends of a Gateway API rule are Services (one per version), coloured by host.
_BACKEND_STYLES = ("green", "yellow", "cyan", "magenta", "blue", "red")


class RouteTree(Tree[Any]):
    """Shows the VirtualServices, Gateway API routes, DestinationRule and gateways of the service
    in focus.

    ``show_service`` rebuilds the tree but keeps which nodes were expanded (by path of labels),
    so a watch event that changes a weight does not collapse what the user opened.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("routes", **kwargs)
        self.show_root = False
        self.guide_depth = 3
        self._bypass_notes: dict[tuple[str, str], str] = {}

    def show_service(self, index: Any, service: Any | None,
                     bypass_notes: dict[tuple[str, str], str] | None = None) -> None:
        """Render ``service`` (a model Service or ServiceEntry) from ``index``; None clears.

        ``bypass_notes`` maps a VirtualService (namespace, name) to the marker of observed
        traffic that bypasses it (a Host it does not list), drawn first under its node.
        """
        self._bypass_notes = bypass_notes or {}
        collapsed = self._collapsed_paths()
        cursor = self._cursor_path()
        self.clear()
        if service is None:
            self.root.add_leaf(Text("Select a service", style="dim"))
            return
        from meshtui.routing.service_view import service_routes

        view = service_routes(index, service)
        if view.mixing:
            self.root.add_leaf(Text("⚠ " + view.mixing, style="bold yellow"))
        self._add_virtual_services(view, gateway_proxy_gateways(index, service))
        self._add_k8s_routes(view)
        self._add_destination_rule(view)
        self._add_exposure(view)
        self._add_backends(view)
        self._restore(collapsed, cursor)

    # -- sections -------------------------------------------------------------------------

    def _add_virtual_services(self, view: Any, gateways: list[str] | None) -> None:
        if not view.virtual_services and view.k8s_routes:
            return  # the Gateway API routes it: drawn by _add_k8s_routes
        if not view.virtual_services and gateways is not None:
            node = self.root.add(Text(f"{view.short_name} is a gateway proxy: it routes by its Gateways' servers",
                                      style="bold"), expand=True)
            node.add_leaf(Text("and the routes bound to them, not by routes for its own host "
                               "(c on its pod: its listeners)", style="italic dim"))
            for name in gateways:
                node.add_leaf(Text.assemble(("Gateway ", "dim"), (name, "cyan")))
            if not gateways:
                node.add_leaf(Text("no Gateway selects its pods: it has no listener to route by", style="yellow"))
            return
        if not view.virtual_services:
            self.root.add_leaf(
                Text(
                    f"No VirtualService routes {view.short_name}: all traffic goes round-robin "
                    f"to every pod of {view.short_name}",
                    style="italic dim",
                )
            )
            return
        colours = view.subset_styles
        for vs in view.virtual_services:
            label = Text.assemble(("VirtualService ", "bold"), (f"{vs.namespace}/{vs.name}", "bold cyan"))
            note = self._bypass_notes.get((vs.namespace, vs.name))
            if note:
                label.append("  ⚠ bypassed", style="bold red")
            vs_node = self.root.add(label, data=("vs", vs.key), expand=True)
            if note:
                vs_node.add_leaf(Text(note, style="bold red"))
            vs_node.add_leaf(Text.assemble(("hosts ", "dim"), ", ".join(vs.hosts)))
            vs_node.add_leaf(Text.assemble(("gateways ", "dim"), ", ".join(vs.gateways) or "mesh (default)"))
            # Weights another writer will put back: say so before the user edits them.
            if vs.rollout:
                vs_node.add_leaf(Text("⚙ " + vs.rollout, style="bold yellow"))
            for reason in vs.managers:
                vs_node.add_leaf(Text("⚙ managed: " + reason, style="yellow"))
            for rule in vs.http:
                self._add_rule(vs_node, rule, colours)
            for kind, rules in (("tls", vs.tls), ("tcp", vs.tcp)):
                for i, r in enumerate(rules):
                    node = vs_node.add(Text(f"{kind}[{i}]", style="bold"), expand=True)
                    for m in r.get("match") or []:
                        node.add_leaf(Text("when " + ", ".join(f"{k}={v}" for k, v in m.items())))
                    for d in r.get("route") or []:
                        dest = d.get("destination") or {}
                        node.add_leaf(
                            Text(f"→ {dest.get('host')} {dest.get('subset') or ''} {d.get('weight', 100)}%")
                        )

    def _add_rule(self, parent: TreeNode[Any], rule: Any, colours: dict[str, str]) -> None:
        title = Text(f"http[{rule.index}]", style="bold")
        if rule.name:
            title.append(f" {rule.name}", style="bold magenta")
        if rule.destinations and len(rule.destinations) > 1:
            title.append("  ")
            title.append_text(
                describe.stacked_bar(
                    [(d.label, d.weight, colours.get(d.subset or "", "white")) for d in rule.destinations]
                )
            )
        node = parent.add(title, data=("rule", rule.index), expand=True)
        if rule.matches:
            for i, conds in enumerate(rule.matches):
                prefix = "when " if i == 0 else "or   "
                node.add_leaf(Text(prefix + " and ".join(conds), style="yellow"))
        else:
            node.add_leaf(Text("when (every request)", style="dim yellow"))
        for extra in rule.extras:
            node.add_leaf(Text(extra, style="italic"))
        for d in rule.destinations:
            style = colours.get(d.subset or "", "white")
            line = Text("→ ")
            line.append(d.label.ljust(26), style=style)
            # The number first: on a narrow terminal the bar is what gets cut, not the weight.
            line.append(f"{d.weight:>3}% ", style="bold")
            line.append_text(describe.weight_bar(d.weight, style))
            node.add_leaf(line, data=("dest", rule.index, d.position))

    def _add_k8s_routes(self, view: Any) -> None:
        """HTTPRoutes/GRPCRoutes: route → rule → matches → filters → backends with their share."""
        styles: dict[str, str] = {}

        def style_of(host: str) -> str:
            if host not in styles:
                styles[host] = _BACKEND_STYLES[len(styles) % len(_BACKEND_STYLES)]
            return styles[host]

        for route in view.k8s_routes:
            label = Text.assemble((route.key[0] + " ", "bold"), (f"{route.key[1]}/{route.key[2]}", "bold cyan"))
            node = self.root.add(label, data=("k8sroute", route.key), expand=True)
            node.add_leaf(Text.assemble(("parents ", "dim"), ", ".join(route.parents) or "(none)"))
            if route.hostnames:
                node.add_leaf(Text.assemble(("hostnames ", "dim"), ", ".join(route.hostnames)))
            for problem in route.problems:
                node.add_leaf(Text("✘ " + problem, style="bold red"))
            for reason in route.managers:
                node.add_leaf(Text("⚙ managed: " + reason, style="yellow"))
            for rule in route.rules:
                self._add_k8s_rule(node, route.key, rule, style_of)

    def _add_k8s_rule(self, parent: TreeNode[Any], key: Any, rule: Any, style_of: Any) -> None:
        title = Text(f"rules[{rule.rule_index}]", style="bold")
        if rule.name:
            title.append(f" {rule.name}", style="bold magenta")
        if len(rule.backends) > 1:
            title.append("  ")
            title.append_text(describe.stacked_bar(
                [(b.label, round(b.share * 100), style_of(b.host)) for b in rule.backends]))
        node = parent.add(title, data=("k8srule", key, rule.rule_index), expand=True)
        if rule.matches:
            for i, match in enumerate(rule.matches):
                node.add_leaf(Text(("when " if i == 0 else "or   ") + match, style="yellow"))
        else:
            node.add_leaf(Text("when (every request)", style="dim yellow"))
        for action in rule.actions:
            node.add_leaf(Text("filter " + action if not action.startswith(("timeout", "retry")) else action,
                               style="italic"))
        if not rule.backends:
            node.add_leaf(Text("→ no backendRefs: answered 500 (or by a redirect filter)", style="dim"))
        for i, b in enumerate(rule.backends):
            share = round(b.share * 100)
            style = style_of(b.host)
            line = Text("→ ")
            line.append(b.label.ljust(30), style=style)
            # The share is what traffic gets; the weight is what the file says (relative).
            line.append(f"{share:>3}% ", style="bold")
            line.append_text(describe.weight_bar(share, style))
            line.append(f"  weight {b.weight}", style="dim")
            node.add_leaf(line, data=("k8sbackend", key, rule.rule_index, i))

    def _add_destination_rule(self, view: Any) -> None:
        dr = view.destination_rule
        if dr is None:
            self.root.add_leaf(Text("No DestinationRule: default traffic policy", style="italic dim"))
            return
        label = Text.assemble(
            ("DestinationRule ", "bold"), (f"{dr.namespace}/{dr.name}", "bold cyan"), ("  host ", "dim"), dr.host
        )
        node = self.root.add(label, data=("dr", dr.key), expand=True)
        for line in view.policy_lines:
            node.add_leaf(Text(line, style="italic"))
        for s in view.subsets:
            text = Text(f"subset {s.name}".ljust(18), style=view.subset_styles.get(s.name, "white"))
            text.append(" " + ",".join(f"{k}={v}" for k, v in s.labels.items()).ljust(24))
            pods_style = "green" if s.ready and s.ready == s.total else ("red" if not s.ready else "yellow")
            if s.unit == "pods":
                text.append(f" pods {s.ready}/{s.total} ready", style=pods_style)
            else:
                text.append(f" {s.total} replica{'s' if s.total != 1 else ''} (desired)", style=pods_style)
            node.add_leaf(text)

    def _add_exposure(self, view: Any) -> None:
        for k8s_gw in view.k8s_gateways:
            label = Text.assemble(("Gateway ", "bold"), (f"{k8s_gw.key[1]}/{k8s_gw.key[2]}", "bold cyan"),
                                  (f"  class {k8s_gw.gateway_class}", "dim"))
            if k8s_gw.addresses:
                label.append("  address " + ", ".join(k8s_gw.addresses), style="dim")
            node = self.root.add(label, data=("k8sgw", k8s_gw.key), expand=True)
            for problem in k8s_gw.problems:
                node.add_leaf(Text("✘ " + problem, style="bold red"))
            for listener in k8s_gw.listeners:
                ln = node.add(Text("listener " + listener.line), expand=True)
                for route in listener.routes:
                    ln.add_leaf(Text("← " + route))
                if not listener.routes:
                    ln.add_leaf(Text("(no route attached)", style="dim"))
        for gw in view.gateway_views:
            label = Text.assemble(("Gateway ", "bold"), (f"{gw.namespace}/{gw.name}", "bold cyan"))
            if gw.selector:
                label.append(f"  selector {gw.selector}", style="dim")
            label.append(f"  via VirtualService {gw.via}", style="dim")
            node = self.root.add(label, data=("gw", gw.namespace, gw.name), expand=True)
            for line in gw.servers:
                node.add_leaf(Text("server " + line))

    def _add_backends(self, view: Any) -> None:
        if view.ports:
            node = self.root.add(Text.assemble(("Service ports", "bold")), data=("ports",), expand=True)
            for line in view.ports:
                node.add_leaf(Text(line))
            if view.endpoints:
                node.add_leaf(Text(f"endpoints {view.endpoints}", style="dim"))
        if view.workloads:
            node = self.root.add(Text("Pods" if view.workloads[0].detail[:8] != "replicas" else "Workloads",
                                      style="bold"), data=("pods",), expand=True)
            for w in view.workloads:
                style = view.subset_styles.get(w.subset or "", "white")
                line = Text("● " if w.ready else "○ ", style="green" if w.ready else "red")
                line.append(w.name.ljust(34))
                line.append(f" {w.subset or '-':<6}", style=style)
                line.append(f" {w.detail}", style="dim")
                node.add_leaf(line, data=("pod", w.namespace, w.pod) if w.pod else None)

    # -- keeping the user's place across rebuilds ------------------------------------------

    def _path(self, node: TreeNode[Any]) -> tuple[str, ...]:
        parts: list[str] = []
        while node is not None and not node.is_root:
            parts.append(str(node.data) if node.data is not None else str(node.label)[:40])
            node = node.parent  # type: ignore[assignment]
        return tuple(reversed(parts))

    def _collapsed_paths(self) -> set[tuple[str, ...]]:
        out: set[tuple[str, ...]] = set()
        stack = list(self.root.children)
        while stack:
            n = stack.pop()
            if n.children and not n.is_expanded:
                out.add(self._path(n))
            stack.extend(n.children)
        return out

    def _cursor_path(self) -> tuple[str, ...] | None:
        node = self.cursor_node
        return self._path(node) if node is not None else None

    def _restore(self, collapsed: set[tuple[str, ...]], cursor: tuple[str, ...] | None) -> None:
        # New nodes open expanded; nodes the user had collapsed stay collapsed.
        stack = list(self.root.children)
        while stack:
            n = stack.pop()
            p = self._path(n)
            if p in collapsed:
                n.collapse()
            if cursor is not None and p == cursor:
                self.move_cursor(n)
            stack.extend(n.children)
