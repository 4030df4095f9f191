"""Mesh (GAMMA) HTTPRoutes/GRPCRoutes as the internal VirtualService istiod makes of them (pure).

istiod does not hand Gateway API routes to Envoy as such: ``pilot/pkg/config/kube/gateway``
converts them to VirtualServices (``conversion.go``) named ``<ns>~<service FQDN>``, bound to
``mesh``, annotated ``internal.istio.io/route-semantics: gateway``, with one ``http`` entry per
rule named by :func:`meshtui.routing.gateway_api_names.envoy_route_name`. The generated Envoy
config (``meshtui.envoy``) takes this VirtualService where a Service has mesh routes, so
``proxy-config routes`` shows HTTPRoute splits as weighted clusters.

The facts used: path ``Exact``/``PathPrefix``/``RegularExpression`` → ``uri`` exact/prefix/regex;
header and query matches ``Exact``/``RegularExpression`` → exact/regex; ``method`` → exact;
``backendRefs`` → destinations ``name.ns.svc.<domain>`` with their port and weight (weights
only when there are several); ``RequestHeaderModifier``/``ResponseHeaderModifier`` → headers;
``URLRewrite`` → rewrite (prefix) / authority; ``RequestRedirect`` → redirect (302 default);
``RequestMirror`` → mirrors with percentage; ``timeouts.request`` → timeout. Rules are ordered
by Gateway API precedence across the Service's routes (as the tracer orders them).
"""

from __future__ import annotations

from typing import Any

from meshtui.model.gateway_api import BackendRef, Filter, K8sRoute, RouteMatch, RouteRule
from meshtui.model.parse import parse_object
from meshtui.model.virtualservice import VirtualService
from meshtui.routing.gateway_api_names import envoy_route_name, mesh_virtual_service_name
from meshtui.routing.gateway_api_trace import candidates

_HTTP_KINDS = ("HTTPRoute", "GRPCRoute")
_PATH = {"Exact": "exact", "PathPrefix": "prefix", "RegularExpression": "regex"}


def _value(kind: str, value: str) -> dict[str, str]:
    return {"regex" if kind == "RegularExpression" else "exact": value}


def _match(m: RouteMatch, route: K8sRoute) -> dict[str, Any]:
    out: dict[str, Any] = {}
    path = m.path
    if route.kind == "GRPCRoute":
        from meshtui.routing.gateway_api_trace import grpc_path

        path = grpc_path(m)
    if path is not None:
        out["uri"] = {_PATH.get(path.type, "prefix"): path.value}
    if m.headers:
        out["headers"] = {h.name.lower(): _value(h.type, h.value) for h in m.headers}
    if m.query_params:
        out["queryParams"] = {q.name: _value(q.type, q.value) for q in m.query_params}
    if m.method:
        out["method"] = {"exact": m.method}
    return out


def _destination(b: BackendRef, suffix: str) -> dict[str, Any]:
    host = f"{b.name}.{b.namespace}.svc.{suffix}" if b.is_service else b.name
    dest: dict[str, Any] = {"host": host}
    if b.port is not None:
        dest["port"] = {"number": b.port}
    return dest


def _headers(f: Filter) -> dict[str, Any]:
    mod = f.request_headers or f.response_headers
    out: dict[str, Any] = {}
    if mod is not None:
        if mod.set:
            out["set"] = dict(mod.set)
        if mod.add:
            out["add"] = dict(mod.add)
        if mod.remove:
            out["remove"] = list(mod.remove)
    return out


def _http(route: K8sRoute, rule: RouteRule, match: RouteMatch | None, suffix: str) -> dict[str, Any]:
    http: dict[str, Any] = {"name": envoy_route_name(route.namespace or "default", route.name, rule.index, rule.name)}
    if match is not None:
        converted = _match(match, route)
        if converted:
            http["match"] = [converted]
    for f in rule.filters:
        if f.request_headers is not None:
            http.setdefault("headers", {})["request"] = _headers(f)
        elif f.response_headers is not None:
            http.setdefault("headers", {})["response"] = _headers(f)
        elif f.rewrite is not None:
            rw: dict[str, Any] = {}
            if f.rewrite.path is not None and f.rewrite.path.type == "ReplacePrefixMatch":
                rw["uri"] = f.rewrite.path.value
            elif f.rewrite.path is not None:
                rw["uriRegexRewrite"] = {"match": "/.*", "rewrite": f.rewrite.path.value}
            if f.rewrite.hostname:
                rw["authority"] = f.rewrite.hostname
            if rw:
                http["rewrite"] = rw
        elif f.redirect is not None:
            rd: dict[str, Any] = {"redirectCode": f.redirect.status_code}
            if f.redirect.path is not None:
                rd["uri"] = f.redirect.path.value
            if f.redirect.hostname:
                rd["authority"] = f.redirect.hostname
            if f.redirect.scheme:
                rd["scheme"] = f.redirect.scheme
            if f.redirect.port is not None:
                rd["port"] = f.redirect.port
            http["redirect"] = rd
        elif f.mirror is not None:
            http.setdefault("mirrors", []).append({"destination": _destination(f.mirror.backend, suffix),
                                                   "percentage": {"value": f.mirror.percent}})
    if "redirect" not in http:
        refs = rule.backend_refs
        http["route"] = [{"destination": _destination(b, suffix), **({"weight": b.weight} if len(refs) > 1 else {})}
                         for b in refs]
    if rule.timeout:
        http["timeout"] = rule.timeout
    return http


