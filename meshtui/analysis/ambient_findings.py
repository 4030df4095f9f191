"""meshtui's own findings on ambient mode (codes MT0201..): L7 config nothing enforces, and waypoint
bindings istiod refuses. Istio has no waypoint analyzer; istiod reports binding problems only in
the ``istio.io/WaypointBound`` status condition, which manifests on disk never have.

| code   | name                                | level   | meaning |
|--------|-------------------------------------|---------|---------|
| MT0201 | L7ConfigWithoutWaypoint             | Warning | an HTTPRoute/GRPCRoute (parentRef the Service) or a mesh VirtualService applies to a Service whose pods are in ambient mode and that has no waypoint: ztunnel only does L4, the rules are silently ignored |
| MT0202 | VirtualServiceOnWaypointWithHTTPRoutes | Warning | a mesh VirtualService applies to a Service served by a waypoint that also serves HTTPRoutes: Istio does not support mixing the two APIs on a waypoint (behaviour undefined) |
| MT0203 | UseWaypointNotFound                 | Error   | an ``istio.io/use-waypoint`` label names a Gateway that does not exist: istiod reports WaypointIsNotReady and the traffic gets no waypoint |
| MT0204 | WaypointBindingRefused              | Error   | istiod refuses the waypoint a label names: it does not take that kind of traffic (``istio.io/waypoint-for``), its listener's allowedRoutes do not admit the namespace, or it is in another namespace than a ServiceEntry of NAMESPACE visibility (mesh config ``serviceEntryVisibility``; also when the label is the namespace's) (the reason and message are istiod's) |
| MT0205 | WaypointCanaryUnusable              | Warning | a weighted waypoint canary (``istio.io/use-waypoint-canary``, Istio 1.31) is unusable: invalid weight, same as the primary, missing, not ready or refused; all traffic stays on the primary. Also a canary weight annotation with no canary label |
| MT0206 | SourceLabelsIgnoredByWaypoint       | Warning | a mesh VirtualService rule matches on ``sourceLabels`` for a Service served by a waypoint, which cannot see the client's labels: the match never applies there |
"""

from __future__ import annotations

from meshtui.analysis.context import Context
from meshtui.analysis.messages import MessageType
from meshtui.model.ambient import (
    AMBIENT,
    USE_WAYPOINT,
    USE_WAYPOINT_CANARY,
    USE_WAYPOINT_CANARY_WEIGHT,
    USE_WAYPOINT_NAMESPACE,
    namespace_is_ambient,
    pod_dataplane_mode,
)
from meshtui.model.base import Resource
from meshtui.model.gateway_api import K8sRoute
from meshtui.model.kube import Service
from meshtui.model.virtualservice import VirtualService
from meshtui.routing.waypoint_binding import (
    CROSS_NAMESPACE_FORBIDDEN, WaypointBinding, find_waypoint, service_binding, workload_binding,
)

AMBIENT_MESSAGES = (
    MessageType("L7ConfigWithoutWaypoint", "MT0201", "Warning",
                "L7 routing applies to an ambient service that has no waypoint.",
                "%s applies to service %s, whose pods are in ambient mode with no waypoint: ztunnel only "
                "handles L4, so these L7 rules are ignored (add istio.io/use-waypoint)."),
    MessageType("VirtualServiceOnWaypointWithHTTPRoutes", "MT0202", "Warning",
                "A VirtualService and HTTPRoutes on one waypoint.",
                "service %s is served by waypoint %s, which also serves %s: mixing VirtualService and "
                "HTTPRoute on a waypoint is not supported and the outcome is undefined."),
    MessageType("UseWaypointNotFound", "MT0203", "Error",
                "istio.io/use-waypoint names a waypoint that does not exist.",
                "istio.io/use-waypoint names waypoint %q, which does not exist: %s gets no waypoint."),
    MessageType("WaypointBindingRefused", "MT0204", "Error",
                "istiod refuses the waypoint a label names.",
                "%s: %s."),
    MessageType("WaypointCanaryUnusable", "MT0205", "Warning",
                "A weighted waypoint canary is unusable.",
                "%s: all traffic stays on waypoint %s."),
    MessageType("SourceLabelsIgnoredByWaypoint", "MT0206", "Warning",
                "A sourceLabels match on a service served by a waypoint.",
                "rule %s matches sourceLabels for service %s, which waypoint %s serves: a waypoint does not "
                "know the client's labels, so this match does not apply there."),
)

_L7_ROUTES = ("HTTPRoute", "GRPCRoute")


def _services(ctx: Context) -> list[Service]:
    return [s for s in ctx.objects("Service") if isinstance(s, Service)]


def _is_ambient_service(ctx: Context, svc: Service) -> bool:
    """Whether ztunnel captures the Service's pods: all its pods are ambient, or (no pods known)
    its namespace is an ambient namespace."""
    ns_labels = ctx.index.namespace_labels(svc.namespace)
    pods = ctx.index.pods_for_service(svc) if svc.selector else []
    if pods:
        return all(pod_dataplane_mode(p, ns_labels) == AMBIENT for p in pods)
    return namespace_is_ambient(ns_labels)


def _binding(ctx: Context, svc: Resource) -> WaypointBinding:
    memo: dict[tuple[str, str, str], WaypointBinding] = ctx.cached("waypoint-binding", dict)
    key = (svc.kind, svc.namespace, svc.name)
    if key not in memo:
        memo[key] = service_binding(ctx.index, svc)
    return memo[key]


def _mesh_virtual_services(ctx: Context, svc: Service) -> list[VirtualService]:
    """The VirtualServices bound to the mesh that route the Service's host."""
    return ctx.index.virtual_services_for_host(svc.fqdn(ctx.index.domain_suffix), from_namespace=svc.namespace)


