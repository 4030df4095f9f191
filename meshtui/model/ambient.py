"""Ambient mode as the objects state it: dataplane modes, waypoints and the labels that bind them.

The names are Istio's (istio/api ``label/labels.yaml`` and ``annotation/annotations.yaml``). The
rules follow istio-cni (which pods ztunnel captures: ``cni/pkg/util/enablement_selector.go`` with
the chart's default enablement selectors) and istiod's ambient index (what a waypoint is:
``pilot/pkg/serviceregistry/ambient/waypoints.go``). Which waypoint a service or workload uses
is resolved in :mod:`meshtui.routing.waypoint_binding`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshtui.model.base import as_dict, as_list, as_str
from meshtui.model.gateway_api import AllowedRoutes, K8sGateway
from meshtui.model.kube import Pod

DATAPLANE_MODE = "istio.io/dataplane-mode"
USE_WAYPOINT = "istio.io/use-waypoint"
USE_WAYPOINT_NAMESPACE = "istio.io/use-waypoint-namespace"
USE_WAYPOINT_CANARY = "istio.io/use-waypoint-canary"
USE_WAYPOINT_CANARY_NAMESPACE = "istio.io/use-waypoint-canary-namespace"
USE_WAYPOINT_CANARY_WEIGHT = "istio.io/use-waypoint-canary-weight"  # an annotation, not a label
WAYPOINT_FOR = "istio.io/waypoint-for"
WAYPOINT_CLASS = "istio-waypoint"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
GATEWAY_MANAGED_LABEL = "gateway.istio.io/managed"
MESH_CONTROLLER = "istio.io-mesh-controller"  # the waypoint's own Deployment and Service
EAST_WEST_CONTROLLER = "istio.io-eastwest-controller"
AMBIENT_REDIRECTION = "ambient.istio.io/redirection"  # set by istio-cni on a captured pod
SIDECAR_STATUS = "sidecar.istio.io/status"

_ATOI = re.compile(r"[+-]?[0-9]+")

#: ``istio.io/waypoint-for`` values: the traffic a waypoint takes (service when unset).
TRAFFIC_TYPES = ("service", "workload", "all", "none")
DEFAULT_TRAFFIC_TYPE = "service"

# Data plane modes of a pod, as meshtui names them.
SIDECAR = "sidecar"
AMBIENT = "ambient"
NO_MESH = "none"


def namespace_is_ambient(namespace_labels: dict[str, str]) -> bool:
    """Whether the namespace enrols its pods in ambient mode (``istio.io/dataplane-mode=ambient``)."""
    return namespace_labels.get(DATAPLANE_MODE) == "ambient"


def is_ztunnel_pod(pod: Pod, system_namespace: str = "istio-system") -> bool:
    """A ztunnel node proxy: ``app=ztunnel`` in the Istio system namespace (istio-cni's test)."""
    return pod.namespace == system_namespace and pod.labels.get("app") == "ztunnel"


def pod_dataplane_mode(pod: Pod, namespace_labels: dict[str, str]) -> str:
    """How the pod's traffic is captured: :data:`SIDECAR`, :data:`AMBIENT` or :data:`NO_MESH`.

    istio-cni's default enablement selectors: a pod labelled ``istio.io/dataplane-mode=ambient``,
    or any pod of an ambient namespace unless the pod says ``istio.io/dataplane-mode=none``.
    A pod with a sidecar is never captured by ztunnel, nor is a host-network pod.
    """
    if pod.has_sidecar:
        return SIDECAR
    if as_dict(pod.raw.get("spec")).get("hostNetwork") is True:
        return NO_MESH
    mode = pod.labels.get(DATAPLANE_MODE)
    if mode == "ambient" or (namespace_is_ambient(namespace_labels) and mode != "none"):
        return AMBIENT
    return NO_MESH


@dataclass(frozen=True, slots=True)
class WaypointRef:
    """A ``use-waypoint`` (or canary) label: the waypoint it names and where the label sits."""

    namespace: str
    name: str
    source: str  # the kind carrying the label: Namespace, Service, ServiceEntry or Pod

    @property
    def resource_name(self) -> str:
        """``namespace/name``, as Istio's status messages name a waypoint."""
        return f"{self.namespace}/{self.name}"


def use_waypoint(labels: dict[str, str], default_namespace: str, source: str) -> tuple[WaypointRef | None, bool]:
    """The waypoint ``istio.io/use-waypoint`` names (its namespace from ``-namespace`` or the
    object's), and whether the label opts out with ``none`` (Istio's ``GetUseWaypoint``)."""
    if USE_WAYPOINT not in labels:
        return None, False
    value = labels[USE_WAYPOINT]
    if value == "none":
        return None, True
    return WaypointRef(labels.get(USE_WAYPOINT_NAMESPACE, default_namespace), value, source), False


@dataclass(frozen=True, slots=True)
class Waypoint:
    """A Gateway that can serve as a waypoint: its traffic type, readiness and who may bind to it."""

    namespace: str
    name: str
    gateway_class: str
    traffic_type: str  # istio.io/waypoint-for of the Gateway, else of its GatewayClass, else service
    addresses: list[str]  # status.addresses: istiod programs a waypoint only once it has one
    allowed_routes: AllowedRoutes  # of the HBONE listener on 15008 (Same when there is none)
    revision: str | None  # istio.io/rev

    @property
    def resource_name(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def ready(self) -> bool:
        """Whether istiod uses it: only a Gateway with a status address is a waypoint to istiod."""
        return bool(self.addresses)

    @property
    def is_istio_waypoint(self) -> bool:
        """Whether the Gateway is of class ``istio-waypoint`` (what ``istioctl waypoint list`` lists)."""
        return self.gateway_class == WAYPOINT_CLASS

    def serves(self, kind: str) -> bool:
        """Whether it takes ``service`` or ``workload`` traffic."""
        return self.traffic_type in (kind, "all")

    @classmethod
    def from_gateway(cls, gateway: K8sGateway, class_labels: dict[str, str] | None = None) -> Waypoint:
        """The waypoint view of a Gateway API Gateway (``class_labels``: its GatewayClass's labels)."""
        traffic = DEFAULT_TRAFFIC_TYPE
        for labels in (class_labels or {}, gateway.labels):  # the Gateway's label wins over its class's
            if WAYPOINT_FOR in labels:
                traffic = labels[WAYPOINT_FOR]
        hbone = next((x for x in gateway.listeners if x.protocol == "HBONE" and x.port == 15008), None)
        status = as_dict(gateway.raw.get("status"))
        addresses = [a for a in (as_str(as_dict(x).get("value")) for x in as_list(status.get("addresses"))) if a]
        return cls(
            namespace=gateway.namespace, name=gateway.name, gateway_class=gateway.gateway_class_name,
            traffic_type=traffic, addresses=addresses,
            allowed_routes=hbone.allowed_routes if hbone else AllowedRoutes("Same", None, []),
            revision=gateway.labels.get("istio.io/rev"),
        )


def canary_weight(annotations: dict[str, str], fallback: dict[str, str] | None = None) -> tuple[int, bool]:
    """``istio.io/use-waypoint-canary-weight`` (or the fallback's): the weight and whether it is
    valid. Missing means 0; anything but an integer in [0, 100] is invalid (Istio's ``getCanaryWeight``)."""
    value: Any = annotations.get(USE_WAYPOINT_CANARY_WEIGHT)
    if value is None and fallback is not None:
        value = fallback.get(USE_WAYPOINT_CANARY_WEIGHT)
    if value is None:
        return 0, True
    # Go's strconv.Atoi: an optional sign and decimal digits, nothing else.
    if not isinstance(value, str) or not _ATOI.fullmatch(value):
        return 0, False
    n = int(value)
    return (n, True) if 0 <= n <= 100 else (0, False)
