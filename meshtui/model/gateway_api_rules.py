"""What one Gateway API route rule holds: matches (path, headers, query parameters, method, gRPC
method), filters (header modifiers, redirect, URL rewrite, request mirror, extension refs),
weighted ``backendRefs``, timeouts and retries, read as the spec states them (a backendRef's
``weight`` is 1 when not written, its ``kind`` ``Service``, its namespace the route's own).

The route kinds, gateways and grants that hold these parts are in ``meshtui.model.gateway_api``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.base import Raw, as_dict, as_int, as_list, as_str, as_strs

#: The API groups of a core reference (``""`` or ``core``).
CORE_GROUPS = ("", "core")


def is_core_service(group: str, kind: str) -> bool:
    """Whether a (group, kind) reference names a core ``Service`` (group ``""`` or ``core``)."""
    return kind == "Service" and group in CORE_GROUPS


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