def _l7_routes(ctx: Context, svc: Service) -> list[K8sRoute]:
    return [r for r in ctx.index.routes_for_service(svc.namespace, svc.name) if r.kind in _L7_ROUTES]


def l7_without_waypoint_analyzer(ctx: Context) -> None:
    """MT0201: HTTPRoutes and VirtualServices on ambient services without a waypoint."""
    for svc in _services(ctx):
        if _binding(ctx, svc).waypoint is not None or not _is_ambient_service(ctx, svc):
            continue
        for route in _l7_routes(ctx, svc):
            ctx.report("L7ConfigWithoutWaypoint", route, f"{route.kind} {route.namespace}/{route.name}", svc.name)
        for vs in _mesh_virtual_services(ctx, svc):
            ctx.report("L7ConfigWithoutWaypoint", vs, f"VirtualService {vs.namespace}/{vs.name}", svc.name)


def waypoint_mixing_analyzer(ctx: Context) -> None:
    """MT0202 and MT0206: VirtualServices on services a waypoint serves."""
    services = _services(ctx)
    routes_by_waypoint: dict[str, list[str]] = {}
    for svc in services:
        waypoint = _binding(ctx, svc).waypoint
        if waypoint is not None:
            routes = _l7_routes(ctx, svc)
            routes_by_waypoint.setdefault(waypoint.resource_name, []).extend(
                f"{r.kind} {r.namespace}/{r.name}" for r in routes)
    for svc in services:
        waypoint = _binding(ctx, svc).waypoint
        if waypoint is None:
            continue
        for vs in _mesh_virtual_services(ctx, svc):
            others = sorted(set(routes_by_waypoint.get(waypoint.resource_name, [])))
            if others:
                ctx.report("VirtualServiceOnWaypointWithHTTPRoutes", vs, svc.name, waypoint.resource_name,
                           ", ".join(others))
            for i, rule in enumerate(vs.http):
                if any(m.source_labels for m in rule.match):
                    ctx.report("SourceLabelsIgnoredByWaypoint", vs, rule.name or f"http[{i}]", svc.name,
                               waypoint.resource_name)


def _labelled(ctx: Context) -> list[Resource]:
    """Objects that may carry waypoint labels: Namespaces, Services, ServiceEntries, Pods."""
    out: list[Resource] = []
    for kind in ("Namespace", "Service", "ServiceEntry", "Pod"):
        out.extend(o for o in ctx.objects(kind) if USE_WAYPOINT in o.labels or USE_WAYPOINT_CANARY in o.labels
                   or USE_WAYPOINT_CANARY_WEIGHT in o.annotations)
    return out


def _describe(obj: Resource) -> str:
    return f"{obj.kind.lower()} {obj.name}" if obj.kind == "Namespace" else f"{obj.kind} {obj.namespace}/{obj.name}"


def use_waypoint_analyzer(ctx: Context) -> None:
    """MT0203, MT0204, MT0205: waypoint labels istiod cannot honour."""
    for obj in _labelled(ctx):
        if obj.kind == "Namespace":
            _check_namespace(ctx, obj)
            continue
        binding = _binding(ctx, obj) if obj.kind != "Pod" else workload_binding(ctx.index, obj)
        own = obj.labels.get(USE_WAYPOINT)
        if own is not None and own != "none" and binding.ref is not None and binding.ref.source == obj.kind:
            _check_primary(ctx, obj, binding)
        if obj.kind != "Pod":
            _check_canary(ctx, obj, binding)
    for entry in ctx.objects("ServiceEntry"):
        if USE_WAYPOINT not in entry.labels:
            # A namespace's waypoint elsewhere is refused for each of its NAMESPACE-visibility entries.
            binding = _binding(ctx, entry)
            if binding.error is not None and binding.error.reason == CROSS_NAMESPACE_FORBIDDEN:
                ctx.report("WaypointBindingRefused", entry, binding.error.reason, binding.error.message)


def _check_primary(ctx: Context, obj: Resource, binding: WaypointBinding) -> None:
    ref = binding.ref
    if ref is None or binding.error is None:
        return
    if find_waypoint(ctx.index, ref.namespace, ref.name) is None:
        ctx.report("UseWaypointNotFound", obj, ref.resource_name, _describe(obj))
    elif binding.error.reason != "WaypointIsNotReady":
        ctx.report("WaypointBindingRefused", obj, binding.error.reason, binding.error.message)


def _check_canary(ctx: Context, obj: Resource, binding: WaypointBinding) -> None:
    if binding.waypoint is None:
        return
    canary = binding.canary
    if canary is None:
        if USE_WAYPOINT_CANARY_WEIGHT in obj.annotations and USE_WAYPOINT_CANARY not in obj.labels:
            ctx.report("WaypointCanaryUnusable", obj,
                       f"annotation {USE_WAYPOINT_CANARY_WEIGHT} is set but no {USE_WAYPOINT_CANARY} label names a canary",
                       binding.waypoint.resource_name)
        return
    if canary.error is not None and canary.ref.source == obj.kind:
        ctx.report("WaypointCanaryUnusable", obj, f"{canary.error.reason}: {canary.error.message}",
                   binding.waypoint.resource_name)


def _check_namespace(ctx: Context, ns: Resource) -> None:
    """A namespace's use-waypoint naming a missing Gateway (its services and pods report nothing)."""
    name = ns.labels.get(USE_WAYPOINT)
    if not name or name == "none":
        return
    target_ns = ns.labels.get(USE_WAYPOINT_NAMESPACE, ns.name)
    if find_waypoint(ctx.index, target_ns, name) is None:
        ctx.report("UseWaypointNotFound", ns, f"{target_ns}/{name}", _describe(ns))
