"""Namespaces → services (and ServiceEntries), with markers for routing objects and problems.

Built for meshes of 5,000 services: the labels are computed once per load, and after that only
for the services a watch batch can have changed (a VirtualService or DestinationRule changes the
markers of the services it names, a Pod or Endpoints none); the leaves of a namespace are made
when it is first expanded (or asked for with ``node_for``); a new analysis relabels only the
services whose problem marker changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import Tree

from meshtui.model.hosts import fqdn, host_matches
from meshtui.model.management import managed_hosts

Key = tuple[str, str, str]  # (kind, namespace, name) of a Service or ServiceEntry

# Kinds whose changes never alter a browser label: labels depend only on services, service
# entries, VirtualServices, DestinationRules, namespaces and the controllers owning routes.
_LABEL_FREE_KINDS = frozenset({"Pod", "Endpoints", "EndpointSlice", "Deployment", "ReplicaSet",
                               "Gateway", "Sidecar"})
# Kinds a watch batch is applied for incrementally; any other kind relabels everything.
_INCREMENTAL_KINDS = frozenset({"VirtualService", "DestinationRule", "Service", "ServiceEntry"})
# Past this many label-relevant changes in one batch, relabelling everything is as cheap.
_MAX_INCREMENTAL = 200
# Open every namespace while the whole mesh fits on a couple of screens.
_EXPAND_ALL_UP_TO = 60


class ServiceLabels:
    """The browser label of every service of one index, and what each label depends on, so a
    watch batch relabels only the services it can have changed.

    Plain data (no widget): the app builds it in its load thread, off the event loop.
    """

    def __init__(self, index: Any) -> None:
        self.index = index
        self.labels: dict[Key, Text] = {}  # marker label of every service, before problems
        self.members: dict[str, list[Key]] = {}  # services per namespace, by name
        self.all_ns: set[str] = set()
        self._host_of: dict[Key, str] = {}
        self._keys_by_host: dict[str, set[Key]] = {}
        self._route_refs: Counter[str] = Counter()  # exact hosts -> VirtualServices naming them
        self._vs_hosts: dict[Key, frozenset[str]] = {}
        self._wild_vs: set[Key] = set()  # VirtualServices with a wildcard host
        self._wildcards: list[str] = []  # mesh-bound wildcard hosts
        self._dr_hosts: dict[Key, str] = {}
        self._managed: set[str] = set()
        self.rebuild()

    def rebuild(self) -> None:
        """Compute every label from the index."""
        index = self.index
        self._route_refs = Counter()
        self._vs_hosts, self._wild_vs, self._dr_hosts = {}, set(), {}
        wildcards: set[str] = set()
        for vs in index.virtual_services:
            key = ("VirtualService", vs.namespace, vs.name)
            exact, wild, any_wild = _vs_hosts(vs)
            self._vs_hosts[key] = exact
            self._route_refs.update(exact)
            wildcards.update(wild)
            if any_wild:
                self._wild_vs.add(key)
        self._wildcards = sorted(wildcards)
        for dr in index.destination_rules:
            self._dr_hosts[("DestinationRule", dr.namespace, dr.name)] = fqdn(dr.host or "", dr.namespace)
        self._managed = managed_hosts(index)
        self.labels, self._host_of, self._keys_by_host, members = {}, {}, {}, {}
        for svc in list(index.services) + list(index.service_entries):
            key = (svc.kind, svc.namespace, svc.name)
            self._label(index, key, svc)
            members.setdefault(svc.namespace, []).append(key)
        for keys in members.values():
            keys.sort(key=lambda k: k[2])
        self.members = members
        self.all_ns = set(index.namespaces)

    def _label(self, index: Any, key: Key, svc: Any) -> None:
        """Compute and remember the label of one service (and which host it stands for)."""
        host = _host(svc)
        old = self._host_of.get(key)
        if old != host:
            if old is not None:
                self._keys_by_host.get(old, set()).discard(key)
            self._keys_by_host.setdefault(host, set()).add(key)
            self._host_of[key] = host
        text = Text(svc.name)
        if svc.kind == "ServiceEntry":
            text.append("  SE", style="magenta")
        if self._route_refs.get(host) or any(host_matches(w, host) for w in self._wildcards):
            text.append("  VS", style="cyan")
        if index.destination_rule_for(host, svc.namespace) is not None:
            text.append("  DR", style="green")
        if host in self._managed:
            text.append("  ⚙", style="yellow")  # its VS/DR has another writer: a rollout controller, GitOps
        self.labels[key] = text

    def needs_rebuild(self, changed: list[tuple[str, Any]]) -> bool:
        """Whether a batch calls for ``rebuild`` (wildcards, namespaces, controllers, big bursts)."""
        relevant = 0
        for _typ, obj in changed:
            kind = obj.get("kind", "")
            if kind in _LABEL_FREE_KINDS:
                continue
            if kind not in _INCREMENTAL_KINDS:
                return True
            relevant += 1
            meta = obj.get("metadata") or {}
            key = (kind, meta.get("namespace") or "", meta.get("name", ""))
            spec = obj.get("spec") or {}
            if kind == "VirtualService" and (key in self._wild_vs or any(
                    str(h).startswith("*") for h in spec.get("hosts") or ())):
                return True
            if kind == "DestinationRule" and str(spec.get("host") or "").startswith("*"):
                return True
        return relevant > _MAX_INCREMENTAL

    def apply(self, changed: list[tuple[str, Any]]) -> set[Key]:
        """Relabel after a batch already applied to the index; returns the service keys to redraw."""
        index = self.index
        keys: set[Key] = set()
        hosts: set[str] = set()
        routing_changed = False
        for _typ, obj in changed:
            kind = obj.get("kind", "")
            if kind in _LABEL_FREE_KINDS:
                continue
            meta = obj.get("metadata") or {}
            okey = (kind, meta.get("namespace") or "", meta.get("name", ""))
            now = index.get(*okey)
            if kind == "VirtualService":
                routing_changed = True
                old = self._vs_hosts.pop(okey, frozenset())
                self._route_refs.subtract(old)
                new = _vs_hosts(now)[0] if now is not None else frozenset()
                if now is not None:
                    self._vs_hosts[okey] = new
                self._route_refs.update(new)
                hosts |= old | new
            elif kind == "DestinationRule":
                routing_changed = True
                old_host = self._dr_hosts.pop(okey, None)
                if old_host:
                    hosts.add(old_host)
                if now is not None:
                    self._dr_hosts[okey] = fqdn(now.host or "", now.namespace)
                    hosts.add(self._dr_hosts[okey])
            else:  # Service, ServiceEntry
                keys.add(okey)
                members = self.members.setdefault(okey[1], [])
                if now is None:
                    if okey in members:
                        members.remove(okey)
                elif okey not in members:
                    members.append(okey)
                    members.sort(key=lambda k: k[2])
        self._route_refs = +self._route_refs  # drop hosts no VirtualService names any more
        if routing_changed:
            managed = managed_hosts(index)
            hosts |= managed ^ self._managed
            self._managed = managed
        for host in hosts:
            keys |= self._keys_by_host.get(host, set())
        for key in keys:
            svc = index.get(*key)
            if svc is None:
                self.labels.pop(key, None)
                host = self._host_of.pop(key, None)
                if host is not None:
                    self._keys_by_host.get(host, set()).discard(key)
            else:
                self._label(index, key, svc)
        return keys


class MeshTree(Tree[Any]):
    """The left-hand browser of the mesh screen. Node data is ``("svc", kind, ns, name)``.

    ``refresh_from`` updates labels in place and adds or removes only what changed, so the
    cursor and the expanded namespaces survive every watch event.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("mesh", **kwargs)
        self.show_root = False
        self.filter_text = ""
        # Worst finding level ("Error"/"Warning") per service key and per namespace.
        self.problems: dict[Key, str] = {}
        self.ns_problems: dict[str, str] = {}
        self._scope: str | None = None
        self._ns_nodes: dict[str, Any] = {}
        self._leaves: dict[str, dict[Key, Any]] = {}  # namespaces whose leaves exist
        self._l: ServiceLabels | None = None

    # -- public API ---------------------------------------------------------------------------

    def set_problems(self, by_service: dict[Key, str], by_namespace: dict[str, str]) -> None:
        """Remember which services and namespaces have findings; drawn at the next refresh."""
        self.problems = dict(by_service)
        self.ns_problems = dict(by_namespace)

    def apply_problems(self, by_service: dict[Key, str], by_namespace: dict[str, str]) -> None:
        """Set the problem markers and redraw only the nodes whose marker changed."""
        old, old_ns = self.problems, self.ns_problems
        self.set_problems(by_service, by_namespace)
        if self._l is None:
            return
        keys = {k for k in old.keys() | self.problems.keys() if old.get(k) != self.problems.get(k)}
        nss = {n for n in old_ns.keys() | self.ns_problems.keys() if old_ns.get(n) != self.ns_problems.get(n)}
        self._sync(self._scope, nss | {k[1] for k in keys}, keys)

    def node_for(self, key: Key) -> Any:
        """The tree node of a service key (kind, namespace, name), if shown (its namespace's
        leaves are made if they were not yet)."""
        ns = key[1]
        if ns in self._ns_nodes and ns not in self._leaves:
            self._fill(ns)
        return self._leaves.get(ns, {}).get(key)

    def first_key(self) -> Key | None:
        """The first service shown, in tree order."""
        for ns_node in self.root.children:
            ns = ns_node.data[1]
            wanted = self._wanted(ns)
            if wanted:
                return wanted[0]
        return None

    def refresh_from(self, index: Any, scope: str | None = None,
                     changed: list[tuple[str, Any]] | None = None) -> None:
        """Bring the tree in line with ``index``; ``scope`` limits it to one namespace.

        ``changed`` (the watch batch just applied to the same index) lets only the services it
        can affect be relabelled; without it every label is computed again.
        """
        labels = self._l
        if labels is None or labels.index is not index or changed is None or labels.needs_rebuild(changed):
            # The app computes the labels of a fresh load in its load thread, off the loop.
            prepared = getattr(self.app, "prepared_labels", None) if self.is_attached else None
            if isinstance(prepared, ServiceLabels) and prepared.index is index and changed is None:
                self.app.prepared_labels = None  # type: ignore[attr-defined]
                self._l = prepared
            else:
                self._l = ServiceLabels(index)
            self._sync(scope, None, None)
            return
        keys = labels.apply(changed)
        if scope != self._scope:
            self._sync(scope, None, None)
        elif keys:
            self._sync(scope, {k[1] for k in keys}, keys)

    def refilter(self, scope: str | None = None) -> None:
        """Apply a new ``filter_text`` or scope without computing labels again."""
        if self._l is not None:
            self._sync(scope, None, None)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        """Make a namespace's leaves the first time it is opened."""
        data = event.node.data
        if isinstance(data, tuple) and data and data[0] == "ns" and data[1] not in self._leaves:
            self._fill(data[1])

    # -- nodes ----------------------------------------------------------------------------------

    def _shown_label(self, key: Key) -> Text:
        assert self._l is not None
        base = self._l.labels[key]
        level = self.problems.get(key)
        if level not in ("Error", "Warning"):
            return base
        label = base.copy()
        _mark(label, level)
        return label

    def _wanted(self, ns: str) -> list[Key]:
        """The services of ``ns`` that pass the filter, by name."""
        members = self._l.members.get(ns, []) if self._l is not None else []
        if not self.filter_text:
            return members
        return [k for k in members if self.filter_text in f"{k[1]}/{k[2]}".lower()]

    def _sync(self, scope: str | None, namespaces: set[str] | None, keys: set[Key] | None) -> None:
        """Make the nodes match the labels: every namespace (``namespaces`` None) or only those
        given; within them every leaf (``keys`` None) or only those given."""
        self._scope = scope
        assert self._l is not None
        all_ns, members = self._l.all_ns, self._l.members
        in_scope = {ns for ns in all_ns | members.keys() if (not scope or ns == scope) and (ns in all_ns or members.get(ns))}
        wanted = {ns: self._wanted(ns) for ns in (in_scope if namespaces is None else namespaces & in_scope)}
        total = sum(len(v) for v in wanted.values()) if namespaces is None else _EXPAND_ALL_UP_TO + 1
        for ns in sorted(wanted):
            node = self._ns_nodes.get(ns)
            label = Text.assemble((ns, "bold"), (f"  {len(wanted[ns])}", "dim"))
            _mark(label, self.ns_problems.get(ns))
            if node is None:
                # On a big mesh namespaces start collapsed: the namespace list is the overview.
                node = self.root.add(label, data=("ns", ns), expand=total <= _EXPAND_ALL_UP_TO,
                                     allow_expand=True)
                self._ns_nodes[ns] = node
                if total <= _EXPAND_ALL_UP_TO:
                    self._fill(ns)
                continue
            if node.label != label:
                # Relabel only what changed: every set_label invalidates the tree's lines.
                node.set_label(label)
            if ns in self._leaves:
                self._sync_leaves(ns, wanted[ns], keys)
        if namespaces is None:
            for ns in [n for n in self._ns_nodes if n not in wanted]:
                self._leaves.pop(ns, None)
                self._ns_nodes.pop(ns).remove()

    def _fill(self, ns: str) -> None:
        node = self._ns_nodes[ns]
        leaves = self._leaves.setdefault(ns, {})
        for key in self._wanted(ns):
            leaves[key] = node.add_leaf(self._shown_label(key), data=("svc",) + key)

    def _sync_leaves(self, ns: str, wanted: list[Key], keys: Iterable[Key] | None) -> None:
        node = self._ns_nodes[ns]
        leaves = self._leaves[ns]
        present = set(wanted)
        only = None if keys is None else set(keys)
        for key in wanted if only is None else [k for k in wanted if k in only]:
            leaf = leaves.get(key)
            label = self._shown_label(key)
            if leaf is None:
                leaves[key] = node.add_leaf(label, data=("svc",) + key)
            elif leaf.label != label:
                leaf.set_label(label)
        stale = [k for k in (leaves if only is None else only) if k[1] == ns and k in leaves and k not in present]
        for key in stale:
            leaves.pop(key).remove()


