"""What one sidecar sees of the mesh, as the config generator needs it (pure).

Turns a ``MeshIndex`` and a pod into: the proxy (namespace, labels, IP), the outbound targets
it can reach (Services and ServiceEntry hosts exported to its namespace, with their ports and
protocols), and the endpoints behind each (target, port, subset). Istio's rules followed:
``pilot/pkg/model/service.go`` (``BuildSubsetKey``: ``direction|port|subset|host``),
``pilot/pkg/networking/core/httproute.go`` (virtual host domains), protocol from the port
name / appProtocol (``http``, ``http2``, ``grpc``...; unnamed ports are sniffed as HTTP).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.model.base import Resource
from meshtui.model.index import K8S_GATEWAY, MeshIndex
from meshtui.model.istio import DestinationRule, ServiceEntry, TrafficPolicy
from meshtui.model.kube import Deployment, Endpoints, Pod, Service, ServicePort

# A pod annotation the generated ``/clusters`` honours to simulate outlier ejection (sandbox, tests).
SIMULATE_OUTLIER_ANNOTATION = "meshtui.io/simulate-outlier-ejected"
# Port-name prefixes / protocols Istio does not route as HTTP (TCP proxy instead).
_NON_HTTP = {"tcp", "tls", "https", "mongo", "redis", "mysql", "udp", "thrift", "kafka", "zookeeper"}


def subset_key(direction: str, port: int, subset: str, host: str) -> str:
    """Istio's ``BuildSubsetKey``: the cluster name ``direction|port|subset|host``."""
    return f"{direction}|{port}|{subset}|{host}"


def config_path(kind: str, namespace: str, name: str) -> str:
    """The ``filter_metadata.istio.config`` path Istio writes (``virtual-service``, ``destination-rule``)."""
    return f"/apis/networking.istio.io/v1/namespaces/{namespace}/{kind}/{name}"


def is_http(name: str | None, app_protocol: str | None, protocol: str | None) -> bool:
    """Whether Istio routes the port as HTTP: by appProtocol (a ServiceEntry port's protocol is
    passed as one), else by the port-name prefix; unnamed ports are sniffed, routed as HTTP.

    ``protocol`` is the Kubernetes L4 protocol: UDP is never HTTP.
    """
    if (protocol or "").upper() == "UDP":
        return False
    explicit = (app_protocol or (name or "").split("-")[0]).lower()
    return explicit not in _NON_HTTP


@dataclass(frozen=True)
class TargetPort:
    """One port of an outbound target: number, name, HTTP or not, and the endpoints' port."""

    port: int
    name: str
    http: bool
    target: int | str | None


@dataclass
class Target:
    """A host the proxy can send to: a Service or one host of a ServiceEntry."""

    host: str
    namespace: str
    name: str
    ports: list[TargetPort]
    address: str | None  # cluster IP / SE address; None for headless
    resource: Resource
    discovery: str  # EDS / ORIGINAL_DST / STRICT_DNS
    meta: dict[str, Any] = field(default_factory=dict)


#: Istio's proxy types (``pilot/pkg/model`` ``NodeType``): the second word of ``pilot-agent proxy ...``.
SIDECAR, ROUTER, WAYPOINT = "sidecar", "router", "waypoint"
#: The label istiod's deployment controller puts on a Gateway API Gateway's pods.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
_GATEWAY_CLASS_LABEL = "gateway.networking.k8s.io/gateway-class-name"
#: The GatewayClasses whose Gateways are waypoints, not gateways.
WAYPOINT_CLASSES = frozenset({"istio-waypoint"})


@dataclass
class Proxy:
    """The proxy the config is generated for: a sidecar, a gateway (``router``) or a waypoint."""

    namespace: str
    name: str
    labels: dict[str, str]
    ip: str
    pod: Pod | None
    domain_suffix: str
    kind: str = SIDECAR

    @property
    def dns_domain(self) -> str:
        """The proxy's DNS domain (``ns.svc.cluster.local``), used for alternate host names."""
        return f"{self.namespace}.svc.{self.domain_suffix}"


