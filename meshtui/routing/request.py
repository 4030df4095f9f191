"""The request a trace follows: host, path, method, headers, where it comes from and enters.

``TraceRequest`` is built once (by the CLI, the Trace screen or the traffic simulator) and is
read-only afterwards. Header names are stored lower-case, as HTTP/2 and Envoy see them; the
pseudo-headers ``:authority``, ``:method``, ``:path`` and ``:scheme`` are derived from the
request line so that matches on them work like any other header.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

MESH = "mesh"


class RequestError(ValueError):
    """A request description that cannot be traced (bad header, port, labels)."""


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True, slots=True)
class TraceRequest:
    """One HTTP request as a client (or a gateway) would send it."""

    host: str
    path: str = "/"
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=lambda: _frozen(None))
    source_labels: Mapping[str, str] = field(default_factory=lambda: _frozen(None))
    source_namespace: str | None = None
    gateway: str = MESH
    port: int | None = None
    scheme: str = "http"
    # The Service the client actually connects to, when the Host header names something else
    # (e.g. curl -H 'Host: catalog.example.io' http://catalog). None: derived from ``host``.
    service: str | None = None
    # The Host header exactly as sent, when it names something other than what is dialled
    # (``10.22.12.178:30785`` through a proxy that forwards its caller's Host). Its port is the
    # caller's business; the port that picks the listener is the dialled one, ``port``.
    host_header: str | None = None

    @classmethod
    def build(
        cls,
        host: str,
        path: str = "/",
        method: str = "GET",
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        source_labels: Mapping[str, str] | None = None,
        source_namespace: str | None = None,
        gateway: str | None = None,
        port: int | None = None,
        scheme: str = "http",
        service: str | None = None,
    ) -> "TraceRequest":
        """Normalise and validate: lower-case host and header names, a port taken from
        ``host:port`` when none is given, a path that starts with ``/``.

        A ``Host`` (or ``:authority``) header different from ``host`` is read as curl reads it:
        the request carries that Host header while the client dials ``host`` (the ``service``).
        """
        items = list(headers.items() if isinstance(headers, Mapping) else (headers or []))
        # curl -H 'Host: x' http://svc: the Host header names x, the connection goes to svc.
        explicit = [v for k, v in items if k.strip().lower() in ("host", ":authority")]
        host_header: str | None = None
        if explicit and explicit[-1].strip() and explicit[-1].strip() != host:
            if host:
                dialled_name, dialled_port = split_host_port(host.strip())
                if service is None:
                    service = dialled_name
                if port is None:
                    port = dialled_port  # the listener is the dialled port, not the Host's
            host_header = host = explicit[-1].strip()
        raw_host = (host or "").strip()
        if not raw_host:
            raise RequestError("a host is required")
        name, host_port = split_host_port(raw_host)
        if port is None and host_header is None:
            port = host_port
        if port is not None and not 0 < port < 65536:
            raise RequestError(f"port {port} is outside 1..65535")
        if not path:
            path = "/"
        if not path.startswith("/"):
            raise RequestError(f"path {path!r} must start with '/'")
        hdrs: dict[str, str] = {}
        for key, value in items:
            key = key.strip().lower()
            if not key:
                raise RequestError("a header needs a name")
            hdrs[key] = value
        # The Host header became ``host`` above; :authority is derived from it.
        hdrs.pop("host", None)
        hdrs.pop(":authority", None)
        return cls(
            host=name.lower(),
            path=path,
            method=(method or "GET").upper(),
            headers=_frozen(hdrs),
            source_labels=_frozen(source_labels),
            source_namespace=source_namespace or None,
            gateway=gateway or MESH,
            port=port,
            scheme=scheme,
            service=service,
            host_header=host_header,
        )

    @property
    def authority(self) -> str:
        """The ``:authority`` the client sends (host, with the port when one was given)."""
        if self.host_header is not None:
            return self.host_header
        return f"{self.host}:{self.port}" if self.port is not None and self.port not in (80, 443) else self.host

    @property
    def path_only(self) -> str:
        """The path without its query string (what URI matches compare against)."""
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> str:
        """The raw query string, without ``?``."""
        return self.path.split("?", 1)[1] if "?" in self.path else ""

    def query_params(self) -> dict[str, str]:
        """Query parameters, first value of each name, not percent-decoded (as Envoy matches)."""
        out: dict[str, str] = {}
        for part in self.query.split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            out.setdefault(key, value)
        return out

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name, pseudo-headers included; None if absent."""
        key = name.lower()
        if key in (":authority", "host"):
            return self.authority
        if key == ":method":
            return self.method
        if key == ":path":
            return self.path
        if key == ":scheme":
            return self.scheme
        return self.headers.get(key)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description of the request."""
        return {
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "method": self.method,
            "headers": dict(self.headers),
            "source_labels": dict(self.source_labels),
            "source_namespace": self.source_namespace,
            "gateway": self.gateway,
            "service": self.service,
            "host_header": self.host_header,
        }


def split_host_port(host: str) -> tuple[str, int | None]:
    """``'a.b:8080'`` -> ``('a.b', 8080)``; a host without a port gives ``None``."""
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        if not port.isdigit():
            raise RequestError(f"host {host!r}: port {port!r} is not a number")
        return name, int(port)
    return host, None


def parse_header(text: str) -> tuple[str, str]:
    """``'x-canary: true'`` -> ``('x-canary', 'true')``, as curl's ``-H`` takes it.

    A leading colon belongs to a pseudo-header name (``:authority: x``).
    """
    start = 1 if text.startswith(":") else 0
    colon = text.find(":", start)
    if colon < 0:
        raise RequestError(f"header {text!r} has no ':' (expected 'name: value')")
    name = text[:colon].strip()
    if not name or name == ":":
        raise RequestError(f"header {text!r} has no name")
    return name, text[colon + 1 :].strip()


def parse_labels(text: str) -> dict[str, str]:
    """``'app=curl,version=v1'`` -> a label dict; empty text gives ``{}``."""
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise RequestError(f"label {part!r} is not key=value")
        out[key.strip()] = value.strip()
    return out
