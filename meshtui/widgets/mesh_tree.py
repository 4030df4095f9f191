"""Namespaces → services (and ServiceEntries), with markers for routing objects and problems."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Tree

from meshtui.model.hosts import fqdn, host_matches
from meshtui.model.management import managed_hosts


class MeshTree(Tree[Any]):
    """The left-hand browser of the mesh screen. Node data is ``("svc", kind, ns, name)``.

    ``refresh_from`` updates labels in place and adds or removes only what changed, so the
    cursor and the expanded namespaces survive every watch event.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("mesh", **kwargs)
        self.show_root = False
        self._ns_nodes: dict[str, Any] = {}
        self._svc_nodes: dict[tuple[str, str, str], Any] = {}
        self.filter_text = ""
        # Worst finding level ("Error"/"Warning") per service key and per namespace.
        self.problems: dict[tuple[str, str, str], str] = {}
        self.ns_problems: dict[str, str] = {}

    def set_problems(self, by_service: dict[tuple[str, str, str], str], by_namespace: dict[str, str]) -> None:
        """Remember which services and namespaces have findings; drawn at the next refresh."""
        self.problems = dict(by_service)
        self.ns_problems = dict(by_namespace)

    def node_for(self, key: tuple[str, str, str]) -> Any:
        """The tree node of a service key (kind, namespace, name), if shown."""
        return self._svc_nodes.get(key)

    def refresh_from(self, index: Any, scope: str | None = None) -> None:
        """Bring the tree in line with ``index``; ``scope`` limits it to one namespace."""
        wanted: dict[str, list[tuple[tuple[str, str, str], Text]]] = {}
        routed = _hosts_with_virtual_services(index)
        managed = managed_hosts(index)
        for ns in _namespaces(index):
            if scope and ns != scope:
                continue
            wanted.setdefault(ns, [])
        for svc in list(index.services) + list(index.service_entries):
            if scope and svc.namespace != scope:
                continue
            if self.filter_text and self.filter_text not in f"{svc.namespace}/{svc.name}".lower():
                continue
            key = (svc.kind, svc.namespace, svc.name)
            label = _service_label(index, svc, routed, managed)
            _mark(label, self.problems.get(key))
            wanted.setdefault(svc.namespace, []).append((key, label))
        for ns in sorted(wanted):
            node = self._ns_nodes.get(ns)
            label = Text.assemble((ns, "bold"), (f"  {len(wanted[ns])}", "dim"))
            _mark(label, self.ns_problems.get(ns))
            if node is None:
                # Open every namespace while the whole mesh fits on a couple of screens; on a
                # big mesh start collapsed so the namespace list itself is the overview.
                total = sum(len(v) for v in wanted.values())
                node = self.root.add(label, data=("ns", ns), expand=total <= 60)
                self._ns_nodes[ns] = node
            elif node.label != label:
                # Relabel only what changed: every set_label invalidates the tree's lines, and
                # doing it for 5,000 unchanged services made each watch batch cost ~0.3 s.
                node.set_label(label)
            present = set()
            for key, svc_label in sorted(wanted[ns], key=lambda kv: kv[0][2]):
                present.add(key)
                leaf = self._svc_nodes.get(key)
                if leaf is None:
                    self._svc_nodes[key] = node.add_leaf(svc_label, data=("svc",) + key)
                elif leaf.label != svc_label:
                    leaf.set_label(svc_label)
            for key in [k for k in self._svc_nodes if k[1] == ns and k not in present]:
                self._svc_nodes.pop(key).remove()
        for ns in [n for n in self._ns_nodes if n not in wanted]:
            for key in [k for k in self._svc_nodes if k[1] == ns]:
                del self._svc_nodes[key]
            self._ns_nodes.pop(ns).remove()


def _mark(label: Text, level: str | None) -> None:
    """The problem marker: a red `!` for an error finding, a yellow one for a warning."""
    if level in ("Error", "Warning"):
        label.append("  !", style="bold red" if level == "Error" else "bold yellow")


def _namespaces(index: Any) -> set[str]:
    return set(index.namespaces)


def _hosts_with_virtual_services(index: Any) -> tuple[set[str], list[str]]:
    """Hosts that some VirtualService names or routes to: exact ones, and wildcards apart
    (a set lookup per service keeps a 5,000-service mesh cheap)."""
    exact: set[str] = set()
    wildcards: set[str] = set()
    for vs in index.virtual_services:
        for h in vs.hosts:
            name = fqdn(h, vs.namespace)
            # A wildcard VirtualService bound only to gateways (bookinfo's `hosts: ["*"]`) does
            # not route the mesh traffic of every service; only its destinations count.
            if name.startswith("*"):
                if "mesh" in vs.effective_gateways:
                    wildcards.add(name)
            else:
                exact.add(name)
        for rule in vs.http:
            exact.update(fqdn(rd.destination.host or "", vs.namespace) for rd in rule.route or [])
    return exact, sorted(wildcards)


def _service_label(index: Any, svc: Any, routed: tuple[set[str], list[str]],
                   managed: set[str] | frozenset[str] = frozenset()) -> Text:
    host = svc.hosts[0] if svc.kind == "ServiceEntry" and svc.hosts else fqdn(svc.name, svc.namespace)
    text = Text(svc.name)
    if svc.kind == "ServiceEntry":
        text.append("  SE", style="magenta")
    exact, wildcards = routed
    if host in exact or any(host_matches(w, host) for w in wildcards):
        text.append("  VS", style="cyan")
    if index.destination_rule_for(host, svc.namespace) is not None:
        text.append("  DR", style="green")
    if host in managed:
        text.append("  ⚙", style="yellow")  # its VS/DR has another writer: a rollout controller, GitOps
    return text
