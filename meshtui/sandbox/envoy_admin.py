"""A simulated Envoy admin (port 15000) of one sandbox pod, spoken over a port-forward stream.

:class:`AdminConnection` parses HTTP/1.1 requests from the bytes a client writes into the
forwarded port and returns the response bytes. It answers ``GET /config_dump`` (``?include_eds``),
``GET /clusters`` (``?format=json``), ``GET /ready``, and 404 like Envoy for anything else.
The dump itself comes from :func:`build_config_dump`, the one place that turns the store into
Envoy configuration, so that a better generator can replace it in one spot.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import orjson

MAX_HEADER_BYTES = 64 * 1024
DOMAIN = "cluster.local"
T = "type.googleapis.com/"
_HTTP_PROTOCOLS = {"http", "http2", "grpc", "grpc-web", "h2c"}
_NON_HTTP = {"tcp", "tls", "https", "mongo", "redis", "mysql", "udp"}
_UNLIMITED = 4294967295
_HELP = (
    "invalid path. admin commands are:\n"
    "  /clusters: upstream cluster status\n"
    "  /config_dump: dump current Envoy configs (experimental)\n"
    "  /ready: print server state, return 200 if LIVE, otherwise return 503\n"
)
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            431: "Request Header Fields Too Large"}


_INDEX_CACHE: dict[int | None, tuple[int, Any]] = {}
_CACHE_LOCK = threading.Lock()
_TOKENS = itertools.count(1)
_STORE_TOKENS: dict[int, tuple[Any, int]] = {}


class Store(Protocol):
    """The part of the sandbox object store the generator reads."""

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        """One object by plural, namespace and name, or None."""

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        """Objects of one plural, all namespaces when ``namespace`` is None."""


class StoreSnapshot:
    """The objects a dump reads, listed on the loop thread and readable from any thread.

    Stored objects are never changed in place (a write stores a new dict), so holding the
    lists is a consistent snapshot, and generation can run in a worker thread without stalling
    the event loop on a big mesh.
    """

    KINDS: tuple[str, ...] = ("namespaces", "services", "pods", "endpoints", "configmaps", "destinationrules",
             "virtualservices", "gateways", "serviceentries", "sidecars",
             # Gateway API: istiod converts mesh (GAMMA) routes, and the routes a Gateway's
             # listeners accept, into Envoy routes.
             "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "referencegrants",
             "gateways.gateway.networking.k8s.io")

    def __init__(self, store: Store) -> None:
        # A token per live store object tells the index cache apart for two sandboxes in one
        # process (tests); the store itself is held so its id cannot be reused.
        with _CACHE_LOCK:
            held = _STORE_TOKENS.get(id(store))
            if held is None or held[0] is not store:
                held = _STORE_TOKENS[id(store)] = (store, next(_TOKENS))
        self.token = held[1]
        self.resource_version = getattr(store, "resource_version", None)
        self._lists = {kind: store.list(kind) for kind in self.KINDS}
        self._by_key: dict[str, dict[tuple[str, str], dict]] = {}

    def list(self, resource: str, namespace: str | None = None) -> list[dict]:
        """Objects of one kind, optionally of one namespace."""
        objs = self._lists.get(resource, [])
        if namespace:
            return [o for o in objs if _meta(o).get("namespace") == namespace]
        return list(objs)

    def get(self, resource: str, namespace: str, name: str) -> dict | None:
        """One object, or None."""
        index = self._by_key.get(resource)
        if index is None:
            index = self._by_key[resource] = {
                (_meta(o).get("namespace", ""), _meta(o).get("name", "")): o
                for o in self._lists.get(resource, [])}
        return index.get((namespace or "", name))


@dataclass(frozen=True)
class AdminRequest:
    """One parsed admin request; ``close`` when the client asked to close after it."""

    method: str
    target: str
    close: bool


class AdminConnection:
    """One TCP connection to a pod's Envoy admin: bytes in, requests out, responses back.

    :meth:`feed` runs on the event loop; :meth:`respond` is pure and may run in a worker thread.
    """

    def __init__(self, namespace: str, pod: str) -> None:
        self.namespace, self.pod = namespace, pod
        self._buf = b""
        self.closed = False  # set once a request said "connection: close" (or was malformed)

    def feed(self, data: bytes) -> list[AdminRequest | bytes]:
        """Consume client bytes; return the complete requests (or ready error responses)."""
        if self.closed:
            return []
        self._buf += data
        out: list[AdminRequest | bytes] = []
        while not self.closed:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > MAX_HEADER_BYTES:
                    out.append(self._error(431))
                break
            lines = self._buf[:end].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                key, sep, value = line.partition(":")
                if sep:
                    headers[key.strip().lower()] = value.strip()
            body_len = headers.get("content-length", "0")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not body_len.isdigit():
                out.append(self._error(400))
                break
            if len(self._buf) < end + 4 + int(body_len):
                break  # wait for the rest of the body (admin GETs have none)
            self._buf = self._buf[end + 4 + int(body_len):]
            conn = headers.get("connection", "").lower()
            close = conn == "close" or (parts[2] == "HTTP/1.0" and conn != "keep-alive")
            self.closed = close
            out.append(AdminRequest(parts[0], parts[1], close))
        return out

    def _error(self, status: int) -> bytes:
        self.closed = True
        return _response(status, b"", "text/plain", True)

    def respond(self, store: Store, req: AdminRequest) -> bytes:
        """The response bytes to one request, generated from ``store``."""
        url = urlsplit(req.target)
        query = parse_qs(url.query, keep_blank_values=True)
        if url.path not in ("/config_dump", "/clusters", "/ready"):
            return _response(404, _HELP.encode(), "text/plain", req.close)
        if req.method not in ("GET", "HEAD"):
            return _response(405, b"", "text/plain", req.close)
        if url.path == "/ready":
            return _response(200, b"LIVE\n", "text/plain", req.close)
        if url.path == "/config_dump":
            dump = build_config_dump(store, self.namespace, self.pod, "include_eds" in query)
            return _response(200, orjson.dumps(dump, option=orjson.OPT_INDENT_2),
                             "application/json", req.close)
        statuses = build_cluster_statuses(store, self.namespace, self.pod)
        if query.get("format") == ["json"]:
            return _response(200, orjson.dumps(statuses, option=orjson.OPT_INDENT_2),
                             "application/json", req.close)
        return _response(200, _clusters_text(statuses).encode(), "text/plain", req.close)


def _response(status: int, body: bytes, ctype: str, close: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
        f"content-type: {ctype}\r\ncache-control: no-cache, max-age=0\r\n"
        f"x-content-type-options: nosniff\r\ndate: {formatdate(usegmt=True)}\r\n"
        f"server: envoy\r\ncontent-length: {len(body)}\r\n"
        + ("connection: close\r\n" if close else "")
        + "\r\n"
    )
    return head.encode("latin-1") + body


# --- generation -------------------------------------------------------------------------------

def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _index(store: Store) -> Any:
    """The mesh index of a store snapshot; one per store resourceVersion, because a sidecar's
    admin is asked often (propagation polling) while the mesh changes rarely."""
    from meshtui.model.index import MeshIndex

    version = getattr(store, "resource_version", None)
    token = getattr(store, "token", None)
    with _CACHE_LOCK:
        cached = _INDEX_CACHE.get(token)
        if version is not None and cached is not None and cached[0] == version:
            return cached[1]
    index = MeshIndex([o for kind in StoreSnapshot.KINDS for o in store.list(kind)])
    if version is not None and token is not None:
        with _CACHE_LOCK:
            _INDEX_CACHE.clear()  # one live sandbox per process is the norm: keep one index
            _INDEX_CACHE[token] = (version, index)
    return index


def build_config_dump(store: Store, namespace: str, pod: str, include_eds: bool) -> dict:
    """The ``/config_dump`` of one pod's sidecar, generated from the mesh config by
    ``meshtui.envoy.generate`` (and labelled there as generated: this Envoy is simulated)."""
    from meshtui.envoy.generate import generate_config_dump

    return generate_config_dump(_index(store), namespace, pod, include_eds=include_eds)


def build_cluster_statuses(store: Store, namespace: str, pod: str) -> dict:
    """Envoy's ``/clusters?format=json`` answer for one pod's sidecar."""
    from meshtui.envoy.generate import generate_clusters

    return generate_clusters(_index(store), namespace, pod)


def _clusters_text(statuses: dict) -> str:
    lines = []
    for c in statuses["cluster_statuses"]:
        lines.append(f"{c['name']}::observability_name::{c['observability_name']}")
        lines.append(f"{c['name']}::added_via_api::true")
        for h in c["host_statuses"]:
            sa = h["address"]["socket_address"]
            prefix = f"{c['name']}::{sa['address']}:{sa['port_value']}"
            lines += [f"{prefix}::cx_active::0", f"{prefix}::rq_total::0",
                      f"{prefix}::health_flags::healthy", f"{prefix}::weight::1"]
    return "\n".join(lines) + ("\n" if lines else "")
