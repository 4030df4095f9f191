"""The pod subresources of the sandbox API: ``log`` (with ``follow``), ``portforward`` and
``proxy`` to the sidecar's Istio metrics (``NAME:15020/proxy/stats/prometheus``).

``add_pod_routes(app)`` registers both on the sandbox's aiohttp application. It expects the
object store at ``app["store"]`` (read on the loop thread) and keeps the container logs at
``app["logs"]`` (a :class:`LogHub`, created here unless one is already there) and the sidecars'
counters at ``app["istio_stats"]`` (an :class:`IstioStats`, likewise).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from aiohttp import web

from meshtui.sandbox.istio_stats import IstioStats
from meshtui.sandbox.kinds import BY_PLURAL
from meshtui.sandbox.loghub import LogEntry, LogHub
from meshtui.sandbox.portforward import PortError, is_upgrade, parse_ports, serve_portforward
from meshtui.sandbox.store import StoreError, not_found

LOG_PATH = "/api/v1/namespaces/{namespace}/pods/{name}/log"
PORTFORWARD_PATH = "/api/v1/namespaces/{namespace}/pods/{name}/portforward"
PROXY_PATH = "/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path:.*}"
#: The pilot-agent port whose ``/stats/prometheus`` serves Istio's merged metrics.
STATS_PORT = 15020
_FOLLOW_POLL_SECONDS = 1.0  # how often an idle follow checks that its client is still there
_SESSIONS = web.AppKey("portforward_sessions", dict)
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def add_pod_routes(app: web.Application) -> None:
    """Register ``GET .../pods/{name}/log`` and ``GET .../pods/{name}/portforward`` on ``app``."""
    if "logs" not in app:
        app["logs"] = LogHub()
    if "istio_stats" not in app:
        app["istio_stats"] = IstioStats()
    app[_SESSIONS] = {}
    app.router.add_get(PROXY_PATH, pod_proxy)
    app.router.add_get(LOG_PATH, pod_log)
    app.router.add_get(PORTFORWARD_PATH, pod_portforward)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)


async def _on_startup(app: web.Application) -> None:
    hub: LogHub = app["logs"]
    hub.bind(asyncio.get_running_loop())
    store = app.get("store")
    if store is None:
        return
    sessions: dict[tuple[str, str], set[web.WebSocketResponse]] = app[_SESSIONS]
    closing: set[asyncio.Task[Any]] = set()

    def on_event(event_type: str, obj: dict[str, Any]) -> None:
        # A deleted pod ends its log streams and port-forwards, as the kubelet's would.
        if event_type != "DELETED" or obj.get("kind") != "Pod":
            return
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace", ""), meta.get("name", ""))
        hub.close_pod(*key)
        app["istio_stats"].forget(*key)
        for ws in sessions.pop(key, set()):
            task = asyncio.get_running_loop().create_task(ws.close())
            closing.add(task)
            task.add_done_callback(closing.discard)

    store.add_listener(on_event)


async def _on_shutdown(app: web.Application) -> None:
    # Open follows and port-forwards would otherwise hold the server's graceful shutdown open.
    app["logs"].close_all()
    sessions = [ws for group in app[_SESSIONS].values() for ws in group]
    app[_SESSIONS].clear()
    await asyncio.gather(*(ws.close() for ws in sessions), return_exceptions=True)


def _status(err: StoreError) -> web.Response:
    return web.json_response(err.status(), status=err.code)


def _bad_request(message: str) -> StoreError:
    return StoreError(400, "BadRequest", message)


def _invalid(name: str, field: str, value: Any, detail: str) -> StoreError:
    msg = f"Invalid value: {value}: {detail}"
    return StoreError(422, "Invalid", f'PodLogOptions "{name}" is invalid: {field}: {msg}',
                      {"name": name, "kind": "PodLogOptions",
                       "causes": [{"reason": "FieldValueInvalid", "message": msg,
                                   "field": field}]})


def _get_pod(request: web.Request) -> dict[str, Any]:
    ns, name = request.match_info["namespace"], request.match_info["name"]
    pod = request.app["store"].get("pods", ns, name)
    if pod is None:
        raise not_found(BY_PLURAL["pods"], name)
    return pod


def _names(containers: list[dict[str, Any]] | None) -> list[str]:
    return [str(c.get("name")) for c in containers or []]


def resolve_container(pod: dict[str, Any], container: str) -> str:
    """The container a log request means, or the API server's 400 (StoreError) if unclear."""
    spec = pod.get("spec") or {}
    name = (pod.get("metadata") or {}).get("name", "")
    main, init = _names(spec.get("containers")), _names(spec.get("initContainers"))
    ephemeral = _names(spec.get("ephemeralContainers"))
    if not container:
        if len(main) == 1:
            return main[0]
        if not main:
            raise _bad_request(f"a container name must be specified for pod {name}")
        msg = f"a container name must be specified for pod {name}, choose one of: [{' '.join(main)}]"
        if init:
            msg += f" or one of the init containers: [{' '.join(init)}]"
        if ephemeral:
            msg += f" or one of the ephemeral containers: [{' '.join(ephemeral)}]"
        raise _bad_request(msg)
    if container not in main + init + ephemeral:
        raise _bad_request(f"container {container} is not valid for pod {name}")
    return container


