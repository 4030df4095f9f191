"""What the mesh browser shows for one service, computed from the index (pure).

The UI draws these records; everything here is plain data so that it can be tested without a
terminal and reused by any screen or command that describes a service's routing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.model.hosts import fqdn, host_matches
from meshtui.model.index import K8S_GATEWAY
from meshtui.routing.describe import match_conditions, policy_lines, rule_extras
from meshtui.model.management import controllers_of, managed_by
from meshtui.routing.gateway_api_view import K8sGatewayView, K8sRouteView, gateways_for, route_view, routes_for

SUBSET_STYLES = ("green", "yellow", "cyan", "magenta", "blue", "red")


@dataclass(slots=True)
class DestinationView:
    """One weighted destination of a rule."""

    position: int
    host: str
    subset: str | None
    port: int | None
    weight: int

    @property
    def label(self) -> str:
        """`reviews v2 :9080` in the short form a person reads."""
        text = self.host.split(".")[0] if self.host.endswith(".svc.cluster.local") else self.host
        if self.subset:
            text += f" {self.subset}"
        if self.port:
            text += f" :{self.port}"
        return text


@dataclass(slots=True)
class RuleView:
    """One http rule: its match blocks (OR'ed lists of AND'ed conditions), extras, destinations."""

    index: int
    name: str | None
    matches: list[list[str]]
    extras: list[str]
    destinations: list[DestinationView]


@dataclass(slots=True)
class VirtualServiceView:
    """A VirtualService that routes, or is bound to, the service."""

    key: Any
    namespace: str
    name: str
    hosts: list[str]
    gateways: list[str]
    http: list[RuleView]
    tls: list[dict[str, Any]]
    tcp: list[dict[str, Any]]
    # Who else writes it (a rollout controller, Argo CD, Flux, ...): one line each.
    managers: list[str] = field(default_factory=list)
    # The progress of the Flagger Canary / Argo Rollout that moves its weights, if one does.
    rollout: str | None = None


@dataclass(slots=True)
class SubsetView:
    """A DestinationRule subset and how many pods (or replicas) it selects."""

    name: str
    labels: dict[str, str]
    ready: int
    total: int
    # "pods" from a cluster; "replicas" (desired, from Deployments) for manifests on disk.
    unit: str = "pods"


@dataclass(slots=True)
class GatewayView:
    """A Gateway the service is exposed through: its servers as readable lines."""

    namespace: str
    name: str
    selector: str
    servers: list[str]
    via: str  # the VirtualService that binds the service to it


@dataclass(slots=True)
class WorkloadView:
    """A pod (or, for manifests on disk, a Deployment) behind the service."""

    name: str
    subset: str | None
    ready: bool
    detail: str  # "10.0.1.7  node-a  restarts 0" or "replicas 3"
    namespace: str = ""
    pod: str | None = None  # the pod's name (None for a Deployment)


@dataclass(slots=True)
class ServiceRoutes:
    """Everything the route tree shows for one service."""

    short_name: str
    host: str
    virtual_services: list[VirtualServiceView] = field(default_factory=list)
    destination_rule: Any | None = None
    policy_lines: list[str] = field(default_factory=list)
    subsets: list[SubsetView] = field(default_factory=list)
    gateways: list[str] = field(default_factory=list)
    gateway_views: list[GatewayView] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    endpoints: str = ""
    workloads: list[WorkloadView] = field(default_factory=list)
    subset_styles: dict[str, str] = field(default_factory=dict)
    # The Gateway API: HTTPRoutes/GRPCRoutes carrying the service's traffic, and their Gateways.
    k8s_routes: list[K8sRouteView] = field(default_factory=list)
    k8s_gateways: list[K8sGatewayView] = field(default_factory=list)
    #: Set when a mesh VirtualService and a GAMMA route both route the service (MT0101).
    mixing: str | None = None


def _rule_view(vs: Any, rule: Any) -> RuleView:
    dests: list[DestinationView] = []
    routes = list(rule.route or [])
    for i, rd in enumerate(routes):
        d = rd.destination
        weight = rd.weight if rd.weight is not None else (100 if len(routes) == 1 else 0)
        dests.append(
            DestinationView(i, fqdn(d.host or "", vs.namespace), d.subset, d.port, int(weight))
        )
    return RuleView(
        index=rule.index,
        name=rule.name,
        matches=[match_conditions(m) for m in rule.match or []],
        extras=rule_extras(rule.raw),
        destinations=dests,
    )


def _binds(vs: Any, vs_host: str, host: str) -> bool:
    """Whether a VirtualService host names ``host``. A wildcard counts only for mesh traffic:
    a gateway-only `hosts: ["*"]` (bookinfo's) shapes that gateway, not every service."""
    if vs_host == host:
        return True
    return vs_host.startswith("*") and "mesh" in vs.effective_gateways and host_matches(vs_host, host)


def _routes_to(vs: Any, host: str) -> bool:
    for rule in vs.http:
        for rd in rule.route or []:
            if fqdn(rd.destination.host or "", vs.namespace) == host:
                return True
    for section in ("tls", "tcp"):
        for r in vs.spec.get(section) or []:
            for rd in r.get("route") or []:
                if fqdn((rd.get("destination") or {}).get("host", ""), vs.namespace) == host:
                    return True
    return False


def service_routes(index: Any, service: Any) -> ServiceRoutes:
    """The route tree's content for ``service`` (a model Service or ServiceEntry)."""
    if service.kind == "ServiceEntry":
        host = service.hosts[0] if service.hosts else service.name
    else:
        host = fqdn(service.name, service.namespace)
    view = ServiceRoutes(short_name=service.name, host=host)
    styles: dict[str, str] = {}
    for vs in sorted(index.virtual_services, key=lambda v: (v.namespace, v.name)):
        bound = any(_binds(vs, fqdn(h, vs.namespace), host) for h in vs.hosts)
        if not bound and not _routes_to(vs, host):
            continue
        rules = [_rule_view(vs, r) for r in vs.http]
        for r in rules:
            for d in r.destinations:
                if d.subset and d.subset not in styles:
                    styles[d.subset] = SUBSET_STYLES[len(styles) % len(SUBSET_STYLES)]
        view.virtual_services.append(
            VirtualServiceView(
                key=vs.key, namespace=vs.namespace, name=vs.name, hosts=list(vs.hosts),
                gateways=list(vs.gateways), http=rules,
                tls=list(vs.spec.get("tls") or []), tcp=list(vs.spec.get("tcp") or []),
                managers=managed_by(vs, index),
                rollout="; ".join(c.summary for c in controllers_of(vs, index)) or None,
            )
        )
        for gw in vs.gateways:
            if gw != "mesh":
                label = f"gateway {gw} (VirtualService {vs.name}: {', '.join(vs.hosts)})"
                if label not in view.gateways:
                    view.gateways.append(label)
                    view.gateway_views.append(_gateway_view(index, gw, vs))
    dr = index.destination_rule_for(host, service.namespace)
    view.destination_rule = dr
    if dr is not None:
        view.policy_lines = policy_lines(dr.spec.get("trafficPolicy") or {})
        for s in dr.subsets:
            if s.name not in styles:
                styles[s.name] = SUBSET_STYLES[len(styles) % len(SUBSET_STYLES)]
            ready, total, unit = _subset_workloads(index, host, s.name, service.namespace)
            view.subsets.append(SubsetView(s.name, dict(s.labels), ready, total, unit))
            for line in policy_lines(s.traffic_policy.raw if s.traffic_policy is not None else {}):
                view.policy_lines.append(f"subset {s.name}: {line}")
    view.subset_styles = styles
    if service.kind == "Service":
        routes = routes_for(index, service.namespace or "default", service.name)
        view.k8s_routes = [route_view(index, r) for r in routes]
        view.k8s_gateways = gateways_for(index, routes)
        gamma = [r for r in view.k8s_routes if (service.namespace or "default", service.name) in r.parent_services]
        mesh_vs = [v for v in view.virtual_services if not v.gateways or "mesh" in v.gateways]
        if gamma and mesh_vs:
            view.mixing = (f"VirtualService {mesh_vs[0].namespace}/{mesh_vs[0].name} and {gamma[0].title} both "
                           f"route {service.name}: Istio does not support mixing the two APIs (which applies is "
                           "undefined)")
        _add_backends(index, service, view)
    return view


def _gateway_view(index: Any, ref: str, vs: Any) -> GatewayView:
    ns, _, name = ref.rpartition("/")
    ns = ns or vs.namespace
    gw = index.get("Gateway", ns, name)
    if gw is None:
        return GatewayView(ns, name, "", ["(no such Gateway)"], vs.name)
    servers = []
    for srv in gw.servers:
        port = srv.port
        line = f"{port.number}/{port.protocol or '?'}"
        if port.name:
            line += f" ({port.name})"
        line += "  hosts " + ", ".join(srv.hosts)
        if srv.tls is not None:
            tls = srv.tls.mode or ("redirect to HTTPS" if srv.tls.https_redirect else "TLS")
            line += f"  TLS {tls}"
            if srv.tls.credential_name:
                line += f" cert {srv.tls.credential_name}"
        servers.append(line)
    selector = ",".join(f"{k}={v}" for k, v in gw.selector.items())
    return GatewayView(ns, name, selector, servers, vs.name)


def _add_backends(index: Any, service: Any, view: ServiceRoutes) -> None:
    """Service ports, endpoints and the pods behind each subset: the end of the path."""
    for p in service.ports:
        text = f"{p.name or '(unnamed)'} {p.port}"
        if p.target_port is not None and p.target_port != p.port:
            text += f" → {p.target_port}"
        text += f"/{p.protocol or 'TCP'}"
        if p.app_protocol:
            text += f" appProtocol {p.app_protocol}"
        view.ports.append(text)
    ep = index.get("Endpoints", service.namespace, service.name)
    if ep is not None:
        ready = sum(1 for a in ep.addresses if a.ready)
        view.endpoints = f"{ready} ready / {len(ep.addresses)} addresses"
    dr = view.destination_rule
    if index.count("Pod"):
        for pod in sorted(index.pods_for_service(service), key=lambda p: p.name):
            subset = _subset_of(dr, pod.labels) if dr is not None else None
            detail = f"{pod.ip or '-'}  {pod.node or '-'}  restarts {pod.restarts}  {pod.phase or ''}"
            view.workloads.append(WorkloadView(pod.name, subset, pod.ready, detail.rstrip(), pod.namespace, pod.name))
    else:
        for dep in sorted(index.deployments_for_service(service), key=lambda d: d.name):
            labels = (dep.spec.get("template") or {}).get("metadata", {}).get("labels") or {}
            subset = _subset_of(dr, labels) if dr is not None else None
            view.workloads.append(
                WorkloadView(f"Deployment {dep.name}", subset, True, f"replicas {dep.replicas}", dep.namespace, dep.name)
            )


def _subset_of(dr: Any, labels: dict[str, str]) -> str | None:
    for s in dr.subsets:
        if s.labels and all(labels.get(k) == v for k, v in s.labels.items()):
            return s.name
    return None


def _subset_workloads(index: Any, host: str, subset: str, namespace: str) -> tuple[int, int, str]:
    """(ready, total, unit) of what a subset selects: pods, or Deployments' desired replicas
    when the source has no pods (manifests on disk)."""
    if index.count("Pod"):
        pods = index.pods_for_subset(host, subset, namespace)
        return sum(1 for p in pods if p.ready), len(pods), "pods"
    deployments = index.deployments_for_subset(host, subset, namespace)
    total = sum(d.replicas or 0 for d in deployments)
    return total, total, "replicas"


def _route_service(route: Any) -> tuple[str, str, str] | None:
    """The Service a Gateway API route is about: its parent Service (GAMMA), else its first
    Service backend."""
    for ref in route.parent_refs:
        if ref.is_service:
            return ("Service", ref.namespace, ref.name)
    for rule in route.rules:
        for b in rule.backend_refs:
            if b.is_service:
                return ("Service", b.namespace, b.name)
    return None


def service_for_object(index: Any, kind: str, namespace: str, name: str) -> tuple[str, str, str] | None:
    """The (kind, namespace, name) of the service an object is about, for "show in browser"."""
    obj = index.get(kind, namespace, name)
    if obj is None:
        return None
    if kind in ("Service", "ServiceEntry"):
        return (kind, obj.namespace or namespace, obj.name)
    hosts: list[str] = []
    if kind == "DestinationRule":
        hosts = [obj.host]
    elif kind == "VirtualService":
        hosts = [rd.destination.host for r in obj.http for rd in r.route] + list(obj.hosts)
    elif kind == "Pod":
        for svc in index.services:
            if svc.namespace == obj.namespace and svc.selector and all(
                obj.labels.get(k) == v for k, v in svc.selector.items()
            ):
                return ("Service", svc.namespace, svc.name)
        return None
    elif kind in ("HTTPRoute", "GRPCRoute"):
        return _route_service(obj)
    elif kind == K8S_GATEWAY:
        for route in index.routes_for_gateway(obj.namespace or namespace, obj.name):
            target = _route_service(route)
            if target is not None:
                return target
        return None
    elif kind == "Gateway":
        for vs in index.virtual_services:
            if any(g.split("/")[-1] == obj.name for g in vs.gateways):
                return service_for_object(index, "VirtualService", vs.namespace, vs.name)
        return None
    for h in hosts:
        for target in index.services_for_host(fqdn(h, obj.namespace)):
            return (target.kind, target.namespace, target.name)
    return None
