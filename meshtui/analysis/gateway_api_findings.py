"""meshtui's own findings on Gateway API routes (codes MT0101..), which neither istioctl nor Kiali report.

| code   | name                                   | level   | meaning |
|--------|----------------------------------------|---------|---------|
| MT0101 | VirtualServiceAndHTTPRouteOnSameHost   | Warning | a mesh VirtualService and a GAMMA HTTPRoute/GRPCRoute both apply to one Service; Istio calls mixing the two APIs unsupported and the outcome undefined |
| MT0102 | BackendRefNotFound                     | Error   | a backendRef names a Service that does not exist, or a port the Service does not expose: its share of requests is answered 500 |
| MT0103 | BackendRefNotPermitted                 | Error   | a backendRef to another namespace without a ReferenceGrant there that allows it: its share is answered 500 |
| MT0104 | RouteNotAcceptedByParent               | Warning | a parentRef to a Gateway that does not accept the route: no listener of that section/port, no hostname in common, or a namespace or kind ``allowedRoutes`` forbids |
| MT0105 | RouteRuleShadowed                      | Warning | a rule match can never be taken: an earlier one in Gateway API precedence, for the same parent and hostname, matches every request it matches |
| MT0106 | AllBackendWeightsZero                  | Warning | every backendRef of a rule has weight 0: the rule answers every request with 500 |
"""

from __future__ import annotations

from meshtui.analysis.context import MESH_GATEWAY, Context
from meshtui.analysis.messages import MessageType
from meshtui.model.gateway_api import K8sGateway, K8sRoute, PathMatch, RouteMatch
from meshtui.model.index import K8S_GATEWAY
from meshtui.model.kube import Service
from meshtui.model.virtualservice import VirtualService
from meshtui.routing.gateway_api_binding import (
    attachments, resolve_backend, route_conditions,
)
from meshtui.routing.gateway_api_trace import Candidate, candidates

_HTTP_KINDS = ("HTTPRoute", "GRPCRoute")

GATEWAY_API_MESSAGES = (
    MessageType("VirtualServiceAndHTTPRouteOnSameHost", "MT0101", "Warning",
                "A VirtualService and a Gateway API route apply to the same host.",
                "VirtualService %s and %s both route host %q: Istio does not support mixing the two APIs "
                "for one host, and which one applies is undefined."),
    MessageType("BackendRefNotFound", "MT0102", "Error",
                "A backendRef names a missing Service or port.",
                "backendRef %s of rule %d: %s; Envoy answers 500 for its share of requests."),
    MessageType("BackendRefNotPermitted", "MT0103", "Error",
                "A cross-namespace backendRef has no ReferenceGrant.",
                "backendRef %s of rule %d is in another namespace and no ReferenceGrant in %q allows it; "
                "Envoy answers 500 for its share of requests."),
    MessageType("RouteNotAcceptedByParent", "MT0104", "Warning",
                "A route is not accepted by the Gateway it names.",
                "%s does not accept this route (%s): %s."),
    MessageType("RouteRuleShadowed", "MT0105", "Warning",
                "A route rule can never match.",
                "rule %d match %s can never be taken on %s: %s rule %d is tried first and matches every "
                "request it matches."),
    MessageType("AllBackendWeightsZero", "MT0106", "Warning",
                "Every backendRef of a rule has weight 0.",
                "every backendRef of rule %d has weight 0: the rule answers every request with 500."),
)


def _routes(ctx: Context) -> list[K8sRoute]:
    return [r for kind in _HTTP_KINDS for r in ctx.objects(kind) if isinstance(r, K8sRoute)]


def mixing_analyzer(ctx: Context) -> None:
    """MT0101: a mesh VirtualService and a GAMMA route for the same Service."""
    gamma: dict[tuple[str, str], list[K8sRoute]] = {}
    for route in _routes(ctx):
        for ref in route.parent_refs:
            if ref.is_service:
                gamma.setdefault((ref.namespace, ref.name), []).append(route)
    if not gamma:
        return
    for vs in ctx.objects("VirtualService"):
        if not isinstance(vs, VirtualService) or MESH_GATEWAY not in (vs.effective_gateways or [MESH_GATEWAY]):
            continue
        for host in vs.hosts:
            for svc in ctx.index.services_for_host(ctx.index.resolve(host, vs.namespace or "default")):
                if isinstance(svc, Service):
                    for route in gamma.get((svc.namespace or "default", svc.name), []):
                        ctx.report("VirtualServiceAndHTTPRouteOnSameHost", vs,
                                   f"{vs.namespace}/{vs.name}", f"{route.kind} {route.label}", host)


