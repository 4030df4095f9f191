"""Trace a request through Gateway API routes (HTTPRoute, GRPCRoute) as Istio routes them.

``trace_gateway_api(index, request, gateway, source_namespace)`` answers for a request at a
Gateway API Gateway (``ns/name``) or from a client in the mesh to a Service that has GAMMA
routes; it returns None when no Gateway API route applies, and the VirtualService tracer
takes over. Facts from the Gateway API spec and Istio's ``conversion.go``:

- at a Gateway, the listeners on the request's port (the first listener's port when none is
  given) take the routes they accept (:mod:`meshtui.routing.gateway_api_binding`); Envoy picks
  one virtual host by the most specific hostname (exact over wildcard, longer wildcard over
  shorter), and only the routes serving that hostname compete;
- in the mesh, routes whose parentRef is the called Service: consumer routes (in the caller's
  namespace) replace the producer routes (in the Service's namespace) for that caller;
- every (rule, match) becomes one candidate, sorted as Istio sorts them: path Exact over
  PathPrefix over RegularExpression, then the longer path, then a method match, then more
  header matches, then more query matches; ties keep the order of the routes (oldest first,
  then namespace/name) and of their rules; a rule without matches goes last;
- PathPrefix compares whole path elements (``/foo`` matches ``/foo/bar``, not ``/foobar``; a
  trailing ``/`` is ignored); header names are case-insensitive; regexes are RE2 full matches;
- a gRPC method match is a path match: service and method -> Exact ``/svc/method``, service
  only -> prefix ``/svc/``, otherwise a regular expression;
- backendRef weights are relative (default 1); a rule whose weights are all 0, or that has no
  backendRefs and no redirect, answers 500; a backend that does not resolve takes its share and
  that share is answered with 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.gateway_api import (
    K8sGateway, K8sRoute, PathMatch, RouteMatch, RouteRule,
)
from meshtui.model.hosts import host_subsumes, more_specific
from meshtui.model.index import K8S_GATEWAY
from meshtui.routing.destinations import resolve_destination
from meshtui.routing.gateway_api_binding import attachments, resolve_backend
from meshtui.routing.match import BlockResult, Condition
from meshtui.routing.regex import full_match, re2_problem
from meshtui.routing.request import MESH, TraceRequest
from meshtui.routing.result import DestinationTrace, MirrorTrace, RuleTrace, TraceResult

_HTTP_KINDS = ("HTTPRoute", "GRPCRoute")
_RANK = {"Exact": 3, "PathPrefix": 2, "RegularExpression": 1}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One (route, rule, match) in the order Istio tries them."""

    route: K8sRoute
    rule: RouteRule
    match_index: int | None
    match: RouteMatch | None
    path: PathMatch | None  # the path condition (a gRPC method as a path)


def grpc_path(match: RouteMatch) -> PathMatch | None:
    """A GRPCRoute method match as the path match Istio generates for it."""
    m = match.grpc
    if m is None or (not m.service and not m.method):
        return None
    if m.type == "Exact" and m.service and m.method:
        return PathMatch("Exact", f"/{m.service}/{m.method}")
    if m.type == "Exact" and m.service:
        return PathMatch("PathPrefix", f"/{m.service}/")
    return PathMatch("RegularExpression", f"/{m.service or '[^/]+'}/{m.method or '[^/]+'}")


def candidates(routes: list[K8sRoute]) -> list[Candidate]:
    """Every (rule, match) of ``routes`` (given oldest first), sorted by Gateway API precedence."""
    out = []
    for route in routes:
        for rule in route.rules:
            if not rule.matches:
                out.append(Candidate(route, rule, None, None, None))
            for i, m in enumerate(rule.matches):
                out.append(Candidate(route, rule, i, m, grpc_path(m) if route.kind == "GRPCRoute" else m.path))

    def key(c: Candidate) -> tuple[int, ...]:
        if c.match is None:
            return (1, 0, 0, 0, 0, 0)
        rank = _RANK.get(c.path.type, 0) if c.path else -1
        length = len(c.path.value) if c.path else 0
        return (0, -rank, -length, 0 if c.match.method else 1, -len(c.match.headers), -len(c.match.query_params))

    return sorted(out, key=key)  # stable: ties keep the routes' and rules' order


def _path_condition(path: PathMatch, request_path: str) -> Condition:
    if path.type == "Exact":
        ok = request_path == path.value
        return Condition("path", ok, f"path {'=' if ok else '≠'} {path.value}")
    if path.type == "RegularExpression":
        problem = re2_problem(path.value)
        if problem:
            return Condition("path", False, f"path regex {path.value} is invalid: {problem}")
        ok = full_match(path.value, request_path)
        return Condition("path", ok, f"path {'matches' if ok else 'does not match'} regex {path.value}")
    prefix = path.value if path.value == "/" else path.value.rstrip("/")
    ok = prefix == "/" or request_path == prefix or request_path.startswith(prefix + "/")
    return Condition("path", ok, f"path {'under' if ok else 'not under'} prefix {path.value}")


