"""Which waypoint handles a service's or a workload's traffic, with istiod's precedence and errors.

A restatement of ``fetchWaypointForTarget``, ``fetchWaypointForService``,
``fetchWaypointForWorkload`` and ``buildWeightedWaypoints`` of istio/istio
``pilot/pkg/serviceregistry/ambient/waypoints.go``:

* the object's own ``istio.io/use-waypoint`` wins (``none`` opts out, even of the namespace's);
  otherwise its namespace's label applies; ``istio.io/use-waypoint-namespace`` next to the label
  names the waypoint's namespace (default: the object's);
* istiod only knows a waypoint once its Gateway has a status address (``WaypointIsNotReady``
  otherwise, also when the Gateway does not exist), and binding needs the HBONE listener's
  ``allowedRoutes`` to admit the object's namespace (``AttachmentDenied``);
* a Service binds only to a waypoint for ``service`` or ``all`` traffic, a workload to one for
  ``workload`` or ``all`` (``UnsupportedTrafficType``; silent for a pod that inherits a
  service-only waypoint from its namespace); a waypoint's own pods and Service, and east-west
  gateways, never get a waypoint;
* a service may also name a canary waypoint (Istio 1.31: ``istio.io/use-waypoint-canary``,
  ``-canary-namespace``, annotation ``istio.io/use-waypoint-canary-weight``), read from the level
  that names the primary; new connections then go ``100-w`` to the primary, ``w`` to the canary.
  An unusable canary is reported and traffic stays on the primary;
* a ServiceEntry whose mesh-config ``serviceEntryVisibility`` resolves to ``NAMESPACE`` (by its
  namespace's labels) may not bind to a waypoint in another namespace
  (``CrossNamespaceWaypointForbidden``), as that would expose it to the waypoint's namespace.

The reasons and messages are those istiod writes in the ``istio.io/WaypointBound`` condition.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshtui.model.ambient import (
    EAST_WEST_CONTROLLER,
    GATEWAY_MANAGED_LABEL,
    GATEWAY_NAME_LABEL,
    MESH_CONTROLLER,
    USE_WAYPOINT,
    USE_WAYPOINT_CANARY,
    USE_WAYPOINT_CANARY_NAMESPACE,
    Waypoint,
    WaypointRef,
    canary_weight,
    use_waypoint,
)
from meshtui.model.base import Resource
from meshtui.model.gateway_api import K8sGateway
from meshtui.model.index import K8S_GATEWAY, MeshIndex
from meshtui.model.serviceentry_visibility import NAMESPACE
from meshtui.routing.gateway_api_binding import selector_matches
from meshtui.routing.serviceentry_visibility import visibility_for


@dataclass(frozen=True, slots=True)
class BindingError:
    """Why a waypoint is not used: the reason and message of istiod's WaypointBound condition."""

    reason: str
    message: str


def _not_ready(name: str) -> BindingError:
    return BindingError("WaypointIsNotReady", f'waypoint "{name}" is not ready')


def _denied(name: str) -> BindingError:
    return BindingError("AttachmentDenied", f'we are not permitted to attach to waypoint "{name}" (missing allowedRoutes?)')


def _unsupported(name: str, kind: str) -> BindingError:
    return BindingError("UnsupportedTrafficType",
                        f'attempting to bind to traffic type "{kind}" which the waypoint "{name}" does not support')


#: istiod's reason for a NAMESPACE-visibility ServiceEntry labelled with a waypoint elsewhere.
CROSS_NAMESPACE_FORBIDDEN = "CrossNamespaceWaypointForbidden"


def _cross_namespace_forbidden(name: str) -> BindingError:
    return BindingError(CROSS_NAMESPACE_FORBIDDEN,
                        f'cannot bind to waypoint "{name}" in another namespace: cross-namespace waypoint binding is '
                        "not permitted for a ServiceEntry with NAMESPACE visibility")


@dataclass(frozen=True, slots=True)
class CanaryBinding:
    """A declared canary waypoint: what the labels name, its weight, and why it is unusable if it is."""

    ref: WaypointRef
    weight: int
    waypoint: Waypoint | None
    error: BindingError | None


