"""Follow one request through the mesh configuration, as Envoy would route it.

``trace(index, request)`` resolves the host, picks the VirtualService(s) for that host at the
request's gateway (``meshtui.routing.select``), tries the http rules in order (match blocks
OR'ed, conditions AND'ed, ``meshtui.routing.match``), applies the taken rule's rewrite /
redirect / direct response, and resolves its destinations to Services, the DestinationRule that
applies, the subset and the pods behind it. When no VirtualService applies it says what happens
instead: the Service's default route (plain Kubernetes load balancing over every pod), a
passthrough, or a 502 under ``REGISTRY_ONLY``.
"""

from __future__ import annotations

from typing import Any

from meshtui.model import HTTPRoute, Service, VirtualService
from meshtui.routing.actions import direct_info, fault_info, redirect_info, retries_info, rewrite_info
from meshtui.routing.destinations import destination_traces, mirror_traces, service_destination, service_fqdn
from meshtui.routing.gateway_api_trace import trace_gateway_api
from meshtui.routing.match import BlockResult, evaluate_block
from meshtui.routing.ambient_path import ambient_notes
from meshtui.routing.request import MESH, RequestError, TraceRequest, split_host_port
from meshtui.routing.result import RuleTrace, TraceResult
from meshtui.routing.select import as_view, label, ns_of, select_virtual_services

DEFAULT_NAMESPACE = "default"


def _suffix(index: Any) -> str:
    return getattr(index, "domain_suffix", None) or "cluster.local"


def _services(index: Any, host: str) -> list[Service]:
    return [s for s in (as_view(x) for x in index.services_for_host(host)) if isinstance(s, Service)]


def resolve_gateway_name(index: Any, gateway: str | None) -> str:
    """``mesh``, ``ns/name``, or a bare Gateway name that exists in exactly one namespace."""
    if not gateway or gateway == MESH or "/" in gateway:
        return gateway or MESH
    gateways = [*(getattr(index, "gateways", []) or []), *(getattr(index, "k8s_gateways", []) or [])]
    found = sorted({label(g) for g in (as_view(x) for x in gateways) if g.name == gateway})
    if len(found) == 1:
        return found[0]
    if not found:
        raise RequestError(f"gateway {gateway!r} not found; give it as namespace/name")
    raise RequestError(f"gateway {gateway!r} is ambiguous ({', '.join(found)}); give it as namespace/name")


def resolve_mesh_host(index: Any, host: str, namespace: str) -> tuple[str, list[Service]]:
    """The FQDN a sidecar resolves a request Host to, and the Services behind it.

    Envoy's virtual host domains for a Service include ``name`` (callers in its namespace),
    ``name.ns``, ``name.ns.svc`` and the full name.
    """
    suffix = _suffix(index)
    if "." not in host and host != "*":
        candidates = [f"{host}.{namespace}.svc.{suffix}"]
    elif host.endswith(".svc"):
        candidates = [f"{host}.{suffix}", host]
    elif host.count(".") == 1:
        candidates = [f"{host}.svc.{suffix}", host]
    else:
        candidates = [host]
    for cand in candidates:
        services = _services(index, cand)
        if services:
            return cand, services
    return candidates[0], []


def _port_for(services: list[Service], requested: int | None) -> int | None:
    if requested is not None:
        return requested
    for svc in services:
        ports = [p.port for p in svc.ports if p.port is not None]
        if len(ports) == 1:
            return ports[0]
        if 80 in ports:
            return 80
        if ports:
            return ports[0]
    return None


def _gateway_port(index: Any, gateway: str) -> int | None:
    """The port of the gateway's first server: where a request without explicit port lands."""
    for g in (as_view(x) for x in getattr(index, "gateways", []) or []):
        if label(g) == gateway:
            return next((s.port.number for s in g.servers if s.port.number), None)
    return None


def _guess_service(index: Any, host: str, namespace: str) -> list[Service]:
    """For a Host that is no Service (``catalog.example.io``), the Service named like its first
    label in the caller's namespace, the address such a client usually dials."""
    first = host.split(".", 1)[0]
    return _services(index, f"{first}.{namespace}.svc.{_suffix(index)}")


