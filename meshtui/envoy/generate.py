"""A generated Envoy config dump: what istiod would roughly push to one pod's sidecar (pure).

When no live Envoy can be asked (``--files``, or a pod whose admin port is unreachable), the
proxy-config views still have something true to show: the configuration the mesh objects
*imply* for that sidecar. It is an approximation (no Sidecar scoping, no delegate
VirtualServices, no EnvoyFilters, no mTLS transport sockets) and is always labelled: the
bootstrap node metadata carries ``"meshtui.io/generated": "true"`` and the document a
``meshtui_generated`` note (see :func:`generated_note`).

The generated ``/clusters?format=json`` (:func:`generate_clusters`) reports pods that are not
ready as ``UNHEALTHY``. Outlier ejection, which only a running Envoy decides, can be simulated
for the sandbox and tests: a pod annotated ``meshtui.io/simulate-outlier-ejected: "true"`` is
reported with ``health_status.failed_outlier_check: true`` by every client sidecar, and with a
comma-separated list of client pods (``name`` or ``name.namespace``) by those clients only.
The annotation does not touch the config dump (ejection is not configuration).

The JSON uses Envoy's admin type URLs and proto field names, so ``ConfigDump`` and the
istioctl-compatible tables read it exactly as they read a real ``/config_dump``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from meshtui.envoy.gen_gateway import GatewayBuilder
from meshtui.envoy.gen_routes import RouteBuilder
from meshtui.envoy.gen_targets import (
    ROUTER, Endpoint, Proxy, Target, config_path, destination_rule, endpoints, find_proxy, inbound_ports,
    outbound_targets, outlier_ejected_for, subset_key, traffic_policy,
)
from meshtui.model.index import MeshIndex
from meshtui.model.istio import DestinationRule, TrafficPolicy

T = "type.googleapis.com/"
ADMIN = T + "envoy.admin.v3."
Json = dict[str, Any]
GENERATED_KEY = "meshtui_generated"
GENERATED_LABEL = "meshtui.io/generated"
GENERATED_NOTE = "generated from the mesh config (not fetched from Envoy)"
_UNLIMITED = 4294967295
_HCM = "envoy.filters.network.http_connection_manager"
_HCM_TYPE = T + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
_TCP = "envoy.filters.network.tcp_proxy"
_TCP_TYPE = T + "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
_LB = {"ROUND_ROBIN": "ROUND_ROBIN", "LEAST_CONN": "LEAST_REQUEST", "LEAST_REQUEST": "LEAST_REQUEST",
       "RANDOM": "RANDOM", "PASSTHROUGH": "CLUSTER_PROVIDED"}


def generated_note(doc: Any) -> str | None:
    """The note of a generated dump (or ``/clusters`` document), ``None`` for a real one."""
    if isinstance(doc, dict) and isinstance(doc.get(GENERATED_KEY), dict):
        return str(doc[GENERATED_KEY].get("note") or GENERATED_NOTE)
    return None


def _note(proxy: Proxy) -> Json:
    return {"note": GENERATED_NOTE, "pod": proxy.name, "namespace": proxy.namespace,
            "approximations": "no Sidecar scoping, delegate VirtualServices, EnvoyFilters or TLS settings"}


# -- clusters ---------------------------------------------------------------------------------


def _duration(value: Any, default: str) -> str:
    return value if isinstance(value, str) and value else default


def _apply_policy(cluster: Json, policy: TrafficPolicy | None) -> None:
    """Load balancing, circuit breakers and outlier detection from a DestinationRule policy."""
    thresholds: Json = {"max_connections": _UNLIMITED, "max_pending_requests": _UNLIMITED,
                        "max_requests": _UNLIMITED, "max_retries": _UNLIMITED, "track_remaining": True}
    if policy is not None:
        if policy.consistent_hash is not None:
            cluster["lb_policy"] = "MAGLEV" if "maglev" in policy.consistent_hash else "RING_HASH"
        elif policy.load_balancer:
            cluster["lb_policy"] = _LB.get(policy.load_balancer.upper(), cluster["lb_policy"])
        pool = policy.connection_pool or {}
        tcp, http = pool.get("tcp") or {}, pool.get("http") or {}
        for field, src, key in (("max_connections", tcp, "maxConnections"),
                                ("max_pending_requests", http, "http1MaxPendingRequests"),
                                ("max_requests", http, "http2MaxRequests"), ("max_retries", http, "maxRetries")):
            if isinstance(src.get(key), int):
                thresholds[field] = src[key]
        if isinstance(tcp.get("connectTimeout"), str):
            cluster["connect_timeout"] = tcp["connectTimeout"]
        if isinstance(http.get("maxRequestsPerConnection"), int):
            cluster["typed_extension_protocol_options"] = {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": T + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "common_http_protocol_options": {"max_requests_per_connection": http["maxRequestsPerConnection"]},
                "use_downstream_protocol_config": {}}}
        od = policy.outlier_detection
        if od:
            out: Json = {}
            c5xx = od.get("consecutive5xxErrors", od.get("consecutiveErrors"))
            if isinstance(c5xx, int):
                out.update(consecutive_5xx=c5xx, enforcing_consecutive_5xx=100 if c5xx else 0)
            if isinstance(od.get("consecutiveGatewayErrors"), int):
                out.update(consecutive_gateway_failure=od["consecutiveGatewayErrors"],
                           enforcing_consecutive_gateway_failure=100)
            out["interval"] = _duration(od.get("interval"), "10s")
            out["base_ejection_time"] = _duration(od.get("baseEjectionTime"), "30s")
            if isinstance(od.get("maxEjectionPercent"), int):
                out["max_ejection_percent"] = od["maxEjectionPercent"]
            out["enforcing_success_rate"] = 0
            cluster["outlier_detection"] = out
    cluster["circuit_breakers"] = {"thresholds": [thresholds]}


def _outbound_cluster(target: Target, port: int, subset: str, dr: DestinationRule | None) -> Json:
    name = subset_key("outbound", port, subset, target.host)
    cluster: Json = {"@type": T + "envoy.config.cluster.v3.Cluster", "name": name, "type": target.discovery,
                     "connect_timeout": "10s", "lb_policy": "LEAST_REQUEST"}
    if target.discovery == "EDS":
        cluster["eds_cluster_config"] = {"eds_config": {"ads": {}, "initial_fetch_timeout": "0s",
                                                        "resource_api_version": "V3"}, "service_name": name}
    elif target.discovery == "ORIGINAL_DST":
        cluster["lb_policy"] = "CLUSTER_PROVIDED"
    _apply_policy(cluster, traffic_policy(dr, subset, port))
    if target.discovery == "ORIGINAL_DST":
        cluster["lb_policy"] = "CLUSTER_PROVIDED"
    istio: Json = {"services": [{"host": target.host, "name": target.name, "namespace": target.namespace}],
                   "default_original_port": port}
    if dr is not None:
        istio["config"] = config_path("destination-rule", dr.namespace or "default", dr.name)
    if subset:
        istio["subset"] = subset
    cluster["metadata"] = {"filter_metadata": {"istio": istio}}
    return cluster


def _static(name: str, kind: str) -> Json:
    c: Json = {"@type": T + "envoy.config.cluster.v3.Cluster", "name": name, "type": kind,
               "connect_timeout": "10s"}
    if kind == "ORIGINAL_DST":
        c["lb_policy"] = "CLUSTER_PROVIDED"
    return c


class _Generator:
    """Everything one dump needs, computed once."""

    def __init__(self, index: MeshIndex, namespace: str, pod: str) -> None:
        self.index = index
        self.proxy = find_proxy(index, namespace, pod)
        self.targets = outbound_targets(index, self.proxy)
        # A gateway (router) has no inbound side: istiod builds it no inbound listener or cluster.
        self.router = self.proxy.kind == ROUTER
        self.inbound = [] if self.router else inbound_ports(index, self.proxy)

    @cached_property
    def gateway(self) -> GatewayBuilder | None:
        """A gateway's listener and route builder (its merged Gateway servers), None for others."""
        return GatewayBuilder(self.index, self.proxy) if self.router else None

    def outbound(self) -> list[tuple[Json, Target, int, dict[str, str]]]:
        """(cluster, target, port, subset labels) for every outbound cluster."""
        out: list[tuple[Json, Target, int, dict[str, str]]] = []
        for t in self.targets:
            dr = destination_rule(self.index, self.proxy, t.host)
            for p in t.ports:
                out.append((_outbound_cluster(t, p.port, "", dr), t, p.port, {}))
                for sub in dr.subsets if dr is not None else []:
                    out.append((_outbound_cluster(t, p.port, sub.name, dr), t, p.port, dict(sub.labels)))
        return out

    def clusters(self, outbound: list[tuple[Json, Target, int, dict[str, str]]]) -> list[Json]:
        """Outbound, inbound and the static pass-through / black-hole clusters; a gateway's are
        its outbound clusters and BlackHoleCluster (it has no original-destination listener)."""
        out = [c for c, *_ in outbound]
        if self.router:
            return [*out, _static("BlackHoleCluster", "STATIC")]
        for port, _http, svc in self.inbound:
            out.append({"@type": T + "envoy.config.cluster.v3.Cluster", "name": subset_key("inbound", port, "", ""),
                        "type": "ORIGINAL_DST", "connect_timeout": "10s", "lb_policy": "CLUSTER_PROVIDED",
                        "metadata": {"filter_metadata": {"istio": {"services": [
                            {"host": svc.fqdn(self.index.domain_suffix), "name": svc.name,
                             "namespace": svc.namespace or "default"}]}}}})
        out += [_static("BlackHoleCluster", "STATIC"), _static("PassthroughCluster", "ORIGINAL_DST"),
                _static("InboundPassthroughCluster", "ORIGINAL_DST")]
        return out

    def load_assignment(self, cluster: Json, target: Target, port: int, labels: dict[str, str]) -> Json:
        """The ClusterLoadAssignment of one EDS cluster: ready pods HEALTHY, others UNHEALTHY."""
        tp = next(p for p in target.ports if p.port == port)
        eps = [{"endpoint": {"address": {"socket_address": {"address": e.address, "port_value": e.port}}},
                "health_status": "HEALTHY" if e.healthy else "UNHEALTHY",
                "metadata": {"filter_metadata": {"istio": {"workload": e.workload}}},
                "load_balancing_weight": 1}
               for e in endpoints(self.index, target, tp, labels)]
        cla: Json = {"@type": T + "envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name": cluster["name"]}
        if eps:
            cla["endpoints"] = [{"locality": {}, "lb_endpoints": eps, "load_balancing_weight": len(eps)}]
        return cla

    def listeners(self) -> list[Json]:
        """virtualOutbound (15001), virtualInbound (15006), and the outbound service listeners;
        a gateway's come from its Gateway servers only."""
        if self.gateway is not None:
            return self.gateway.listeners()
        allow_any = self.index.mesh_config.outbound_traffic_policy != "REGISTRY_ONLY"
        catch = "PassthroughCluster" if allow_any else "BlackHoleCluster"
        out = [_listener("virtualOutbound", "0.0.0.0", 15001, "OUTBOUND", [
            {"filters": [_tcp(catch, catch)], "name": "virtualOutbound-catchall-tcp"}], use_original_dst=True)]
        chains = []
        for port, http, _svc in self.inbound:
            cluster = subset_key("inbound", port, "", "")
            f = _hcm_inline(cluster, port) if http else _tcp(cluster, cluster)
            chains.append({"filter_chain_match": {"destination_port": port}, "filters": [f], "name": cluster})
        chains.append({"filters": [_tcp("InboundPassthroughCluster", "InboundPassthroughCluster")],
                       "name": "virtualInbound-catchall-http"})
        out.append(_listener("virtualInbound", "0.0.0.0", 15006, "INBOUND", chains))
        http_ports = sorted({p.port for t in self.targets for p in t.ports if p.http})
        for port in http_ports:
            hcm = {"name": _HCM, "typed_config": {"@type": _HCM_TYPE, "stat_prefix": f"outbound_0.0.0.0_{port}",
                   "rds": {"config_source": {"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"},
                           "route_config_name": str(port)}}}
            out.append(_listener(f"0.0.0.0_{port}", "0.0.0.0", port, "OUTBOUND", [{"filters": [hcm]}]))
        for t in self.targets:
            for p in t.ports:
                if not p.http and t.address and p.port not in http_ports:
                    cluster = subset_key("outbound", p.port, "", t.host)
                    out.append(_listener(f"{t.address}_{p.port}", t.address, p.port, "OUTBOUND",
                                         [{"filters": [_tcp(cluster, f"outbound|{p.port}||{t.host}")]}]))
        return out


