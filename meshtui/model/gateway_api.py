"""Typed views of the Kubernetes Gateway API (``gateway.networking.k8s.io``).

Gateway, GatewayClass, HTTPRoute, GRPCRoute, ReferenceGrant, and TCPRoute / TLSRoute where
installed; every served version (``v1``, ``v1beta1``, ``v1alpha2``, ``v1alpha3``) reads the same,
as the versions share their field names. Field names follow the Gateway API
(``sectionName`` -> ``section_name``); every view keeps the mapping it was read from in
``raw``. Defaults the API server would fill in are applied where the spec states them:
a backendRef's ``weight`` is 1, a parentRef's ``namespace`` is the route's own, its ``kind``
``Gateway``, a listener's ``allowedRoutes.namespaces.from`` is ``Same``.

The Istio Gateway and the Gateway API Gateway share the kind name ``Gateway``; this module's
view is :class:`K8sGateway` (Istio's own analyzers call it the "k8s gateway").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.model.base import (
    Raw, Resource, as_dict, as_int, as_list, as_str, as_strs, lazy_view, meta_fields,
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
_CORE_GROUPS = ("", "core")


def _group_or_default(value: Any) -> str:
    """A RouteGroupKind's ``group``: the Gateway API group when not written."""
    return GATEWAY_API_GROUP if value is None else as_str(value) or ""


def is_core_service(group: str, kind: str) -> bool:
    """Whether a (group, kind) reference names a core ``Service`` (group ``""`` or ``core``)."""
    return kind == "Service" and group in _CORE_GROUPS


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


def backend_target(d: dict[str, Any], route_namespace: str) -> tuple[str, str, str, str]:
    """(group, kind, name, namespace) a ``backendRefs`` item points at, with the spec's
    defaults (core group, kind ``Service``, the route's namespace)."""
    return (as_str(d.get("group")) or "", as_str(d.get("kind")) or "Service", as_str(d.get("name")) or "",
            as_str(d.get("namespace")) or route_namespace)


@dataclass(frozen=True, slots=True)
class BackendRef:
    """A weighted backend of a rule (or the target of a mirror)."""

    group: str  # "" for core
    kind: str  # "Service" when not written
    name: str
    namespace: str  # the route's namespace when not written
    namespace_written: bool  # a cross-namespace reference needs a ReferenceGrant
    port: int | None
    weight: int  # relative; 1 when not written, 0 means no traffic
    filters: list[Filter]
    raw: Raw

    @classmethod
    def parse(cls, raw: Any, route_namespace: str) -> BackendRef:
        """Read a ``backendRefs`` item (or a mirror's ``backendRef``)."""
        d = as_dict(raw)
        weight = as_int(d.get("weight"))
        ns = as_str(d.get("namespace"))
        group, kind, name, namespace = backend_target(d, route_namespace)
        return cls(
            group=group,
            kind=kind,
            name=name,
            namespace=namespace,
            namespace_written=ns is not None and ns != route_namespace,
            port=as_int(d.get("port")),
            weight=1 if weight is None else weight,
            filters=[Filter.parse(f, route_namespace) for f in as_list(d.get("filters")) if isinstance(f, dict)],
            raw=d,
        )

    @property
    def is_service(self) -> bool:
        """A reference to a core Service."""
        return is_core_service(self.group, self.kind)

    @property
    def label(self) -> str:
        """``ns/name:port`` (with the kind when it is not a Service)."""
        port = f":{self.port}" if self.port is not None else ""
        kind = "" if self.is_service else f"{self.kind} "
        return f"{kind}{self.namespace}/{self.name}{port}"


@dataclass(frozen=True, slots=True)
class HeaderModifier:
    """``RequestHeaderModifier`` / ``ResponseHeaderModifier``: set, add, remove."""

    set: dict[str, str]
    add: dict[str, str]
    remove: list[str]

    @classmethod
    def parse(cls, raw: Any) -> HeaderModifier:
        """Read a header modifier mapping."""
        d = as_dict(raw)

        def pairs(items: Any) -> dict[str, str]:
            return {as_str(as_dict(i).get("name")) or "": as_str(as_dict(i).get("value")) or ""
                    for i in as_list(items)}

        return cls(set=pairs(d.get("set")), add=pairs(d.get("add")), remove=as_strs(d.get("remove")))


