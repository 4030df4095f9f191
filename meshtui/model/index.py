"""MeshIndex: what applies to a host, kept current one object at a time.

Watch events call :meth:`MeshIndex.upsert` / :meth:`MeshIndex.delete`; each touches only the
index entries of that object (host maps, label sets), never a rebuild. The index holds the
typed views (which reference the source's raw dicts; nothing is copied).

Lookups follow Istio's rules (``pilot/pkg/model/push_context.go``): VirtualService and
DestinationRule visibility by ``exportTo`` (``*``, ``.``, namespace names, ``~``; mesh-config
defaults when unset), and DestinationRule precedence: the client's namespace, then the
service's namespace, then the root namespace, each time the most specific host match.
Objects without a namespace are indexed in ``default`` (where ``kubectl apply`` would put them).

Gateway API objects (``gateway.networking.k8s.io``) are indexed by kind too, except the
Gateway, whose kind name Istio's Gateway also uses: it is kept under
:data:`K8S_GATEWAY` (``Gateway.gateway.networking.k8s.io``, kubectl's ``kind.group`` form).
Routes are also indexed by the parents they name (:mod:`meshtui.model.route_attachments`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from meshtui.model.base import Resource, ResourceKey
from meshtui.model.gateway_api import (
    GATEWAY_API_GROUP, ROUTE_KINDS, K8sGateway, K8sRoute, ReferenceGrant,
)
from meshtui.model.hostmap import MESH_GATEWAY, HostMap, Id, gateway_ref, labels_match, visible
from meshtui.model.hosts import fqdn, host_subsumes, is_wildcard, more_specific
from meshtui.model.istio import DestinationRule, Gateway, ServiceEntry, Sidecar
from meshtui.model.kube import ConfigMap, Deployment, MeshConfig, Namespace, Pod, Service
from meshtui.model.parse import parse_object
from meshtui.model.route_attachments import RouteAttachments
from meshtui.model.virtualservice import VirtualService
from meshtui.util.gcpause import gc_paused

DEFAULT_NAMESPACE = "default"
_CLUSTER_SCOPED = frozenset({"Namespace", "Node", "CustomResourceDefinition", "GatewayClass"})
#: The index kind of a Gateway API Gateway (Istio's Gateway keeps the plain kind ``Gateway``).
K8S_GATEWAY = f"Gateway.{GATEWAY_API_GROUP}"


def index_kind(kind: str, group: str | None = None) -> str:
    """The kind an object is indexed under: its kind, but :data:`K8S_GATEWAY` for a Gateway
    of the Gateway API group (``group`` None: the plain kind)."""
    return K8S_GATEWAY if kind == "Gateway" and group == GATEWAY_API_GROUP else kind
_SERVICE_EXPORT_ANNOTATION = "networking.istio.io/exportTo"
_RESOLVED_LIMIT = 100_000


class MeshIndex:
    """Every mesh object by kind, plus the host and label indexes the lookups need: what
    applies to a host, and which pods (or, for manifests on disk, Deployments) a Service or a
    subset selects."""

    def __init__(self, objects: Iterable[dict[str, Any]] = (), domain_suffix: str = "cluster.local") -> None:
        self.domain_suffix = domain_suffix
        self._by_kind: dict[str, dict[Id, Resource]] = defaultdict(dict)
        self._vs_hosts = HostMap()
        self._svc_hosts = HostMap()  # Service FQDNs
        self._se_hosts = HostMap()
        self._dr_hosts: dict[str, HostMap] = defaultdict(HostMap)  # per namespace
        self._pod_labels: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (ns, k, v) -> pods
        self._pods_by_ns: dict[str, set[str]] = defaultdict(set)
        self._deployments_by_ns: dict[str, set[str]] = defaultdict(set)
        # resolve() is pure but costs an IP-address parse per call; analyzers ask it ~10^5 times.
        self._resolved: dict[tuple[str, str], str] = {}
        self._mesh_config: MeshConfig | None = None
        self._attachments = RouteAttachments()
        # Objects per namespace (Namespace objects count for their own name): `namespaces` is
        # asked on every keystroke of the browser, so it is kept, not walked from every object.
        self._ns_objects: Counter[str] = Counter()
        self._ns_sorted: list[str] | None = None
        with gc_paused():
            for raw in objects:
                self.upsert(raw)

    # ---- maintenance -------------------------------------------------------------------

    def _ns(self, kind: str, namespace: str) -> str:
        return "" if kind in _CLUSTER_SCOPED else (namespace or DEFAULT_NAMESPACE)

    def upsert(self, raw: dict[str, Any]) -> Resource:
        """Add or replace one object (an ADDED or MODIFIED watch event); returns its view."""
        obj = parse_object(raw)
        kind = index_kind(obj.kind, obj.group)
        ident = (self._ns(obj.kind, obj.namespace), obj.name)
        old = self._by_kind[kind].get(ident)
        if old is not None:
            self._unindex(old, ident)
        self._by_kind[kind][ident] = obj
        self._index(obj, ident)
        return obj

    def delete(self, kind: str, namespace: str, name: str, group: str | None = None) -> Resource | None:
        """Remove one object (a DELETED watch event); returns the view removed, if any.

        ``kind`` may be an index kind (:data:`K8S_GATEWAY`). For a plain ``Gateway`` without
        ``group``, Istio's Gateway of that name goes, else the Gateway API one.
        """
        ident = (self._ns(kind, namespace), name)
        old = self._by_kind.get(index_kind(kind, group), {}).pop(ident, None)
        if old is None and kind == "Gateway" and group is None:
            old = self._by_kind.get(K8S_GATEWAY, {}).pop(ident, None)
        if old is not None:
            self._unindex(old, ident)
        return old

    def _hosts_of(self, obj: Resource, ns: str) -> list[str]:
        if isinstance(obj, VirtualService):
            return [fqdn(h, ns, self.domain_suffix) for h in obj.hosts]
        if isinstance(obj, DestinationRule):
            return [fqdn(obj.host, ns, self.domain_suffix)] if obj.host else []
        if isinstance(obj, Service):
            return [f"{obj.name}.{ns}.svc.{self.domain_suffix}"]
        if isinstance(obj, ServiceEntry):
            return list(obj.hosts)
        return []

    def _count_namespace(self, obj: Resource, ident: Id, step: int) -> None:
        name = obj.name if isinstance(obj, Namespace) else ident[0]
        if not name:
            return
        before = self._ns_objects[name]
        self._ns_objects[name] = before + step
        if self._ns_objects[name] <= 0:
            del self._ns_objects[name]
        if (before > 0) != (name in self._ns_objects):
            self._ns_sorted = None

    def _index(self, obj: Resource, ident: Id) -> None:
        ns = ident[0]
        self._count_namespace(obj, ident, 1)
        if isinstance(obj, VirtualService):
            for h in self._hosts_of(obj, ns):
                self._vs_hosts.add(h, ident)
        elif isinstance(obj, DestinationRule):
            for h in self._hosts_of(obj, ns):
                self._dr_hosts[ns].add(h, ident)
        elif isinstance(obj, Service):
            for h in self._hosts_of(obj, ns):
                self._svc_hosts.add(h, ident)
        elif isinstance(obj, ServiceEntry):
            for h in self._hosts_of(obj, ns):
                self._se_hosts.add(h, ident)
        elif isinstance(obj, Pod):
            self._pods_by_ns[ns].add(obj.name)
            for k, v in obj.labels.items():
                self._pod_labels[(ns, k, v)].add(obj.name)
        elif isinstance(obj, Deployment):
            self._deployments_by_ns[ns].add(obj.name)
        elif isinstance(obj, ConfigMap) and self._is_mesh_configmap(ident):
            self._mesh_config = None  # re-read lazily
        elif isinstance(obj, K8sRoute):
            self._attachments.add_route(obj, ident)
        elif isinstance(obj, ReferenceGrant):
            self._attachments.add_grant(obj, ident)

    def _unindex(self, obj: Resource, ident: Id) -> None:
        ns = ident[0]
        self._count_namespace(obj, ident, -1)
        if isinstance(obj, VirtualService):
            for h in self._hosts_of(obj, ns):
                self._vs_hosts.remove(h, ident)
        elif isinstance(obj, DestinationRule):
            for h in self._hosts_of(obj, ns):
                self._dr_hosts[ns].remove(h, ident)
        elif isinstance(obj, Service):
            for h in self._hosts_of(obj, ns):
                self._svc_hosts.remove(h, ident)
        elif isinstance(obj, ServiceEntry):
            for h in self._hosts_of(obj, ns):
                self._se_hosts.remove(h, ident)
        elif isinstance(obj, Pod):
            self._pods_by_ns[ns].discard(obj.name)
            for k, v in obj.labels.items():
                names = self._pod_labels.get((ns, k, v))
                if names is not None:
                    names.discard(obj.name)
                    if not names:
                        del self._pod_labels[(ns, k, v)]
        elif isinstance(obj, Deployment):
            self._deployments_by_ns[ns].discard(obj.name)
        elif isinstance(obj, ConfigMap) and self._is_mesh_configmap(ident):
            self._mesh_config = None
        elif isinstance(obj, K8sRoute):
            self._attachments.remove_route(obj, ident)
        elif isinstance(obj, ReferenceGrant):
            self._attachments.remove_grant(obj, ident)

    @staticmethod
    def _is_mesh_configmap(ident: Id) -> bool:
        # Istio's mesh config lives in the "istio" ConfigMap of the control-plane namespace.
        return ident == ("istio-system", "istio")

    # ---- iteration -----------------------------------------------------------------------

    def objects(self, kind: str) -> list[Resource]:
        """Every indexed object of ``kind`` (any typed or generic kind)."""
        return list(self._by_kind.get(kind, {}).values())

    def kinds(self) -> list[str]:
        """The kinds of which at least one object is indexed, sorted."""
        return sorted(kind for kind, objs in self._by_kind.items() if objs)

    def count(self, kind: str) -> int:
        """How many objects of ``kind`` are indexed (without building a list)."""
        return len(self._by_kind.get(kind, {}))

    def replace_kinds(self, kinds: Iterable[str], objects: Iterable[dict[str, Any]]) -> None:
        """Make the objects of ``kinds`` exactly ``objects`` (a relist after a lost watch):
        what is gone is deleted, the rest upserted. ``kinds`` are index kinds
        (:func:`index_kind`: :data:`K8S_GATEWAY` for the Gateway API Gateway)."""
        kinds = set(kinds)  # index kinds: K8S_GATEWAY for the Gateway API Gateway
        fresh = list(objects)
        keep = {
            (index_kind(o.get("kind", ""), str(o.get("apiVersion") or "").rpartition("/")[0]),
             self._ns(o.get("kind", ""), (o.get("metadata") or {}).get("namespace") or ""),
             (o.get("metadata") or {}).get("name", ""))
            for o in fresh
        }
        with gc_paused():
            for kind in kinds:
                for ns, name in list(self._by_kind.get(kind, {})):
                    if (kind, ns, name) not in keep:
                        self.delete(kind, ns, name)
            for o in fresh:
                self.upsert(o)

    def get(self, kind: str, namespace: str, name: str, group: str | None = None) -> Resource | None:
        """One object by key, or None. ``kind`` may be an index kind (:data:`K8S_GATEWAY`);
        a plain ``Gateway`` without ``group`` finds Istio's Gateway, else the Gateway API one."""
        ident = (self._ns(kind, namespace), name)
        found = self._by_kind.get(index_kind(kind, group), {}).get(ident)
        if found is None and kind == "Gateway" and group is None:
            found = self._by_kind.get(K8S_GATEWAY, {}).get(ident)
        return found

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_kind.values())

    def keys(self) -> Iterator[ResourceKey]:
        """The key of every indexed object."""
        for kind, objs in self._by_kind.items():
            for ns, name in objs:
                yield ResourceKey(kind, ns, name)

    @property
    def virtual_services(self) -> list[VirtualService]:
        """All VirtualServices."""
        return self.objects("VirtualService")  # type: ignore[return-value]

    @property
    def destination_rules(self) -> list[DestinationRule]:
        """All DestinationRules."""
        return self.objects("DestinationRule")  # type: ignore[return-value]

    @property
    def gateways(self) -> list[Gateway]:
        """All Istio Gateways."""
        return self.objects("Gateway")  # type: ignore[return-value]

    @property
    def service_entries(self) -> list[ServiceEntry]:
        """All ServiceEntries."""
        return self.objects("ServiceEntry")  # type: ignore[return-value]

    @property
    def sidecars(self) -> list[Sidecar]:
        """All Sidecars."""
        return self.objects("Sidecar")  # type: ignore[return-value]

    @property
    def services(self) -> list[Service]:
        """All Kubernetes Services."""
        return self.objects("Service")  # type: ignore[return-value]

    @property
    def pods(self) -> list[Pod]:
        """All Pods."""
        return self.objects("Pod")  # type: ignore[return-value]

    @property
    def deployments(self) -> list[Deployment]:
        """All Deployments."""
        return self.objects("Deployment")  # type: ignore[return-value]

    @property
    def k8s_gateways(self) -> list[K8sGateway]:
        """All Gateway API Gateways."""
        return self.objects(K8S_GATEWAY)  # type: ignore[return-value]

    def routes(self, kinds: Iterable[str] = ROUTE_KINDS) -> list[K8sRoute]:
        """All Gateway API routes of ``kinds`` (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute)."""
        return [r for kind in kinds for r in self.objects(kind) if isinstance(r, K8sRoute)]

    def _route_views(self, ids: Iterable[tuple[str, str, str]]) -> list[K8sRoute]:
        out = []
        for kind, ns, name in ids:
            route = self._by_kind.get(kind, {}).get((ns, name))
            if isinstance(route, K8sRoute):
                out.append(route)
        # Istio's order: oldest first, then namespace/name.
        out.sort(key=lambda r: (r.creation_timestamp or "", r.namespace, r.name))
        return out

    def routes_for_gateway(self, namespace: str, name: str) -> list[K8sRoute]:
        """Routes whose parentRefs name the Gateway API Gateway ``namespace/name`` (oldest first)."""
        return self._route_views(self._attachments.by_gateway.get((namespace, name), ()))

    def routes_for_service(self, namespace: str, name: str) -> list[K8sRoute]:
        """GAMMA routes whose parentRefs name the Service ``namespace/name`` (oldest first):
        producer routes (in the Service's namespace) and consumer routes (elsewhere)."""
        return self._route_views(self._attachments.by_service.get((namespace, name), ()))

    def routes_to_service(self, namespace: str, name: str) -> list[K8sRoute]:
        """Routes with a backendRef to the Service ``namespace/name`` (oldest first): the routes
        that send it traffic, e.g. an HTTPRoute splitting between per-version Services."""
        return self._route_views(self._attachments.by_backend.get((namespace, name), ()))

    def reference_grants_in(self, namespace: str) -> list[ReferenceGrant]:
        """The ReferenceGrants of ``namespace`` (they grant access to its objects)."""
        table = self._by_kind.get("ReferenceGrant", {})
        return [g for g in (table.get((namespace, n)) for n in sorted(self._attachments.grants_by_namespace.get(namespace, ())))
                if isinstance(g, ReferenceGrant)]

    def reference_granted(self, from_kind: str, from_namespace: str, to_group: str, to_kind: str,
                          to_namespace: str, to_name: str, from_group: str = GATEWAY_API_GROUP) -> bool:
        """Whether a ReferenceGrant in ``to_namespace`` lets a ``from_kind`` object of
        ``from_namespace`` refer to ``to_kind`` ``to_name`` (same namespace: always)."""
        if from_namespace == to_namespace:
            return True
        return any(g.allows(from_group, from_kind, from_namespace, to_group, to_kind, to_name)
                   for g in self.reference_grants_in(to_namespace))

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """The labels of the Namespace ``namespace``, with ``kubernetes.io/metadata.name``, which
        the API server sets on every namespace (so selectors on it work for manifests too)."""
        ns = self.get("Namespace", "", namespace)
        labels = dict(ns.labels) if ns is not None else {}
        labels.setdefault("kubernetes.io/metadata.name", namespace)
        return labels

    @property
    def namespaces(self) -> list[str]:
        """Namespace names: Namespace objects plus every namespace an object lives in."""
        if self._ns_sorted is None:
            self._ns_sorted = sorted(self._ns_objects)
        return list(self._ns_sorted)

    @property
    def mesh_config(self) -> MeshConfig:
        """Mesh config from the ``istio`` ConfigMap in ``istio-system`` (Istio defaults if absent)."""
        if self._mesh_config is None:
            cm = self.get("ConfigMap", "istio-system", "istio")
            self._mesh_config = MeshConfig.from_configmap(cm.raw if cm is not None else None)
        return self._mesh_config

    # ---- lookups -------------------------------------------------------------------------

    def resolve(self, host: str, namespace: str) -> str:
        """``host`` as written in an object of ``namespace``, resolved to Istio's FQDN form."""
        key = (host, namespace)
        found = self._resolved.get(key)
        if found is None:
            if len(self._resolved) >= _RESOLVED_LIMIT:
                self._resolved.clear()  # bounded: hosts come from config, but config churns
            found = self._resolved[key] = fqdn(host, namespace or DEFAULT_NAMESPACE, self.domain_suffix)
        return found

    def services_for_host(self, host: str) -> list[Resource]:
        """Services (by FQDN) and ServiceEntries whose hosts overlap ``host`` (an FQDN or wildcard)."""
        out: list[Resource] = []
        for hostmap, kind in ((self._svc_hosts, "Service"), (self._se_hosts, "ServiceEntry")):
            seen: set[Id] = set()
            for _, ids in hostmap.matching(host):
                for ident in sorted(ids - seen):
                    seen.add(ident)
                    out.append(self._by_kind[kind][ident])
        return out

    def objects_for_host(self, host: str) -> list[Resource]:
        """VirtualServices, DestinationRules (of every namespace), Services and ServiceEntries
        whose hosts overlap ``host`` (an FQDN or wildcard), by host index: no walk of the mesh."""
        out: list[Resource] = []
        maps = [(self._vs_hosts, "VirtualService"), (self._svc_hosts, "Service"), (self._se_hosts, "ServiceEntry")]
        maps += [(hostmap, "DestinationRule") for hostmap in self._dr_hosts.values()]
        for hostmap, kind in maps:
            seen: set[Id] = set()
            for _, ids in hostmap.matching(host):
                for ident in sorted(ids - seen):
                    seen.add(ident)
                    out.append(self._by_kind[kind][ident])
        return out

    def _export_to(self, obj: Resource) -> list[str]:
        if isinstance(obj, (VirtualService, DestinationRule, ServiceEntry)) and obj.export_to:
            return obj.export_to
        if isinstance(obj, Service):
            ann = obj.annotations.get(_SERVICE_EXPORT_ANNOTATION)
            if isinstance(ann, str) and ann.strip():
                return [p.strip() for p in ann.split(",") if p.strip()]
        return self.mesh_config.default_export_to(obj.kind)

    def visible_from(self, obj: Resource, namespace: str) -> bool:
        """Whether ``obj`` is exported to ``namespace`` (Istio's exportTo rules)."""
        return visible(self._export_to(obj), self._ns(obj.kind, obj.namespace), namespace)

    def virtual_services_for_host(self, host: str, gateway: str = MESH_GATEWAY,
                                  from_namespace: str | None = None) -> list[VirtualService]:
        """VirtualServices bound to ``gateway`` whose hosts overlap ``host``.

        ``gateway`` is ``mesh`` (sidecars) or ``namespace/name`` (a bare name matches that
        gateway name in any namespace). A host without a dot is resolved in
        ``from_namespace`` (else ``default``). With ``from_namespace``, only VirtualServices
        exported to it count. Order: exact host matches first, then wildcards most specific
        first; ties by creation time, namespace, name (Istio's precedence for the same host).
        """
        target = self.resolve(host, from_namespace or DEFAULT_NAMESPACE)
        found: dict[Id, str] = {}
        for indexed_host, ids in self._vs_hosts.matching(target):
            for ident in ids:
                if ident not in found or more_specific(indexed_host, found[ident]):
                    found[ident] = indexed_host
        result: list[tuple[Any, ...]] = []
        for ident, matched in found.items():
            vs = self._by_kind["VirtualService"][ident]
            assert isinstance(vs, VirtualService)
            refs = [gateway_ref(g, ident[0]) for g in vs.effective_gateways]
            if gateway == MESH_GATEWAY or "/" in gateway:
                bound = gateway in refs
            else:
                bound = any(r.partition("/")[2] == gateway for r in refs)
            if not bound:
                continue
            if from_namespace is not None and not self.visible_from(vs, from_namespace):
                continue
            rank = (is_wildcard(matched), -len(matched), vs.creation_timestamp or "", ident[0], ident[1])
            result.append((rank, vs))
        result.sort(key=lambda item: item[0])
        return [vs for _, vs in result]

    def _dr_match(self, ns: str, host: str, keep: Any) -> list[DestinationRule]:
        """Most specific host match among the DRs of ``ns`` that ``keep`` admits."""
        hostmap = self._dr_hosts.get(ns)
        if hostmap is None:
            return []
        best_host: str | None = None
        best: list[DestinationRule] = []
        if is_wildcard(host):  # MostSpecificHostMatch: a wildcard needle only meets wildcards
            candidates = [(h, ids) for h, ids in hostmap.wild.items() if host_subsumes(h, host)]
        else:
            candidates = list(hostmap.matching(host))
        for indexed_host, ids in candidates:
            drs = [dr for dr in (self._by_kind["DestinationRule"][i] for i in ids)
                   if isinstance(dr, DestinationRule) and dr.workload_selector is None and keep(dr)]
            if drs and (best_host is None or more_specific(indexed_host, best_host)):
                best_host, best = indexed_host, drs
        best.sort(key=lambda dr: (dr.creation_timestamp or "", dr.name))
        return best

    def destination_rules_for(self, host: str, from_namespace: str | None = None) -> list[DestinationRule]:
        """Every DestinationRule Istio would merge for ``host`` seen from ``from_namespace``
        (oldest first; Istio merges same-host rules, the oldest winning conflicts).

        Precedence (push_context.go ``destinationRule``): the client namespace (rules exported
        to it; in the root namespace only ``exportTo: [.]`` rules), then the service's
        namespace, then the root namespace (rules exported to the client). Rules with a
        workloadSelector apply to selected workloads only and are not returned here.
        ``from_namespace`` None means "from the service's own namespace".
        """
        root = self.mesh_config.root_namespace
        target = self.resolve(host, from_namespace or DEFAULT_NAMESPACE)
        service_namespaces = sorted({self._ns(s.kind, s.namespace) for s in self.services_for_host(target)
                                     if not is_wildcard(target)})
        client = from_namespace or (service_namespaces[0] if service_namespaces else DEFAULT_NAMESPACE)

        def export_to(dr: DestinationRule) -> list[str]:
            return self._export_to(dr)

        def private_only(dr: DestinationRule) -> bool:
            e = export_to(dr)
            return len(e) == 1 and e[0] == "."

        if client != root:
            local = self._dr_match(client, target, lambda dr: (
                "." in export_to(dr) or "*" in export_to(dr) or client in export_to(dr)))
        else:
            local = self._dr_match(root, target, private_only)
        if local:
            return local

        def exported(dr: DestinationRule) -> bool:
            return not private_only(dr)

        def exported_to_client(drs: list[DestinationRule]) -> list[DestinationRule]:
            return [dr for dr in drs if "*" in export_to(dr) or client in export_to(dr)]

        for ns in [*service_namespaces, root]:
            hit = exported_to_client(self._dr_match(ns, target, exported))
            if hit:
                return hit
        return []

    def destination_rule_for(self, host: str, from_namespace: str | None = None) -> DestinationRule | None:
        """The DestinationRule that applies to ``host`` for a client in ``from_namespace``."""
        drs = self.destination_rules_for(host, from_namespace)
        return drs[0] if drs else None

    # -- workloads: label selection over the per-namespace label sets -------------------------

    def pods_for_service(self, service: Service) -> list[Pod]:
        """Pods selected by the Service's selector in its namespace (none without a selector)."""
        if not service.selector:
            return []
        return self.pods_matching(self._ns("Service", service.namespace), service.selector)

    def pods_matching(self, namespace: str, selector: dict[str, str]) -> list[Pod]:
        """Pods of ``namespace`` carrying every label of ``selector`` (empty selector: all)."""
        ns = namespace or DEFAULT_NAMESPACE
        names: set[str] | None = None
        for k, v in selector.items():
            matched = self._pod_labels.get((ns, k, v), set())
            names = set(matched) if names is None else names & matched
            if not names:
                return []
        if names is None:
            names = set(self._pods_by_ns.get(ns, set()))
        pods = self._by_kind["Pod"]
        return [p for p in (pods[(ns, n)] for n in sorted(names)) if isinstance(p, Pod)]

    def _subset_selectors(self, host: str, subset: str, namespace: str) -> list[tuple[Service, dict[str, str]]]:
        target = self.resolve(host, namespace)
        dr = self.destination_rule_for(target, namespace)
        sub = dr.subset(subset) if dr is not None else None
        if sub is None:
            return []
        return [(s, {**s.selector, **sub.labels}) for s in self.services_for_host(target)
                if isinstance(s, Service) and s.selector]

    def pods_for_subset(self, host: str, subset: str, namespace: str) -> list[Pod]:
        """Pods behind ``host`` that the subset's labels select, using the DestinationRule seen
        from ``namespace`` (the namespace of the VirtualService or client naming the subset)."""
        out: list[Pod] = []
        for svc, selector in self._subset_selectors(host, subset, namespace):
            out.extend(self.pods_matching(self._ns("Service", svc.namespace), selector))
        return out

    def deployments_for_subset(self, host: str, subset: str, namespace: str) -> list[Deployment]:
        """Like :meth:`pods_for_subset` for Deployments' pod templates (``--files`` mode)."""
        out: list[Deployment] = []
        for svc, selector in self._subset_selectors(host, subset, namespace):
            out.extend(self.deployments_matching(self._ns("Service", svc.namespace), selector))
        return out

    def deployments_for_service(self, service: Service) -> list[Deployment]:
        """Deployments whose pod template the Service's selector selects."""
        if not service.selector:
            return []
        return self.deployments_matching(self._ns("Service", service.namespace), service.selector)

    def deployments_matching(self, namespace: str, selector: dict[str, str]) -> list[Deployment]:
        """Deployments of ``namespace`` whose template labels carry every label of ``selector``."""
        ns = namespace or DEFAULT_NAMESPACE
        deps = self._by_kind.get("Deployment", {})
        found = (deps.get((ns, name)) for name in sorted(self._deployments_by_ns.get(ns, ())))
        return [d for d in found if isinstance(d, Deployment) and labels_match(selector, d.template_labels)]
