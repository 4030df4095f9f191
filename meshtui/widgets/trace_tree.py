"""A traced request drawn as a tree: the VirtualService, each rule tried, the way out.

The tree reads a ``meshtui.routing.result.TraceResult`` and draws it, with the sentences of
``meshtui.views.trace_lines`` (the Host-header trap among them).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from meshtui.views.trace_lines import (
    bypassed_virtual_services,
    no_virtual_service_line,
    short_host,
)
from meshtui.widgets import describe

OK, FAIL = ("✔", "bold green"), ("✘", "bold red")
DEST_STYLES = ("green", "yellow", "cyan", "magenta", "blue", "red")


class TraceTree(Tree[Any]):
    """Shows one trace: request, VirtualService and rules (✔/✘ with reasons), destinations."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("trace", **kwargs)
        self.show_root = False
        self.guide_depth = 3

    def show_message(self, text: str, style: str = "dim") -> None:
        """Replace the tree by one line (before the first trace)."""
        self.clear()
        self.root.add_leaf(Text(text, style=style))

    def show_result(self, result: Any, index: Any = None) -> None:
        """Draw ``result`` (a ``TraceResult``); ``index`` serves the Host-header trap check."""
        from meshtui.routing.describe import policy_lines

        self.clear()
        req = result.request
        head = Text.assemble((f"{req.method} ", "bold"), (f"{req.scheme}://{req.authority}{req.path}", "bold"),
                             (f"  via {result.gateway}", "dim"))
        if req.source_namespace:
            head.append(f"  from {req.source_namespace}", style="dim")
        req_node = self.root.add(head, expand=True)
        for key, value in sorted(req.headers.items()):
            req_node.add_leaf(Text(f"{key}: {value}", style="dim"))
        if req.source_labels:
            req_node.add_leaf(Text("caller " + ",".join(f"{k}={v}" for k, v in req.source_labels.items()), style="dim"))
        host = Text.assemble(("host ", "dim"), result.host)
        if result.port:
            host.append(f" :{result.port}")
        if result.service:
            host.append(f"  → Service {result.service}", style="cyan")
        self.root.add_leaf(host)
        for note in result.notes:
            self.root.add_leaf(Text(f"· {note}", style="dim italic"))
        self._add_virtual_service(result, index)
        self._add_actions(result)
        verdict_style = "bold green" if result.outcome == "route" else (
            "bold red" if result.outcome in ("no_route", "no_vhost", "blackhole") else "bold yellow")
        self.root.add_leaf(Text(result.verdict(), style=verdict_style))
        # Manifests on disk hold Deployments, not pods: the engine then lists the workloads.
        has_pods = index is None or index.count("Pod") > 0
        if result.destinations or result.mirrors:
            dests = self.root.add(Text("Destinations", style="bold"), expand=True)
            for n, d in enumerate(result.destinations):
                self._add_destination(dests, d, DEST_STYLES[n % len(DEST_STYLES)], policy_lines, has_pods)
            for m in result.mirrors:
                line = Text(f"mirror → {short_host(m.host)}" + (f" {m.subset}" if m.subset else ""), style="italic")
                line.append(f"  {m.percentage:g}% copied, responses ignored", style="dim")
                dests.add_leaf(line)

    # -- sections -------------------------------------------------------------------------

    def _add_virtual_service(self, result: Any, index: Any) -> None:
        if result.virtual_service is None:
            node = self.root.add(Text(no_virtual_service_line(result), style="bold yellow"), expand=True)
            for name, hosts in bypassed_virtual_services(index, result):
                node.add_leaf(Text(
                    f"VirtualService {name} is for hosts {', '.join(hosts)}, not {result.host}: "
                    "its rules are never consulted (the Host-header trap)",
                    style="yellow",
                ))
            return
        node = self.root.add(
            Text.assemble(("VirtualService ", "bold"), (result.virtual_service, "bold cyan")), expand=True
        )
        for rule in result.rules:
            self._add_rule(node, rule, result)

    def _add_rule(self, parent: TreeNode[Any], rule: Any, result: Any) -> None:
        mark, style = OK if rule.matched else FAIL
        label = Text.assemble((f"{mark} ", style), (f"http[{rule.index}]", "bold"))
        if rule.name:
            label.append(f" {rule.name}", style="bold magenta")
        if rule.virtual_service != result.virtual_service or rule.delegate:
            label.append(f"  ({rule.virtual_service})", style="dim")
        if rule.matched and rule.index == result.rule_index:
            label.append("  ← taken", style="bold green")
        if rule.delegate:
            label.append(f"  delegates to {rule.delegate}", style="cyan")
        node = parent.add(label, expand=True)
        blocks = list(rule.blocks)
        if len(blocks) == 1 and blocks[0].index is None:
            node.add_leaf(Text("no match conditions: matches every request", style="dim"))
            return
        for block in blocks:
            target = node
            if len(blocks) > 1:
                b_mark, b_style = OK if block.matched else FAIL
                head = Text.assemble((f"{b_mark} ", b_style), f"match[{block.index}]")
                if block.name:
                    head.append(f" ({block.name})", style="dim")
                target = node.add(head, expand=True)
            if not block.conditions:
                target.add_leaf(Text("empty match block: matches every request", style="dim"))
            for cond in block.conditions:
                c_mark, c_style = OK if cond.ok else FAIL
                target.add_leaf(Text.assemble((f"{c_mark} ", c_style), (cond.reason, "" if cond.ok else "red")))

    def _add_actions(self, result: Any) -> None:
        if result.rule_index is not None:
            taken = Text.assemble(("rule taken ", "bold"), f"http[{result.rule_index}]")
            if result.rule_name:
                taken.append(f" {result.rule_name}", style="bold magenta")
            self.root.add_leaf(taken)
        rw = result.rewrite
        if rw and (rw.get("uri") != result.request.path or rw.get("authority")):
            line = Text("rewrite ", style="bold")
            if rw.get("uri") != result.request.path:
                line.append(f"path {result.request.path} → {rw.get('uri')}")
            if rw.get("authority"):
                line.append(f"  authority → {rw['authority']}")
            self.root.add_leaf(line)
        if result.redirect:
            self.root.add_leaf(Text("redirect " + _kv(result.redirect), style="bold"))
        if result.direct_response:
            self.root.add_leaf(Text("direct response " + _kv(result.direct_response), style="bold"))
        if result.fault:
            self.root.add_leaf(Text("fault " + _kv(result.fault), style="bold red"))
        if result.timeout:
            self.root.add_leaf(Text(f"timeout {result.timeout}"))
        if result.retries:
            self.root.add_leaf(Text("retries " + _kv(result.retries)))

    def _add_destination(self, parent: TreeNode[Any], d: Any, style: str, policy_lines: Any, has_pods: bool) -> None:
        label = Text(short_host(d.host), style=f"bold {style}")
        if d.subset:
            label.append(f" {d.subset}", style=f"bold {style}")
        if d.port:
            label.append(f" :{d.port}")
        label.append("  ")
        pct = d.probability * 100
        label.append_text(describe.weight_bar(round(pct), style))
        label.append(f" {pct:5.1f}%".replace(".0%", "%"))
        label.append(f"  weight {d.weight}", style="dim")
        node = parent.add(label, expand=True)
        if d.destination_rule:
            dr = Text.assemble(("DestinationRule ", "dim"), (d.destination_rule, "cyan"))
            if d.subset:
                dr.append(f"  subset {d.subset}")
                if d.subset_labels is not None:
                    dr.append(" {" + ",".join(f"{k}={v}" for k, v in d.subset_labels.items()) + "}", style="dim")
            node.add_leaf(dr)
        elif d.service:
            node.add_leaf(Text("no DestinationRule: default traffic policy", style="dim"))
        for line in policy_lines(d.traffic_policy or {}):
            node.add_leaf(Text(f"policy {line}", style="italic"))
        if d.service or d.pods:
            ready = len(d.ready)
            pods_style = "green" if d.pods and ready == len(d.pods) else ("red" if not ready else "yellow")
            what = f"pods {ready}/{len(d.pods)} ready" if has_pods else f"workloads {len(d.pods)} (no pods in manifests)"
            pods = node.add(Text(what, style=pods_style), expand=len(d.pods) <= 8)
            ready_set = set(d.ready)
            for pod in d.pods:
                pods.add_leaf(Text(pod, style="" if pod in ready_set else "red"))
        for note in d.notes:
            node.add_leaf(Text(f"! {note}", style="yellow"))


def _kv(data: Any) -> str:
    if isinstance(data, dict):
        return ", ".join(f"{k} {_kv(v)}" if isinstance(v, dict) else f"{k} {v}" for k, v in data.items() if v is not None)
    return str(data)
