"""The hops of a mesh request to an ambient service, as notes for the tracer.

In ambient mode the client's ztunnel sends the connection to the destination's waypoint when
the Service has one (which then applies the HTTPRoute or VirtualService traced), else straight
to the ztunnel of the destination pod, which only does L4: the L7 rules traced are then applied
by nothing. Which waypoint applies comes from :mod:`meshtui.routing.waypoint_binding`.
"""

from __future__ import annotations

from meshtui.model.ambient import AMBIENT, namespace_is_ambient, pod_dataplane_mode
from meshtui.model.index import MeshIndex
from meshtui.model.kube import Service
from meshtui.routing.result import TraceResult
from meshtui.routing.waypoint_binding import service_binding


def _is_ambient(index: MeshIndex, svc: Service) -> bool:
    ns_labels = index.namespace_labels(svc.namespace)
    pods = index.pods_for_service(svc) if svc.selector else []
    if pods:
        return all(pod_dataplane_mode(p, ns_labels) == AMBIENT for p in pods)
    return namespace_is_ambient(ns_labels)


def served_by_waypoint(index: MeshIndex, svc: Service) -> bool:
    """Whether the ambient service's requests go through a waypoint: its L7 metrics and access lines
    then come from the waypoint alone (reporter ``waypoint``), as no sidecar sees them."""
    return _is_ambient(index, svc) and service_binding(index, svc).waypoint is not None


def ambient_notes(index: MeshIndex, result: TraceResult) -> list[str]:
    """What the ambient data plane does with the traced mesh request (empty for a sidecar service)."""
    if not result.service or "/" not in result.service:
        return []
    namespace, name = result.service.split("/", 1)
    svc = index.get("Service", namespace, name)
    if not isinstance(svc, Service) or not _is_ambient(index, svc):
        return []
    if result.route_kind is not None:
        l7 = f"{result.route_kind} {result.route_name}"
    elif result.virtual_service is not None:
        l7 = f"VirtualService {result.virtual_service}"
    else:
        l7 = ""
    binding = service_binding(index, svc)
    if binding.waypoint is None:
        why = f" ({binding.error.message})" if binding.error is not None else ""
        if not l7:
            return [f"ambient: client ztunnel → ztunnel of the destination pod (L4 only, no waypoint{why})"]
        return [f"ambient service {result.service} has no waypoint{why}: ztunnel forwards at L4 only, so "
                f"{l7} is not applied by anything; the rules traced are what a waypoint would do"]
    hop = (f"ambient: client ztunnel → waypoint {binding.waypoint.resource_name} (HBONE 15008), which applies "
           f"{l7 or 'the default route'} → ztunnel of the destination pod")
    weights = binding.weights
    if len(weights) == 2:
        hop += (f"; {weights[1][1]}% of new connections go through canary waypoint "
                f"{weights[1][0].resource_name} instead")
    return [hop]