def _listener(name: str, address: str, port: int, direction: str, chains: list[Json], *,
              use_original_dst: bool = False) -> Json:
    x: Json = {"@type": T + "envoy.config.listener.v3.Listener", "name": name,
               "address": {"socket_address": {"address": address, "port_value": port}},
               "filter_chains": chains, "traffic_direction": direction}
    if use_original_dst:
        x["use_original_dst"] = True
    elif name not in ("virtualInbound",):
        x["bind_to_port"] = False
    return x


def _tcp(cluster: str, stat_prefix: str) -> Json:
    return {"name": _TCP, "typed_config": {"@type": _TCP_TYPE, "stat_prefix": stat_prefix, "cluster": cluster}}


def _hcm_inline(cluster: str, port: int) -> Json:
    rc = {"name": cluster, "validate_clusters": False, "virtual_hosts": [
        {"name": f"inbound|http|{port}", "domains": ["*"], "routes": [
            {"name": "default", "match": {"prefix": "/"},
             "route": {"cluster": cluster, "timeout": "0s", "max_grpc_timeout": "0s"},
             "decorator": {"operation": f":{port}/*"}}]}]}
    return {"name": _HCM, "typed_config": {"@type": _HCM_TYPE, "stat_prefix": cluster, "route_config": rc}}


