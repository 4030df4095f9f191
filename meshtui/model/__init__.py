"""Typed, I/O-free views of Istio and Kubernetes objects and the mesh index.

``parse_object(raw)`` gives the typed view of one object; ``meshtui.model.hosts`` resolves host
names; ``meshtui.model.index.MeshIndex`` answers "what applies to this host";
``meshtui.model.schema.validate`` checks an object against Istio's CRD schema. Nothing here
imports textual or kubernetes or does I/O.
"""

from meshtui.model.base import GenericResource, Resource, ResourceKey
from meshtui.model.istio import (
    DestinationRule, Gateway, Port, PortTrafficPolicy, Server, ServerTLS, ServiceEntry, Sidecar,
    SidecarEgress, Subset, TrafficPolicy, WorkloadEndpoint,
)
from meshtui.model.kube import (
    ConfigMap, Deployment, EndpointAddress, EndpointPort, Endpoints, EndpointSlice, MeshConfig,
    Namespace, Pod, Service, ServicePort,
)
from meshtui.model.parse import parse_object
from meshtui.model.virtualservice import (
    CorsPolicy, Delegate, Destination, FaultAbort, FaultDelay, HeaderOperations, Headers,
    HTTPDirectResponse, HTTPFaultInjection, HTTPMatchRequest, HTTPMirrorPolicy, HTTPRedirect,
    HTTPRetry, HTTPRewrite, HTTPRoute, HTTPRouteDestination, L4Match, RouteDestination,
    StringMatch, TCPRoute, TLSRoute, VirtualService,
)

__all__ = [
    "ConfigMap", "CorsPolicy", "Delegate", "Deployment", "Destination", "DestinationRule",
    "EndpointAddress", "EndpointPort", "EndpointSlice", "Endpoints", "FaultAbort", "FaultDelay",
    "Gateway", "GenericResource", "HTTPDirectResponse", "HTTPFaultInjection", "HTTPMatchRequest",
    "HTTPMirrorPolicy", "HTTPRedirect", "HTTPRetry", "HTTPRewrite", "HTTPRoute",
    "HTTPRouteDestination", "HeaderOperations", "Headers", "L4Match", "MeshConfig", "Namespace",
    "Pod", "Port", "PortTrafficPolicy", "Resource", "ResourceKey", "RouteDestination", "Server",
    "ServerTLS", "Service", "ServiceEntry", "ServicePort", "Sidecar", "SidecarEgress",
    "StringMatch", "Subset", "TCPRoute", "TLSRoute", "TrafficPolicy", "VirtualService",
    "WorkloadEndpoint", "parse_object",
]