def _mark(label: Text, level: str | None) -> None:
    """The problem marker: a red `!` for an error finding, a yellow one for a warning."""
    if level in ("Error", "Warning"):
        label.append("  !", style="bold red" if level == "Error" else "bold yellow")


def _host(svc: Any) -> str:
    return svc.hosts[0] if svc.kind == "ServiceEntry" and svc.hosts else fqdn(svc.name, svc.namespace)


def _vs_hosts(vs: Any) -> tuple[frozenset[str], set[str], bool]:
    """The exact hosts a VirtualService names or routes to, its mesh-bound wildcard hosts, and
    whether it has any wildcard host at all.

    A wildcard VirtualService bound only to gateways (bookinfo's ``hosts: ["*"]``) does not route
    the mesh traffic of every service; only its destinations count.
    """
    exact: set[str] = set()
    wildcards: set[str] = set()
    any_wild = False
    for h in vs.hosts:
        name = fqdn(h, vs.namespace)
        if name.startswith("*"):
            any_wild = True
            if "mesh" in vs.effective_gateways:
                wildcards.add(name)
        else:
            exact.add(name)
    for rule in vs.http:
        exact.update(fqdn(rd.destination.host or "", vs.namespace) for rd in rule.route or [])
    return frozenset(exact), wildcards, any_wild
