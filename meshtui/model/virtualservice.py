"""Typed views of a VirtualService and its routes (networking.istio.io v1 / v1beta1 / v1alpha3).

Field names follow Istio's API (``corsPolicy`` -> ``cors_policy``). Every view keeps the
mapping it was read from in ``raw``, so code that edits a route starts from the real object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.model.base import (
    Raw, Resource, as_bool, as_dict, as_float, as_int, as_labels, as_list, as_str, as_strs,
    lazy_view, meta_fields, percentage,
)
from meshtui.model.route_parts import (  # noqa: F401  (re-exported: part of this module's API)
    CorsPolicy, Destination, FaultAbort, FaultDelay, HeaderOperations, Headers,
    HTTPDirectResponse, HTTPFaultInjection, HTTPMirrorPolicy, HTTPRedirect, HTTPRetry,
    HTTPRewrite, StringMatch, StringMatchKind, parse_cors, parse_direct_response, parse_fault,
    parse_redirect, parse_retries, parse_rewrite, string_matches,
)


@dataclass(frozen=True, slots=True)
class HTTPRouteDestination:
    """A weighted destination of an HTTP route. ``weight`` is None when not written (Istio
    then gives a lone destination 100)."""

    destination: Destination
    weight: int | None
    headers: Headers | None
    raw: Raw


@dataclass(frozen=True, slots=True)
class RouteDestination:
    """A weighted destination of a TLS or TCP route."""

    destination: Destination
    weight: int | None
    raw: Raw


@dataclass(frozen=True, slots=True)
class HTTPMatchRequest:
    """One match block of an HTTP route; all its conditions must hold (AND)."""

    name: str | None
    uri: StringMatch | None
    scheme: StringMatch | None
    method: StringMatch | None
    authority: StringMatch | None
    headers: dict[str, StringMatch]
    without_headers: dict[str, StringMatch]
    query_params: dict[str, StringMatch]
    port: int | None
    source_labels: dict[str, str]
    source_namespace: str | None
    gateways: list[str]
    ignore_uri_case: bool
    raw: Raw

    @classmethod
    def parse(cls, raw: Any) -> HTTPMatchRequest:
        """Read an ``HTTPMatchRequest`` mapping (tolerant)."""
        d = as_dict(raw)
        return cls(
            name=as_str(d.get("name")),
            uri=StringMatch.parse(d.get("uri")),
            scheme=StringMatch.parse(d.get("scheme")),
            method=StringMatch.parse(d.get("method")),
            authority=StringMatch.parse(d.get("authority")),
            headers=string_matches(d.get("headers")),
            without_headers=string_matches(d.get("withoutHeaders")),
            query_params=string_matches(d.get("queryParams")),
            port=as_int(d.get("port")),
            source_labels=as_labels(d.get("sourceLabels")),
            source_namespace=as_str(d.get("sourceNamespace")),
            gateways=as_strs(d.get("gateways")),
            ignore_uri_case=as_bool(d.get("ignoreUriCase")) or False,
            raw=d,
        )


@dataclass(frozen=True, slots=True)
class Delegate:
    """A delegate VirtualService reference (namespace None: the parent's namespace)."""

    name: str
    namespace: str | None


@dataclass(frozen=True, slots=True)
class HTTPRoute:
    """One rule of ``spec.http``; ``index`` is its position (rules are tried in order)."""

    index: int
    name: str | None
    match: list[HTTPMatchRequest]
    route: list[HTTPRouteDestination]
    redirect: HTTPRedirect | None
    direct_response: HTTPDirectResponse | None
    rewrite: HTTPRewrite | None
    timeout: str | None
    retries: HTTPRetry | None
    fault: HTTPFaultInjection | None
    mirror: Destination | None
    mirror_percentage: float | None
    mirrors: list[HTTPMirrorPolicy]
    cors_policy: CorsPolicy | None
    headers: Headers | None
    delegate: Delegate | None
    raw: Raw

    @classmethod
    def parse(cls, index: int, raw: Any) -> HTTPRoute:
        """Read one ``HTTPRoute`` mapping (tolerant)."""
        d = as_dict(raw)
        mirror_pct = percentage(d.get("mirrorPercentage"))
        if mirror_pct is None:
            mirror_pct = as_float(d.get("mirrorPercent"))  # deprecated integer form
        return cls(
            index=index,
            name=as_str(d.get("name")),
            match=[HTTPMatchRequest.parse(m) for m in as_list(d.get("match"))],
            route=[_http_route_destination(r) for r in as_list(d.get("route"))],
            redirect=parse_redirect(d.get("redirect")),
            direct_response=parse_direct_response(d.get("directResponse")),
            rewrite=parse_rewrite(d.get("rewrite")),
            timeout=as_str(d.get("timeout")),
            retries=parse_retries(d.get("retries")),
            fault=parse_fault(d.get("fault")),
            mirror=Destination.parse(d["mirror"]) if isinstance(d.get("mirror"), dict) else None,
            mirror_percentage=mirror_pct,
            mirrors=[HTTPMirrorPolicy(Destination.parse(as_dict(m).get("destination")),
                                      percentage(as_dict(m).get("percentage")))
                     for m in as_list(d.get("mirrors"))],
            cors_policy=parse_cors(d.get("corsPolicy")),
            headers=Headers.parse(d.get("headers")),
            delegate=(Delegate(as_str(d["delegate"].get("name")) or "", as_str(d["delegate"].get("namespace")))
                      if isinstance(d.get("delegate"), dict) else None),
            raw=d,
        )


def _http_route_destination(raw: Any) -> HTTPRouteDestination:
    d = as_dict(raw)
    return HTTPRouteDestination(Destination.parse(d.get("destination")), as_int(d.get("weight")),
                                Headers.parse(d.get("headers")), d)


def _route_destination(raw: Any) -> RouteDestination:
    d = as_dict(raw)
    return RouteDestination(Destination.parse(d.get("destination")), as_int(d.get("weight")), d)


@dataclass(frozen=True, slots=True)
class L4Match:
    """A match block of a TLS or TCP route (TLS adds ``sni_hosts``)."""

    sni_hosts: list[str]
    destination_subnets: list[str]
    port: int | None
    source_labels: dict[str, str]
    source_namespace: str | None
    gateways: list[str]

    @classmethod
    def parse(cls, raw: Any) -> L4Match:
        """Read a ``TLSMatchAttributes`` / ``L4MatchAttributes`` mapping."""
        d = as_dict(raw)
        return cls(as_strs(d.get("sniHosts")), as_strs(d.get("destinationSubnets")), as_int(d.get("port")),
                   as_labels(d.get("sourceLabels")), as_str(d.get("sourceNamespace")), as_strs(d.get("gateways")))


@dataclass(frozen=True, slots=True)
class TLSRoute:
    """One rule of ``spec.tls`` (SNI-based passthrough routing)."""

    index: int
    match: list[L4Match]
    route: list[RouteDestination]
    raw: Raw


@dataclass(frozen=True, slots=True)
class TCPRoute:
    """One rule of ``spec.tcp``."""

    index: int
    match: list[L4Match]
    route: list[RouteDestination]
    raw: Raw


def _l4_routes(cls: type[Any], raw: Any) -> list[Any]:
    out = []
    for i, r in enumerate(as_list(raw)):
        d = as_dict(r)
        out.append(cls(i, [L4Match.parse(m) for m in as_list(d.get("match"))],
                       [_route_destination(x) for x in as_list(d.get("route"))], d))
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class VirtualService(Resource):
    """Routing rules for a set of hosts, applied by sidecars (gateway ``mesh``) and/or gateways.

    ``http``, ``tls`` and ``tcp`` are read from ``raw`` on first use: indexing a big mesh needs
    only the hosts and gateways, and reading 5,000 VirtualServices' routes up front took about
    a tenth of a second of the load.
    """

    hosts: list[str]
    gateways: list[str]  # as written; empty means ["mesh"]
    export_to: list[str]
    # The lazily read views (a frozen view cannot set attributes; a dict of its own can be filled).
    _views: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def http(self) -> list[HTTPRoute]:
        """The HTTP routes, in order (read on first use)."""
        return lazy_view(self._views, "http", lambda: [
            HTTPRoute.parse(i, r) for i, r in enumerate(as_list(as_dict(self.raw.get("spec")).get("http")))])

    @property
    def tls(self) -> list[TLSRoute]:
        """The TLS routes, in order (read on first use)."""
        return lazy_view(self._views, "tls", lambda: _l4_routes(TLSRoute, as_dict(self.raw.get("spec")).get("tls")))

    @property
    def tcp(self) -> list[TCPRoute]:
        """The TCP routes, in order (read on first use)."""
        return lazy_view(self._views, "tcp", lambda: _l4_routes(TCPRoute, as_dict(self.raw.get("spec")).get("tcp")))

    @property
    def effective_gateways(self) -> list[str]:
        """``gateways`` with Istio's default applied: none written means ``["mesh"]``."""
        return self.gateways or ["mesh"]

    @classmethod
    def parse(cls, raw: Raw) -> VirtualService:
        """Read a VirtualService object (tolerant)."""
        spec = as_dict(raw.get("spec"))
        return cls(
            **meta_fields(raw),
            hosts=as_strs(spec.get("hosts")),
            gateways=as_strs(spec.get("gateways")),
            export_to=as_strs(spec.get("exportTo")),
        )
