"""``parse_object``: choose the typed view for a raw object by API group and kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meshtui.model.base import GenericResource, Raw, Resource, meta_fields
from meshtui.model.gateway_api import (
    GATEWAY_API_GROUP, GatewayClass, K8sGateway, K8sGRPCRoute, K8sHTTPRoute, K8sTCPRoute, K8sTLSRoute,
    ReferenceGrant,
)
from meshtui.model.istio import DestinationRule, Gateway, ServiceEntry, Sidecar
from meshtui.model.kube import ConfigMap, Deployment, Endpoints, EndpointSlice, Namespace, Pod, Service
from meshtui.model.rollouts import ARGO_GROUP, FLAGGER_GROUP, ArgoRollout, FlaggerCanary
from meshtui.model.virtualservice import VirtualService

ISTIO_NETWORKING = "networking.istio.io"
# The Istio API versions meshtui reads; all three share one schema shape for these kinds.
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")

_PARSERS: dict[tuple[str, str], Callable[[Raw], Resource]] = {
    (ISTIO_NETWORKING, "VirtualService"): VirtualService.parse,
    (ISTIO_NETWORKING, "DestinationRule"): DestinationRule.parse,
    (ISTIO_NETWORKING, "Gateway"): Gateway.parse,
    (ISTIO_NETWORKING, "ServiceEntry"): ServiceEntry.parse,
    (ISTIO_NETWORKING, "Sidecar"): Sidecar.parse,
    (GATEWAY_API_GROUP, "Gateway"): K8sGateway.parse,
    (GATEWAY_API_GROUP, "GatewayClass"): GatewayClass.parse,
    (GATEWAY_API_GROUP, "HTTPRoute"): K8sHTTPRoute.parse,
    (GATEWAY_API_GROUP, "GRPCRoute"): K8sGRPCRoute.parse,
    (GATEWAY_API_GROUP, "TCPRoute"): K8sTCPRoute.parse,
    (GATEWAY_API_GROUP, "TLSRoute"): K8sTLSRoute.parse,
    (GATEWAY_API_GROUP, "ReferenceGrant"): ReferenceGrant.parse,
    ("", "Service"): Service.parse,
    ("", "Pod"): Pod.parse,
    ("", "Endpoints"): Endpoints.parse,
    ("", "Namespace"): Namespace.parse,
    ("", "ConfigMap"): ConfigMap.parse,
    ("apps", "Deployment"): Deployment.parse,
    ("discovery.k8s.io", "EndpointSlice"): EndpointSlice.parse,
    (FLAGGER_GROUP, "Canary"): FlaggerCanary.parse,
    (ARGO_GROUP, "Rollout"): ArgoRollout.parse,
}


def parse_object(raw: Raw) -> Resource:
    """The typed, read-only view of ``raw`` (the very dict passed in; never modified).

    Unknown kinds, and known kinds whose content is too odd to read, give a
    :class:`GenericResource`; this function does not raise for any mapping.
    """
    if not isinstance(raw, dict):
        raise TypeError(f"parse_object needs a mapping, got {type(raw).__name__}")
    api_version = raw.get("apiVersion")
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    kind = raw.get("kind")
    parser = _PARSERS.get((group, kind if isinstance(kind, str) else ""))
    if parser is not None:
        try:
            return parser(raw)
        except (TypeError, ValueError, AttributeError, KeyError):
            # Defensive: the readers are tolerant, but a view must never cost the user the object.
            pass
    return GenericResource(**meta_fields(raw))


def typed_kinds() -> list[tuple[str, str]]:
    """(group, kind) pairs that have a typed view."""
    return list(_PARSERS)


def is_kind(raw: dict[str, Any], group: str, kind: str) -> bool:
    """Whether ``raw`` is of this API group and kind (any version)."""
    api_version = raw.get("apiVersion")
    return (raw.get("kind") == kind and isinstance(api_version, str)
            and api_version.rpartition("/")[0] == group)