def is_catch_all_block(match: Any) -> bool:
    """A block Envoy treats as catch-all (Istio's ``getEnvoyRouteTypeAndVal``): path prefix ``/``
    (or no URI) and no header, method, authority, scheme or query-parameter condition."""
    uri = match.uri
    if uri is not None and not (uri.kind == "prefix" and uri.value == "/") and uri.kind != "present":
        return False
    return not (match.headers or match.without_headers or match.query_params or match.method
                or match.authority or match.scheme)


def _try_rules(vs: VirtualService, rules: list[HTTPRoute], request: TraceRequest, gateway: str, port: int | None,
               out: TraceResult, phase: str = "all") -> tuple[HTTPRoute, BlockResult | None] | None:
    """Try ``rules`` in order. ``phase`` 'specific' / 'catchall' splits the pass in two, as a
    gateway does when it merges several VirtualServices (catch-all routes go last)."""
    name = f"{ns_of(vs)}/{vs.name}"
    for rule in rules:
        if not rule.match:
            if phase == "specific":
                continue
            out.rules.append(RuleTrace(name, rule.index, rule.name, True, [BlockResult(None, None, True)]))
            return rule, None
        blocks = [
            evaluate_block(m, request, index=i, vs_namespace=ns_of(vs), gateway=gateway, port=port)
            for i, m in enumerate(rule.match)
            if phase == "all" or (phase == "catchall") == is_catch_all_block(m)
        ]
        if not blocks:
            continue
        hit = next((b for b in blocks if b.matched), None)
        out.rules.append(RuleTrace(name, rule.index, rule.name, hit is not None, blocks))
        if hit is not None:
            return rule, hit
    return None


def _delegate(index: Any, vs: VirtualService, rule: HTTPRoute) -> VirtualService | None:
    d = rule.delegate
    assert d is not None
    ns = d.namespace or ns_of(vs)
    for item in getattr(index, "virtual_services", []) or []:
        cand = as_view(item)
        if isinstance(cand, VirtualService) and cand.name == d.name and ns_of(cand) == ns:
            return cand
    return None


def trace(index: Any, request: TraceRequest) -> TraceResult:
    """Trace ``request`` through the mesh held by ``index`` (a ``MeshIndex``)."""
    result = _trace(index, request)
    if result.gateway == MESH:
        # In ambient mode the hops differ: ztunnel, and a waypoint if the Service has one.
        result.notes.extend(ambient_notes(index, result))
    return result


def _trace(index: Any, request: TraceRequest) -> TraceResult:
    gateway = resolve_gateway_name(index, request.gateway)
    src_ns = request.source_namespace
    notes: list[str] = []
    if gateway == MESH:
        if src_ns is None:
            src_ns = DEFAULT_NAMESPACE
            notes.append(f"caller namespace not given: assuming {DEFAULT_NAMESPACE}")
        host, services = resolve_mesh_host(index, request.host, src_ns)
        from_ns: str | None = src_ns
    else:
        host, services = request.host, []
        from_ns = gateway.partition("/")[0]
    port = _port_for(services, request.port)
    if port is None and gateway != MESH:
        port = _gateway_port(index, gateway)
    sel = select_virtual_services(index, host, gateway, from_ns, port, _suffix(index))
    routed = trace_gateway_api(index, request, gateway, host, services, port, src_ns if gateway == MESH else None)
    if routed is not None:
        routed.notes[:0] = [*notes, *(sel.notes if sel.virtual_services else [])]
        if sel.virtual_services:
            routed.notes.append(
                "VirtualService " + ", ".join(label(v) for v in sel.virtual_services) + " also applies to this host: "
                "Istio calls mixing VirtualService and HTTPRoute unsupported (undefined behaviour); traced the HTTPRoute"
            )
        return routed
    result = TraceResult(request=request, gateway=gateway, host=host, port=port, outcome="no_route", notes=notes)
    result.notes.extend(sel.notes)
    if services:
        result.service = label(services[0])
    if not sel.virtual_services:
        _no_virtual_service(index, request, result, services, src_ns)
        return result
    result.notes.append(
        "VirtualService for host "
        + (f"{sel.pattern}: " if sel.pattern != host else f"{host}: ")
        + ", ".join(label(v) for v in sel.virtual_services)
    )
    # A VirtualService applies even when none of its rules match (404 NR): name it.
    result.virtual_service = label(sel.virtual_services[0])
    passes = ["all"] if len(sel.virtual_services) == 1 else ["specific", "catchall"]
    if len(passes) == 2:
        result.notes.append("routes of these VirtualServices are merged; catch-all routes go last")
    for vs, phase in ((v, p) for p in passes for v in sel.virtual_services):
        taken = _try_rules(vs, vs.http, request, gateway, port, result, phase)
        if taken is None:
            continue
        rule, block = taken
        result.virtual_service = label(vs)
        result.rule_index, result.rule_name = rule.index, rule.name
        result.match_index = block.index if block is not None else None
        if rule.delegate is not None:
            child = _delegate(index, vs, rule)
            result.rules[-1].delegate = label(child) if child else None
            if child is None:
                result.notes.append(f"delegate {rule.delegate.name} not found: no route")
                result.outcome = "no_route"
                return result
            inner = _try_rules(child, child.http, request, gateway, port, result)
            if inner is None:
                result.outcome = "no_route"
                return result
            rule, block = inner
            vs = child
            result.match_index = block.index if block is not None else None
        _apply_rule(index, vs, rule, block, request, result, from_ns, port)
        return result
    result.outcome = "no_route"
    return result