def mesh_virtual_service(index: Any, service: Any) -> VirtualService | None:
    """The internal VirtualService istiod makes of the mesh routes whose parent is ``service``
    (the Service's own namespace's producer routes), or None when it has none."""
    ns = service.namespace or "default"
    routes = [r for r in index.routes_for_service(ns, service.name) if r.kind in _HTTP_KINDS
              and (r.namespace or "default") == ns]
    if not routes:
        return None
    suffix = getattr(index, "domain_suffix", None) or "cluster.local"
    host = f"{service.name}.{ns}.svc.{suffix}"
    http = [_http(c.route, c.rule, c.match, suffix) for c in candidates(routes) if c.rule.backend_refs or any(
        f.redirect is not None for f in c.rule.filters)]
    if not http:
        return None
    parents = ",".join(f"{r.kind}/{r.name}.{r.namespace or 'default'}" for r in routes)
    raw = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
           "metadata": {"name": mesh_virtual_service_name(ns, host), "namespace": ns,
                        "annotations": {"internal.istio.io/parents": parents,
                                        "internal.istio.io/route-semantics": "gateway"}},
           "spec": {"hosts": [host], "gateways": ["mesh"], "http": http}}
    view = parse_object(raw)
    return view if isinstance(view, VirtualService) else None


def gateway_virtual_services(index: Any, gateway: Any) -> list[tuple[int, str, VirtualService]]:
    """``(listener port, hostname, internal VirtualService)`` for every hostname a Gateway API
    Gateway serves: istiod's ``<gw ns>~<gw>~istio-autogenerated-k8s-gateway~<listener>~<host>``
    holding the rules of the routes its listener accepts there, in Gateway API precedence."""
    from meshtui.routing.gateway_api_binding import attachments

    grouped: dict[tuple[int, str, str], list[K8sRoute]] = {}
    for a in attachments(index, gateway):
        if a.route.kind not in _HTTP_KINDS or a.listener.port is None:
            continue
        for hostname in a.hostnames:
            routes = grouped.setdefault((a.listener.port, a.listener.name, hostname), [])
            if a.route not in routes:
                routes.append(a.route)
    suffix = getattr(index, "domain_suffix", None) or "cluster.local"
    gw_ns = gateway.namespace or "default"
    out = []
    for (port, listener, hostname), routes in sorted(grouped.items()):
        http = [_http(c.route, c.rule, c.match, suffix) for c in candidates(routes)]
        internal_gw = f"{gateway.name}~istio-autogenerated-k8s-gateway~{listener}"
        raw = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": f"{gw_ns}~{internal_gw}~{hostname}", "namespace": routes[0].namespace or "default",
                            "annotations": {"internal.istio.io/parents": ",".join(
                                f"{r.kind}/{r.name}.{r.namespace or 'default'}" for r in routes),
                                "internal.istio.io/route-semantics": "gateway"}},
               "spec": {"hosts": [hostname], "gateways": [f"{gw_ns}/{internal_gw}"], "http": http}}
        view = parse_object(raw)
        if isinstance(view, VirtualService):
            out.append((port, hostname, view))
    return out


def gateway_l4_virtual_services(index: Any, gateway: Any) -> list[VirtualService]:
    """The internal VirtualServices istiod makes of the TLSRoutes and TCPRoutes a Gateway API
    Gateway's listeners accept: ``<route>~<tls|tcp>~<parent index>~istio-autogenerated-k8s-gateway``
    in the route's namespace, bound to the listener's generated Gateway, a TLSRoute as a ``tls``
    rule matching its hostnames by SNI, a TCPRoute as a ``tcp`` rule for every host."""
    from meshtui.routing.gateway_api_binding import attachments

    suffix = getattr(index, "domain_suffix", None) or "cluster.local"
    gw_ns = gateway.namespace or "default"
    out = []
    for a in attachments(index, gateway):
        kind = {"TLSRoute": "tls", "TCPRoute": "tcp"}.get(a.route.kind)
        if kind is None:
            continue
        rules = []
        for rule in a.route.rules:
            refs = rule.backend_refs
            route = [{"destination": _destination(b, suffix), **({"weight": b.weight} if len(refs) > 1 else {})}
                     for b in refs]
            rules.append({"match": [{"sniHosts": list(a.hostnames)}], "route": route} if kind == "tls"
                         else {"route": route})
        ns = a.route.namespace or "default"
        raw = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
               "metadata": {"name": f"{a.route.name}~{kind}~{a.route.parent_refs.index(a.parent)}~"
                                    "istio-autogenerated-k8s-gateway", "namespace": ns,
                            "annotations": {"internal.istio.io/parents": f"{a.route.kind}/{a.route.name}.{ns}",
                                            "internal.istio.io/route-semantics": "gateway"}},
               "spec": {"gateways": [f"{gw_ns}/{gateway.name}~istio-autogenerated-k8s-gateway~{a.listener.name}"],
                        "hosts": list(a.hostnames) if kind == "tls" else ["*"], kind: rules}}
        view = parse_object(raw)
        if isinstance(view, VirtualService):
            out.append(view)
    return out
