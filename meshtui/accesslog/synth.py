"""Synthetic access-log lines and a small split mesh, for tests and load tests (pure data).

``istio_line`` writes one line in Istio's default TEXT format (``ISTIO_TEXT_FORMAT``) with the
fields a test cares about; ``demo_objects`` is a backend service split 90/10 between subsets
v0 and v1, with client pods, as raw Kubernetes/Istio objects for ``MeshIndex``.
"""

from __future__ import annotations

import time
from typing import Any

HOST = "backend-service.default.svc.cluster.local"


def istio_line(
    *,
    start: float,
    cluster: str,
    code: int = 200,
    flags: str = "-",
    method: str = "GET",
    path: str = "/",
    duration: int = 5,
    upstream_host: str = "10.244.0.17:8080",
    authority: str = "backend-service",
    route: str = "default",
    request_id: str = "-",
) -> str:
    """One access-log line in Istio's default TEXT format (``ISTIO_TEXT_FORMAT``)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)) + f".{int(start * 1000) % 1000:03d}Z"
    details = "via_upstream" if flags == "-" else "-"
    return (
        f'[{stamp}] "{method} {path} HTTP/1.1" {code} {flags} {details} - "-" 0 {120 + code % 7} '
        f'{duration} {max(0, duration - 1)} "-" "curl/8.5.0" "{request_id}" "{authority}" '
        f'"{upstream_host}" {cluster} 10.244.0.30:41234 10.96.0.20:80 10.244.0.30:52110 - {route}'
    )


def demo_objects(pods: int) -> list[dict[str, Any]]:
    """A service with subsets v0/v1 (90/10) and ``pods`` client pods plus two server pods."""
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend-service", "namespace": "default"},
         "spec": {"selector": {"app": "backend-service"}, "ports": [{"name": "http", "port": 80}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
         "metadata": {"name": "backend-service", "namespace": "default"},
         "spec": {"host": HOST, "subsets": [{"name": "v0", "labels": {"version": "v0"}},
                                            {"name": "v1", "labels": {"version": "v1"}}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
         "metadata": {"name": "backend-service", "namespace": "default"},
         "spec": {"hosts": ["backend-service"], "http": [{"name": "default", "route": [
             {"destination": {"host": "backend-service", "subset": "v0"}, "weight": 90},
             {"destination": {"host": "backend-service", "subset": "v1"}, "weight": 10}]}]}},
    ]
    names = [("backend-service-v0-a", {"app": "backend-service", "version": "v0"}),
             ("backend-service-v1-a", {"app": "backend-service", "version": "v1"})]
    names += [(f"client-{i}", {"app": "client"}) for i in range(pods)]
    for name, labels in names:
        objects.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": name, "namespace": "default", "labels": labels},
                        "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]},
                        "status": {"phase": "Running", "podIP": "10.244.0.30"}})
    return objects
