"""Live access logs against a sandbox with traffic: ``meshtui logs SERVICE --split`` and the
plain follow (pods join and leave, Ctrl-C ends it cleanly), and the Logs screen's split panel
following a weight change made with the official client.

The demo's backend-service VirtualService sends header- and prefix-matched requests to v1
before its ``default`` rule splits the rest 90/10; Envoy logs the rule's name as
``%ROUTE_NAME%``, so the split of the ``default`` rule is what compares with 90/10.
"""

from __future__ import annotations

import json
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.accesslog.target import LogTarget
from meshtui.app import MeshApp
from meshtui.cli import main
from meshtui.sandbox import podgen
from meshtui.sandbox.server import Sandbox
from meshtui.screens.logs import LogsScreen
from meshtui.sources.kube import KubeSource

ROOT = Path(__file__).resolve().parent.parent
BACKEND = "backend-service.default.svc.cluster.local"
WAIT = 60.0  # hang guard for every wait below (they normally take seconds)


def within_binomial(hits: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Whether ``hits`` of ``n`` is within ``sigmas`` standard deviations of a share ``p``."""
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox of this module's own (it changes the backend's weights) at 400 requests/s."""
    sb = Sandbox(traffic_rps=400, traffic_seed=23).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("logs-live") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def api(busy: Sandbox) -> Iterator[client.ApiClient]:
    """The official client on the busy sandbox."""
    assert busy.kubeconfig_path is not None
    api = config.new_client_from_config(str(busy.kubeconfig_path), persist_config=False)
    yield api
    api.close()


def set_default_weights(api: client.ApiClient, v0: int, v1: int) -> None:
    """Set the backend's ``default`` rule to ``v0``/``v1`` with the official client."""
    custom = client.CustomObjectsApi(api)
    vs = custom.get_namespaced_custom_object("networking.istio.io", "v1", "default", "virtualservices",
                                             "backend-service")
    rule = next(r for r in vs["spec"]["http"] if r.get("name") == "default")
    for dest in rule["route"]:
        dest["weight"] = v0 if dest["destination"]["subset"] == "v0" else v1
    custom.replace_namespaced_custom_object("networking.istio.io", "v1", "default", "virtualservices",
                                            "backend-service", vs)


def extra_v1_pod(name: str, ip: str) -> dict[str, Any]:
    """A running, ready pod with subset v1's labels (and a sidecar), as a Deployment makes them."""
    template = {"metadata": {"labels": {"app": "backend-service", "version": "v1"}},
                "spec": {"containers": [{"name": "backend", "image": "nicholasjackson/fake-service:v0.26.2",
                                         "ports": [{"containerPort": 8080}]}]}}
    pod = podgen.make_pod("default", "backend-service-v1", template, 9, ip)
    pod["metadata"]["name"] = name
    return pod


def subset_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Requests per subset of the rows about the backend's outbound clusters."""
    return {r["subset"]: r["requests"] for r in rows
            if r["host"] == BACKEND and r["direction"] == "outbound" and not r["mirrored"]}


# --- the CLI ---------------------------------------------------------------------------------


def test_split_json_converges_to_the_default_rules_90_10(busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["logs", "backend-service.default", "--kubeconfig", str(busy.kubeconfig_path),
                 "--split", "-o", "json", "--duration", "8", "--interval", "2"])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    objects = [json.loads(line) for line in out]
    assert len(objects) >= 2  # one per refresh, one per line
    for obj in objects:
        assert {"lines", "unparsed", "rows"} <= set(obj)
        for row in obj["rows"]:
            assert {"cluster", "host", "subset", "requests", "share", "errors",
                    "p50_ms", "p95_ms", "p99_ms"} <= set(row)
    last = objects[-1]
    assert last["route"] == "default" and last["basis"] == "client"
    counts = subset_counts(last["rows"])
    n = counts.get("v0", 0) + counts.get("v1", 0)
    assert set(counts) == {"v0", "v1"} and n >= 200, counts
    assert within_binomial(counts["v1"], n, 0.10), counts
    weights = {r["subset"]: r["weight"] for r in last["rows"] if r["host"] == BACKEND}
    assert weights == {"v0": 0.9, "v1": 0.1}


def test_split_of_every_rule_includes_the_header_and_prefix_rules(busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "backend-service", "-n", "default", "--kubeconfig", str(busy.kubeconfig_path),
                 "--split", "-o", "json", "--duration", "6", "--interval", "3", "--route", "all"]) == 0
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    counts = subset_counts(last["rows"])
    n = counts["v0"] + counts["v1"]
    # canary-header (15 % of the backend's calls) and test-v1 (10 %) go to v1 whole:
    # v1 = 0.25 + 0.75 * 0.10 of the requests.
    assert last["route"] is None and within_binomial(counts["v1"], n, 0.325), counts


