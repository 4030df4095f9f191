"""Typed views of the Kubernetes Gateway API (``gateway.networking.k8s.io``).

Gateway, GatewayClass, HTTPRoute, GRPCRoute, ReferenceGrant, and TCPRoute / TLSRoute where
installed; every served version (``v1``, ``v1beta1``, ``v1alpha2``, ``v1alpha3``) reads the same,
as the versions share their field names. Field names follow the Gateway API
(``sectionName`` -> ``section_name``); every view keeps the mapping it was read from in
``raw``. Defaults the API server would fill in are applied where the spec states them:
a backendRef's ``weight`` is 1, a parentRef's ``namespace`` is the route's own, its ``kind``
``Gateway``, a listener's ``allowedRoutes.namespaces.from`` is ``Same``.

The Istio Gateway and the Gateway API Gateway share the kind name ``Gateway``; this module's
view is :class:`K8sGateway` (Istio's own analyzers call it the "k8s gateway"). What one route
rule holds (matches, filters, backendRefs, retries) is read in ``meshtui.model.gateway_api_rules``
and re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.model.base import (
    Raw, Resource, as_dict, as_int, as_list, as_str, as_strs, lazy_view, meta_fields,
)
from meshtui.model.gateway_api_rules import (  # noqa: F401  (re-exported: part of this module's API)
    CORE_GROUPS, BackendRef, ExtensionRef, Filter, GRPCMethod, HeaderModifier, Mirror, PathMatch, PathModifier,
    Redirect, Retry, Rewrite, RouteMatch, RouteRule, ValueMatch, backend_target, is_core_service,
)

GATEWAY_API_GROUP = "gateway.networking.k8s.io"
#: Route kinds that attach to parents and carry rules.
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute")
#: Kinds of this group meshtui reads, with their plural resource names.
GATEWAY_API_KINDS = (
    ("GatewayClass", "gatewayclasses"),
    ("Gateway", "gateways"),
    ("HTTPRoute", "httproutes"),
    ("GRPCRoute", "grpcroutes"),
    ("ReferenceGrant", "referencegrants"),
    ("TCPRoute", "tcproutes"),
    ("TLSRoute", "tlsroutes"),
)
#: Served versions, most stable first.
GATEWAY_API_VERSIONS = ("v1", "v1beta1", "v1alpha3", "v1alpha2")


def _group_or_default(value: Any) -> str:
    """A RouteGroupKind's ``group``: the Gateway API group when not written."""
    return GATEWAY_API_GROUP if value is None else as_str(value) or ""


@dataclass(frozen=True, slots=True)
class Condition:
    """One ``metav1.Condition`` of a status, as the controller wrote it."""

    type: str
    status: str  # "True", "False", "Unknown"
    reason: str
    message: str
    observed_generation: int | None

    @classmethod
    def parse(cls, raw: Any) -> Condition:
        """Read one condition mapping (missing fields read as empty)."""
        d = as_dict(raw)
        return cls(
            type=as_str(d.get("type")) or "",
            status=as_str(d.get("status")) or "",
            reason=as_str(d.get("reason")) or "",
            message=as_str(d.get("message")) or "",
            observed_generation=as_int(d.get("observedGeneration")),
        )


def parse_conditions(raw: Any) -> list[Condition]:
    """The conditions of a status list."""
    return [Condition.parse(c) for c in as_list(raw) if isinstance(c, dict)]


@dataclass(frozen=True, slots=True)
class ParentRef:
    """Where a route attaches: a Gateway (north-south) or a Service (GAMMA, east-west)."""

    group: str
    kind: str
    namespace: str  # the route's namespace when not written
    name: str
    section_name: str | None
    port: int | None
    raw: Raw

    @classmethod
    def parse(cls, raw: Any, route_namespace: str) -> ParentRef:
        """Read a ``parentRefs`` item with the spec's defaults (group gateway API, kind Gateway)."""
        d = as_dict(raw)
        group = as_str(d.get("group"))
        return cls(
            group=GATEWAY_API_GROUP if group is None else group,
            kind=as_str(d.get("kind")) or "Gateway",
            namespace=as_str(d.get("namespace")) or route_namespace,
            name=as_str(d.get("name")) or "",
            section_name=as_str(d.get("sectionName")),
            port=as_int(d.get("port")),
            raw=d,
        )

    @property
    def is_gateway(self) -> bool:
        """A reference to a Gateway API Gateway."""
        return self.kind == "Gateway" and self.group == GATEWAY_API_GROUP

    @property
    def is_service(self) -> bool:
        """A reference to a core Service (a GAMMA mesh route)."""
        return is_core_service(self.group, self.kind)

    @property
    def label(self) -> str:
        """``Kind ns/name[/section][:port]`` for messages."""
        out = f"{self.kind} {self.namespace}/{self.name}"
        if self.section_name:
            out += f"/{self.section_name}"
        if self.port is not None:
            out += f":{self.port}"
        return out


