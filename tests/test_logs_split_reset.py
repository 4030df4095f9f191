"""The observed split after a weight change (issue 12 minors): the panel says when the config
changed (its window mixes traffic from before), and `z` restarts the window."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.accesslog.synth import istio_line
from meshtui.accesslog.target import LogTarget
from meshtui.app import MeshApp
from meshtui.sandbox.server import Sandbox
from meshtui.screens.logs import LogsScreen
from meshtui.sources.kube import KubeSource
from ui_helpers import wait_for

NS = "meshtui-split-reset"
HOST = f"web.{NS}.svc.cluster.local"


def _pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "istio-proxy", "image": "proxyv2:1"}]},
            "status": {"phase": "Running", "podIP": "10.244.78.1", "conditions": [{"type": "Ready", "status": "True"}]}}


def _vs(v0: int, v1: int) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "web"},
            "spec": {"hosts": ["web"], "http": [{"name": "default", "route": [
                {"destination": {"host": "web", "subset": "v0"}, "weight": v0},
                {"destination": {"host": "web", "subset": "v1"}, "weight": v1}]}]}}


@pytest.fixture(scope="module")
def mesh(sandbox: Sandbox) -> Iterator[client.CustomObjectsApi]:
    """Service ``web`` split 90/10 over v0/v1, and a client pod whose sidecar logs the calls."""
    assert sandbox.kubeconfig_path is not None
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    core.create_namespace({"metadata": {"name": NS}})
    core.create_namespaced_service(NS, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    custom.create_namespaced_custom_object("networking.istio.io", "v1", NS, "destinationrules", {
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "web"},
        "spec": {"host": "web", "subsets": [{"name": "v0", "labels": {"version": "v0"}},
                                            {"name": "v1", "labels": {"version": "v1"}}]}})
    custom.create_namespaced_custom_object("networking.istio.io", "v1", NS, "virtualservices", _vs(90, 10))
    core.create_namespaced_pod(NS, _pod("web-v0-1", {"app": "web", "version": "v0"}))
    core.create_namespaced_pod(NS, _pod("web-v1-1", {"app": "web", "version": "v1"}))
    core.create_namespaced_pod(NS, _pod("client-1", {"app": "client"}))
    yield custom
    core.delete_namespace(NS)
    api.close()


def _append(sandbox: Sandbox, subset: str, path: str) -> None:
    line = istio_line(start=time.time(), cluster=f"outbound|80|{subset}|{HOST}", path=path, authority="web",
                      request_id=path)
    sandbox.call(sandbox.app["logs"].append, NS, "client-1", "istio-proxy", line)


def _requests(screen: LogsScreen) -> dict[str, int]:
    return {r.subset: r.requests for r in screen.split_rows() if r.subset}


async def test_a_weight_change_is_marked_and_z_restarts_the_window(sandbox: Sandbox, mesh: Any) -> None:
    path = str(sandbox.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.index.get("Pod", NS, "client-1") is not None)
        screen = LogsScreen(LogTarget("Service", NS, "web"), tail_lines=0)
        await app.push_screen(screen)
        await wait_for(pilot, lambda: screen.follower is not None and len(screen.follower.pods) == 3)
        # Lines until the stream is surely open (tail_lines=0: earlier lines are never read).
        n = 0
        while _requests(screen).get("v0", 0) == 0:
            _append(sandbox, "v0", f"/before/{n}")
            n += 1
            await pilot.pause(0.1)
            assert n < 300, "the client's stream never opened"
        assert "config changed" not in screen.split_text()

        mesh.replace_namespaced_custom_object("networking.istio.io", "v1", NS, "virtualservices", "web",
                                              {**_vs(50, 50), "metadata": {"name": "web", "resourceVersion":
                                               mesh.get_namespaced_custom_object("networking.istio.io", "v1", NS,
                                                                                 "virtualservices", "web")
                                               ["metadata"]["resourceVersion"]}})
        await wait_for(pilot, lambda: screen.weights.get("v0") == 50)
        await wait_for(pilot, lambda: "config changed at " in screen.split_text())
        assert "z restarts it" in screen.split_text()

        await pilot.press("z")
        await wait_for(pilot, lambda: "config changed" not in screen.split_text())
        for i in range(4):
            _append(sandbox, "v1", f"/after/{i}")
        # Only what came after the reset is counted.
        await wait_for(pilot, lambda: _requests(screen).get("v1") == 4)
        assert _requests(screen).get("v0", 0) == 0
