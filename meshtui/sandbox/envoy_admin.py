"""A simulated Envoy admin (port 15000) of one sandbox pod, spoken over a port-forward stream.

:class:`AdminConnection` parses HTTP/1.1 requests from the bytes a client writes into the
forwarded port and returns the response bytes. It answers ``GET /config_dump`` (``?include_eds``),
``GET /clusters`` (``?format=json``), ``GET /ready``, and 404 like Envoy for anything else.
The dump itself comes from :func:`build_config_dump`, the one place that turns the store into
Envoy configuration, so that a better generator can replace it in one spot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import orjson

MAX_HEADER_BYTES = 64 * 1024
DOMAIN = "cluster.local"
T = "type.googleapis.com/"
_HTTP_PROTOCOLS = {"http", "http2", "grpc", "grpc-web", "h2c"}
_NON_HTTP = {"tcp", "tls", "https", "mongo", "redis", "mysql", "udp"}
_UNLIMITED = 4294967295
_HELP = (
    "invalid path. admin commands are:\n"
    "  /clusters: upstream cluster status\n"
    "  /config_dump: dump current Envoy configs (experimental)\n"
    "  /ready: print server state, return 200 if LIVE, otherwise return 503\n"
)
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            431: "Request Header Fields Too Large"}


class Store(Protocol):
    """The part of the sandbox object store the generator reads."""

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        """One object by plural, namespace and name, or None."""

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        """Objects of one plural, all namespaces when ``namespace`` is None."""


class StoreSnapshot:
    """The objects a dump reads, listed on the loop thread and readable from any thread.

    Stored objects are never changed in place (a write stores a new dict), so holding the
    lists is a consistent snapshot, and generation can run in a worker thread without stalling
    the event loop on a big mesh.
    """

    KINDS = ("namespaces", "services", "pods", "endpoints", "configmaps", "destinationrules",
             "virtualservices", "gateways", "serviceentries", "sidecars")

    def __init__(self, store: Store) -> None:
        self._lists = {kind: store.list(kind) for kind in self.KINDS}
        self._by_key: dict[str, dict[tuple[str, str], dict]] = {}

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        """Objects of one kind, optionally of one namespace."""
        objs = self._lists.get(resource, [])
        if namespace:
            return [o for o in objs if _meta(o).get("namespace") == namespace]
        return list(objs)

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        """One object, or None."""
        index = self._by_key.get(resource)
        if index is None:
            index = self._by_key[resource] = {
                (_meta(o).get("namespace", ""), _meta(o).get("name", "")): o
                for o in self._lists.get(resource, [])}
        return index.get((namespace or "", name))


@dataclass(frozen=True)
class AdminRequest:
    """One parsed admin request; ``close`` when the client asked to close after it."""

    method: str
    target: str
    close: bool


class AdminConnection:
    """One TCP connection to a pod's Envoy admin: bytes in, requests out, responses back.

    :meth:`feed` runs on the event loop; :meth:`respond` is pure and may run in a worker thread.
    """

    def __init__(self, namespace: str, pod: str) -> None:
        self.namespace, self.pod = namespace, pod
        self._buf = b""
        self.closed = False  # set once a request said "connection: close" (or was malformed)

    def feed(self, data: bytes) -> list[AdminRequest | bytes]:
        """Consume client bytes; return the complete requests (or ready error responses)."""
        if self.closed:
            return []
        self._buf += data
        out: list[AdminRequest | bytes] = []
        while not self.closed:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > MAX_HEADER_BYTES:
                    out.append(self._error(431))
                break
            lines = self._buf[:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                key, sep, value = line.partition(":")
                if sep:
                    headers[key.strip().lower()] = value.strip()
            body_len = headers.get("content-length", "0")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not body_len.isdigit():
                out.append(self._error(400))
                break
            if len(self._buf) < end + 4 + int(body_len):
                break  # wait for the rest of the body (admin GETs have none)
            self._buf = self._buf[end + 4 + int(body_len):]
            conn = headers.get("connection", "").lower()
            close = conn == "close" or (parts[2] == "HTTP/1.0" and conn != "keep-alive")
            self.closed = close
            out.append(AdminRequest(parts[0], parts[1], close))
        return out

    def _error(self, status: int) -> bytes:
        self.closed = True
        return _response(status, b"", "text/plain", True)

    def respond(self, store: Store, req: AdminRequest) -> bytes:
        """The response bytes to one request, generated from ``store``."""
        url = urlsplit(req.target)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path not in ("/config_dump", "/clusters", "/ready"):
            return _response(404, _HELP.encode(), "text/plain", req.close)
        if req.method not in ("GET", "HEAD"):
            return _response(405, b"", "text/plain", req.close)
        if url.path == "/ready":
            return _response(200, b"LIVE\n", "text/plain", req.close)
        if url.path == "/config_dump":
            dump = build_config_dump(store, self.namespace, self.pod, "include_eds" in query)
            return _response(200, orjson.dumps(dump, option=orjson.OPT_INDENT_2),
                             "application/json", req.close)
        statuses = build_cluster_statuses(store, self.namespace, self.pod)
        if query.get("format") == ["json"]:
            return _response(200, orjson.dumps(statuses, option=orjson.OPT_INDENT_2),
                             "application/json", req.close)
        return _response(200, _clusters_text(statuses).encode(), "text/plain", req.close)


def _response(status: int, body: bytes, ctype: str, close: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
        f"content-type: {ctype}\r\ncache-control: no-cache, max-age=0\r\n"
        f"x-content-type-options: nosniff\r\ndate: {formatdate(usegmt=True)}\r\n"
        f"server: envoy\r\ncontent-length: {len(body)}\r\n"
        + ("connection: close\r\n" if close else "")
        + "\r\n"
    )
    return head.encode("latin-1") + body


# --- generation -------------------------------------------------------------------------------

def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def fqdn(host: str, namespace: str) -> str:
    """Istio's short-name rule: a single-label host is qualified with the namespace."""
    return host if "." in host or host == "*" else f"{host}.{namespace}.svc.{DOMAIN}"