def proxy_kind(index: MeshIndex, namespace: str, labels: dict[str, str], containers: list[Any]) -> str:
    """Which Istio proxy type a pod runs: what its ``istio-proxy`` container's ``proxy <type>``
    arguments say (Istio's gateway and waypoint templates write ``router`` / ``waypoint``, the
    sidecar injector ``sidecar``); without them, a pod of a Gateway API Gateway is a waypoint
    for the waypoint class and a gateway (router) otherwise, a pod whose only container is
    ``istio-proxy`` is a gateway, and any other pod a sidecar."""
    proxies = [c for c in containers if isinstance(c, dict) and c.get("name") == "istio-proxy"]
    for c in proxies:
        args = [a for a in c.get("args") or [] if isinstance(a, str)]
        if len(args) >= 2 and args[0] == "proxy" and args[1] in (SIDECAR, ROUTER, WAYPOINT):
            return args[1]
    gateway_name = labels.get(GATEWAY_NAME_LABEL)
    if gateway_name:
        gateway = index.get(K8S_GATEWAY, namespace, gateway_name)
        cls = getattr(gateway, "gateway_class_name", None) or labels.get(_GATEWAY_CLASS_LABEL)
        return WAYPOINT if cls in WAYPOINT_CLASSES else ROUTER
    return ROUTER if proxies and len(containers) == 1 else SIDECAR


def find_proxy(index: MeshIndex, namespace: str, pod: str) -> Proxy:
    """The proxy for ``pod``: its labels (and proxy type) from the Pod, else from a Deployment
    of that name (``--files`` mode has no pods), else none (a generic sidecar of the namespace)."""
    obj = index.get("Pod", namespace, pod)
    if isinstance(obj, Pod):
        containers = (obj.raw.get("spec") or {}).get("containers") or []
        return Proxy(namespace, pod, dict(obj.labels), obj.ip or "", obj, index.domain_suffix,
                     proxy_kind(index, namespace, dict(obj.labels), containers))
    dep = index.get("Deployment", namespace, pod)
    if not isinstance(dep, Deployment):
        return Proxy(namespace, pod, {}, "", None, index.domain_suffix)
    labels = dict(dep.template_labels)
    template = ((dep.raw.get("spec") or {}).get("template") or {}).get("spec") or {}
    return Proxy(namespace, pod, labels, "", None, index.domain_suffix,
                 proxy_kind(index, namespace, labels, template.get("containers") or []))


def outbound_targets(index: MeshIndex, proxy: Proxy) -> list[Target]:
    """Services and ServiceEntry hosts exported to the proxy's namespace, sorted by host."""
    out: list[Target] = []
    for svc in index.services:
        if svc.type == "ExternalName" or not index.visible_from(svc, proxy.namespace):
            continue
        ns = svc.namespace or "default"
        ports = [TargetPort(p.port, p.name or "", is_http(p.name, p.app_protocol, p.protocol), p.target_port)
                 for p in svc.ports if p.port]
        # Only "None" is headless; a manifest without clusterIP gets one from the API server.
        headless = svc.cluster_ip == "None"
        out.append(Target(svc.fqdn(index.domain_suffix), ns, svc.name, ports,
                          None if headless else (svc.cluster_ip or None), svc, "ORIGINAL_DST" if headless else "EDS"))
    known = {t.host for t in out}
    for se in index.service_entries:
        if se.workload_selector is not None or not index.visible_from(se, proxy.namespace):
            continue
        ports = [TargetPort(p.number, p.name or "", is_http(p.name, p.protocol, None), p.target_port)
                 for p in se.ports if p.number]
        discovery = {"DNS": "STRICT_DNS", "DNS_ROUND_ROBIN": "LOGICAL_DNS", "NONE": "ORIGINAL_DST"}.get(
            (se.resolution or "NONE").upper(), "EDS")
        for host in se.hosts:
            if host.startswith("*") or host in known:
                continue
            known.add(host)
            out.append(Target(host, se.namespace or "default", se.name, ports,
                              se.addresses[0] if se.addresses else None, se, discovery))
    out.sort(key=lambda t: t.host)
    return out


def destination_rule(index: MeshIndex, proxy: Proxy, host: str) -> DestinationRule | None:
    """The DestinationRule that applies to ``host`` for this proxy (Istio's precedence)."""
    return index.destination_rule_for(host, proxy.namespace)


def traffic_policy(dr: DestinationRule | None, subset: str, port: int) -> TrafficPolicy | None:
    """The effective policy for (subset, port): subset's over the rule's, port-level over both.

    Istio merges field by field; a whole-policy override is the approximation used here.
    """
    if dr is None:
        return None
    policy = dr.traffic_policy
    sub = dr.subset(subset) if subset else None
    if sub is not None and sub.traffic_policy is not None:
        policy = sub.traffic_policy
    if policy is not None:
        for pl in policy.port_level_settings:
            if pl.port == port:
                return pl.policy
    return policy


