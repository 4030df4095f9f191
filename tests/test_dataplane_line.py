"""The browser line saying how a service's traffic is handled: sidecar, ambient L4, or a waypoint."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

from meshtui.model.index import MeshIndex
from meshtui.views.dataplane_line import dataplane_line


def _ns(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _svc(name: str, ns: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80}]}}


def _pod(name: str, ns: str, app: str, *, sidecar: bool = False, labels: dict[str, str] | None = None,
         ready: bool = True) -> dict[str, Any]:
    containers = [{"name": "app"}] + ([{"name": "istio-proxy"}] if sidecar else [])
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": app, **(labels or {})}},
            "spec": {"containers": containers},
            "status": {"podIP": "10.0.0.9", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _waypoint(name: str, ns: str, ready: bool = True) -> dict[str, Any]:
    gw: dict[str, Any] = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                          "metadata": {"name": name, "namespace": ns},
                          "spec": {"gatewayClassName": "istio-waypoint",
                                   "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}}
    if ready:
        gw["status"] = {"addresses": [{"type": "Hostname", "value": f"{name}.{ns}.svc.cluster.local"}]}
    return gw


def _line(objs: list[dict[str, Any]], ns: str, name: str) -> str:
    index = MeshIndex(objs)
    svc = index.get("Service", ns, name)
    assert svc is not None
    return dataplane_line(index, svc)


def test_sidecar_ambient_l4_and_waypoint_lines() -> None:
    objs = [_ns("old", {"istio-injection": "enabled"}), _svc("web", "old"), _pod("web-1", "old", "web", sidecar=True),
            _ns("amb", {"istio.io/dataplane-mode": "ambient"}), _svc("l4", "amb"), _pod("l4-1", "amb", "l4"),
            _svc("l7", "amb", {"istio.io/use-waypoint": "wp"}), _pod("l7-1", "amb", "l7"), _waypoint("wp", "amb"),
            _pod("wp-1", "amb", "wp", labels={"gateway.networking.k8s.io/gateway-name": "wp",
                                               "istio.io/dataplane-mode": "none"})]
    assert _line(objs, "old", "web") == "sidecar (Envoy in every pod)"
    assert _line(objs, "amb", "l4") == "ambient, L4 only (ztunnel), no waypoint"
    assert _line(objs, "amb", "l7") == "ambient via waypoint amb/wp (ready 1/1)"


def test_a_waypoint_that_is_not_ready_leaves_l4_only_and_says_why() -> None:
    objs = [_ns("amb", {"istio.io/dataplane-mode": "ambient"}), _svc("l7", "amb", {"istio.io/use-waypoint": "wp"}),
            _pod("l7-1", "amb", "l7"), _waypoint("wp", "amb", ready=False)]
    assert _line(objs, "amb", "l7") == 'ambient, L4 only (ztunnel), no waypoint (waypoint "amb/wp" is not ready)'


def test_mixed_and_unmeshed_services() -> None:
    objs = [_ns("plain", {}), _svc("mix", "plain"), _pod("a", "plain", "mix", sidecar=True),
            _pod("b", "plain", "mix", labels={"istio.io/dataplane-mode": "ambient"}),
            _svc("bare", "plain"), _pod("c", "plain", "bare")]
    assert _line(objs, "plain", "mix") == "mixed data planes: 1 ambient, 1 sidecar"
    assert _line(objs, "plain", "bare") == "not in the mesh (no sidecar, not captured by ztunnel)"


async def test_mesh_screen_shows_the_line_for_the_demo_ambient_service(tmp_path: Path) -> None:
    from test_screen_mesh import files_app, select_service
    from textual.widgets import Static
    from ui_helpers import wait_for

    demo = tmp_path / "demo"
    shutil.copytree(Path(str(files("meshtui.demo"))), demo, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    app = files_app(demo)
    async with app.run_test(size=(200, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await select_service(pilot, app, "shop", "stock")
        title = str(app.screen.query_one("#detail-title", Static).render())
        assert "ambient, L4 only (ztunnel), no waypoint" in title


def test_a_gateways_own_service_says_its_pods_are_the_gateway_proxy_not_sidecars() -> None:
    # Istio's ingress gateway pods run Envoy alone (``proxy router``); a Gateway API Gateway's
    # pods carry its name label. Neither has a sidecar.
    ingress = _pod("ingress-1", "istio-system", "ingress", labels={"istio": "ingressgateway"})
    ingress["spec"]["containers"] = [{"name": "istio-proxy", "args": ["proxy", "router"]}]
    gapi = [_pod(f"web-gw-{i}", "shop", "web-gw", labels={"gateway.networking.k8s.io/gateway-name": "web"})
            for i in (1, 2)]
    for pod in gapi:
        pod["spec"]["containers"] = [{"name": "istio-proxy"}]
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "web", "namespace": "shop"},
          "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}
    objs = [_ns("istio-system", {}), _svc("ingress", "istio-system"), ingress,
            _ns("shop", {"istio-injection": "enabled"}), _svc("web-gw", "shop"), *gapi, gw,
            _svc("cart", "shop"), _pod("cart-1", "shop", "cart", sidecar=True), _svc("idle", "shop")]
    assert _line(objs, "istio-system", "ingress") == "gateway proxy (Envoy router in 1 pod)"
    assert _line(objs, "shop", "web-gw") == "gateway proxy (Envoy router in 2 pods)"
    assert _line(objs, "shop", "cart") == "sidecar (Envoy in every pod)"
    assert _line(objs, "shop", "idle") == "sidecar (Envoy in every pod)"  # no pods: not a gateway