@dataclass(frozen=True, slots=True)
class RouteParentStatus:
    """``status.parents[]``: what the controller decided for one parent reference."""

    parent_ref: ParentRef
    controller_name: str
    conditions: list[Condition]

    def condition(self, kind: str) -> Condition | None:
        """The condition of one ``type`` (``Accepted``, ``ResolvedRefs``), if written."""
        return next((c for c in self.conditions if c.type == kind), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class K8sRoute(Resource):
    """What every Gateway API route has: parents, hostnames, rules, and the status per parent.

    ``rules`` and ``status_parents`` are read from ``raw`` on first use: indexing a big mesh
    needs only the parents and the Services the rules send to (``backend_services``), and
    reading 5,000 HTTPRoutes' rules up front cost a tenth of a second of a 3 s load.
    """

    parent_refs: list[ParentRef]
    hostnames: list[str]
    #: (namespace, name) of every core Service a rule's backendRefs name, sorted.
    backend_services: list[tuple[str, str]]
    # The lazily read views (a frozen view cannot set attributes; a dict of its own can be filled).
    _views: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: Raw) -> K8sRoute:
        """Read a route object of this class's kind."""
        meta = meta_fields(raw)
        ns = meta["namespace"] or "default"
        spec = as_dict(raw.get("spec"))
        backends: set[tuple[str, str]] = set()
        for rule in as_list(spec.get("rules")):
            for ref in as_list(as_dict(rule).get("backendRefs")):
                group, kind, name, namespace = backend_target(as_dict(ref), ns)
                if is_core_service(group, kind):
                    backends.add((namespace, name))
        return cls(
            **meta,
            parent_refs=[ParentRef.parse(p, ns) for p in as_list(spec.get("parentRefs"))],
            hostnames=as_strs(spec.get("hostnames")),
            backend_services=sorted(backends),
        )

    @property
    def rules(self) -> list[RouteRule]:
        """The rules, in order (read on first use)."""
        ns = self.namespace or "default"
        grpc = self.kind == "GRPCRoute"
        return lazy_view(self._views, "rules", lambda: [
            RouteRule.parse(r, i, ns, grpc) for i, r in enumerate(as_list(as_dict(self.raw.get("spec")).get("rules")))])

    @property
    def status_parents(self) -> list[RouteParentStatus]:
        """``status.parents``: the controllers' verdict per parent (read on first use)."""
        ns = self.namespace or "default"
        return lazy_view(self._views, "status_parents", lambda: [
            RouteParentStatus(ParentRef.parse(as_dict(p).get("parentRef"), ns),
                              as_str(as_dict(p).get("controllerName")) or "",
                              parse_conditions(as_dict(p).get("conditions")))
            for p in as_list(as_dict(self.raw.get("status")).get("parents"))
        ])

    @property
    def label(self) -> str:
        """``ns/name``."""
        return f"{self.namespace or 'default'}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class K8sHTTPRoute(K8sRoute):
    """An HTTPRoute."""


@dataclass(frozen=True, slots=True, kw_only=True)
class K8sGRPCRoute(K8sRoute):
    """A GRPCRoute: matches on gRPC service and method instead of path."""


@dataclass(frozen=True, slots=True, kw_only=True)
class K8sTCPRoute(K8sRoute):
    """A TCPRoute (experimental channel, or v1 from Gateway API v1.6): backends only."""


@dataclass(frozen=True, slots=True, kw_only=True)
class K8sTLSRoute(K8sRoute):
    """A TLSRoute: routed by SNI (``hostnames``) to backends, TLS passed through."""