def _is_http(port: dict) -> bool:
    proto = (port.get("appProtocol") or str(port.get("name") or "").split("-")[0]).lower()
    if port.get("protocol", "TCP") == "UDP" or proto in _NON_HTTP:
        return False
    return True  # named http*/grpc*, or unnamed: Istio sniffs, and routes it as HTTP


def _selects(selector: dict | None, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _ready(pod: dict) -> bool:
    status = pod.get("status") or {}
    if status.get("phase", "Running") != "Running" or not status.get("podIP"):
        return False
    conds = status.get("conditions")
    if not conds:
        return True
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def _target_port(svc_port: dict, pod: dict) -> int:
    target = svc_port.get("targetPort", svc_port.get("port"))
    if isinstance(target, int):
        return target
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return int(p.get("containerPort", 0))
    return int(svc_port.get("port", 0))


class _Mesh:
    """The store objects one dump needs, read once and indexed (a scaled mesh has 20k pods)."""

    def __init__(self, store: Store) -> None:
        self.services = store.list("services")
        # Ready pods by (namespace, label, value): a selector scans its rarest label's pods only.
        self.pods_by_label: dict[tuple[str, str, str], list[dict]] = {}
        for pod in store.list("pods"):
            if _ready(pod):
                ns = _meta(pod).get("namespace", "")
                for k, v in (_meta(pod).get("labels") or {}).items():
                    self.pods_by_label.setdefault((ns, k, v), []).append(pod)
        self.subsets_by_host: dict[str, list[tuple[str, dict]]] = {}
        for dr in store.list("destinationrules"):
            spec = dr.get("spec") or {}
            host = fqdn(str(spec.get("host", "")), _meta(dr).get("namespace", ""))
            subsets = self.subsets_by_host.setdefault(host, [])
            subsets += [(str(s.get("name")), s.get("labels") or {}) for s in spec.get("subsets") or []]
        # Istio applies the oldest VirtualService of a host; the store lists by name, and
        # creationTimestamp is only second-precise, so "first listed" stands in for "oldest".
        self.vs_by_host: dict[str, dict] = {}
        for vs in store.list("virtualservices"):
            spec, ns = vs.get("spec") or {}, _meta(vs).get("namespace", "")
            if not spec.get("gateways") or "mesh" in spec["gateways"]:
                for h in spec.get("hosts") or []:
                    self.vs_by_host.setdefault(fqdn(str(h), ns), vs)
        self._selected: dict[int, list[dict]] = {}

    def endpoints(self, svc: dict, port: dict, labels: dict | None = None) -> list[tuple]:
        """(pod, ip, port) of the ready pods behind a service port, narrowed by subset labels."""
        selected = self._selected.get(id(svc))
        if selected is None:
            sel = (svc.get("spec") or {}).get("selector") or {}
            ns = _meta(svc).get("namespace", "")
            candidates = min((self.pods_by_label.get((ns, k, str(v)), []) for k, v in sel.items()),
                             key=len, default=[])
            selected = self._selected[id(svc)] = [
                p for p in candidates if _selects(sel, _meta(p).get("labels") or {})]
        return [(pod, pod["status"]["podIP"], _target_port(port, pod)) for pod in selected
                if all((_meta(pod).get("labels") or {}).get(k) == v
                       for k, v in (labels or {}).items())]


def _outbound_clusters(mesh: _Mesh) -> list[tuple[str, dict, dict, dict | None, str]]:
    """(name, service, port, subset labels, subset) for every outbound cluster."""
    out = []
    for svc in mesh.services:
        host = fqdn(_meta(svc).get("name", ""), _meta(svc).get("namespace", ""))
        subsets = mesh.subsets_by_host.get(host, [])
        for port in (svc.get("spec") or {}).get("ports") or []:
            out.append((f"outbound|{port.get('port')}||{host}", svc, port, None, ""))
            for name, labels in subsets:
                out.append((f"outbound|{port.get('port')}|{name}|{host}", svc, port, labels, name))
    return out


def _cluster(name: str, svc: dict, subset: str, ts: str) -> dict:
    host = fqdn(_meta(svc).get("name", ""), _meta(svc).get("namespace", ""))
    istio: dict[str, Any] = {"services": [{"host": host, "name": _meta(svc).get("name"),
                                          "namespace": _meta(svc).get("namespace")}],
                             "default_original_port": int(name.split("|")[1])}
    if subset:
        istio["subset"] = subset
    return {"version_info": ts, "last_updated": ts, "cluster": {
        "@type": T + "envoy.config.cluster.v3.Cluster", "name": name, "type": "EDS",
        "eds_cluster_config": {"eds_config": {"ads": {}, "initial_fetch_timeout": "0s",
                                              "resource_api_version": "V3"},
                               "service_name": name},
        "connect_timeout": "10s", "lb_policy": "LEAST_REQUEST",
        "circuit_breakers": {"thresholds": [{"max_connections": _UNLIMITED,
                                             "max_pending_requests": _UNLIMITED,
                                             "max_requests": _UNLIMITED,
                                             "max_retries": _UNLIMITED, "track_remaining": True}]},
        "metadata": {"filter_metadata": {"istio": istio}}}}


def _route_action(route: dict, vs_ns: str, port: int) -> dict:
    dests = route.get("route") or []
    def cluster(d: dict) -> str:
        dest = d.get("destination") or {}
        p = (dest.get("port") or {}).get("number", port)
        return f"outbound|{p}|{dest.get('subset', '')}|{fqdn(str(dest.get('host', '')), vs_ns)}"
    action: dict[str, Any] = {"timeout": route.get("timeout", "0s"), "max_grpc_timeout": "0s"}
    if len(dests) == 1:
        action["cluster"] = cluster(dests[0])
    else:
        action["weighted_clusters"] = {"clusters": [
            {"name": cluster(d), "weight": d.get("weight", 0)} for d in dests]}
    if (route.get("rewrite") or {}).get("uri"):
        action["prefix_rewrite"] = route["rewrite"]["uri"]
    return action


def _envoy_match(m: dict) -> dict:
    out: dict[str, Any] = {"case_sensitive": not m.get("ignoreUriCase", False)}
    uri = m.get("uri") or {"prefix": "/"}
    if "exact" in uri:
        out["path"] = uri["exact"]
    elif "regex" in uri:
        out["safe_regex"] = {"regex": uri["regex"]}
    else:
        out["prefix"] = uri.get("prefix", "/")
    headers = []
    for name, sm in (m.get("headers") or {}).items():
        kind, value = next(iter((sm or {"prefix": ""}).items()))
        kind = "safe_regex" if kind == "regex" else kind
        headers.append({"name": name, "string_match": {
            kind: {"regex": value} if kind == "safe_regex" else value}})
    if headers:
        out["headers"] = headers
    return out


def _virtual_host(mesh: _Mesh, svc: dict, port: int) -> dict:
    name, ns = _meta(svc).get("name", ""), _meta(svc).get("namespace", "")
    host = fqdn(name, ns)
    routes = []
    vs = mesh.vs_by_host.get(host)
    if vs is not None:
        vs_ns = _meta(vs).get("namespace", "")
        config = f"/apis/networking.istio.io/v1/namespaces/{vs_ns}/virtual-service/{_meta(vs).get('name')}"
        for rule in vs["spec"].get("http") or []:
            for m in [mm for mm in rule.get("match") or [{}]
                      if mm.get("port") in (None, port)]:
                r: dict[str, Any] = {"match": _envoy_match(m),
                                     "metadata": {"filter_metadata": {"istio": {"config": config}}}}
                if rule.get("name"):
                    r["name"] = rule["name"]
                if rule.get("directResponse"):
                    r["direct_response"] = {"status": rule["directResponse"].get("status", 200)}
                elif rule.get("redirect"):
                    r["redirect"] = {"path_redirect": rule["redirect"].get("uri", "/")}
                else:
                    r["route"] = _route_action(rule, vs_ns, port)
                routes.append(r)
    if not routes:
        routes = [{"name": "default", "match": {"prefix": "/"},
                   "route": {"cluster": f"outbound|{port}||{host}", "timeout": "0s",
                             "max_grpc_timeout": "0s"},
                   "decorator": {"operation": f"{host}:{port}/*"}}]
    domains = [host, name, f"{name}.{ns}", f"{name}.{ns}.svc"] if ns else [host]
    cluster_ip = (svc.get("spec") or {}).get("clusterIP")
    if cluster_ip and cluster_ip != "None":
        domains.append(cluster_ip)
    return {"name": f"{host}:{port}", "domains": domains, "routes": routes,
            "include_request_attempt_count": True}


def build_config_dump(store: Store, namespace: str, pod: str, include_eds: bool) -> dict:
    """The ``/config_dump`` of a pod's sidecar: an ``envoy.admin.v3`` ConfigDump as JSON data."""
    mesh = _Mesh(store)
    me = store.get("pods", namespace, pod) or {}
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ip = (me.get("status") or {}).get("podIP", "")
    labels = _meta(me).get("labels") or {}
    node_type = "router" if str(labels.get("istio", "")).endswith("gateway") else "sidecar"
    bootstrap = {"node": {"id": f"{node_type}~{ip}~{pod}.{namespace}~{namespace}.svc.{DOMAIN}",
                          "cluster": f"{pod}.{namespace}",
                          "metadata": {"NAME": pod, "NAMESPACE": namespace,
                                       "LABELS": labels,
                                       "CLUSTER_ID": "Kubernetes", "ISTIO_VERSION": "1.24.0"}}}
    outbound = _outbound_clusters(mesh)
    clusters = [_cluster(name, svc, subset, ts) for name, svc, _p, _l, subset in outbound]
    clusters += [{"cluster": {"@type": T + "envoy.config.cluster.v3.Cluster", "name": n,
                              "type": kind}, "last_updated": ts}
                 for n, kind in (("BlackHoleCluster", "STATIC"),
                                 ("PassthroughCluster", "ORIGINAL_DST"),
                                 ("InboundPassthroughCluster", "ORIGINAL_DST"))]
    http_ports: dict[int, list[dict]] = {}
    listeners = []
    for svc in mesh.services:
        for p in (svc.get("spec") or {}).get("ports") or []:
            if _is_http(p):
                http_ports.setdefault(int(p.get("port", 0)), []).append(svc)
    for port in sorted(http_ports):
        hcm = {"name": "envoy.filters.network.http_connection_manager", "typed_config": {
            "@type": T + "envoy.extensions.filters.network.http_connection_manager.v3."
                         "HttpConnectionManager",
            "stat_prefix": f"outbound_0.0.0.0_{port}",
            "rds": {"config_source": {"ads": {}, "resource_api_version": "V3"},
                    "route_config_name": str(port)}}}
        listeners.append({"name": f"0.0.0.0_{port}", "active_state": {
            "version_info": ts, "last_updated": ts, "listener": {
                "@type": T + "envoy.config.listener.v3.Listener", "name": f"0.0.0.0_{port}",
                "address": {"socket_address": {"address": "0.0.0.0", "port_value": port}},
                "filter_chains": [{"filters": [hcm]}], "traffic_direction": "OUTBOUND",
                "bind_to_port": False}}})
    routes = [{"version_info": ts, "last_updated": ts, "route_config": {
        "@type": T + "envoy.config.route.v3.RouteConfiguration", "name": str(port),
        "virtual_hosts": [_virtual_host(mesh, s, port) for s in svcs] + [{
            "name": "allow_any", "domains": ["*"], "include_request_attempt_count": True,
            "routes": [{"name": "allow_any", "match": {"prefix": "/"},
                        "route": {"cluster": "PassthroughCluster", "timeout": "0s"}}]}],
        "validate_clusters": False}} for port, svcs in sorted(http_ports.items())]
    configs: list[dict] = [
        {"@type": T + "envoy.admin.v3.BootstrapConfigDump", "bootstrap": bootstrap,
         "last_updated": ts},
        {"@type": T + "envoy.admin.v3.ClustersConfigDump", "version_info": ts,
         "dynamic_active_clusters": clusters}]
    if include_eds:
        configs.append({"@type": T + "envoy.admin.v3.EndpointsConfigDump",
                        "dynamic_endpoint_configs": [
                            {"endpoint_config": _load_assignment(mesh, *c[:4])} for c in outbound]})
    configs += [
        {"@type": T + "envoy.admin.v3.ListenersConfigDump", "version_info": ts,
         "dynamic_listeners": listeners},
        {"@type": T + "envoy.admin.v3.ScopedRoutesConfigDump"},
        {"@type": T + "envoy.admin.v3.RoutesConfigDump", "dynamic_route_configs": routes},
        {"@type": T + "envoy.admin.v3.SecretsConfigDump"}]
    return {"configs": configs}


def _load_assignment(mesh: _Mesh, name: str, svc: dict, port: dict, labels: dict | None) -> dict:
    eps = [{"endpoint": {"address": {"socket_address": {"address": ip, "port_value": tp}},
                         "health_check_config": {}},
            "health_status": "HEALTHY", "load_balancing_weight": 1, "metadata": {
                "filter_metadata": {"istio": {"workload": ";".join((
                    _meta(pod).get("name", ""), _meta(pod).get("namespace", ""),
                    (_meta(pod).get("labels") or {}).get("app", ""),
                    (_meta(pod).get("labels") or {}).get("version", ""), "Kubernetes"))}}}}
           for pod, ip, tp in mesh.endpoints(svc, port, labels)]
    return {"@type": T + "envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name": name,
            "endpoints": [{"locality": {}, "lb_endpoints": eps,
                           "load_balancing_weight": len(eps)}] if eps else [],
            "policy": {"overprovisioning_factor": 140}}


def build_cluster_statuses(store: Store, namespace: str, pod: str) -> dict:
    """Envoy's ``/clusters?format=json`` answer: every outbound cluster with its hosts."""
    mesh = _Mesh(store)
    statuses = []
    for name, svc, port, labels, _subset in _outbound_clusters(mesh):
        hosts = [{"address": {"socket_address": {"address": ip, "port_value": tp}},
                  "stats": [{"name": "cx_connect_fail"}, {"name": "cx_total"},
                            {"name": "rq_error"}, {"name": "rq_success"},
                            {"name": "rq_timeout"}, {"name": "rq_total"},
                            {"type": "GAUGE", "name": "cx_active"},
                            {"type": "GAUGE", "name": "rq_active"}],
                  "health_status": {"eds_health_status": "HEALTHY"},
                  "weight": 1, "locality": {}}
                 for _pod, ip, tp in mesh.endpoints(svc, port, labels)]
        statuses.append({"name": name, "observability_name": name, "added_via_api": True,
                         "host_statuses": hosts})
    return {"cluster_statuses": statuses}


def _clusters_text(statuses: dict) -> str:
    lines = []
    for c in statuses["cluster_statuses"]:
        lines.append(f"{c['name']}::observability_name::{c['observability_name']}")
        lines.append(f"{c['name']}::added_via_api::true")
        for h in c["host_statuses"]:
            sa = h["address"]["socket_address"]
            prefix = f"{c['name']}::{sa['address']}:{sa['port_value']}"
            lines += [f"{prefix}::cx_active::0", f"{prefix}::rq_total::0",
                      f"{prefix}::health_flags::healthy", f"{prefix}::weight::1"]
    return "\n".join(lines) + ("\n" if lines else "")
