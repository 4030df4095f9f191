"""What a matched rule does to the request before (or instead of) forwarding it.

Envoy semantics of Istio's translation (``applyHTTPRouteDestination``, ``ApplyRedirect``):

- ``rewrite.uri`` is Envoy's ``prefix_rewrite``: the part of the path the route matched is
  replaced — the prefix of a ``prefix`` match, the whole path of an ``exact`` or ``regex``
  match, and ``/`` for a rule without a URI condition (so ``/a`` rewritten to ``/b`` gives
  ``/ba``, the classic surprise). The query string is kept.
- ``rewrite.uriRegexRewrite`` replaces every match of ``match`` in the path with ``rewrite``
  (RE2 ``GlobalReplace``; ``\\1`` refers to a group).
- ``rewrite.authority`` (or a ``Host``/``:authority`` set in ``headers.request``) replaces the
  Host header.
- A redirect defaults to status 301.
"""

from __future__ import annotations

from typing import Any

from meshtui.model import HTTPRoute, StringMatch
from meshtui.routing.match import is_presence
from meshtui.routing.regex import RegexError, compile_re2
from meshtui.routing.request import TraceRequest


def matched_prefix_length(uri: StringMatch | None, path: str) -> int:
    """How many leading characters of ``path`` the route's URI condition matched."""
    if uri is None or is_presence(uri):
        return 1 if path.startswith("/") else 0
    if uri.kind == "prefix":
        return len(uri.value)
    return len(path)


def rewritten_path(route: HTTPRoute, uri: StringMatch | None, request: TraceRequest) -> str:
    """The request path (with query) after ``route.rewrite``; unchanged without one."""
    rw = route.rewrite
    path, query = request.path_only, request.query
    if rw is None:
        return request.path
    if rw.uri_regex_match is not None:
        try:
            pattern = compile_re2(rw.uri_regex_match)
        except RegexError:
            return request.path
        # RE2 and Python share the \1 group syntax of the substitution.
        path = pattern.sub(rw.uri_regex_rewrite or "", path)
    elif rw.uri:
        path = rw.uri + path[matched_prefix_length(uri, path):]
    return path + (f"?{query}" if query else "")


def rewritten_authority(route: HTTPRoute) -> str | None:
    """The Host the upstream sees when the rule rewrites it, else None."""
    if route.rewrite is not None and route.rewrite.authority:
        return route.rewrite.authority
    if route.headers is not None:
        for ops in (route.headers.request.set, route.headers.request.add):
            for key, value in ops.items():
                if key.lower() in ("host", ":authority"):
                    return value
    return None


def rewrite_info(route: HTTPRoute, uri: StringMatch | None, request: TraceRequest) -> dict[str, Any] | None:
    """``{"uri": path after rewriting, "authority": host or None}`` when the rule rewrites."""
    authority = rewritten_authority(route)
    if route.rewrite is None and authority is None:
        return None
    return {"uri": rewritten_path(route, uri, request), "authority": authority}


def redirect_info(route: HTTPRoute, request: TraceRequest) -> dict[str, Any] | None:
    """Where a redirect rule sends the client (``location``) and with which status."""
    rd = route.redirect
    if rd is None:
        return None
    scheme = rd.scheme or request.scheme
    authority = rd.authority or request.host
    port = rd.port
    if rd.derive_port == "FROM_REQUEST_PORT":
        port = request.port
    if port is not None and not ((port == 80 and scheme == "http") or (port == 443 and scheme == "https")):
        authority = f"{authority}:{port}"
    path = rd.uri if rd.uri else request.path_only
    return {
        "status": rd.redirect_code or 301,
        "location": f"{scheme}://{authority}{path}",
    }


def direct_info(route: HTTPRoute) -> dict[str, Any] | None:
    """The fixed response of a ``directResponse`` rule."""
    dr = route.direct_response
    if dr is None:
        return None
    return {"status": dr.status, "body": dr.body}


def fault_info(route: HTTPRoute) -> dict[str, Any] | None:
    """Delay / abort injection of the rule; a missing percentage means every request."""
    f = route.fault
    if f is None or (f.delay is None and f.abort is None):
        return None
    out: dict[str, Any] = {}
    if f.delay is not None:
        out["delay"] = {
            "fixed_delay": f.delay.fixed_delay,
            "percentage": 100.0 if f.delay.percentage is None else f.delay.percentage,
        }
    if f.abort is not None:
        out["abort"] = {
            "http_status": f.abort.http_status,
            "grpc_status": f.abort.grpc_status,
            "percentage": 100.0 if f.abort.percentage is None else f.abort.percentage,
        }
    return out


def retries_info(route: HTTPRoute) -> dict[str, Any] | None:
    """The rule's retry policy, when written (otherwise the mesh default applies)."""
    r = route.retries
    if r is None:
        return None
    return {"attempts": r.attempts, "per_try_timeout": r.per_try_timeout, "retry_on": r.retry_on}
