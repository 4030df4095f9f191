"""The text the simulated sidecars write: Istio's default TEXT access-log line, Envoy's
timestamps, cluster names and mirrored authorities."""

from __future__ import annotations

from datetime import datetime, timezone


def envoy_time(epoch: float) -> str:
    """``%START_TIME%`` as Envoy writes it by default: UTC, milliseconds, ``Z``."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def access_line(start: float, method: str, path: str, protocol: str, code: int, flags: str,
                details: str, received: int, sent: int, duration_ms: float, upstream_ms: float | None,
                xff: str, agent: str, request_id: str, authority: str, upstream_host: str,
                cluster: str, upstream_local: str, downstream_local: str, downstream_remote: str,
                server_name: str, route: str) -> str:
    """One line of Istio's default TEXT access-log format (``EnvoyTextLogFormat``)."""
    ust = "-" if upstream_ms is None else str(int(upstream_ms))
    return (f'[{envoy_time(start)}] "{method} {path} {protocol}" {code} {flags or "-"} {details} - "-" '
            f'{received} {sent} {int(duration_ms)} {ust} "{xff}" "{agent}" "{request_id}" '
            f'"{authority}" "{upstream_host}" {cluster} {upstream_local} {downstream_local} '
            f'{downstream_remote} {server_name} {route}')


def outbound_cluster(port: int | None, subset: str | None, host: str) -> str:
    """``outbound|<port>|<subset>|<host>``, the upstream cluster a caller logs."""
    return f"outbound|{port or ''}|{subset or ''}|{host}"


def shadow_authority(authority: str) -> str:
    """The authority Envoy gives a mirrored request: ``-shadow`` after the host, before a port."""
    host, sep, port = authority.rpartition(":")
    if sep and port.isdigit() and "]" not in port:
        return f"{host}-shadow:{port}"
    return f"{authority}-shadow"
