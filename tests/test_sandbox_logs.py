"""Pod logs in the sandbox: the log hub, and ``GET .../pods/{name}/log`` through real clients."""

from __future__ import annotations

import asyncio
import json
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from meshtui.sandbox.loghub import LogHub
from meshtui.sandbox.server import Sandbox


# --- the hub itself -----------------------------------------------------------------------------

def test_ring_keeps_only_the_newest_lines() -> None:
    hub = LogHub(max_lines=3)
    for i in range(10):
        hub.append("shop", "web-1", "istio-proxy", f"line {i}", ts=float(i))
    assert [line for _ts, line in hub.read("shop", "web-1", "istio-proxy")] == [
        "line 7", "line 8", "line 9"]


def test_read_filters_by_time_then_tail() -> None:
    hub = LogHub()
    for i in range(10):
        hub.append("shop", "web-1", "istio-proxy", f"line {i}", ts=100.0 + i)
    assert [ln for _t, ln in hub.read("shop", "web-1", "istio-proxy", since=105.0)] == [
        f"line {i}" for i in range(5, 10)]
    assert [ln for _t, ln in hub.read("shop", "web-1", "istio-proxy", tail_lines=2, since=105.0)] == [
        "line 8", "line 9"]
    assert hub.read("shop", "web-1", "istio-proxy", tail_lines=0) == []
    assert hub.read("shop", "web-1", "other") == []


def test_a_string_with_newlines_becomes_several_lines() -> None:
    hub = LogHub()
    hub.append("shop", "web-1", "app", "one\ntwo\n")
    assert [ln for _t, ln in hub.read("shop", "web-1", "app")] == ["one", "two"]


async def test_follower_sees_tail_then_new_lines_and_ends_when_pod_goes() -> None:
    hub = LogHub()
    hub.bind(asyncio.get_running_loop())
    for i in range(5):
        hub.append("shop", "web-1", "istio-proxy", f"old {i}")
    seen: list[str] = []

    async def follow() -> None:
        async for batch in hub.follow("shop", "web-1", "istio-proxy", tail_lines=2):
            seen.extend(line for _ts, line in batch)

    task = asyncio.create_task(follow())
    await asyncio.sleep(0)
    hub.append("shop", "web-1", "istio-proxy", "new 1")
    # From another thread, as the traffic simulator does.
    t = threading.Thread(target=hub.append_threadsafe, args=("shop", "web-1", "istio-proxy", "new 2"))
    t.start()
    t.join()
    while len(seen) < 4:
        await asyncio.sleep(0.01)
    hub.close_pod("shop", "web-1")
    await asyncio.wait_for(task, 10)
    assert seen == ["old 3", "old 4", "new 1", "new 2"]


async def test_follower_that_falls_a_ring_behind_skips_to_the_oldest_kept_line() -> None:
    hub = LogHub(max_lines=4)
    follower = hub.follow("shop", "web-1", "app")
    hub.append("shop", "web-1", "app", "first")
    assert [ln for _t, ln in await anext(follower)] == ["first"]
    for i in range(10):
        hub.append("shop", "web-1", "app", f"burst {i}")
    assert [ln for _t, ln in await anext(follower)] == [f"burst {i}" for i in range(6, 10)]
    await follower.aclose()


def test_append_threadsafe_needs_a_loop() -> None:
    with pytest.raises(RuntimeError, match="bind"):
        LogHub().append_threadsafe("shop", "web-1", "app", "x")


# --- through the sandbox API server -------------------------------------------------------------

NS = "meshtui-logs-test"
T0 = 1_700_000_000.25  # 2023-11-14T22:13:20.25Z


def pod_body(name: str, containers: list[str], init: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"nodeName": "node-1",
                            "containers": [{"name": c, "image": f"{c}:1"} for c in containers]}
    if init:
        spec["initContainers"] = [{"name": c, "image": f"{c}:1"} for c in init]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
            "spec": spec, "status": {"phase": "Running", "podIP": "10.244.91.10"}}


@pytest.fixture(scope="module")
def kubeconfig(sandbox: Sandbox) -> Path:
    """The session sandbox's kubeconfig (admin context current)."""
    assert sandbox.kubeconfig_path is not None
    return sandbox.kubeconfig_path