def _apply_rule(index: Any, vs: VirtualService, rule: HTTPRoute, block: BlockResult | None, request: TraceRequest,
                result: TraceResult, from_ns: str | None, port: int | None) -> None:
    uri = rule.match[block.index].uri if block is not None and block.index is not None else None
    result.fault = fault_info(rule)
    if rule.redirect is not None:
        result.outcome = "redirect"
        result.redirect = redirect_info(rule, request)
        return
    if rule.direct_response is not None:
        result.outcome = "direct"
        result.direct_response = direct_info(rule)
        return
    result.outcome = "route"
    result.rewrite = rewrite_info(rule, uri, request)
    result.timeout = rule.timeout
    result.retries = retries_info(rule)
    result.destinations = destination_traces(index, vs, rule, from_ns, port)
    result.mirrors = mirror_traces(index, vs, rule, from_ns, port)


def _no_virtual_service(index: Any, request: TraceRequest, result: TraceResult, services: list[Service],
                        src_ns: str | None) -> None:
    result.notes.append(f"no VirtualService applies to host {result.host} at {result.gateway}")
    if result.gateway != MESH:
        result.outcome = "no_vhost"
        return
    if services:
        result.outcome = "default"
        result.destinations = [service_destination(index, s, result.port, src_ns) for s in services[:1]]
        return
    mesh_config = getattr(index, "mesh_config", None)
    policy = getattr(mesh_config, "outbound_traffic_policy", "ALLOW_ANY") or "ALLOW_ANY"
    named = None
    if request.service:
        named = resolve_mesh_host(index, split_host_port(request.service)[0], src_ns or DEFAULT_NAMESPACE)[1]
        if not named:
            result.notes.append(f"service {request.service} not found")
    else:
        named = _guess_service(index, request.host, src_ns or DEFAULT_NAMESPACE)
        if named:
            result.notes.append(
                f"host {request.host} is no Service; assuming the client dials {service_fqdn(index, named[0])} "
                "(give --service to say which)"
            )
    result.notes.append(f"host {request.host} is not in the service registry (outboundTrafficPolicy {policy})")
    if policy == "REGISTRY_ONLY":
        result.outcome = "blackhole"
        return
    result.outcome = "passthrough"
    if named:
        svc = named[0]
        result.service = label(svc)
        result.port = _port_for([svc], request.port)
        dest = service_destination(index, svc, result.port, src_ns)
        if dest.destination_rule:
            # PassthroughCluster forwards to the dialled address: no DestinationRule applies.
            dest.notes.append(f"DestinationRule {dest.destination_rule} does not apply to passthrough traffic")
            dest.destination_rule, dest.traffic_policy = None, None
        result.destinations = [dest]
