"""The Logs screen against the sandbox: the real app (kube source, watch), lines appended to
pods' istio-proxy logs, the observed split panel, pause, quick filters, pods joining."""

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
from meshtui.screens.mesh import MeshScreen
from meshtui.sources.kube import KubeSource

NS = "meshtui-logs-screen"
HOST = f"web.{NS}.svc.cluster.local"


def pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "istio-proxy", "image": "proxyv2:1"}]},
            "status": {"phase": "Running", "podIP": "10.244.77.1",
                       "conditions": [{"type": "Ready", "status": "True"}]}}


@pytest.fixture(scope="module")
def mesh(sandbox: Sandbox) -> Iterator[client.CoreV1Api]:
    """Service ``web`` with subsets v0/v1 split 90/10, one pod each, and a client pod."""
    assert sandbox.kubeconfig_path is not None
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    core = client.CoreV1Api(api)
    custom = client.CustomObjectsApi(api)
    core.create_namespace({"metadata": {"name": NS}})
    core.create_namespaced_service(NS, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    custom.create_namespaced_custom_object("networking.istio.io", "v1", NS, "destinationrules", {
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "web"},
        "spec": {"host": "web", "subsets": [{"name": "v0", "labels": {"version": "v0"}},
                                            {"name": "v1", "labels": {"version": "v1"}}]}})
    custom.create_namespaced_custom_object("networking.istio.io", "v1", NS, "virtualservices", {
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "web"},
        "spec": {"hosts": ["web"], "http": [{"name": "default", "route": [
            {"destination": {"host": "web", "subset": "v0"}, "weight": 90},
            {"destination": {"host": "web", "subset": "v1"}, "weight": 10}]}]}})
    core.create_namespaced_pod(NS, pod("web-v0-1", {"app": "web", "version": "v0"}))
    core.create_namespaced_pod(NS, pod("web-v1-1", {"app": "web", "version": "v1"}))
    core.create_namespaced_pod(NS, pod("client-1", {"app": "client"}))
    yield core
    core.delete_namespace(NS)
    api.close()


def append(sandbox: Sandbox, pod_name: str, line: str) -> None:
    sandbox.call(sandbox.app["logs"].append, NS, pod_name, "istio-proxy", line)


def outbound(subset: str, path: str, code: int = 200, flags: str = "-") -> str:
    return istio_line(start=time.time(), cluster=f"outbound|80|{subset}|{HOST}", path=path, code=code,
                      flags=flags, authority="web", request_id=path)