def _value_condition(label: str, kind: str, want: str, have: str | None) -> Condition:
    if have is None:
        return Condition(label, False, f"{label} absent (want {want})")
    if kind == "RegularExpression":
        ok = re2_problem(want) is None and full_match(want, have)
        return Condition(label, ok, f"{label} {'matches' if ok else 'does not match'} regex {want}")
    ok = have == want
    return Condition(label, ok, f"{label} {'=' if ok else '≠'} {want}")


def evaluate(c: Candidate, request: TraceRequest) -> BlockResult:
    """Whether ``request`` meets every condition of the candidate's match, with reasons."""
    if c.match is None:
        return BlockResult(None, None, True)
    conds = []
    if c.path is not None:
        conds.append(_path_condition(c.path, request.path_only))
    if c.match.method:
        ok = request.method.upper() == c.match.method.upper()
        conds.append(Condition("method", ok, f"method {'=' if ok else '≠'} {c.match.method}"))
    for h in c.match.headers:
        conds.append(_value_condition(f"header {h.name.lower()}", h.type, h.value, request.header(h.name.lower())))
    params = request.query_params()
    for q in c.match.query_params:
        conds.append(_value_condition(f"query {q.name}", q.type, q.value, params.get(q.name)))
    return BlockResult(c.match_index, None, all(x.ok for x in conds), tuple(conds))


def _vhost(attached: list[Any], host: str) -> tuple[str | None, list[K8sRoute]]:
    """The most specific hostname served that covers ``host``, and the routes serving it."""
    best: str | None = None
    for a in attached:
        for h in a.hostnames:
            if (h == "*" or host_subsumes(h, host)) and (best is None or more_specific(h, best)
                                                          or (best == "*" and h != "*")):
                best = h
    if best is None:
        return None, []
    routes: list[K8sRoute] = []
    for a in attached:
        if best in a.hostnames and a.route not in routes:
            routes.append(a.route)
    return best, routes


def _gateway_port(gw: K8sGateway) -> int | None:
    return next((x.port for x in gw.listeners if x.port is not None), None)


def _mesh_routes(index: Any, service: Any, port: int | None, src_ns: str) -> list[K8sRoute]:
    svc_ns = service.namespace or "default"
    routes = [r for r in index.routes_for_service(svc_ns, service.name) if r.kind in _HTTP_KINDS
              and any(p.is_service and (p.namespace, p.name) == (svc_ns, service.name)
                      and (p.port is None or port is None or p.port == port) for p in r.parent_refs)]
    consumer = [r for r in routes if (r.namespace or "default") == src_ns and src_ns != svc_ns]
    return consumer or [r for r in routes if (r.namespace or "default") == svc_ns]


def trace_gateway_api(index: Any, request: TraceRequest, gateway: str, host: str, services: list[Any],
                      port: int | None, source_namespace: str | None) -> TraceResult | None:
    """The trace of ``request`` through Gateway API routes, or None when none applies.

    ``gateway`` is ``mesh`` or ``ns/name``; ``host`` and ``services`` are the resolved request
    host and the Services behind it (mesh), ``port`` the port the request is sent to.
    """
    result = TraceResult(request=request, gateway=gateway, host=host, port=port, outcome="no_route")
    if gateway == MESH:
        if not services:
            return None
        svc = services[0]
        routes = _mesh_routes(index, svc, port, source_namespace or "default")
        if not routes:
            return None
        result.service = f"{svc.namespace or 'default'}/{svc.name}"
        result.notes.append("HTTPRoute(s) attached to Service " + result.service + ": "
                            + ", ".join(f"{r.kind} {r.label}" for r in routes))
    else:
        ns, _, name = gateway.partition("/")
        gw = index.get(K8S_GATEWAY, ns, name)
        if not isinstance(gw, K8sGateway):
            return None
        if port is None:
            port = result.port = _gateway_port(gw)
        attached = [a for a in attachments(index, gw) if a.route.kind in _HTTP_KINDS and a.listener.port == port]
        result.notes.append(f"Gateway API Gateway {gw.label}, port {port}")
        vhost, routes = _vhost(attached, request.host)
        if vhost is None:
            result.outcome = "no_vhost"
            result.notes.append(f"no route accepted by a listener on port {port} serves host {request.host}")
            return result
        result.notes.append(f"hostname {vhost}: " + ", ".join(f"{r.kind} {r.label}" for r in routes))
    for c in candidates(routes):
        block = evaluate(c, request)
        result.rules.append(RuleTrace(c.route.label, c.rule.index, c.rule.name, block.matched, [block],
                                      kind=c.route.kind))
        if block.matched:
            _apply(index, c, request, result, source_namespace, port)
            return result
    result.notes.append("no rule of these routes matches")
    return result