def _bootstrap(proxy: Proxy, domain_suffix: str) -> Json:
    # The node ID starts with the proxy type (sidecar~, router~, waypoint~), as pilot-agent writes it.
    return {"node": {
        "id": f"{proxy.kind}~{proxy.ip or '0.0.0.0'}~{proxy.name}.{proxy.namespace}~{proxy.namespace}.svc.{domain_suffix}",
        "cluster": f"{proxy.labels.get('app', proxy.name)}.{proxy.namespace}",
        "metadata": {"NAME": proxy.name, "NAMESPACE": proxy.namespace, "LABELS": dict(proxy.labels),
                     "CLUSTER_ID": "Kubernetes", GENERATED_LABEL: "true"}}}


def generate_config_dump(index: MeshIndex, namespace: str, pod: str, *, include_eds: bool = True) -> Json:
    """The ``/config_dump`` (``?include_eds`` when ``include_eds``) the mesh implies for ``pod``.

    A pod missing from the index (``--files`` mode) is generated as a sidecar of ``namespace``
    with the labels of a Deployment of that name, if there is one, else no labels.
    """
    g = _Generator(index, namespace, pod)
    outbound = g.outbound()
    clusters = g.clusters(outbound)
    # A gateway's route configurations are those its listeners name (http.<port>, https.<...>).
    routes = (g.gateway.route_configs() if g.gateway is not None
              else RouteBuilder(index, g.proxy).route_configs(g.targets))
    configs: list[Json] = [
        {"@type": ADMIN + "BootstrapConfigDump", "bootstrap": _bootstrap(g.proxy, index.domain_suffix)},
        {"@type": ADMIN + "ClustersConfigDump",
         "dynamic_active_clusters": [{"cluster": c} for c in clusters]},
    ]
    if include_eds:
        configs.append({"@type": ADMIN + "EndpointsConfigDump", "dynamic_endpoint_configs": [
            {"endpoint_config": g.load_assignment(c, t, port, labels)}
            for c, t, port, labels in outbound if c["type"] == "EDS"]})
    configs += [
        {"@type": ADMIN + "ListenersConfigDump",
         "dynamic_listeners": [{"name": x["name"], "active_state": {"listener": x}} for x in g.listeners()]},
        {"@type": ADMIN + "ScopedRoutesConfigDump"},
        {"@type": ADMIN + "RoutesConfigDump", "dynamic_route_configs": [{"route_config": r} for r in routes]},
        {"@type": ADMIN + "SecretsConfigDump"},
    ]
    return {"configs": configs, GENERATED_KEY: _note(g.proxy)}