def _pod_port(pod: Pod, target: int | str | None, fallback: int, endpoints: Endpoints | None) -> int:
    """The endpoint port for a Service port's targetPort on ``pod`` (named ports looked up in
    the pod's containers, else in the service's Endpoints)."""
    if isinstance(target, int):
        return target
    if not target:
        return fallback
    for c in (pod.raw.get("spec") or {}).get("containers") or []:
        for p in (c.get("ports") if isinstance(c, dict) else None) or []:
            if isinstance(p, dict) and p.get("name") == target and isinstance(p.get("containerPort"), int):
                return p["containerPort"]
    if endpoints is not None:
        for ep in endpoints.ports:
            if ep.name == target and ep.port:
                return ep.port
    return fallback


@dataclass(frozen=True)
class Endpoint:
    """One backend of a cluster: address, port, health, and the workload behind it."""

    address: str
    port: int
    healthy: bool
    workload: str  # Istio's workload metadata: name;namespace;app;version;cluster
    # The pod's ``meshtui.io/simulate-outlier-ejected`` annotation ("" when absent): which
    # clients' simulated Envoys report this endpoint as ejected (see ``outlier_ejected_for``).
    simulate_outlier: str = ""


def endpoints(index: MeshIndex, target: Target, port: TargetPort, labels: dict[str, str]) -> list[Endpoint]:
    """Endpoints of (target, port) narrowed to a subset's ``labels``; pods without an IP are left out,
    pods that are not ready are UNHEALTHY (as with PILOT_SEND_UNHEALTHY_ENDPOINTS)."""
    res = target.resource
    out: list[Endpoint] = []
    if isinstance(res, Service):
        if not res.selector:
            return out
        eps = index.get("Endpoints", target.namespace, target.name)
        for pod in index.pods_matching(target.namespace, {**res.selector, **labels}):
            if not pod.ip:
                continue
            healthy = pod.ready and (pod.phase in (None, "Running"))
            workload = ";".join((pod.name, target.namespace, pod.labels.get("app", ""),
                                 pod.labels.get("version", ""), "Kubernetes"))
            out.append(Endpoint(pod.ip, _pod_port(pod, port.target, port.port, eps if isinstance(eps, Endpoints) else None),
                                healthy, workload, pod.annotations.get(SIMULATE_OUTLIER_ANNOTATION) or ""))
    elif isinstance(res, ServiceEntry) and target.discovery == "EDS":
        for we in res.endpoints:
            if not we.address or any(we.labels.get(k) != v for k, v in labels.items()):
                continue
            p = we.ports.get(port.name) or (port.target if isinstance(port.target, int) else port.port)
            out.append(Endpoint(we.address, int(p), True, ";".join(("", target.namespace, "", "", "Kubernetes"))))
    return sorted(out, key=lambda e: (e.address, e.port))


def outlier_ejected_for(endpoint: Endpoint, proxy: Proxy) -> bool:
    """Whether ``proxy``'s simulated Envoy has ejected ``endpoint``: the endpoint pod's
    ``meshtui.io/simulate-outlier-ejected`` annotation is ``"true"`` (every client) or a
    comma-separated list of client pods (``name`` or ``name.namespace``)."""
    value = endpoint.simulate_outlier.strip()
    if not value:
        return False
    if value.lower() == "true":
        return True
    names = {v.strip() for v in value.split(",")}
    return proxy.name in names or f"{proxy.name}.{proxy.namespace}" in names


def service_targets(index: MeshIndex, proxy: Proxy) -> list[tuple[Service, ServicePort, int]]:
    """Istio's ``ServiceTargets`` of the proxy: (Service, port, the pod's port it targets) for
    every port of every Service of the proxy's namespace whose selector picks its pod."""
    out: list[tuple[Service, ServicePort, int]] = []
    if not proxy.labels:
        return out
    for svc in index.services:
        if (svc.namespace or "default") != proxy.namespace or not svc.selector:
            continue
        if any(proxy.labels.get(k) != v for k, v in svc.selector.items()):
            continue
        eps = index.get("Endpoints", proxy.namespace, svc.name)
        for p in svc.ports:
            if not p.port:
                continue
            number = (_pod_port(proxy.pod, p.target_port, p.port, eps if isinstance(eps, Endpoints) else None)
                      if proxy.pod is not None else (p.target_port if isinstance(p.target_port, int) else p.port))
            out.append((svc, p, number))
    return out


def inbound_ports(index: MeshIndex, proxy: Proxy) -> list[tuple[int, bool, Service]]:
    """(endpoint port, http, service) for every port of every Service selecting the proxy's pod."""
    seen: dict[int, tuple[int, bool, Service]] = {}
    for svc, p, number in service_targets(index, proxy):
        seen.setdefault(number, (number, is_http(p.name, p.app_protocol, p.protocol), svc))
    return [seen[k] for k in sorted(seen)]
