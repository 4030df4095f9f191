"""The browser's one line on how a service's traffic is handled: by sidecars, by ztunnel alone
(ambient, L4), or by ztunnel and a waypoint (ambient, L7), and whether that waypoint is ready.

Plain text from the mesh index (:mod:`meshtui.model.ambient`,
:mod:`meshtui.routing.waypoint_binding`); the mesh screen shows it under the service's name.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from meshtui.envoy.gen_targets import ROUTER, proxy_kind
from meshtui.model.ambient import (
    AMBIENT,
    GATEWAY_MANAGED_LABEL,
    GATEWAY_NAME_LABEL,
    MESH_CONTROLLER,
    NO_MESH,
    SIDECAR,
    Waypoint,
    namespace_is_ambient,
    pod_dataplane_mode,
)
from meshtui.model.base import Resource
from meshtui.model.index import MeshIndex
from meshtui.model.istio import ServiceEntry
from meshtui.model.kube import Namespace, Pod, Service
from meshtui.routing.waypoint_binding import WaypointBinding, service_binding


def _waypoint_state(index: MeshIndex, waypoint: Waypoint) -> str:
    """``ready 1/1`` (its pods), or why istiod does not use it yet."""
    if not waypoint.ready:
        return "not ready: no address in its Gateway status"
    pods = index.pods_matching(waypoint.namespace, {GATEWAY_NAME_LABEL: waypoint.name})
    ready = sum(1 for p in pods if p.ready)
    if pods and ready == 0:
        return f"not ready 0/{len(pods)}"
    return f"ready {ready}/{len(pods)}" if pods else "ready"


def _ambient_text(index: MeshIndex, binding: WaypointBinding) -> str:
    if binding.waypoint is None:
        why = f" ({binding.error.message})" if binding.error is not None else ""
        opted = " (istio.io/use-waypoint: none)" if binding.opted_out else ""
        return f"ambient, L4 only (ztunnel), no waypoint{why}{opted}"
    parts = [f"ambient via waypoint {binding.waypoint.resource_name} ({_waypoint_state(index, binding.waypoint)})"]
    canary = binding.canary
    if canary is not None:
        if canary.error is None and canary.waypoint is not None:
            parts.append(f"canary {canary.waypoint.resource_name} {canary.weight}% of new connections "
                         f"({_waypoint_state(index, canary.waypoint)})")
        elif canary.error is not None:
            parts.append(f"canary {canary.ref.resource_name} unused: {canary.error.reason}")
    return ", ".join(parts)


def _is_gateway(index: MeshIndex, pod: Pod) -> bool:
    containers = (pod.raw.get("spec") or {}).get("containers") or []
    return proxy_kind(index, pod.namespace, dict(pod.labels), containers) == ROUTER


def _service_entry_text(index: MeshIndex, entry: ServiceEntry) -> str:
    """A ServiceEntry's waypoint, or why it has none; empty when no waypoint label applies and its
    namespace is not ambient (sidecars then route it by their own config)."""
    binding = service_binding(index, entry)
    if binding.ref is None and not binding.opted_out and not namespace_is_ambient(index.namespace_labels(entry.namespace)):
        return ""
    return _ambient_text(index, binding)


def gateway_proxy_gateways(index: MeshIndex, service: Resource) -> list[str] | None:
    """The Gateways whose servers route what a gateway's own Service receives ("ns/name", a
    Gateway API one marked so), or None when ``service`` is not a gateway's: a gateway proxy
    routes by its Gateways' servers and the routes bound to them, never by routes for its own
    host, so "no VirtualService: round-robin" would mislead there."""
    if not isinstance(service, Service) or not service.selector:
        return None
    # Pods from a cluster; the Deployments' pod templates for manifests on disk.
    workloads: list[tuple[dict[str, str], list[Any]]] = [
        (dict(p.labels), (p.raw.get("spec") or {}).get("containers") or []) for p in index.pods_for_service(service)]
    if not index.count("Pod"):
        for dep in index.deployments_for_service(service):
            template = dep.spec.get("template") or {}
            workloads.append(((template.get("metadata") or {}).get("labels") or {},
                              (template.get("spec") or {}).get("containers") or []))
    if not workloads or not all(proxy_kind(index, service.namespace, labels, containers) == ROUTER
                                for labels, containers in workloads):
        return None
    names = sorted({f"{gw.namespace}/{gw.name}" for gw in index.gateways
                    if any(all(labels.get(k) == v for k, v in gw.selector.items()) for labels, _ in workloads)})
    gateway_name = service.labels.get(GATEWAY_NAME_LABEL)
    if gateway_name:
        names.append(f"{service.namespace}/{gateway_name} (Gateway API)")
    return names


def dataplane_line(index: MeshIndex, service: Resource) -> str:
    """How traffic to ``service`` is handled, in one line (empty for a kind it does not apply to)."""
    if isinstance(service, ServiceEntry):
        return _service_entry_text(index, service)
    if not isinstance(service, Service):
        return ""
    if service.labels.get(GATEWAY_MANAGED_LABEL) == MESH_CONTROLLER:
        return f"the waypoint proxy's own Service ({service.labels.get(GATEWAY_NAME_LABEL, service.name)})"
    ns_labels = index.namespace_labels(service.namespace)
    pods = index.pods_for_service(service) if service.selector else []
    modes = Counter(pod_dataplane_mode(p, ns_labels) for p in pods)
    if not pods:
        ns = index.get("Namespace", "", service.namespace)
        if namespace_is_ambient(ns_labels):
            modes[AMBIENT] = 0
        elif isinstance(ns, Namespace) and ns.injection_enabled:
            modes[SIDECAR] = 0
        else:
            return "no pods"
    if len(modes) > 1:
        mix = ", ".join(f"{n} {mode}" for mode, n in sorted(modes.items()))
        return f"mixed data planes: {mix}"
    mode = next(iter(modes))
    if mode == SIDECAR and pods and all(_is_gateway(index, p) for p in pods):
        # A gateway's Envoy is the pod itself, not a sidecar: istiod gives it only the
        # listeners of its Gateway (``proxy-config listeners`` on the pod shows them).
        return f"gateway proxy (Envoy router in {len(pods)} pod{'s' if len(pods) != 1 else ''})"
    if mode == SIDECAR:
        return "sidecar (Envoy in every pod)"
    if mode == NO_MESH:
        return "not in the mesh (no sidecar, not captured by ztunnel)"
    return _ambient_text(index, service_binding(index, service))