@dataclass(frozen=True, slots=True)
class AllowedRoutes:
    """``allowedRoutes`` of a listener: from which namespaces, which route kinds."""

    namespaces_from: str  # Same (default), All, Selector, None
    selector: dict[str, Any] | None  # a LabelSelector (matchLabels / matchExpressions)
    kinds: list[tuple[str, str]]  # (group, kind); empty: the protocol's default kinds

    @classmethod
    def parse(cls, raw: Any) -> AllowedRoutes:
        """Read an ``allowedRoutes`` mapping (absent: Same namespace, default kinds)."""
        d = as_dict(raw)
        ns = as_dict(d.get("namespaces"))
        sel = ns.get("selector")
        return cls(
            namespaces_from=as_str(ns.get("from")) or "Same",
            selector=sel if isinstance(sel, dict) else None,
            kinds=[(_group_or_default(as_dict(k).get("group")), as_str(as_dict(k).get("kind")) or "")
                   for k in as_list(d.get("kinds"))],
        )


@dataclass(frozen=True, slots=True)
class Listener:
    """One listener of a Gateway: name, port, protocol, hostname, TLS and allowed routes."""

    name: str
    port: int | None
    protocol: str  # HTTP, HTTPS, TLS, TCP, UDP (as written)
    hostname: str | None  # None: every host
    tls_mode: str | None
    allowed_routes: AllowedRoutes
    raw: Raw

    @classmethod
    def parse(cls, raw: Any) -> Listener:
        """Read one ``listeners`` item."""
        d = as_dict(raw)
        return cls(
            name=as_str(d.get("name")) or "", port=as_int(d.get("port")),
            protocol=as_str(d.get("protocol")) or "", hostname=as_str(d.get("hostname")),
            # The API server defaults a written ``tls`` block's mode to Terminate.
            tls_mode=(as_str(d["tls"].get("mode")) or "Terminate") if isinstance(d.get("tls"), dict) else None,
            allowed_routes=AllowedRoutes.parse(d.get("allowedRoutes")), raw=d,
        )

    def default_route_kinds(self) -> list[str]:
        """The route kinds a listener of this protocol accepts when ``allowedRoutes.kinds`` is empty
        (Istio: HTTP/HTTPS take HTTPRoute and GRPCRoute; TLS takes TLSRoute, and TCPRoute too when
        it terminates TLS; TCP takes TCPRoute)."""
        return {"HTTP": ["HTTPRoute", "GRPCRoute"], "HTTPS": ["HTTPRoute", "GRPCRoute"],
                "TLS": ["TLSRoute"] if self.tls_mode in (None, "Passthrough") else ["TLSRoute", "TCPRoute"],
                "TCP": ["TCPRoute"]}.get(self.protocol, [])

    def allows_kind(self, kind: str) -> bool:
        """Whether a route of ``kind`` may attach to this listener."""
        if self.allowed_routes.kinds:
            return any(k == kind and g == GATEWAY_API_GROUP for g, k in self.allowed_routes.kinds)
        return kind in self.default_route_kinds()


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    """``status.listeners[]``: attached route count and conditions."""

    name: str
    attached_routes: int | None
    conditions: list[Condition]


