"""Pod port-forward over a websocket, in the kubelet's ``v4.channel.k8s.io`` channel protocol.

For the i-th requested port, channel ``2*i`` carries data and ``2*i+1`` errors; every frame
starts with its channel byte, and the first frame the server sends on each channel is the port
number as two little-endian bytes. This is what ``kubernetes.stream.portforward`` (the Python
client) and the kubelet speak. Only the admin port (15000) answers: Envoy's on a pod with an
``istio-proxy`` container, ztunnel's on a ztunnel pod (``meshtui.sandbox.ztunnel``); any other port gets the kubelet's "connection refused" error
on its error channel, as a real pod with nothing listening there would.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import WSMsgType, web

from meshtui.sandbox.envoy_admin import AdminConnection, AdminRequest, Store, StoreSnapshot
from meshtui.sandbox.ztunnel import ZtunnelAdminConnection, ZtunnelSnapshot, is_ztunnel

V4_PROTOCOL = "v4.channel.k8s.io"
ENVOY_ADMIN_PORT = 15000
SIDECAR = "istio-proxy"
_FRAME_BYTES = 32 * 1024  # the kubelet copies with 32 KiB buffers, so frames are at most this
_MAX_CLIENT_FRAME = 4 * 1024 * 1024


class PortError(ValueError):
    """A bad ``ports`` query parameter (the message is the kubelet's)."""


def parse_ports(values: list[str]) -> list[int]:
    """The ports of ``?ports=a,b&ports=c``, in order; PortError on a bad or missing one."""
    ports: list[int] = []
    for value in values:
        for text in value.split(","):
            text = text.strip()
            try:
                port = int(text)
            except ValueError:
                raise PortError(f'unable to parse "{text}" as a port: invalid syntax') from None
            if not 0 < port < 65536:
                raise PortError(f'port "{text}" must be > 0 and < 65536')
            ports.append(port)
    if not ports:
        raise PortError("at least one port must be specified")
    return ports


def has_sidecar(pod: dict) -> bool:
    """True when the pod runs Envoy: an ``istio-proxy`` container (or native sidecar)."""
    spec = pod.get("spec") or {}
    return any(c.get("name") == SIDECAR
               for c in (spec.get("containers") or []) + (spec.get("initContainers") or []))


def refused_message(pod: dict, port: int) -> str:
    """The kubelet's (containerd's) error text for a port nothing listens on."""
    uid = (pod.get("metadata") or {}).get("uid", "")
    netns = f"/var/run/netns/cni-{uid}"
    return (
        f"error forwarding port {port} to pod {uid}, uid : failed to execute portforward in "
        f'network namespace "{netns}": failed to connect to localhost:{port} inside namespace '
        f'"{uid}", IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused '
        f"IPv6 dial tcp6 [::1]:{port}: connect: connection refused "
    )


def is_upgrade(request: web.Request) -> bool:
    """True when the request asks for a websocket upgrade with a channel protocol we speak."""
    return web.WebSocketResponse(protocols=(V4_PROTOCOL,)).can_prepare(request).ok


async def serve_portforward(
    request: web.Request, store: Store, pod: dict, ports: list[int],
    sessions: set[web.WebSocketResponse] | None = None,
) -> web.WebSocketResponse:
    """Upgrade ``request`` and forward ``ports`` of ``pod`` until either side closes."""
    meta = pod.get("metadata") or {}
    ws = web.WebSocketResponse(protocols=(V4_PROTOCOL,), max_msg_size=_MAX_CLIENT_FRAME)
    await ws.prepare(request)
    if sessions is not None:
        sessions.add(ws)
    try:
        conns: dict[int, AdminConnection] = {}
        for i, port in enumerate(ports):
            header = port.to_bytes(2, "little")
            await ws.send_bytes(bytes((2 * i,)) + header)
            await ws.send_bytes(bytes((2 * i + 1,)) + header)
        for i, port in enumerate(ports):
            if port == ENVOY_ADMIN_PORT and is_ztunnel(pod):
                conns[i] = ZtunnelAdminConnection(meta.get("namespace", ""), meta.get("name", ""))
            elif port == ENVOY_ADMIN_PORT and has_sidecar(pod):
                conns[i] = AdminConnection(meta.get("namespace", ""), meta.get("name", ""))
            else:
                await ws.send_bytes(bytes((2 * i + 1,)) + refused_message(pod, port).encode())
        sent = 0
        if conns:
            sent = await _pump(ws, store, conns)
        if not ws.closed:
            # Every port is finished (refused, or Envoy answered "connection: close"). Let the
            # client take what was sent before the close: the Python client drops bytes it has
            # not yet handed to its socket when the websocket goes away, so wait for it to hang
            # up first, a little longer for bigger answers.
            await _linger(ws, 0.5 + sent / 1_000_000)
            await ws.close()
    finally:
        if sessions is not None:
            sessions.discard(ws)
    return ws


async def _pump(ws: web.WebSocketResponse, store: Store, conns: dict[int, AdminConnection]) -> int:
    """Feed client frames to the admin connections until all close; return bytes last sent."""
    loop = asyncio.get_running_loop()
    last = 0
    async for msg in ws:
        if msg.type == WSMsgType.BINARY:
            data: bytes = msg.data
        elif msg.type == WSMsgType.TEXT:
            data = msg.data.encode("utf-8")
        else:
            continue
        if len(data) < 2 or data[0] % 2:
            continue  # empty data, or a write to an error channel, which clients never send
        conn = conns.get(data[0] // 2)
        if conn is None:
            continue  # a refused or unknown port: the kubelet drops the bytes too
        last = 0
        for item in conn.feed(data[1:]):
            if isinstance(item, AdminRequest):
                # Snapshot on the loop (the store is loop-only), generate in a worker thread:
                # a dump of a scaled mesh takes long enough to stall every other client.
                snapshot = ZtunnelSnapshot(store) if isinstance(conn, ZtunnelAdminConnection) else StoreSnapshot(store)
                item = await loop.run_in_executor(None, conn.respond, snapshot, item)
            for off in range(0, len(item), _FRAME_BYTES):
                await ws.send_bytes(bytes((data[0],)) + item[off:off + _FRAME_BYTES])
            last += len(item)
        if conn.closed:
            del conns[data[0] // 2]
            if not conns:
                break
    return last


async def _linger(ws: web.WebSocketResponse, seconds: float) -> None:
    """Wait until the client closes the websocket, at most ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(seconds, 5.0)
    with contextlib.suppress(TimeoutError):
        while not ws.closed:
            msg = await ws.receive(timeout=max(0.01, deadline - loop.time()))
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED,
                            WSMsgType.ERROR):
                return