@dataclass(frozen=True, slots=True)
class PathModifier:
    """The ``path`` of a redirect or rewrite: ``ReplaceFullPath`` or ``ReplacePrefixMatch``."""

    type: str
    value: str

    @classmethod
    def parse(cls, raw: Any) -> PathModifier | None:
        """Read a path modifier; None when absent."""
        if not isinstance(raw, dict):
            return None
        kind = as_str(raw.get("type")) or ""
        key = "replaceFullPath" if kind == "ReplaceFullPath" else "replacePrefixMatch"
        return cls(type=kind, value=as_str(raw.get(key)) or "")


@dataclass(frozen=True, slots=True)
class Redirect:
    """``RequestRedirect``: answer with a redirect instead of forwarding."""

    scheme: str | None
    hostname: str | None
    path: PathModifier | None
    port: int | None
    status_code: int  # 302 when not written

    @classmethod
    def parse(cls, raw: Any) -> Redirect:
        """Read a ``requestRedirect`` mapping."""
        d = as_dict(raw)
        return cls(
            scheme=as_str(d.get("scheme")), hostname=as_str(d.get("hostname")),
            path=PathModifier.parse(d.get("path")), port=as_int(d.get("port")),
            status_code=as_int(d.get("statusCode")) or 302,
        )


@dataclass(frozen=True, slots=True)
class Rewrite:
    """``URLRewrite``: change the host and/or path before forwarding."""

    hostname: str | None
    path: PathModifier | None

    @classmethod
    def parse(cls, raw: Any) -> Rewrite:
        """Read a ``urlRewrite`` mapping."""
        d = as_dict(raw)
        return cls(hostname=as_str(d.get("hostname")), path=PathModifier.parse(d.get("path")))


@dataclass(frozen=True, slots=True)
class Mirror:
    """``RequestMirror``: copy a share of requests to ``backend`` (responses ignored)."""

    backend: BackendRef
    percent: float  # 0..100; ``percent`` or ``fraction`` (numerator/denominator), else 100

    @classmethod
    def parse(cls, raw: Any, route_namespace: str) -> Mirror:
        """Read a ``requestMirror`` mapping."""
        d = as_dict(raw)
        pct = as_int(d.get("percent"))
        fraction = d.get("fraction")
        if pct is not None:
            percent = float(pct)
        elif isinstance(fraction, dict):
            num = as_int(fraction.get("numerator")) or 0
            den = as_int(fraction.get("denominator")) or 100
            percent = 100.0 * num / den if den else 0.0
        else:
            percent = 100.0
        return cls(backend=BackendRef.parse(d.get("backendRef"), route_namespace), percent=percent)