@dataclass(frozen=True, slots=True)
class WaypointBinding:
    """The effective waypoint of a service or workload, and how it came to be (or not to be)."""

    waypoint: Waypoint | None  # the waypoint istiod programs for it; None: ztunnel only (L4)
    ref: WaypointRef | None  # the use-waypoint label that applies (the object's, else its namespace's)
    opted_out: bool  # the object says istio.io/use-waypoint: none
    error: BindingError | None
    canary: CanaryBinding | None = None

    @property
    def weights(self) -> list[tuple[Waypoint, int]]:
        """Where new connections go: the primary alone, or primary ``100-w`` and canary ``w``."""
        if self.waypoint is None:
            return []
        if self.canary is not None and self.canary.waypoint is not None and self.canary.error is None:
            return [(self.waypoint, 100 - self.canary.weight), (self.canary.waypoint, self.canary.weight)]
        return [(self.waypoint, 100)]


NO_WAYPOINT = WaypointBinding(None, None, False, None)


def find_waypoint(index: MeshIndex, namespace: str, name: str) -> Waypoint | None:
    """The Gateway ``namespace/name`` seen as a waypoint (ready or not), or None when it does not exist."""
    gateway = index.get(K8S_GATEWAY, namespace, name)
    if not isinstance(gateway, K8sGateway):
        return None
    gateway_class = index.get("GatewayClass", "", gateway.gateway_class_name)
    return Waypoint.from_gateway(gateway, gateway_class.labels if gateway_class is not None else None)


def waypoints(index: MeshIndex) -> list[Waypoint]:
    """Every Gateway of class ``istio-waypoint``, by namespace and name."""
    found = [find_waypoint(index, g.namespace, g.name) for g in index.k8s_gateways]
    return sorted((w for w in found if w is not None and w.is_istio_waypoint), key=lambda w: (w.namespace, w.name))


def _allows(index: MeshIndex, waypoint: Waypoint, namespace: str) -> bool:
    """Whether the waypoint's HBONE listener admits objects of ``namespace``."""
    allowed = waypoint.allowed_routes
    if allowed.namespaces_from == "All":
        return True
    if allowed.namespaces_from == "Selector":
        # A listener without a selector matches nothing (LabelSelectorAsSelector(nil)).
        return allowed.selector is not None and selector_matches(allowed.selector, index.namespace_labels(namespace))
    return waypoint.namespace == namespace  # Same, and anything else istiod treats as Same


def _resolve(index: MeshIndex, ref: WaypointRef, namespace: str) -> tuple[Waypoint | None, BindingError | None]:
    waypoint = find_waypoint(index, ref.namespace, ref.name)
    if waypoint is None or not waypoint.ready:
        return None, _not_ready(ref.resource_name)
    if not _allows(index, waypoint, namespace):
        return None, _denied(waypoint.resource_name)
    return waypoint, None


def _namespace_labels(index: MeshIndex, namespace: str) -> dict[str, str] | None:
    """The Namespace object's labels, or None when the index has no such Namespace."""
    ns = index.get("Namespace", "", namespace)
    return dict(ns.labels) if ns is not None else None


def _target(index: MeshIndex, obj: Resource) -> WaypointBinding:
    """``fetchWaypointForTarget``: the object's own label first, else its namespace's."""
    ref, opted_out = use_waypoint(obj.labels, obj.namespace, obj.kind)
    if opted_out:
        return WaypointBinding(None, None, True, None)
    if ref is None:
        ns_labels = _namespace_labels(index, obj.namespace)
        if ns_labels is None:
            return NO_WAYPOINT
        ref, _ = use_waypoint(ns_labels, obj.namespace, "Namespace")
        if ref is None:
            return NO_WAYPOINT
    waypoint, error = _resolve(index, ref, obj.namespace)
    return WaypointBinding(waypoint, ref, False, error)


def service_binding(index: MeshIndex, obj: Resource) -> WaypointBinding:
    """The waypoint of a Service or ServiceEntry (with its canary, if one is declared)."""
    if obj.labels.get(GATEWAY_MANAGED_LABEL) in (MESH_CONTROLLER, EAST_WEST_CONTROLLER):
        return NO_WAYPOINT  # a waypoint's own Service, or an east-west gateway
    binding = _target(index, obj)
    if binding.waypoint is None:
        return binding
    if not binding.waypoint.serves("service"):
        return WaypointBinding(None, binding.ref, False, _unsupported(binding.waypoint.resource_name, "service"))
    if _namespace_only(index, obj, binding.waypoint):
        return WaypointBinding(None, binding.ref, False, _cross_namespace_forbidden(binding.waypoint.resource_name))
    canary = _canary(index, obj, binding.waypoint)
    return WaypointBinding(binding.waypoint, binding.ref, False, None, canary)


