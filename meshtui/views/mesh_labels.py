"""The mesh browser's labels, as data: the marker label of every service (``VS``, ``HR`` for a
Gateway API route, ``DR``, ``SE``,
``⚙`` for another writer) and what each depends on, so a watch batch relabels only the services
it can have changed. Plain data, no widget: built off the event loop, drawn by
``meshtui.widgets.mesh_tree``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text

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
        members: dict[str, list[Key]] = {}
        self.labels, self._host_of, self._keys_by_host = {}, {}, {}
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
        # Markers go before the name: a narrow browser cuts the end of a long name, never them.
        text = Text()
        if svc.kind == "ServiceEntry":
            text.append("SE ", style="magenta")
        if self._route_refs.get(host) or any(host_matches(w, host) for w in self._wildcards):
            text.append("VS ", style="cyan")
        if svc.kind == "Service" and _has_k8s_routes(index, svc):
            text.append("HR ", style="blue")  # an HTTPRoute/GRPCRoute carries its traffic
        if index.destination_rule_for(host, svc.namespace) is not None:
            text.append("DR ", style="green")
        if host in self._managed:
            text.append("⚙ ", style="yellow")  # its VS/DR has another writer: a rollout controller, GitOps
        text.append(svc.name)
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
                gone = self._host_of.pop(key) if key in self._host_of else None
                if gone is not None:
                    self._keys_by_host.get(gone, set()).discard(key)
            else:
                self._label(index, key, svc)
        return keys


def _has_k8s_routes(index: Any, svc: Any) -> bool:
    """Whether a Gateway API route has the Service as parent or as a backend."""
    ns = svc.namespace or "default"
    return bool(index.routes_for_service(ns, svc.name) or index.routes_to_service(ns, svc.name))


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
