"""Envoy's access-log response flags: short form, long form and a one-line meaning.

The short and long names are Envoy's own (``source/common/stream_info/utility.h``,
``ResponseFlagUtils::ALL_RESPONSE_STRINGS_FLAGS``); the meanings follow the
``%RESPONSE_FLAGS%`` section of Envoy's access-log documentation
(https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage).
Envoy joins several flags with ``,`` (``UT,URX``) and writes ``-`` when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResponseFlag:
    """One Envoy response flag: ``short`` as in the text log, ``long`` as with ``%RESPONSE_FLAGS_LONG%``."""

    short: str
    long: str
    meaning: str
    #: Whether the flag marks a failed request (counted as an error even with a non-5xx code).
    failure: bool = True


_FLAGS: tuple[ResponseFlag, ...] = (
    ResponseFlag("UH", "NoHealthyUpstream", "no healthy upstream hosts in the upstream cluster (503)"),
    ResponseFlag("UF", "UpstreamConnectionFailure", "upstream connection failure (503)"),
    ResponseFlag("UO", "UpstreamOverflow", "upstream overflow: circuit breaking (503)"),
    ResponseFlag("NR", "NoRouteFound", "no route configured for the request (404), or no matching filter chain"),
    ResponseFlag("URX", "UpstreamRetryLimitExceeded", "upstream retry limit (HTTP) or max connect attempts (TCP) reached"),
    ResponseFlag("NC", "NoClusterFound", "upstream cluster not found"),
    ResponseFlag("DT", "DurationTimeout", "request or connection exceeded max_connection_duration"),
    ResponseFlag("DC", "DownstreamConnectionTermination", "downstream connection terminated (client went away)"),
    ResponseFlag("LH", "FailedLocalHealthCheck", "local service failed its health check (503)"),
    ResponseFlag("UT", "UpstreamRequestTimeout", "upstream request timeout (504)"),
    ResponseFlag("LR", "LocalReset", "connection local reset (503)"),
    ResponseFlag("UR", "UpstreamRemoteReset", "upstream remote reset (503)"),
    ResponseFlag("UC", "UpstreamConnectionTermination", "upstream connection termination (503)"),
    ResponseFlag("DI", "DelayInjected", "request delayed by fault injection", failure=False),
    ResponseFlag("FI", "FaultInjected", "request aborted by fault injection with the configured code"),
    ResponseFlag("RL", "RateLimited", "rate limited locally by the HTTP rate limit filter (429)"),
    ResponseFlag("UAEX", "UnauthorizedExternalService", "denied by the external authorization service"),
    ResponseFlag("RLSE", "RateLimitServiceError", "rejected because of an error in the rate limit service"),
    ResponseFlag("IH", "InvalidEnvoyRequestHeaders", "invalid value in a strictly-checked request header (400)"),
    ResponseFlag("SI", "StreamIdleTimeout", "stream idle timeout (408 or 504)"),
    ResponseFlag("DPE", "DownstreamProtocolError", "the downstream request had an HTTP protocol error"),
    ResponseFlag("UPE", "UpstreamProtocolError", "the upstream response had an HTTP protocol error"),
    ResponseFlag("UMSDR", "UpstreamMaxStreamDurationReached", "the upstream request reached its max stream duration"),
    ResponseFlag("OM", "OverloadManagerTerminated", "terminated by the overload manager"),
    ResponseFlag("DF", "DnsResolutionFailed", "terminated because DNS resolution failed"),
    ResponseFlag("DO", "DropOverload", "dropped by the cluster's drop_overload policy (503)"),
    ResponseFlag("RFCF", "ResponseFromCacheFilter", "response served from the cache filter", failure=False),
    ResponseFlag("NFCF", "NoFilterConfigFound", "filter config not received within its warming deadline"),
)

#: Every known flag by short name and by long name.
RESPONSE_FLAGS: dict[str, ResponseFlag] = {f.short: f for f in _FLAGS}
RESPONSE_FLAGS_LONG: dict[str, ResponseFlag] = {f.long: f for f in _FLAGS}

#: Short and long names of the flags that mark a failed request.
FAILURE_FLAGS: frozenset[str] = frozenset(
    [f.short for f in _FLAGS if f.failure] + [f.long for f in _FLAGS if f.failure]
)


def all_flags() -> tuple[ResponseFlag, ...]:
    """Every known response flag, in Envoy's documentation order."""
    return _FLAGS


def split_flags(value: str | None) -> list[str]:
    """The individual flags of a ``%RESPONSE_FLAGS%`` value; ``-``, empty and ``None`` give []."""
    if not value or value == "-":
        return []
    return [part for part in value.split(",") if part and part != "-"]


def lookup(flag: str) -> ResponseFlag | None:
    """The flag with this short or long name, or ``None`` for one Envoy does not document."""
    return RESPONSE_FLAGS.get(flag) or RESPONSE_FLAGS_LONG.get(flag)


def describe(flag: str) -> str:
    """``UH (NoHealthyUpstream: no healthy upstream hosts ...)``; unknown flags are named as such."""
    info = lookup(flag)
    if info is None:
        return f"{flag} (unknown flag)"
    return f"{info.short} ({info.long}: {info.meaning})"


def has_failure(value: str | None) -> bool:
    """Whether a ``%RESPONSE_FLAGS%`` value holds a flag that marks a failed request.

    Unknown flags count as failures: Envoy only sets a flag when something went off the
    normal path, and hiding an error is worse than over-counting one.
    """
    if not value or value == "-":
        return False
    for part in value.split(","):
        if part in FAILURE_FLAGS:
            return True
        if part and part != "-" and lookup(part) is None:
            return True
    return False