def _namespace_only(index: MeshIndex, obj: Resource, waypoint: Waypoint) -> bool:
    """A ServiceEntry of NAMESPACE visibility and a waypoint elsewhere (Kubernetes Services are not governed)."""
    if obj.kind != "ServiceEntry" or waypoint.namespace == obj.namespace:
        return False
    visibility = visibility_for(index.mesh_config.service_entry_visibility, _namespace_labels(index, obj.namespace))
    return visibility == NAMESPACE


def binding_refusal(index: MeshIndex, obj: Resource, waypoint: Waypoint) -> BindingError | None:
    """Why istiod would refuse ``waypoint`` for ``obj`` (a Service, ServiceEntry or Namespace) if a
    ``use-waypoint`` label named it, readiness aside; None when it would bind."""
    namespace = obj.name if obj.kind == "Namespace" else obj.namespace
    if not _allows(index, waypoint, namespace):
        return _denied(waypoint.resource_name)
    if obj.kind == "Namespace":
        # A namespace's label serves its services and its pods: either kind of traffic will do.
        ok = waypoint.serves("service") or waypoint.serves("workload")
        return None if ok else _unsupported(waypoint.resource_name, "service")
    if not waypoint.serves("service"):
        return _unsupported(waypoint.resource_name, "service")
    if _namespace_only(index, obj, waypoint):
        return _cross_namespace_forbidden(waypoint.resource_name)
    return None


def workload_binding(index: MeshIndex, obj: Resource) -> WaypointBinding:
    """The waypoint of a workload (a Pod or WorkloadEntry) for traffic addressed to it directly."""
    name = obj.labels.get(GATEWAY_NAME_LABEL)
    if name:
        instance_of = find_waypoint(index, obj.namespace, name)
        if instance_of is not None and instance_of.ready:
            return NO_WAYPOINT  # the workload is an instance of that waypoint
    binding = _target(index, obj)
    if binding.waypoint is None or binding.waypoint.serves("workload"):
        return binding
    if USE_WAYPOINT not in obj.labels:
        # Inherited from the namespace: the waypoint is for services, which is no error for a pod.
        return NO_WAYPOINT
    return WaypointBinding(None, binding.ref, False, _unsupported(binding.waypoint.resource_name, "workload"))


def _canary(index: MeshIndex, obj: Resource, primary: Waypoint) -> CanaryBinding | None:
    """``ResolveUseWaypointCanary`` and ``buildWeightedWaypoints`` for a bound service."""
    ns_labels: dict[str, str] | None = None
    ns_annotations: dict[str, str] | None = None
    own, _ = use_waypoint(obj.labels, obj.namespace, obj.kind)
    if own is None:
        # The namespace's canary is consulted only when the primary comes from the namespace.
        ns = index.get("Namespace", "", obj.namespace)
        if ns is not None:
            ns_labels, ns_annotations = dict(ns.labels), dict(ns.annotations)
    labels, source = obj.labels, obj.kind
    if USE_WAYPOINT_CANARY not in labels and ns_labels is not None and USE_WAYPOINT_CANARY in ns_labels:
        labels, source = ns_labels, "Namespace"
    name = labels.get(USE_WAYPOINT_CANARY, "")
    if name in ("", "none"):
        return None
    ref = WaypointRef(labels.get(USE_WAYPOINT_CANARY_NAMESPACE, obj.namespace), name, source)
    weight, valid = canary_weight(obj.annotations, ns_annotations)
    if ref.resource_name == primary.resource_name:
        return CanaryBinding(ref, weight, None, BindingError(
            "CanarySameAsPrimary", f'canary waypoint "{ref.resource_name}" must differ from the primary waypoint'))
    if not valid:
        return CanaryBinding(ref, 0, None, BindingError(
            "CanaryInvalidWeight", f'canary waypoint "{ref.resource_name}" has an invalid weight; '
            "must be an integer in [0,100]"))
    canary, error = _resolve(index, ref, obj.namespace)
    if canary is not None and not canary.serves("service"):
        error = _unsupported(canary.resource_name, "service")
        canary = None
    return CanaryBinding(ref, weight, canary, error)