class Follow:
    """``python -m meshtui logs ...`` in a subprocess, its output read by threads."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "meshtui", "logs", *args], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.out.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err.append), daemon=True).start()

    @staticmethod
    def _pump(stream: Any, put: Any) -> None:
        for line in stream:
            put(line.rstrip("\n"))

    def line_where(self, cond: Any, what: str) -> str:
        """The next stdout line for which ``cond`` holds (fails after WAIT seconds)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.out.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, f"meshtui logs ended: {self.err}"
                continue
            if cond(line):
                return line
        pytest.fail(f"timed out waiting for {what}; stderr: {self.err[-5:]}")

    def stderr_where(self, cond: Any, what: str) -> None:
        """Wait until a stderr line satisfies ``cond``."""
        deadline = time.monotonic() + WAIT
        while not any(cond(line) for line in list(self.err)):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; stderr: {self.err[-5:]}")
            time.sleep(0.1)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def test_follow_prints_lines_pods_join_and_leave_and_ctrl_c_exits_0(busy: Sandbox, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    follow = Follow("backend-service.default", "--kubeconfig", str(busy.kubeconfig_path), "--tail", "0")
    name = "backend-service-v1-cli-extra"
    try:
        first = follow.line_where(lambda line: BACKEND in line or "inbound|8080||" in line, "a line")
        pod, stamp, method = first.split()[:3]
        assert pod.startswith(("backend-service-", "curl-")) and stamp.endswith("Z") and method.isalpha()
        core.create_namespaced_pod("default", extra_v1_pod(name, "10.244.201.9"))
        try:
            line = follow.line_where(lambda line: line.startswith(name + " "), "a line of the new pod")
            assert "inbound|8080||" in line
        finally:
            core.delete_namespaced_pod(name, "default")
        follow.stderr_where(lambda line: line == f"meshtui: default/{name} left", "the deleted pod to leave")
        follow.proc.send_signal(signal.SIGINT)
        assert follow.proc.wait(20) == 0
        assert not any("Traceback" in line for line in follow.err), follow.err
    finally:
        follow.kill()


@pytest.mark.parametrize(("argv", "message"), [
    (["--duration", "0"], "--duration 0: must be a positive number of seconds"),
    (["--interval", "-1"], "--interval -1: must be a positive number of seconds"),
    (["--tail", "-3"], "--tail -3: must be 0 or more"),
    (["--since", "soon"], "--since soon: not a duration (use e.g. 30s, 5m, 1h)"),
])
def test_bad_live_flags_are_one_line_errors(busy: Sandbox, argv: list[str], message: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "backend-service", "--kubeconfig", str(busy.kubeconfig_path), *argv]) == 2
    assert capsys.readouterr().err == f"meshtui: {message}\n"


# --- the Logs screen -----------------------------------------------------------------------------


async def until(pilot: Any, cond: Any, what: str, limit: float = WAIT) -> None:
    """Let the app run until ``cond()``; fail after ``limit`` s (a hang guard, not a timing)."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def panel_counts(screen: LogsScreen) -> dict[str, int]:
    """Requests per subset in the panel now."""
    return {r.subset: r.requests for r in screen.split_rows() if r.host == BACKEND and not r.mirrored}


async def open_backend_logs(pilot: Any, app: MeshApp, **kw: Any) -> LogsScreen:
    await until(pilot, lambda: app.index is not None and app.index.get("Service", "default", "backend-service"),
                "the mesh to load")
    screen = LogsScreen(LogTarget("Service", "default", "backend-service"), tail_lines=0, **kw)
    await app.push_screen(screen)
    await until(pilot, lambda: screen.follower is not None and screen.lines_in > 0, "the first lines")
    return screen


async def test_the_panel_follows_a_weight_change_within_one_window(busy: Sandbox, api: client.ApiClient) -> None:
    window = 10.0
    path = str(busy.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_backend_logs(pilot, app, window=window)
        await until(pilot, lambda: sum(panel_counts(screen).values()) >= 300, "300 requests in the panel")
        before = panel_counts(screen)
        n = before["v0"] + before["v1"]
        assert within_binomial(before["v1"], n, 0.10), before
        assert "rule 'default' only" in screen.split_text()
        try:
            set_default_weights(api, 50, 50)
            changed_at = time.time()  # every request that starts later is routed 50/50
            await until(pilot, lambda: screen.weights == {"v0": 50.0, "v1": 50.0}, "the new weights to arrive")
            # One window after the change the panel counts only requests routed by the new weights.
            await until(pilot, lambda: time.time() > changed_at + window + 2, "one window to pass")
            stale = screen._panel_data
            await until(pilot, lambda: screen._panel_data is not stale, "a fresh panel")
            after = panel_counts(screen)
            n = after["v0"] + after["v1"]
            assert n >= 100 and within_binomial(after["v1"], n, 0.50), after
            rows = {r.subset: r for r in screen.split_rows() if r.host == BACKEND}
            assert rows["v0"].weight == 0.5 and rows["v1"].weight == 0.5
            screen.refresh_panel()
            table = [line for line in screen.split_text().splitlines() if line.lstrip().startswith(("v0 ", "v1 "))]
            assert len(table) == 2 and all(line.rstrip().count("50.0%") >= 1 for line in table), table
        finally:
            set_default_weights(api, 90, 10)


async def test_a_pod_added_to_a_subset_joins_the_tail_with_traffic(busy: Sandbox, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    name = "backend-service-v1-screen-extra"
    path = str(busy.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_backend_logs(pilot, app)
        core.create_namespaced_pod("default", extra_v1_pod(name, "10.244.201.10"))
        try:
            await until(pilot, lambda: ("default", name) in screen.follower.pods, "the new pod to join")
            await until(pilot, lambda: any(e.pod == name for e in screen.visible_lines()), "its lines on screen")
            mine = [e for e in screen.visible_lines() if e.pod == name]
            assert all(e.upstream == "inbound|8080||" and e.code is not None for e in mine)
            assert screen.plan is not None and screen.plan.own[("default", name)] == "v1"
        finally:
            core.delete_namespaced_pod(name, "default")
        await until(pilot, lambda: ("default", name) not in screen.follower.pods, "the deleted pod to leave")