@dataclass(frozen=True, slots=True, kw_only=True)
class K8sGateway(Resource):
    """A Gateway API Gateway: class, listeners, addresses, and status as the controller wrote it."""

    gateway_class_name: str
    listeners: list[Listener]
    addresses: list[str]
    conditions: list[Condition]
    listener_status: list[ListenerStatus]

    @classmethod
    def parse(cls, raw: Raw) -> K8sGateway:
        """Read a Gateway object of ``gateway.networking.k8s.io``."""
        spec = as_dict(raw.get("spec"))
        status = as_dict(raw.get("status"))
        return cls(
            **meta_fields(raw),
            gateway_class_name=as_str(spec.get("gatewayClassName")) or "",
            listeners=[Listener.parse(x) for x in as_list(spec.get("listeners"))],
            addresses=[a for a in (as_str(as_dict(x).get("value")) for x in as_list(spec.get("addresses"))) if a],
            conditions=parse_conditions(status.get("conditions")),
            listener_status=[
                ListenerStatus(as_str(as_dict(x).get("name")) or "", as_int(as_dict(x).get("attachedRoutes")),
                               parse_conditions(as_dict(x).get("conditions")))
                for x in as_list(status.get("listeners"))
            ],
        )

    @property
    def label(self) -> str:
        """``ns/name``."""
        return f"{self.namespace or 'default'}/{self.name}"

    def listener(self, name: str) -> Listener | None:
        """The listener called ``name``."""
        return next((x for x in self.listeners if x.name == name), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayClass(Resource):
    """A GatewayClass (cluster-scoped): which controller implements Gateways of this class."""

    controller_name: str
    conditions: list[Condition]

    @classmethod
    def parse(cls, raw: Raw) -> GatewayClass:
        """Read a GatewayClass object."""
        return cls(**meta_fields(raw), controller_name=as_str(as_dict(raw.get("spec")).get("controllerName")) or "",
                   conditions=parse_conditions(as_dict(raw.get("status")).get("conditions")))


@dataclass(frozen=True, slots=True)
class GrantFrom:
    """A ``from`` entry of a ReferenceGrant: objects of (group, kind) in ``namespace``."""

    group: str
    kind: str
    namespace: str


@dataclass(frozen=True, slots=True)
class GrantTo:
    """A ``to`` entry: objects of (group, kind), all of them or only ``name``."""

    group: str
    kind: str
    name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceGrant(Resource):
    """Allows references from other namespaces to objects in this one (cross-namespace backendRefs)."""

    grants_from: list[GrantFrom]
    grants_to: list[GrantTo]

    @classmethod
    def parse(cls, raw: Raw) -> ReferenceGrant:
        """Read a ReferenceGrant object (v1beta1 or v1)."""
        spec = as_dict(raw.get("spec"))
        return cls(
            **meta_fields(raw),
            grants_from=[GrantFrom(as_str(as_dict(f).get("group")) or "", as_str(as_dict(f).get("kind")) or "",
                                   as_str(as_dict(f).get("namespace")) or "") for f in as_list(spec.get("from"))],
            grants_to=[GrantTo(as_str(as_dict(t).get("group")) or "", as_str(as_dict(t).get("kind")) or "",
                               as_str(as_dict(t).get("name"))) for t in as_list(spec.get("to"))],
        )

    def allows(self, from_group: str, from_kind: str, from_namespace: str, to_group: str, to_kind: str,
               to_name: str) -> bool:
        """Whether this grant lets (from_group, from_kind) objects in ``from_namespace`` refer to
        the (to_group, to_kind) object ``to_name`` of the grant's namespace (core group ``""``)."""
        def norm(group: str) -> str:
            return "" if group in CORE_GROUPS else group

        return (any(norm(f.group) == norm(from_group) and f.kind == from_kind and f.namespace == from_namespace
                    for f in self.grants_from)
                and any(norm(t.group) == norm(to_group) and t.kind == to_kind and t.name in (None, to_name)
                        for t in self.grants_to))


_ROUTE_CLASSES: dict[str, type[K8sRoute]] = {
    "HTTPRoute": K8sHTTPRoute, "GRPCRoute": K8sGRPCRoute, "TCPRoute": K8sTCPRoute, "TLSRoute": K8sTLSRoute,
}


def parse_route(raw: Raw) -> K8sRoute:
    """The typed view of a route object of any of :data:`ROUTE_KINDS`."""
    return _ROUTE_CLASSES.get(as_str(raw.get("kind")) or "", K8sHTTPRoute).parse(raw)


__all__ = [
    "GATEWAY_API_GROUP", "GATEWAY_API_KINDS", "GATEWAY_API_VERSIONS", "ROUTE_KINDS", "AllowedRoutes", "BackendRef",
    "Condition", "ExtensionRef", "Filter", "GRPCMethod", "GatewayClass", "GrantFrom", "GrantTo", "HeaderModifier",
    "K8sGRPCRoute", "K8sGateway", "K8sHTTPRoute", "K8sRoute", "K8sTCPRoute", "K8sTLSRoute", "Listener",
    "ListenerStatus", "Mirror", "ParentRef", "PathMatch", "PathModifier", "Redirect", "ReferenceGrant", "Retry",
    "Rewrite", "RouteMatch", "RouteParentStatus", "RouteRule", "ValueMatch", "is_core_service", "parse_route",
]