async def until(pilot: Any, cond: Any, what: str, limit: float = 30.0) -> None:
    """Let the app run until ``cond()``; fail after ``limit`` s (a hang guard, not a timing)."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.05)


_SANDBOXES: dict[int, Sandbox] = {}


def make_app(sandbox: Sandbox) -> MeshApp:
    path = str(sandbox.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    _SANDBOXES[id(app)] = sandbox
    return app


def sandbox_of(app: MeshApp) -> Sandbox:
    return _SANDBOXES[id(app)]


def paths(screen: LogsScreen) -> list[str]:
    return [e.path for e in screen.visible_lines() if e.path != "/warmup"]


async def open_logs(pilot: Any, app: MeshApp, **kw: Any) -> LogsScreen:
    await until(pilot, lambda: app.index is not None and app.index.get("Pod", NS, "client-1") is not None,
                "the mesh to load")
    screen = LogsScreen(LogTarget("Service", NS, "web"), **kw)
    await app.push_screen(screen)
    await until(pilot, lambda: screen.follower is not None and len(screen.follower.pods) == 3, "the streams")
    for key in screen.follower.pods:
        await knock(pilot, app, screen, key)
    return screen


async def knock(pilot: Any, app: MeshApp, screen: LogsScreen, key: tuple[str, str]) -> None:
    """Wait until the pod's stream is live: a line appended now comes through it (with
    tail_lines=0, a line appended before the request reaches the server would never show)."""
    deadline = time.monotonic() + 30
    while key not in screen.follower.states() or screen.follower.states()[key].lines == 0:
        if time.monotonic() > deadline:
            pytest.fail(f"the stream of {key} never opened")
        append(sandbox_of(app), key[1], istio_line(start=time.time(), cluster="outbound|80||other.example.com",
                                                   path="/warmup"))
        await pilot.pause(0.1)


async def test_lines_appear_and_the_split_shows_observed_vs_configured(sandbox: Sandbox, mesh: Any) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_logs(pilot, app, tail_lines=0)
        for i in range(90):
            append(sandbox, "client-1", outbound("v0", f"/split/v0/{i}"))
        for i in range(10):
            append(sandbox, "client-1", outbound("v1", f"/split/v1/{i}"))
        append(sandbox, "web-v0-1", istio_line(start=time.time(), cluster="inbound|8080||", path="/inbound/1"))
        await until(pilot, lambda: screen.lines_shown >= 101 and sum(r.requests for r in screen.split_rows()) >= 100,
                    "the lines and the split")
        shown = paths(screen)
        assert "/split/v0/0" in shown and "/split/v1/9" in shown and "/inbound/1" in shown
        rows = {r.subset: r for r in screen.split_rows()}
        assert rows["v0"].requests == 90 and rows["v1"].requests == 10
        assert round(rows["v0"].host_share * 100, 1) == 90.0 and round(rows["v1"].host_share * 100, 1) == 10.0
        assert rows["v0"].weight == 0.9 and rows["v1"].weight == 0.1
        screen.refresh_panel()
        text = screen.split_text()
        assert "at the clients" in text and "90.0%" in text and "10.0%" in text


async def test_p_pauses_and_resumes_the_view(sandbox: Sandbox, mesh: Any) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_logs(pilot, app, tail_lines=0)
        append(sandbox, "client-1", outbound("v0", "/before-pause"))
        await until(pilot, lambda: "/before-pause" in paths(screen), "the first line")
        await pilot.press("p")
        assert screen.paused
        append(sandbox, "client-1", outbound("v0", "/during-pause"))
        await until(pilot, lambda: any(screen.buffer.entry(s).path == "/during-pause"
                                       for s in range(screen.buffer.first_seq, screen.buffer.next_seq)),
                    "the line to reach the ring")
        await pilot.pause()
        assert "/during-pause" not in paths(screen)
        await pilot.press("p")
        assert not screen.paused and paths(screen)[-1] == "/during-pause"


async def test_5_shows_only_5xx_and_again_shows_all(sandbox: Sandbox, mesh: Any) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_logs(pilot, app, tail_lines=0)
        append(sandbox, "client-1", outbound("v0", "/ok", 200))
        append(sandbox, "client-1", outbound("v1", "/broken", 503, "UH"))
        append(sandbox, "client-1", outbound("v0", "/missing", 404, "NR"))
        await until(pilot, lambda: {"/ok", "/broken", "/missing"} <= set(paths(screen)), "the lines")
        await pilot.press("5")
        codes = [e.code for e in screen.visible_lines() if e.path != "/warmup"]
        assert codes and all(c is not None and 500 <= c < 600 for c in codes)
        assert "/broken" in paths(screen) and "/ok" not in paths(screen)
        await pilot.press("5")
        assert {"/ok", "/broken", "/missing"} <= set(paths(screen))


async def test_a_pod_created_later_joins_the_tail(sandbox: Sandbox, mesh: client.CoreV1Api) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_logs(pilot, app, tail_lines=0)
        mesh.create_namespaced_pod(NS, pod("web-v1-2", {"app": "web", "version": "v1"}))
        try:
            await until(pilot, lambda: (NS, "web-v1-2") in screen.follower.pods, "the new pod to join")
            await knock(pilot, app, screen, (NS, "web-v1-2"))
            append(sandbox, "web-v1-2", istio_line(start=time.time(), cluster="inbound|8080||", path="/late-pod"))
            await until(pilot, lambda: "/late-pod" in paths(screen), "the new pod's line")
            assert [e.pod for e in screen.visible_lines() if e.path == "/late-pod"] == ["web-v1-2"]
        finally:
            mesh.delete_namespaced_pod("web-v1-2", NS)
        await until(pilot, lambda: (NS, "web-v1-2") not in screen.follower.pods, "the deleted pod to leave")


async def test_l_on_the_mesh_screen_opens_the_selected_services_logs(sandbox: Sandbox, mesh: Any) -> None:
    app = make_app(sandbox)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.index is not None and app.index.get("Service", NS, "web") is not None,
                    "the mesh")
        home = app.screen
        assert isinstance(home, MeshScreen)
        await pilot.pause(0.2)  # let the first selection's cursor messages settle
        home.select_object("Service", NS, "web")
        await until(pilot, lambda: home._selected == ("Service", NS, "web"), "the service to be selected")
        await pilot.pause(0.1)
        await pilot.press("l")
        assert isinstance(app.screen, LogsScreen) and app.screen.target == LogTarget("Service", NS, "web")
        await pilot.press("escape")
        assert isinstance(app.screen, MeshScreen)