def _host_status(e: Endpoint, proxy: Proxy) -> Json:
    """One host of ``/clusters?format=json``; ``failed_outlier_check`` only when simulated."""
    health: Json = {"eds_health_status": "HEALTHY" if e.healthy else "UNHEALTHY"}
    if outlier_ejected_for(e, proxy):
        health["failed_outlier_check"] = True
    return {"address": {"socket_address": {"address": e.address, "port_value": e.port}},
            "health_status": health, "weight": 1, "locality": {}}


def generate_clusters(index: MeshIndex, namespace: str, pod: str) -> Json:
    """Envoy's ``/clusters?format=json`` the mesh implies for ``pod``: every cluster with its hosts."""
    g = _Generator(index, namespace, pod)
    outbound = g.outbound()
    statuses = []
    for c in g.clusters(outbound):
        statuses.append({"name": c["name"], "observability_name": c["name"], "added_via_api": True,
                         "host_statuses": []})
    by_name = {s["name"]: s for s in statuses}
    for c, t, port, labels in outbound:
        if c["type"] != "EDS":
            continue
        tp = next(p for p in t.ports if p.port == port)
        by_name[c["name"]]["host_statuses"] = [_host_status(e, g.proxy) for e in endpoints(index, t, tp, labels)]
    return {"cluster_statuses": statuses, GENERATED_KEY: _note(g.proxy)}