@dataclass(frozen=True, slots=True)
class ExtensionRef:
    """``ExtensionRef``: an implementation-specific filter, shown as such."""

    group: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter of a rule or backendRef; the typed part for its ``type``, all of it in ``raw``."""

    type: str
    request_headers: HeaderModifier | None
    response_headers: HeaderModifier | None
    redirect: Redirect | None
    rewrite: Rewrite | None
    mirror: Mirror | None
    extension_ref: ExtensionRef | None
    raw: Raw

    @classmethod
    def parse(cls, raw: Any, route_namespace: str) -> Filter:
        """Read one ``filters`` item."""
        d = as_dict(raw)
        kind = as_str(d.get("type")) or ""
        ext = d.get("extensionRef")
        return cls(
            type=kind,
            request_headers=(HeaderModifier.parse(d.get("requestHeaderModifier"))
                             if kind == "RequestHeaderModifier" else None),
            response_headers=(HeaderModifier.parse(d.get("responseHeaderModifier"))
                              if kind == "ResponseHeaderModifier" else None),
            redirect=Redirect.parse(d.get("requestRedirect")) if kind == "RequestRedirect" else None,
            rewrite=Rewrite.parse(d.get("urlRewrite")) if kind == "URLRewrite" else None,
            mirror=Mirror.parse(d.get("requestMirror"), route_namespace) if kind == "RequestMirror" else None,
            extension_ref=(ExtensionRef(as_str(as_dict(ext).get("group")) or "", as_str(as_dict(ext).get("kind")) or "",
                                        as_str(as_dict(ext).get("name")) or "")
                           if kind == "ExtensionRef" else None),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class ValueMatch:
    """A header or query-parameter match: ``Exact`` (default) or ``RegularExpression``."""

    type: str
    name: str
    value: str

    @classmethod
    def parse(cls, raw: Any) -> ValueMatch:
        """Read one ``headers`` / ``queryParams`` item."""
        d = as_dict(raw)
        return cls(type=as_str(d.get("type")) or "Exact", name=as_str(d.get("name")) or "",
                   value=as_str(d.get("value")) or "")


@dataclass(frozen=True, slots=True)
class PathMatch:
    """``Exact``, ``PathPrefix`` (element-wise) or ``RegularExpression``."""

    type: str
    value: str


@dataclass(frozen=True, slots=True)
class GRPCMethod:
    """A GRPCRoute method match: ``service`` and/or ``method``, ``Exact`` or ``RegularExpression``."""

    type: str
    service: str | None
    method: str | None


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """One match of a rule: every condition must hold (AND); the matches of a rule are OR'ed."""

    path: PathMatch | None  # None: not written (matches every path)
    headers: list[ValueMatch]
    query_params: list[ValueMatch]
    method: str | None  # HTTP method (HTTPRoute)
    grpc: GRPCMethod | None  # gRPC service/method (GRPCRoute)
    raw: Raw

    @classmethod
    def parse_http(cls, raw: Any) -> RouteMatch:
        """Read an HTTPRoute ``matches`` item."""
        d = as_dict(raw)
        path = d.get("path")
        return cls(
            path=(PathMatch(as_str(path.get("type")) or "PathPrefix", as_str(path.get("value")) or "/")
                  if isinstance(path, dict) else None),
            headers=[ValueMatch.parse(h) for h in as_list(d.get("headers"))],
            query_params=[ValueMatch.parse(q) for q in as_list(d.get("queryParams"))],
            method=as_str(d.get("method")), grpc=None, raw=d,
        )

    @classmethod
    def parse_grpc(cls, raw: Any) -> RouteMatch:
        """Read a GRPCRoute ``matches`` item."""
        d = as_dict(raw)
        m = d.get("method")
        return cls(
            path=None, headers=[ValueMatch.parse(h) for h in as_list(d.get("headers"))], query_params=[],
            method=None,
            grpc=(GRPCMethod(as_str(m.get("type")) or "Exact", as_str(m.get("service")), as_str(m.get("method")))
                  if isinstance(m, dict) else None),
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Retry:
    """``retry`` of an HTTPRoute rule (v1.2+): attempts, backoff, status codes."""

    attempts: int | None
    backoff: str | None
    codes: list[int]


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One rule of a route: matches, filters, weighted backends, timeouts and retry."""

    index: int
    name: str | None
    matches: list[RouteMatch]  # empty: the rule matches every request
    filters: list[Filter]
    backend_refs: list[BackendRef]
    timeout: str | None  # timeouts.request
    backend_timeout: str | None  # timeouts.backendRequest
    retry: Retry | None
    raw: Raw

    @classmethod
    def parse(cls, raw: Any, index: int, route_namespace: str, grpc: bool = False) -> RouteRule:
        """Read one ``rules`` item."""
        d = as_dict(raw)
        timeouts = as_dict(d.get("timeouts"))
        retry = d.get("retry")
        parse_match = RouteMatch.parse_grpc if grpc else RouteMatch.parse_http
        return cls(
            index=index,
            name=as_str(d.get("name")),
            matches=[parse_match(m) for m in as_list(d.get("matches"))],
            filters=[Filter.parse(f, route_namespace) for f in as_list(d.get("filters")) if isinstance(f, dict)],
            backend_refs=[BackendRef.parse(b, route_namespace) for b in as_list(d.get("backendRefs"))],
            timeout=as_str(timeouts.get("request")),
            backend_timeout=as_str(timeouts.get("backendRequest")),
            retry=(Retry(as_int(retry.get("attempts")), as_str(retry.get("backoff")),
                         [c for c in (as_int(x) for x in as_list(retry.get("codes"))) if c is not None])
                   if isinstance(retry, dict) else None),
            raw=d,
        )

    def filters_of(self, kind: str) -> list[Filter]:
        """The rule's filters of one ``type``."""
        return [f for f in self.filters if f.type == kind]


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
            return "" if group in _CORE_GROUPS else group

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