def backend_analyzer(ctx: Context) -> None:
    """MT0102 (missing Service or port), MT0103 (no ReferenceGrant), MT0106 (all weights 0)."""
    for route in _routes(ctx):
        for rule in route.rules:
            if rule.backend_refs and all(b.weight == 0 for b in rule.backend_refs):
                ctx.report("AllBackendWeightsZero", route, rule.index, path=f"spec.rules[{rule.index}]")
            refs = list(rule.backend_refs) + [f.mirror.backend for f in rule.filters if f.mirror is not None]
            for ref in refs:
                b = resolve_backend(ctx.index, route, ref)
                if b.error_reason == "RefNotPermitted":
                    ctx.report("BackendRefNotPermitted", route, ref.label, rule.index, ref.namespace)
                elif b.error_reason == "BackendNotFound":
                    ctx.report("BackendRefNotFound", route, ref.label, rule.index, b.error_message)
                elif isinstance(b.service, Service) and ref.port is not None:
                    ports = [p.port for p in b.service.ports if p.port is not None]
                    if ports and ref.port not in ports:
                        ctx.report("BackendRefNotFound", route, ref.label, rule.index,
                                   f"Service {b.service.namespace}/{b.service.name} has no port {ref.port} "
                                   f"(ports {', '.join(str(p) for p in ports)})")


def parent_analyzer(ctx: Context) -> None:
    """MT0104: parentRefs to Gateways that do not accept the route."""
    for route in _routes(ctx):
        for ref in route.parent_refs:
            if not ref.is_gateway:
                continue
            accepted = route_conditions(ctx.index, route, ref)[0]
            if accepted.status != "True":
                ctx.report("RouteNotAcceptedByParent", route, ref.label, accepted.reason, accepted.message)


def _covers(a: Candidate, b: Candidate) -> bool:
    """Whether every request ``b``'s match admits is admitted by ``a``'s."""
    if a.match is None:
        return True
    if b.match is None:
        return False
    if not _path_covers(a.path, b.path):
        return False
    if a.match.method and a.match.method != b.match.method:
        return False
    return _subset(a.match, b.match)


def _path_covers(a: PathMatch | None, b: PathMatch | None) -> bool:
    if a is None or (a.type == "PathPrefix" and a.value.rstrip("/") == ""):
        return True
    if b is None:
        return False
    if a == b:
        return True
    if a.type == "PathPrefix" and b.type in ("Exact", "PathPrefix"):
        prefix = a.value.rstrip("/")
        return b.value == prefix or b.value.startswith(prefix + "/")
    return False


def _subset(a: RouteMatch, b: RouteMatch) -> bool:
    b_headers = {(h.name.lower(), h.type, h.value) for h in b.headers}
    b_query = {(q.name, q.type, q.value) for q in b.query_params}
    return ({(h.name.lower(), h.type, h.value) for h in a.headers} <= b_headers
            and {(q.name, q.type, q.value) for q in a.query_params} <= b_query)


def _match_label(c: Candidate) -> str:
    return "(none)" if c.match_index is None else str(c.match_index)


def _check_shadowing(ctx: Context, routes: list[K8sRoute], where: str) -> None:
    tried: list[Candidate] = []
    for c in candidates(routes):
        earlier = next((a for a in tried if _covers(a, c)), None)
        if earlier is not None:
            ctx.report("RouteRuleShadowed", c.route, c.rule.index, _match_label(c), where,
                       f"{earlier.route.kind} {earlier.route.label}", earlier.rule.index,
                       path=f"spec.rules[{c.rule.index}]")
        tried.append(c)


def shadow_analyzer(ctx: Context) -> None:
    """MT0105: rule matches that an earlier, more general one always takes first."""
    for gw in ctx.objects(K8S_GATEWAY):
        if not isinstance(gw, K8sGateway):
            continue
        by_host: dict[tuple[int | None, str], list[K8sRoute]] = {}
        for a in attachments(ctx.index, gw):
            if a.route.kind in _HTTP_KINDS:
                for h in a.hostnames:
                    routes = by_host.setdefault((a.listener.port, h), [])
                    if a.route not in routes:
                        routes.append(a.route)
        for (port, host), routes in sorted(by_host.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1])):
            _check_shadowing(ctx, routes, f"Gateway {gw.label} port {port} host {host}")
    for svc in ctx.objects("Service"):
        routes = [r for r in ctx.index.routes_for_service(svc.namespace or "default", svc.name)
                  if r.kind in _HTTP_KINDS and (r.namespace or "default") == (svc.namespace or "default")]
        if routes:
            _check_shadowing(ctx, routes, f"Service {svc.namespace}/{svc.name}")
