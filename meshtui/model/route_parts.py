"""The parts routes are built from: string matches, destinations, headers, and the HTTP
policies (redirect, rewrite, retries, fault, CORS...). Read tolerantly from raw mappings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from meshtui.model.base import (
    as_bool, as_dict, as_float, as_int, as_labels, as_list, as_str, as_strs, percentage,
)

StringMatchKind = Literal["exact", "prefix", "regex", "present"]


@dataclass(frozen=True, slots=True)
class StringMatch:
    """One string condition. ``kind`` is exact/prefix/regex; an empty ``{}`` in Istio means
    "any value" (for headers: the header is present) and reads as kind ``present``."""

    kind: StringMatchKind
    value: str

    @classmethod
    def parse(cls, raw: Any) -> StringMatch | None:
        """Read ``{exact|prefix|regex: value}``; None when not a mapping."""
        if not isinstance(raw, dict):
            return None
        for kind in ("exact", "prefix", "regex"):
            if kind in raw:
                return cls(kind, as_str(raw[kind]) or "")
        return cls("present", "")

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.kind != "present" else "present"


def string_matches(raw: Any) -> dict[str, StringMatch]:
    """A ``map<string, StringMatch>`` (headers, queryParams, withoutHeaders)."""
    out: dict[str, StringMatch] = {}
    for key, value in as_dict(raw).items():
        match = StringMatch.parse(value if value is not None else {})
        if match is not None and isinstance(key, str):
            out[key] = match
    return out


@dataclass(frozen=True, slots=True)
class Destination:
    """Where traffic goes: a host (as written), an optional subset and port."""

    host: str
    subset: str | None
    port: int | None

    @classmethod
    def parse(cls, raw: Any) -> Destination:
        """Read a ``Destination`` mapping (tolerant)."""
        d = as_dict(raw)
        return cls(as_str(d.get("host")) or "", as_str(d.get("subset")),
                   as_int(as_dict(d.get("port")).get("number")))


@dataclass(frozen=True, slots=True)
class HeaderOperations:
    """set / add / remove of one direction of ``Headers``."""

    set: dict[str, str]
    add: dict[str, str]
    remove: list[str]

    @classmethod
    def parse(cls, raw: Any) -> HeaderOperations:
        """Read a ``HeaderOperations`` mapping."""
        d = as_dict(raw)
        return cls(as_labels(d.get("set")), as_labels(d.get("add")), as_strs(d.get("remove")))


@dataclass(frozen=True, slots=True)
class Headers:
    """Header manipulation for requests and responses."""

    request: HeaderOperations
    response: HeaderOperations

    @classmethod
    def parse(cls, raw: Any) -> Headers | None:
        """Read a ``Headers`` mapping; None when absent."""
        if not isinstance(raw, dict):
            return None
        return cls(HeaderOperations.parse(raw.get("request")), HeaderOperations.parse(raw.get("response")))


@dataclass(frozen=True, slots=True)
class HTTPRedirect:
    """A redirect response instead of forwarding."""

    uri: str | None
    authority: str | None
    port: int | None
    derive_port: str | None
    scheme: str | None
    redirect_code: int | None  # None means Istio's default, 301


@dataclass(frozen=True, slots=True)
class HTTPDirectResponse:
    """A fixed response instead of forwarding; ``body`` is the string or base64 bytes form."""

    status: int | None
    body: str | None


@dataclass(frozen=True, slots=True)
class HTTPRewrite:
    """URI / authority rewrite before forwarding."""

    uri: str | None
    authority: str | None
    uri_regex_match: str | None
    uri_regex_rewrite: str | None


@dataclass(frozen=True, slots=True)
class HTTPRetry:
    """Retry policy."""

    attempts: int | None
    per_try_timeout: str | None
    retry_on: str | None
    retry_remote_localities: bool | None


@dataclass(frozen=True, slots=True)
class FaultDelay:
    """Injected delay; ``percentage`` None means every request (Istio's default 100%)."""

    fixed_delay: str | None
    percentage: float | None


@dataclass(frozen=True, slots=True)
class FaultAbort:
    """Injected abort with an HTTP status (or gRPC status)."""

    http_status: int | None
    grpc_status: str | None
    percentage: float | None


@dataclass(frozen=True, slots=True)
class HTTPFaultInjection:
    """Fault injection: a delay, an abort, or both."""

    delay: FaultDelay | None
    abort: FaultAbort | None


@dataclass(frozen=True, slots=True)
class HTTPMirrorPolicy:
    """One entry of ``mirrors``; ``percentage`` None means 100%."""

    destination: Destination
    percentage: float | None


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """CORS policy of a route."""

    allow_origins: list[StringMatch]
    allow_methods: list[str]
    allow_headers: list[str]
    expose_headers: list[str]
    max_age: str | None
    allow_credentials: bool | None


def parse_redirect(raw: Any) -> HTTPRedirect | None:
    """Read a ``HTTPRedirect`` mapping; None when absent."""
    if not isinstance(raw, dict):
        return None
    return HTTPRedirect(as_str(raw.get("uri")), as_str(raw.get("authority")), as_int(raw.get("port")),
                        as_str(raw.get("derivePort")), as_str(raw.get("scheme")),
                        as_int(raw.get("redirectCode")))


def parse_direct_response(raw: Any) -> HTTPDirectResponse | None:
    """Read a ``HTTPDirectResponse`` mapping; None when absent."""
    if not isinstance(raw, dict):
        return None
    body = as_dict(raw.get("body"))
    return HTTPDirectResponse(as_int(raw.get("status")), as_str(body.get("string")) or as_str(body.get("bytes")))


def parse_rewrite(raw: Any) -> HTTPRewrite | None:
    """Read a ``HTTPRewrite`` mapping; None when absent."""
    if not isinstance(raw, dict):
        return None
    regex = as_dict(raw.get("uriRegexRewrite"))
    return HTTPRewrite(as_str(raw.get("uri")), as_str(raw.get("authority")),
                       as_str(regex.get("match")), as_str(regex.get("rewrite")))


def parse_retries(raw: Any) -> HTTPRetry | None:
    """Read a ``HTTPRetry`` mapping; None when absent."""
    if not isinstance(raw, dict):
        return None
    return HTTPRetry(as_int(raw.get("attempts")), as_str(raw.get("perTryTimeout")),
                     as_str(raw.get("retryOn")), as_bool(raw.get("retryRemoteLocalities")))


def parse_fault(raw: Any) -> HTTPFaultInjection | None:
    """Read a ``HTTPFaultInjection`` mapping; None when absent."""
    if not isinstance(raw, dict):
        return None
    delay = abort = None
    if isinstance(raw.get("delay"), dict):
        d = raw["delay"]
        pct = percentage(d.get("percentage"))
        delay = FaultDelay(as_str(d.get("fixedDelay")), pct if pct is not None else as_float(d.get("percent")))
    if isinstance(raw.get("abort"), dict):
        a = raw["abort"]
        abort = FaultAbort(as_int(a.get("httpStatus")), as_str(a.get("grpcStatus")), percentage(a.get("percentage")))
    return HTTPFaultInjection(delay, abort)


def parse_cors(raw: Any) -> CorsPolicy | None:
    """Read a ``CorsPolicy`` mapping; None when absent."""
    if not isinstance(raw, dict):
        return None
    origins = [m for m in (StringMatch.parse(o) for o in as_list(raw.get("allowOrigins"))) if m]
    # Deprecated allowOrigin: a list of exact origins.
    origins += [StringMatch("exact", o) for o in as_strs(raw.get("allowOrigin"))]
    return CorsPolicy(origins, as_strs(raw.get("allowMethods")), as_strs(raw.get("allowHeaders")),
                      as_strs(raw.get("exposeHeaders")), as_str(raw.get("maxAge")),
                      as_bool(raw.get("allowCredentials")))