def _apply(index: Any, c: Candidate, request: TraceRequest, result: TraceResult, src_ns: str | None,
           port: int | None) -> None:
    rule = c.rule
    result.route_kind, result.route_name = c.route.kind, c.route.label
    result.rule_index, result.rule_name, result.match_index = rule.index, rule.name, c.match_index
    result.timeout = rule.timeout
    if rule.retry is not None:
        result.retries = {"attempts": rule.retry.attempts, "per_try_timeout": None, "backoff": rule.retry.backoff,
                          "retry_on": ",".join(str(x) for x in rule.retry.codes) or None}
    for f in rule.filters:
        if f.extension_ref is not None:
            e = f.extension_ref
            result.notes.append(f"extension filter {e.group}/{e.kind} {e.name}: implementation-specific, not simulated")
        elif f.request_headers is not None:
            h = f.request_headers
            result.request_headers = {"set": dict(h.set), "add": dict(h.add), "remove": list(h.remove)}
    redirect = next((f.redirect for f in rule.filters if f.redirect is not None), None)
    if redirect is not None:
        result.outcome = "redirect"
        result.redirect = _redirect(redirect, c, request)
        return
    rewrite = next((f.rewrite for f in rule.filters if f.rewrite is not None), None)
    if rewrite is not None:
        result.rewrite = {"uri": _rewritten_path(rewrite.path, c, request), "authority": rewrite.hostname}
    for f in rule.filters:
        if f.mirror is not None and f.mirror.percent > 0:
            b = resolve_backend(index, c.route, f.mirror.backend)
            if b.host:
                result.mirrors.append(MirrorTrace(host=b.host, subset=None, port=b.port, percentage=f.mirror.percent))
    total = sum(max(r.weight, 0) for r in rule.backend_refs)
    if total == 0:
        result.outcome = "direct"
        result.direct_response = {"status": 500, "body": None}
        why = "every backendRef has weight 0" if rule.backend_refs else "the rule has no backendRefs"
        result.notes.append(f"{why}: Envoy answers 500")
        return
    result.outcome = "route"
    for ref in rule.backend_refs:
        if ref.weight <= 0:
            continue
        share = ref.weight / total
        b = resolve_backend(index, c.route, ref)
        if b.error_reason is None and b.host is not None:
            dest = resolve_destination(index, b.host, None, b.port, ref.weight, share, src_ns)
        else:
            dest = DestinationTrace(host=b.host or "", subset=None, port=b.port, weight=ref.weight, probability=share)
            if not b.simulated:
                dest.notes.append(f"{ref.kind} {ref.namespace}/{ref.name}: not simulated by meshtui")
            else:
                dest.failure = {"status": 500, "reason": b.error_reason, "message": b.error_message}
                dest.notes.append(f"{b.error_message}: Envoy answers 500 for this share")
        result.destinations.append(dest)


def _matched_prefix(c: Candidate) -> str:
    if c.path is not None and c.path.type == "PathPrefix":
        return c.path.value if c.path.value == "/" else c.path.value.rstrip("/")
    return ""


def _rewritten_path(modifier: Any, c: Candidate, request: TraceRequest) -> str:
    path, query = request.path_only, request.query
    if modifier is not None:
        if modifier.type == "ReplaceFullPath":
            path = modifier.value
        elif modifier.type == "ReplacePrefixMatch":
            prefix = _matched_prefix(c)
            rest = path[len(prefix):] if prefix != "/" else path[1:]
            new = modifier.value.rstrip("/")
            path = new + ("/" + rest.lstrip("/") if rest.strip("/") or rest.startswith("/") else "")
            path = path or "/"
    return path + (f"?{query}" if query else "")


def _redirect(rd: Any, c: Candidate, request: TraceRequest) -> dict[str, Any]:
    scheme = rd.scheme or request.scheme
    authority = rd.hostname or request.host
    port = rd.port
    if port is not None and not ((port == 80 and scheme == "http") or (port == 443 and scheme == "https")):
        authority = f"{authority}:{port}"
    path = _rewritten_path(rd.path, c, request).partition("?")[0] if rd.path is not None else request.path_only
    return {"status": rd.status_code, "location": f"{scheme}://{authority}{path}"}