def _bool(query: Any, key: str) -> bool:
    value = query.get(key)
    if value is None or value in _FALSE or value == "":
        return False
    if value in _TRUE:
        return True
    raise _bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _int(query: Any, key: str) -> int | None:
    value = query.get(key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise _bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


class LogOptions:
    """The parsed and validated query of a pod log request (``PodLogOptions``)."""

    def __init__(self, pod: dict[str, Any], query: Any) -> None:
        name = (pod.get("metadata") or {}).get("name", "")
        self.container = resolve_container(pod, query.get("container", ""))
        self.follow = _bool(query, "follow")
        self.timestamps = _bool(query, "timestamps")
        self.tail_lines = _int(query, "tailLines")
        self.limit_bytes = _int(query, "limitBytes")
        since_seconds = _int(query, "sinceSeconds")
        since_time = query.get("sinceTime")
        if self.tail_lines is not None and self.tail_lines < 0:
            raise _invalid(name, "tailLines", self.tail_lines,
                           "must be greater than or equal to 0")
        if self.limit_bytes is not None and self.limit_bytes < 1:
            raise _invalid(name, "limitBytes", self.limit_bytes, "must be greater than 0")
        if since_seconds is not None and since_seconds < 1:
            raise _invalid(name, "sinceSeconds", since_seconds, "must be greater than 0")
        if since_seconds is not None and since_time is not None:
            raise StoreError(422, "Invalid", f'PodLogOptions "{name}" is invalid: '
                             "sinceSeconds: Forbidden: at most one of `sinceTime` or "
                             "`sinceSeconds` may be specified", {"name": name,
                                                                "kind": "PodLogOptions"})
        self.since: float | None = None
        if since_seconds is not None:
            self.since = time.time() - since_seconds
        elif since_time is not None:
            try:
                self.since = datetime.fromisoformat(since_time).timestamp()
            except ValueError:
                raise _bad_request(f'parsing time "{since_time}" as "2006-01-02T15:04:05Z07:00":'
                                   " cannot parse") from None
        if _bool(query, "previous"):
            raise _bad_request(f'previous terminated container "{self.container}" in pod '
                               f'"{name}" not found')


def rfc3339_nano(ts: float) -> str:
    """A timestamp the way the kubelet prefixes log lines (RFC 3339, nine fraction digits)."""
    # A float of epoch seconds holds microseconds exactly, not nanoseconds: print the
    # microseconds and pad, rather than inventing digits from rounding noise.
    sec = int(ts)
    micros = round((ts - sec) * 1e6)
    if micros >= 1_000_000:
        sec, micros = sec + 1, micros - 1_000_000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{micros:06d}000Z"


def _render(entries: list[LogEntry], timestamps: bool) -> bytes:
    if timestamps:
        text = "".join(f"{rfc3339_nano(ts)} {line}\n" for ts, line in entries)
    else:
        text = "".join(f"{line}\n" for _ts, line in entries)
    return text.encode("utf-8", "replace")


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def pod_proxy(request: web.Request) -> web.Response:
    """``GET .../pods/{name}:15020/proxy/stats/prometheus``: the sidecar's Istio metrics.

    The only proxied endpoint the simulated pods serve; any other port or path is a 503/404,
    as the API server reports a pod that does not listen there.
    """
    ns, target = request.match_info["namespace"], request.match_info["name"]
    name, _, port = target.partition(":")
    pod = request.app["store"].get("pods", ns, name)
    if pod is None:
        return _status(not_found(BY_PLURAL["pods"], name))
    if port != str(STATS_PORT):
        return _status(StoreError(503, "ServiceUnavailable",
                                  f"error trying to reach service: dial tcp {name}:{port or 80}: connection refused"))
    if request.match_info["path"] != "stats/prometheus":
        return web.Response(status=404, text="404 page not found\n")
    text = request.app["istio_stats"].exposition(ns, name)
    return web.Response(text=text, content_type="text/plain", charset="utf-8",
                        headers={"X-Prometheus-Exposition-Format": "0.0.4"})


async def pod_log(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/namespaces/{ns}/pods/{name}/log``: a container's log as chunked text."""
    try:
        pod = _get_pod(request)
        opts = LogOptions(pod, request.query)
    except StoreError as err:
        return _status(err)
    ns, name = request.match_info["namespace"], request.match_info["name"]
    hub: LogHub = request.app["logs"]
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    budget = opts.limit_bytes
    try:
        if opts.follow:
            batches = hub.follow(ns, name, opts.container, opts.tail_lines, opts.since,
                                 poll=_FOLLOW_POLL_SECONDS)
            try:
                async for batch in batches:
                    if not batch:
                        if _gone(request):
                            break
                        continue
                    data = _render(batch, opts.timestamps)
                    if budget is not None:
                        data, budget = data[:budget], budget - len(data)
                    await resp.write(data)
                    if budget is not None and budget <= 0:
                        break
            finally:
                await batches.aclose()
        else:
            data = _render(hub.read(ns, name, opts.container, opts.tail_lines, opts.since),
                           opts.timestamps)
            await resp.write(data if budget is None else data[:budget])
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away mid-stream; there is nobody left to answer
    return resp


async def pod_portforward(request: web.Request) -> web.StreamResponse:
    """``GET /api/v1/namespaces/{ns}/pods/{name}/portforward``: the websocket port-forward."""
    try:
        pod = _get_pod(request)
        ports = parse_ports(request.query.getall("ports", []))
    except StoreError as err:
        return _status(err)
    except PortError as err:
        return _status(_bad_request(str(err)))
    if not is_upgrade(request):
        return _status(_bad_request("Upgrade request required"))
    key = (request.match_info["namespace"], request.match_info["name"])
    sessions = request.app[_SESSIONS].setdefault(key, set())
    return await serve_portforward(request, request.app["store"], pod, ports, sessions)
