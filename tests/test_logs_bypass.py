"""The Host-header trap (issue 12 point 5) where a user finds it: the demo's ``legacy-gateway``
forwards its callers' Host ``10.22.12.178:30785`` while dialling ``backend-service``. Its requests
take the catch-all route, so the 90/10 split does not apply to them; ``meshtui logs --split``
(key ``bypassed``), the Logs screen's split panel, an ``MT0301`` finding and a marker in the
home tree say so. Everything against the sandbox through the official client."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from meshtui.accesslog.target import LogTarget
from meshtui.app import MeshApp
from meshtui.cli import main
from meshtui.sandbox.server import Sandbox
from meshtui.sandbox.workloads import LEGACY_GATEWAY_HOST
from meshtui.screens.logs import LogsScreen
from meshtui.sources.kube import KubeSource
from meshtui.widgets.route_tree import RouteTree

WAIT = 120.0  # hang guard for the waits below (they normally take seconds; a loaded CI machine is slower)
SENTENCE = ("VirtualService default/backend-service splits traffic to default/backend-service, but callers of "
            "default/backend-service send Hosts it does not list: this split does not apply to them")


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox with traffic (the legacy gateway is 15 % of it)."""
    sb = Sandbox(traffic_rps=300, traffic_seed=5).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("bypass") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


def test_split_json_lists_the_bypassing_host(busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "backend-service.default", "--kubeconfig", str(busy.kubeconfig_path),
                 "--split", "-o", "json", "--duration", "6", "--interval", "3"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    bypassed = {h["authority"]: h for h in last["bypassed"]}
    assert set(bypassed) == {LEGACY_GATEWAY_HOST}, last["bypassed"]
    host = bypassed[LEGACY_GATEWAY_HOST]
    assert host["cluster"] == "PassthroughCluster" and host["requests"] > 0
    # Those requests are not in the split's rows (no subset was chosen for them).
    assert all(r["cluster"] != "PassthroughCluster" for r in last["rows"])


def test_callers_sending_a_listed_host_bypass_nothing(busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """bookinfo's productpage calls ``reviews:9080``, a Host the VirtualService lists."""
    assert main(["logs", "reviews.bookinfo", "--kubeconfig", str(busy.kubeconfig_path),
                 "--split", "-o", "json", "--duration", "4", "--interval", "4"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert sum(r["requests"] for r in last["rows"]) > 0 and last["bypassed"] == []


def test_split_text_says_the_split_does_not_apply(busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "backend-service.default", "--kubeconfig", str(busy.kubeconfig_path),
                 "--split", "--duration", "5", "--interval", "5"]) == 0
    out = capsys.readouterr().out
    note = next(line for line in out.splitlines() if line.startswith("bypassed: "))
    assert "VirtualService default/backend-service splits traffic to default/backend-service, but" in note
    assert f"{LEGACY_GATEWAY_HOST} (" in note and "do not apply to them" in note


async def until(pilot: Any, cond: Any, what: str, limit: float = WAIT) -> None:
    """Let the app run until ``cond()``; fail after ``limit`` s (a hang guard, not a timing)."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def route_tree_lines(app: MeshApp) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            out.append(child.label.plain if hasattr(child.label, "plain") else str(child.label))
            walk(child)

    walk(app.screen.query_one(RouteTree).root)
    return out


async def test_logs_screen_panel_finding_and_home_tree(busy: Sandbox) -> None:
    path = str(busy.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.index is not None and app.index.get("Service", "default", "backend-service"),
                    "the mesh to load")
        home = app.screen
        home.select_object("Service", "default", "backend-service")
        await pilot.pause()
        assert not any("bypassed" in line for line in route_tree_lines(app))  # nothing observed yet
        screen = LogsScreen(LogTarget("Service", "default", "backend-service"), tail_lines=0)
        await app.push_screen(screen)
        def panel_text() -> str:  # the panel wraps its long lines: read it as one run of words
            return " ".join(screen.split_text().split())

        await until(pilot, lambda: LEGACY_GATEWAY_HOST in panel_text(), "the bypass in the panel")
        panel = panel_text()
        assert "⚠ bypassed: VirtualService default/backend-service splits traffic to default/backend-service" in panel
        assert "plain Kubernetes load balancing through the catch-all route" in panel
        # The bypassing requests are in the log too, from the legacy gateway's pod.
        await until(pilot, lambda: any(e.pod.startswith("legacy-gateway") for e in screen.visible_lines()),
                    "a legacy-gateway line in the log")
        # The analysis now carries the finding, in istioctl's line form.
        await until(pilot, lambda: app.findings.latest is not None
                    and any(f.code == "MT0301" for f in app.findings.latest.findings), "the MT0301 finding")
        finding = next(f for f in app.findings.latest.findings if f.code == "MT0301")  # type: ignore[union-attr]
        assert finding.text().startswith(f"Warning [MT0301] (VirtualService default/backend-service) {SENTENCE}")
        assert f"Host {LEGACY_GATEWAY_HOST} to PassthroughCluster" in finding.message
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is home, "the home screen")
        await until(pilot, lambda: any("bypassed" in line for line in route_tree_lines(app)), "the tree marker")
        lines = route_tree_lines(app)
        vs_at = next(i for i, line in enumerate(lines) if line.startswith("VirtualService default/backend-service"))
        assert lines[vs_at].endswith("⚠ bypassed")
        assert lines[vs_at + 1].startswith(f"⚠ bypassed: observed requests with Host {LEGACY_GATEWAY_HOST}")