@pytest.fixture(scope="module")
def core(sandbox: Sandbox, kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    """The official client, with a two-container pod whose istio-proxy log has 20 old lines."""
    api = config.new_client_from_config(str(kubeconfig), persist_config=False)
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": NS}})
    core.create_namespaced_pod(NS, pod_body("web-1", ["web", "istio-proxy"], ["istio-init"]))
    core.create_namespaced_pod(NS, pod_body("solo-1", ["solo"]))
    core.create_namespaced_pod(NS, pod_body("kube-1", ["app", "istio-proxy"]))
    hub: LogHub = sandbox.app["logs"]
    for i in range(20):
        sandbox.call(hub.append, NS, "web-1", "istio-proxy", f"access {i}", T0 + i)
        sandbox.call(hub.append, NS, "kube-1", "istio-proxy", f"request {i}", T0 + i)
    sandbox.call(hub.append, NS, "solo-1", "solo", "only line")
    yield core
    core.delete_namespace(NS)
    api.close()


def log(core: client.CoreV1Api, pod: str = "web-1", **kw: Any) -> str:
    return core.read_namespaced_pod_log(pod, NS, _request_timeout=30, **kw)


def test_tail_lines_gives_the_newest_lines_in_order(core: client.CoreV1Api) -> None:
    assert log(core, container="istio-proxy", tail_lines=3) == "access 17\naccess 18\naccess 19\n"
    assert log(core, container="istio-proxy").count("\n") == 20


def test_timestamps_prefix_each_line_with_rfc3339_nano(core: client.CoreV1Api) -> None:
    out = log(core, container="istio-proxy", tail_lines=2, timestamps=True)
    assert out == ("2023-11-14T22:13:38.250000000Z access 18\n"
                   "2023-11-14T22:13:39.250000000Z access 19\n")


def test_since_seconds_keeps_only_recent_lines(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    hub: LogHub = sandbox.app["logs"]
    sandbox.call(hub.append, NS, "web-1", "web", "an hour ago", time.time() - 3600)
    sandbox.call(hub.append, NS, "web-1", "web", "just now")
    assert log(core, container="web", since_seconds=60) == "just now\n"
    assert log(core, container="web") == "an hour ago\njust now\n"


def test_limit_bytes_truncates(core: client.CoreV1Api) -> None:
    assert log(core, container="istio-proxy", limit_bytes=12) == "access 0\nacc"


def test_a_single_container_pod_needs_no_container(core: client.CoreV1Api) -> None:
    assert log(core, pod="solo-1") == "only line\n"


def status_of(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def test_a_multi_container_pod_needs_a_container_like_the_api_server(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        log(core)
    assert info.value.status == 400
    assert status_of(info.value)["message"] == (
        "a container name must be specified for pod web-1, choose one of: [web istio-proxy]"
        " or one of the init containers: [istio-init]")


def test_unknown_container_and_pod(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as info:
        log(core, container="nope")
    assert info.value.status == 400
    assert status_of(info.value)["message"] == "container nope is not valid for pod web-1"
    with pytest.raises(ApiException) as info:
        log(core, pod="ghost", container="istio-proxy")
    assert info.value.status == 404
    assert status_of(info.value)["message"] == 'pods "ghost" not found'


@pytest.mark.parametrize("option", [{"tail_lines": -1}, {"since_seconds": 0}, {"limit_bytes": 0}])
def test_invalid_options_are_422(core: client.CoreV1Api, option: dict[str, int]) -> None:
    with pytest.raises(ApiException) as info:
        log(core, container="istio-proxy", **option)
    assert info.value.status == 422
    assert status_of(info.value)["reason"] == "Invalid"


def test_a_request_without_token_is_401(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    anonymous = client.Configuration()
    anonymous.host = core.api_client.configuration.host
    anonymous.ssl_ca_cert = core.api_client.configuration.ssl_ca_cert
    with client.ApiClient(anonymous) as api:
        with pytest.raises(ApiException) as info:
            client.CoreV1Api(api).read_namespaced_pod_log("web-1", NS, container="istio-proxy")
    assert info.value.status == 401


def follow_lines(core: client.CoreV1Api, pod: str, container: str) -> tuple[Any, Iterator[str]]:
    """Open a ``follow`` stream (tail 1) and return the response and an iterator of its lines."""
    resp = core.read_namespaced_pod_log(pod, NS, container=container, follow=True, tail_lines=1,
                                        _preload_content=False, _request_timeout=(10, 30))

    def lines() -> Iterator[str]:
        buf = b""
        for chunk in resp.stream(None):
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                yield line.decode()
    return resp, lines()


def test_follow_streams_lines_appended_later(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    hub: LogHub = sandbox.app["logs"]
    resp, lines = follow_lines(core, "web-1", "istio-proxy")
    try:
        assert next(lines) == "access 19"  # the stream is open and positioned
        hub.append_threadsafe(NS, "web-1", "istio-proxy", "fresh 1")
        sandbox.call(hub.append, NS, "web-1", "istio-proxy", "fresh 2")
        assert [next(lines), next(lines)] == ["fresh 1", "fresh 2"]
    finally:
        resp.close()  # drop the connection: the stream is unfinished, it cannot be reused


def test_follow_ends_when_the_pod_is_deleted(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(NS, pod_body("doomed-1", ["app", "istio-proxy"]))
    sandbox.call(sandbox.app["logs"].append, NS, "doomed-1", "istio-proxy", "last words")
    resp, lines = follow_lines(core, "doomed-1", "istio-proxy")
    try:
        assert next(lines) == "last words"
        core.delete_namespaced_pod("doomed-1", NS)
        assert list(lines) == []  # the stream ends instead of hanging
    finally:
        resp.close()  # drop the connection: the stream is unfinished, it cannot be reused


# --- kubectl as an independent client --------------------------------------------------------

def kubectl(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "--kubeconfig", str(kubeconfig), "-n", NS, *args],
                          capture_output=True, text=True, timeout=60)


needs_kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")


@pytest.mark.kubectl
@needs_kubectl
def test_kubectl_logs_tail(core: client.CoreV1Api, kubeconfig: Path) -> None:
    out = kubectl(kubeconfig, "logs", "kube-1", "-c", "istio-proxy", "--tail", "5")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"request {i}" for i in range(15, 20)]


@pytest.mark.kubectl
@needs_kubectl
def test_kubectl_logs_follow_sees_a_later_line(sandbox: Sandbox, core: client.CoreV1Api,
                                               kubeconfig: Path) -> None:
    proc = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(kubeconfig), "-n", NS, "logs", "-f", "kube-1",
         "-c", "istio-proxy", "--tail", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = read_line(proc, 30)
        sandbox.call(sandbox.app["logs"].append, NS, "kube-1", "istio-proxy", "seen by kubectl")
        assert first and first != "seen by kubectl"
        assert read_line(proc, 30) == "seen by kubectl"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def read_line(proc: subprocess.Popen[str], wait: float) -> str | None:
    """One stdout line of ``proc``, or None if none comes within ``wait`` seconds."""
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], wait)
    return proc.stdout.readline().rstrip("\n") if ready else None
