"""Issue 12's minors on the Logs screen: mirrored (shadow) lines are marked in the log and get a
split row of their own; the ``/`` filter matches the pod names the log shows. Against a sandbox
of the module's own, lines written into its pods' ``istio-proxy`` logs."""

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
from meshtui.widgets.log_view import LogView

NS = "marks"
HOST = f"web.{NS}.svc.cluster.local"


def pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "istio-proxy", "image": "proxyv2:1"}]},
            "status": {"phase": "Running", "podIP": "10.244.99.1", "conditions": [{"type": "Ready", "status": "True"}]}}


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(traffic=False).start()
    path = sb.write_kubeconfig(tmp_path_factory.mktemp("marks") / "kubeconfig")
    api = config.new_client_from_config(str(path), persist_config=False)
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": NS}})
    core.create_namespaced_service(NS, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    core.create_namespaced_pod(NS, pod("web-1", {"app": "web"}))
    core.create_namespaced_pod(NS, pod("frontend-7c9d", {"app": "frontend"}))
    api.close()
    try:
        yield sb
    finally:
        sb.stop()


def append(sb: Sandbox, pod_name: str, line: str) -> None:
    sb.call(sb.app["logs"].append, NS, pod_name, "istio-proxy", line)


async def until(pilot: Any, cond: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def out(subset: str, path: str, authority: str = "web") -> str:
    return istio_line(start=time.time(), cluster=f"outbound|80|{subset}|{HOST}", path=path, authority=authority)


async def open_screen(pilot: Any, app: MeshApp, sb: Sandbox) -> LogsScreen:
    await until(pilot, lambda: app.index is not None and app.index.get("Pod", NS, "frontend-7c9d") is not None,
                "the mesh")
    screen = LogsScreen(LogTarget("Service", NS, "web"), tail_lines=0)
    await app.push_screen(screen)
    await until(pilot, lambda: screen.follower is not None and len(screen.follower.pods) == 2, "the streams")
    for key in screen.follower.pods:
        deadline = time.monotonic() + 30
        while key not in screen.follower.states() or screen.follower.states()[key].lines == 0:
            assert time.monotonic() < deadline, f"the stream of {key} never opened"
            append(sb, key[1], istio_line(start=time.time(), cluster="outbound|80||other.example.com", path="/warm"))
            await pilot.pause(0.1)
    return screen


async def test_mirrored_lines_are_marked_and_have_their_own_split_row(quiet: Sandbox) -> None:
    path = str(quiet.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_screen(pilot, app, quiet)
        for i in range(4):
            append(quiet, "frontend-7c9d", out("v1", f"/real/{i}"))
        for i in range(2):
            append(quiet, "frontend-7c9d", out("v2", f"/shadow/{i}", authority="web-shadow"))
        await until(pilot, lambda: [r.requests for r in screen.split_rows() if r.mirrored] == [2]
                    and sum(r.requests for r in screen.split_rows() if not r.mirrored and r.host == HOST) == 4,
                    "the lines counted")
        screen.refresh_panel()
        panel = screen.split_text().splitlines()
        row = next(line for line in panel if "⧉ v2 mirror" in line)
        assert row.split()[3] == "2"  # REQS of the mirror row
        assert "shadow, not in shares" in row
        v1 = next(line for line in panel if line.lstrip().startswith("v1 "))
        assert "100.0%" in v1  # the share of v1 counts no shadow request
        view = screen.query_one(LogView)
        marks = {e.path: "".join(s.text for s in view.segments(e)) for e in screen.visible_lines()}
        assert "⧉ mirror" in marks["/shadow/0"] and "⧉ mirror" not in marks["/real/0"]


async def test_the_filter_matches_the_pod_names_shown(quiet: Sandbox) -> None:
    path = str(quiet.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_screen(pilot, app, quiet)
        append(quiet, "frontend-7c9d", out("v1", "/from-frontend"))
        append(quiet, "web-1", istio_line(start=time.time(), cluster="inbound|8080||", path="/at-web"))
        await until(pilot, lambda: {"/from-frontend", "/at-web"} <= {e.path for e in screen.visible_lines()},
                    "both lines")
        await pilot.press("slash", *"frontend", "enter")
        await until(pilot, lambda: screen.filter_text == "frontend", "the filter")
        shown = {e.path for e in screen.visible_lines()}
        assert "/from-frontend" in shown and "/at-web" not in shown  # the raw line has no "frontend"
        assert all(e.pod == "frontend-7c9d" for e in screen.visible_lines())
