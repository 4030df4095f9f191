"""What a Prometheus needs from the sandbox, and what meshtui needs to find that Prometheus.

- ``GET /meshtui/v1/prometheus-sd``: the sandbox's pods as Prometheus HTTP service discovery
  (``http_sd_configs``) target groups, one per pod whose ``istio-proxy`` declares Istio's
  ``http-envoy-prom`` port, labelled with the ``__meta_kubernetes_*`` names that
  ``kubernetes_sd_configs`` (role ``pod``) gives, so one set of relabelling rules serves both
  (Debian's Prometheus is built without the Kubernetes discovery). Bearer-token protected like
  every API path.
- ``GET /api/v1/namespaces/NS/services/NAME[:PORT]/proxy/PATH``: the API server's service proxy,
  for Services given an upstream with ``expose`` (a real Prometheus on 127.0.0.1, say); any
  other Service answers 503 "no endpoints available", as a Service without ready pods does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from meshtui.sandbox.kinds import BY_PLURAL
from meshtui.sandbox.store import StoreError, not_found

SD_PATH = "/meshtui/v1/prometheus-sd"
SERVICE_PROXY_PATH = "/api/v1/namespaces/{namespace}/services/{name}/proxy/{path:.*}"
_UPSTREAMS = web.AppKey("service_upstreams", dict)
#: Seconds a proxied request may take (Prometheus queries are bounded well below this).
_PROXY_TIMEOUT_S = 30.0
_LABEL_CHARS = re.compile(r"[^a-zA-Z0-9_]")


def add_prometheus_routes(app: web.Application) -> None:
    """Register the discovery endpoint and the service proxy on ``app`` (before the API's routes)."""
    app[_UPSTREAMS] = {}
    app.router.add_get(SD_PATH, prometheus_sd)
    app.router.add_get(SERVICE_PROXY_PATH, service_proxy)


def expose(app: web.Application, namespace: str, name: str, upstream: str) -> None:
    """Proxy Service ``namespace/name`` to ``upstream`` (an ``http://127.0.0.1:PORT`` URL)."""
    parts = urlsplit(upstream)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"{upstream}: the sandbox proxies only to http(s)://127.0.0.1 addresses")
    app[_UPSTREAMS][(namespace, name)] = upstream.rstrip("/")


def _label(name: str) -> str:
    return _LABEL_CHARS.sub("_", name)


def sd_groups(pods: list[dict[str, Any]], address: str) -> list[dict[str, Any]]:
    """HTTP SD target groups (``[{"targets": [...], "labels": {...}}]``) for ``pods``."""
    groups = []
    for pod in pods:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        for container in spec.get("containers") or []:
            for port in container.get("ports") or []:
                port_name = str(port.get("name") or "")
                if not port_name.endswith("-envoy-prom"):
                    continue
                labels = {
                    "__meta_kubernetes_namespace": str(meta.get("namespace", "")),
                    "__meta_kubernetes_pod_name": str(meta.get("name", "")),
                    "__meta_kubernetes_pod_container_name": str(container.get("name", "")),
                    "__meta_kubernetes_pod_container_port_name": port_name,
                    "__meta_kubernetes_pod_container_port_number": str(port.get("containerPort", "")),
                    "__meta_kubernetes_pod_phase": str((pod.get("status") or {}).get("phase", "")),
                }
                for key, value in (meta.get("labels") or {}).items():
                    labels[f"__meta_kubernetes_pod_label_{_label(key)}"] = str(value)
                groups.append({"targets": [address], "labels": labels})
    return groups


async def prometheus_sd(request: web.Request) -> web.Response:
    """``GET /meshtui/v1/prometheus-sd``: every sidecar's metrics target (see the module docstring)."""
    pods = request.app["store"].list("pods")
    return web.json_response(sd_groups(pods, request.host))


def _status(err: StoreError) -> web.Response:
    return web.json_response(err.status(), status=err.code)


async def service_proxy(request: web.Request) -> web.StreamResponse:
    """``GET .../services/{name}[:port]/proxy/{path}``: forward to the Service's exposed upstream."""
    ns, target = request.match_info["namespace"], request.match_info["name"]
    parts = target.split(":")
    name = parts[1] if len(parts) == 3 else parts[0]  # scheme:name:port or name[:port]
    if request.app["store"].get("services", ns, name) is None:
        return _status(not_found(BY_PLURAL["services"], name))
    upstream = request.app[_UPSTREAMS].get((ns, name))
    if upstream is None:
        return _status(StoreError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"'))
    url = f"{upstream}/{request.match_info['path']}"
    timeout = aiohttp.ClientTimeout(total=_PROXY_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(url, params=list(request.query.items())) as resp:
                body = await resp.read()
                return web.Response(status=resp.status, body=body,
                                    content_type=resp.content_type or "application/octet-stream")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return _status(StoreError(503, "ServiceUnavailable",
                                  f"error trying to reach service: {exc or type(exc).__name__}"))
