"""What the Logs screen follows for a service, a pod or a workload, and which lines count (pure).

Which lines make the observed split of a service
-----------------------------------------------
The split is measured **at the clients**: the outbound lines whose upstream cluster names the
service's host (``outbound|80|v1|backend-service.default.svc.cluster.local``), from every
followed pod. That is the only place where

- the subset is the one the client's Envoy *chose* (the weighted pick of the VirtualService), so
  the observed share compares one-to-one with the configured weight;
- failures that never reach a server pod are seen at all: ``UH`` (no healthy upstream), ``UO``
  (circuit breaker), ``NR`` (no route), ``URX`` (retries exhausted), fault injection ``FI``/``DI``
  — exactly the "503 UH on reviews v3" the error rollups are for;
- mirrored requests are told apart (the shadow authority ``host-shadow``).

The clients followed are the service's namespace's pods with a sidecar plus the gateway pods of
the Gateways its VirtualServices bind (the ingress path), capped at ``max_pods``. Clients in
other namespaces are not followed; when no client line has been seen the screen falls back to
the service's own pods' **inbound** lines attributed to subsets by pod labels (the server's
view: it misses client-side failures and says so). ``FollowPlan.basis_label`` names the basis.

An ambient service (its pods captured by ztunnel) has no sidecar lines: its waypoint pod, a
client with a proxy in the namespace, writes the Envoy lines of the L7 split (cluster
``inbound-vip|…``), and the ztunnel pods (``FollowPlan.ztunnels``, every node's) write the
connection logs of the L4 section (``meshtui.accesslog.l4_window``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.accesslog.bypass import service_addresses
from meshtui.accesslog.cluster import INBOUND, OUTBOUND, parse_cluster
from meshtui.accesslog.record import Record
from meshtui.model.ambient import AMBIENT, is_ztunnel_pod, namespace_is_ambient, pod_dataplane_mode
from meshtui.model.hosts import fqdn

PodKey = tuple[str, str]  # (namespace, pod name)

#: Where a line counts: at a client (outbound to the service), at a server pod (inbound), nowhere.
BASIS_CLIENT = "client"
BASIS_SERVER = "server"

TARGET_KINDS = ("Service", "Pod", "Deployment")


@dataclass(frozen=True, slots=True)
class LogTarget:
    """What the Logs screen is about: a Service, a Pod, or a workload (Deployment)."""

    kind: str
    namespace: str
    name: str

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise ValueError(f"logs follow a Service, Pod or Deployment, not a {self.kind}")

    @property
    def label(self) -> str:
        """``Service default/backend-service``."""
        return f"{self.kind} {self.namespace}/{self.name}"


@dataclass(slots=True)
class FollowPlan:
    """The pods to follow and how to read their lines.

    ``own`` maps the target's pods to their subset (``""`` when no DestinationRule subset
    selects them); ``clients`` are the other pods followed for their outbound lines to
    ``host``; ``left_out`` counts candidate clients over the cap. ``addresses`` are the
    service's ``ClusterIP:port``: a client line sent there through the catch-all route is a
    request that bypassed the service's routes (``meshtui.accesslog.bypass``).
    """

    target: LogTarget
    host: str | None
    own: dict[PodKey, str] = field(default_factory=dict)
    clients: set[PodKey] = field(default_factory=set)
    left_out: int = 0
    missing: str | None = None
    addresses: frozenset[str] = frozenset()
    #: Per-version Services a Gateway API (GAMMA) route of the service splits its traffic
    #: over: host -> the name their split rows show (``cart-v2``). Outbound lines to them count
    #: as traffic to ``host``.
    backends: dict[str, str] = field(default_factory=dict)
    #: The ztunnel pods followed for the L4 connection logs of an ambient service (else empty).
    ztunnels: set[PodKey] = field(default_factory=set)

    @property
    def group_hosts(self) -> dict[str, str]:
        """Backend host -> the service host whose split it is part of (for shares)."""
        return {h: self.host for h in self.backends} if self.host else {}

    @property
    def pods(self) -> set[PodKey]:
        """Every pod to follow."""
        return set(self.own) | self.clients | self.ztunnels

    def classify(self, pod: PodKey, record: Record | None) -> tuple[bool, str | None, str | None]:
        """(show the line, the split basis it counts in, the subset to attribute it to).

        Own pods' lines are always shown; a client's line only when it is outbound to the host.
        With no service host (a pod or workload target) every line shows and counts as it is.
        """
        own = pod in self.own
        if record is None:
            return own, None, None
        if self.host is None:
            info = record.cluster
            if info.direction == INBOUND:
                return True, BASIS_SERVER, self.own.get(pod) or None
            return True, BASIS_CLIENT, None
        info = parse_cluster(record.upstream_cluster)
        if info.direction == OUTBOUND and info.host == self.host:
            return True, BASIS_CLIENT, None
        if info.direction == OUTBOUND and info.host in self.backends:
            return True, BASIS_CLIENT, self.backends[info.host]
        if own and info.direction == INBOUND:
            return True, BASIS_SERVER, self.own.get(pod) or None
        return own, None, None

    def basis_label(self, basis: str) -> str:
        """What the split panel says about where its numbers come from."""
        if self.host is None:
            return f"all lines of {len(self.own)} pod(s) of {self.target.label}"
        if basis == BASIS_CLIENT:
            envoy = len(set(self.own) | self.clients)  # the ztunnels' lines are the L4 section's
            text = f"at the clients: outbound lines to {self.host} from {envoy} followed pod(s)"
            if self.left_out:
                text += f" ({self.left_out} more not followed)"
            return text
        return (f"at the servers: inbound lines of {len(self.own)} pod(s), subset by pod labels "
                "(no client line seen; client-side failures such as UH/UO/NR are not visible here)")


def _sidecar(pod: Any) -> bool:
    return bool(pod.has_sidecar or "istio-proxy" in pod.containers)


def _subset_of(index: Any, host: str, namespace: str, pod: Any) -> str:
    dr = index.destination_rule_for(host, namespace)
    if dr is None:
        return ""
    for s in dr.subsets:
        if s.labels and all(pod.labels.get(k) == v for k, v in s.labels.items()):
            return s.name
    return ""


def plan_follow(index: Any, target: LogTarget, max_pods: int = 64) -> FollowPlan:
    """The pods to follow for ``target`` in the current mesh index (see the module docstring)."""
    if target.kind == "Pod":
        pod = index.get("Pod", target.namespace, target.name)
        plan = FollowPlan(target, None)
        if pod is None:
            plan.missing = f"pod {target.namespace}/{target.name} not found"
        else:
            plan.own[(pod.namespace, pod.name)] = ""
        return plan
    if target.kind == "Deployment":
        dep = index.get("Deployment", target.namespace, target.name)
        plan = FollowPlan(target, None)
        if dep is None:
            plan.missing = f"deployment {target.namespace}/{target.name} not found"
            return plan
        selector = _deployment_selector(dep.raw)
        for pod in index.pods_matching(target.namespace, selector)[:max_pods] if selector else []:
            plan.own[(pod.namespace, pod.name)] = ""
        return plan
    service = index.get("Service", target.namespace, target.name)
    host = fqdn(target.name, target.namespace)
    plan = FollowPlan(target, host)
    if service is None:
        plan.missing = f"service {target.namespace}/{target.name} not found"
        return plan
    plan.addresses = service_addresses(service)
    own_pods = [p for p in index.pods_for_service(service) if _sidecar(p)]
    per_version = _per_version_services(index, service)
    plan.backends = {fqdn(s.name, s.namespace): s.name for s in per_version}
    for pod in own_pods[:max_pods]:
        subset = _subset_of(index, host, target.namespace, pod)
        if not subset:  # no DestinationRule subset: the per-version Service that selects the pod
            subset = next((s.name for s in per_version if s.namespace == pod.namespace and s.selector
                           and all(pod.labels.get(k) == v for k, v in s.selector.items())), "")
        plan.own[(pod.namespace, pod.name)] = subset
    candidates: list[Any] = []
    seen = set(plan.own)
    for pod in _gateway_pods(index, host) + index.pods_matching(target.namespace, {}):
        key = (pod.namespace, pod.name)
        if key not in seen and _sidecar(pod):
            seen.add(key)
            candidates.append(pod)
    room = max(0, max_pods - len(plan.own))
    plan.clients = {(p.namespace, p.name) for p in candidates[:room]}
    plan.left_out = max(0, len(candidates) - room)
    if _is_ambient(index, service):
        plan.ztunnels = {(p.namespace, p.name) for p in index.pods if is_ztunnel_pod(p)}
    return plan


def _is_ambient(index: Any, service: Any) -> bool:
    """Whether ztunnel captures the service's pods (its namespace's, when it has none)."""
    labels = index.namespace_labels(service.namespace)
    pods = index.pods_for_service(service) if service.selector else []
    if pods:
        return any(pod_dataplane_mode(p, labels) == AMBIENT for p in pods)
    return namespace_is_ambient(labels)


def _per_version_services(index: Any, service: Any) -> list[Any]:
    """The Services the GAMMA HTTPRoutes/GRPCRoutes of ``service`` send to, other than itself
    (one Service per version, as in Istio's Gateway API traffic-shifting task)."""
    ns = service.namespace or "default"
    out: dict[tuple[str, str], Any] = {}
    for route in index.routes_for_service(ns, service.name):
        if route.kind not in ("HTTPRoute", "GRPCRoute"):
            continue
        for rule in route.rules:
            for b in rule.backend_refs:
                if b.is_service and (b.namespace, b.name) != (ns, service.name):
                    found = index.get("Service", b.namespace, b.name)
                    if found is not None:
                        out[(b.namespace, b.name)] = found
    return [out[k] for k in sorted(out)]


def _deployment_selector(raw: dict[str, Any]) -> dict[str, str]:
    spec = raw.get("spec") or {}
    labels = ((spec.get("selector") or {}).get("matchLabels")) or {}
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _gateway_pods(index: Any, host: str) -> list[Any]:
    """Pods of the Gateways that VirtualServices for ``host`` bind (selector over every
    namespace, as Istio does unless gateways are scoped to their namespace)."""
    names: set[tuple[str, str]] = set()
    for vs in index.virtual_services:
        if not _vs_concerns(vs, host):
            continue
        for gw in vs.gateways:
            if gw == "mesh":
                continue
            ns, _, name = gw.rpartition("/")
            names.add((ns or vs.namespace, name))
    pods: list[Any] = []
    for ns, name in sorted(names):
        gateway = index.get("Gateway", ns, name)
        if gateway is None or not gateway.selector:
            continue
        for pod in index.pods:
            if all(pod.labels.get(k) == v for k, v in gateway.selector.items()):
                pods.append(pod)
    return pods


def _vs_concerns(vs: Any, host: str) -> bool:
    if any(fqdn(h, vs.namespace) == host for h in vs.hosts):
        return True
    return any(fqdn(rd.destination.host or "", vs.namespace) == host for r in vs.http for rd in r.route or [])


@dataclass(frozen=True, slots=True)
class DefaultRule:
    """The rule whose weights the observed split is compared with.

    ``name`` is the rule's ``name`` (``None`` when unnamed): Envoy logs it as ``%ROUTE_NAME%``,
    so lines routed by this rule can be told from those of the rules before it (header or
    prefix matches that send everything to one subset would otherwise skew the shares).
    ``weights`` are percent per subset (``""`` for a destination without subset).
    """

    name: str | None
    weights: dict[str, float]
    #: ``namespace/name`` of the mesh-bound VirtualServices routing the service: the rules a
    #: request with a Host they do not list skips.
    virtual_services: tuple[str, ...] = ()


def default_rule(index: Any, target: LogTarget) -> DefaultRule:
    """The service's default route: the last rule without match conditions of the mesh-bound
    VirtualService routing to it (a gateway-bound one when no mesh-bound one exists).
    ``DefaultRule(None, {})`` when nothing routes the service."""
    none = DefaultRule(None, {})
    if target.kind != "Service":
        return none
    from meshtui.routing.service_view import service_routes

    service = index.get("Service", target.namespace, target.name)
    if service is None:
        return none
    routes = service_routes(index, service)
    views = sorted(routes.virtual_services,
                   key=lambda v: 0 if (not v.gateways or "mesh" in v.gateways) else 1)
    mesh_bound = tuple(f"{v.namespace}/{v.name}" for v in views if not v.gateways or "mesh" in v.gateways)
    for view in views:
        for rule in reversed(view.http):
            dests = [d for d in rule.destinations if d.host == routes.host]
            if rule.matches or not dests:
                continue
            weights: dict[str, float] = {}
            for d in dests:
                key = d.subset or ""
                weights[key] = weights.get(key, 0.0) + float(d.weight)
            return DefaultRule(rule.name or None, weights, mesh_bound)
    return _gateway_api_default_rule(service, routes) or DefaultRule(None, {}, mesh_bound)


def _gateway_api_default_rule(service: Any, routes: Any) -> DefaultRule | None:
    """The default rule of a GAMMA HTTPRoute of the service (one whose parent is the Service):
    its last rule without matches, with each backend's share keyed by the name of its
    per-version Service (what the split rows show, see ``FollowPlan.backends``), and the Envoy
    route name istiod gives the rule."""
    from meshtui.routing.gateway_api_names import envoy_route_name

    for route in routes.k8s_routes:
        if (service.namespace or "default", service.name) not in route.parent_services:
            continue  # a route sending to this Service, not routing its callers
        for rule in reversed(route.rules):
            if rule.matches or not rule.backends:
                continue
            weights: dict[str, float] = {}
            for b in rule.backends:
                # Keyed like the split rows of per-version Services: by the Service's name.
                name = b.host.split(".")[0]
                weights[name] = weights.get(name, 0.0) + round(b.share * 100, 1)
            return DefaultRule(envoy_route_name(route.key[1], route.key[2], rule.rule_index, rule.name), weights)
    return None


def configured_weights(index: Any, target: LogTarget) -> dict[str, float]:
    """Configured weight per subset (percent) of the service's default route (``default_rule``);
    ``{}`` when nothing splits the service."""
    return default_rule(index, target).weights
