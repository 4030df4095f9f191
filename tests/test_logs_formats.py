"""Logs a user brings (issue 12 points 9-12): Istio's default formats of releases 1.0 to 1.8 and
Envoy's own default recognised per line without ``--log-format`` and named on stderr, a hint
when most lines do not parse, exit 1 when none does; and the same on the Logs screen's path
(sandbox pods' logs through the official client), with pre-1.8 inbound cluster names, a format
wrapped in the mesh config as pasted from the docs, and collectors' prefixes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.accesslog.target import LogTarget
from meshtui.app import MeshApp
from meshtui.sandbox.server import Sandbox
from meshtui.screens.logs import LogsScreen
from meshtui.sources.kube import KubeSource

pytestmark = pytest.mark.timeout(180)

# Lines as each release's sidecar wrote them in its default format (shapes from istio.io's access
# log task of the time and Envoy's docs; the fields follow ``EnvoyTextLogFormat`` of each release).
ISTIO_18 = ('[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" '
            '"84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" '
            "outbound|8000|v1|httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - "
            "default")
ISTIO_13_17 = ('[2020-05-01T12:00:00.000Z] "GET /status/418 HTTP/1.1" 418 - "-" "-" 0 135 5 2 "-" "curl/7.60.0" '
               '"d209e46f-9ed5-9b61-bbdd-43e22662702a" "httpbin:8000" "127.0.0.1:80" '
               "inbound|8000|http|httpbin.foo.svc.cluster.local 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 "
               "outbound_.8000_._.httpbin.foo.svc.cluster.local default")
ISTIO_11_12 = ('[2019-03-06T09:31:27.360Z] "GET /status/418 HTTP/1.1" 418 - "-" 0 135 5 2 "-" "curl/7.60.0" '
               '"d209e46f-9ed5-9b61-bbdd-43e22662702a" "httpbin:8000" "172.30.146.73:80" '
               "outbound|8000|v2|httpbin.foo.svc.cluster.local - 172.21.13.94:8000 172.30.146.82:60290 -")
ISTIO_10 = ('[2018-08-01T12:00:00.000Z] "GET /status/418 HTTP/1.1" 418 - 0 135 5 2 "-" "curl/7.60.0" '
            '"d209e46f-9ed5-9b61-bbdd-43e22662702a" "httpbin:8000" "172.30.146.73:80" '
            "outbound|8000|v3|httpbin.foo.svc.cluster.local - 172.21.13.94:8000 172.30.146.82:60290")
ENVOY = ('[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" '
         '"nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"')
ISTIO_JSON = json.dumps({"start_time": "2020-05-01T12:00:00.000Z", "method": "GET", "path": "/",
                         "response_code": 200, "upstream_cluster": "outbound|8000|v1|httpbin.foo.svc.cluster.local",
                         "istio_policy_status": "-", "duration": 4})


def logs(tmp_path: Path, lines: list[str], *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "access.log"
    path.write_text("".join(f"{x}\n" for x in lines))
    return subprocess.run([sys.executable, "-m", "meshtui", "logs", "--file", str(path), "--split", "-o", "json",
                           *extra], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("line", "name", "subset"), [
    (ISTIO_18, "Istio 1.8 default", "v1"),
    (ISTIO_13_17, "Istio 1.3-1.7 default", ""),  # a pre-1.8 inbound cluster: the port name is no subset
    (ISTIO_11_12, "Istio 1.1-1.2 default", "v2"),
    (ISTIO_10, "Istio 1.0 default", "v3"),
])
def test_each_historical_default_format_is_recognised_and_named(tmp_path: Path, line: str, name: str,
                                                                subset: str) -> None:
    result = logs(tmp_path, [line] * 3)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["unparsed"] == 0
    assert [(r["subset"], r["requests"], r["errors"]) for r in out["rows"]] == [(subset, 3, 0)]
    assert f"meshtui: format: {name} TEXT format (3 lines)" in result.stderr.splitlines()


def test_a_mixed_file_says_each_format_it_holds(tmp_path: Path) -> None:
    result = logs(tmp_path, [ISTIO_13_17] * 2 + [ISTIO_18] * 3 + [ENVOY, ISTIO_JSON])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unparsed"] == 0
    [said] = [ln for ln in result.stderr.splitlines() if ln.startswith("meshtui: format: ")]
    assert said == ("meshtui: format: Istio 1.8 default TEXT format (3 lines), Istio 1.3-1.7 default TEXT format "
                    "(2 lines), Envoy's default TEXT format (1 line), JSON (1 line)")


def test_most_lines_unparsed_gives_the_hint(tmp_path: Path) -> None:
    result = logs(tmp_path, [ISTIO_18] + ["level=info msg=started"] * 3)
    assert result.returncode == 0
    assert json.loads(result.stdout)["unparsed"] == 3
    assert any(ln.startswith("meshtui: 3 of 4 lines did not parse in any known format") and "--log-format" in ln
               for ln in result.stderr.splitlines()), result.stderr


def test_no_line_parsed_exits_1_with_the_hint(tmp_path: Path) -> None:
    result = logs(tmp_path, ["level=info msg=started"] * 5)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("meshtui: none of the 5 lines is an access log line") and "--log-format" in line
    plain = subprocess.run([sys.executable, "-m", "meshtui", "logs", "--file", str(tmp_path / "access.log")],
                           capture_output=True, text=True, timeout=60, check=False)
    assert plain.returncode == 1 and plain.stdout.count("unparsed: level=info") == 5


def test_a_given_format_that_takes_no_line_says_so(tmp_path: Path) -> None:
    result = logs(tmp_path, [ISTIO_18] * 2, "--log-format", "%START_TIME%;%RESPONSE_CODE%")
    assert result.returncode == 1
    assert "in the --log-format given" in result.stderr


# --- the Logs screen's path ---------------------------------------------------------------------

NS = "old-mesh"
HOST = f"web.{NS}.svc.cluster.local"
# The mesh config's format as an operator pasted it from a docs page: wrapped, indented, "\n".
WRAPPED = ('[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"\n'
           '      %RESPONSE_CODE% %RESPONSE_FLAGS% %DURATION% "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %ROUTE_NAME%\\n')


def pod(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": labels},
            "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "istio-proxy", "image": "proxyv2:1.6"}]},
            "status": {"phase": "Running", "podIP": "10.244.88.1", "conditions": [{"type": "Ready", "status": "True"}]}}


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, client.ApiClient]]:
    """A sandbox of this module's own, without simulated traffic (only the lines written here)."""
    sb = Sandbox(traffic=False).start()
    path = sb.write_kubeconfig(tmp_path_factory.mktemp("old-mesh") / "kubeconfig")
    api = config.new_client_from_config(str(path), persist_config=False)
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": NS}})
    core.create_namespaced_service(NS, {"metadata": {"name": "web"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"name": "http", "port": 80}]}})
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        "networking.istio.io", "v1", NS, "destinationrules", {
            "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {"name": "web"},
            "spec": {"host": "web", "subsets": [{"name": "v0", "labels": {"version": "v0"}}]}})
    core.create_namespaced_pod(NS, pod("web-v0-1", {"app": "web", "version": "v0"}))
    core.create_namespaced_pod(NS, pod("client-1", {"app": "client"}))
    try:
        yield sb, api
    finally:
        api.close()
        sb.stop()


def append(sb: Sandbox, pod_name: str, line: str) -> None:
    sb.call(sb.app["logs"].append, NS, pod_name, "istio-proxy", line)


async def until(pilot: Any, cond: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def now_stamp() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


async def open_screen(pilot: Any, app: MeshApp, sb: Sandbox, warm: str) -> LogsScreen:
    await until(pilot, lambda: app.index is not None and app.index.get("Pod", NS, "client-1") is not None, "the mesh")
    screen = LogsScreen(LogTarget("Service", NS, "web"), tail_lines=0)
    await app.push_screen(screen)
    await until(pilot, lambda: screen.follower is not None and len(screen.follower.pods) == 2, "the streams")
    for key in screen.follower.pods:  # a stream is live once a line written now comes through it
        deadline = time.monotonic() + 30
        while key not in screen.follower.states() or screen.follower.states()[key].lines == 0:
            assert time.monotonic() < deadline, f"the stream of {key} never opened"
            append(sb, key[1], warm)
            await pilot.pause(0.1)
    return screen


async def test_the_logs_screen_reads_an_istio_16_mesh(quiet: tuple[Sandbox, client.ApiClient]) -> None:
    """Istio 1.3-1.7's default format on the live path: client lines to a subset, the server's
    pre-1.8 inbound cluster (``inbound|80|http|HOST``), a line shipped with a journald prefix."""
    sb, _api = quiet
    path = str(sb.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))

    def old(cluster: str, request: str) -> str:
        return (f'[{now_stamp()}] "GET /{request} HTTP/1.1" 200 - "-" "-" 0 10 4 3 "-" "curl/7.60.0" "{request}" '
                f'"web" "10.244.88.1:8080" {cluster} 10.244.88.2:1 10.96.0.9:80 10.244.88.2:2 - default')

    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_screen(pilot, app, sb, old("outbound|80||other.example.com", "warmup"))
        for i in range(4):
            append(sb, "client-1", old(f"outbound|80|v0|{HOST}", f"out-{i}"))
        append(sb, "client-1", "May 01 12:00:00 node-1 envoy[4242]: " + old(f"outbound|80|v0|{HOST}", "out-journald"))
        await until(pilot, lambda: sum(r.requests for r in screen.split_rows() if r.host == HOST) >= 5,
                    "five client requests in the split")
        rows = [r for r in screen.split_rows() if r.host == HOST]
        assert [(r.subset, r.requests) for r in rows] == [("v0", 5)]
        panel = " ".join(screen.split_text().split())  # long lines wrap: read it as one run of words
        assert "Istio 1.3-1.7 default TEXT format" in panel
        assert "did not parse" not in panel
        # The server's own lines, with 1.6's inbound cluster name, when no client line is counted.
        screen.session.set_basis("server")  # type: ignore[union-attr]
        append(sb, "web-v0-1", old(f"inbound|80|http|{HOST}", "in-0"))
        await until(pilot, lambda: any(r.direction == "inbound" for r in screen.split_rows()), "the inbound row")
        inbound = [r for r in screen.split_rows() if r.direction == "inbound"]
        assert [(r.subset, r.port) for r in inbound] == [("v0", 80)]  # by pod labels, never "http"


async def test_the_logs_screen_reads_a_wrapped_mesh_config_format(quiet: tuple[Sandbox, client.ApiClient]) -> None:
    sb, api = quiet
    core = client.CoreV1Api(api)
    mesh = f"accessLogFile: /dev/stdout\naccessLogFormat: {json.dumps(WRAPPED)}\n"
    try:
        core.create_namespaced_config_map("istio-system", {"metadata": {"name": "istio"}, "data": {"mesh": mesh}})
        created = True
    except client.ApiException as exc:
        assert exc.status == 409
        created = False
        old_mesh = core.read_namespaced_config_map("istio", "istio-system").data
        core.patch_namespaced_config_map("istio", "istio-system", {"data": {"mesh": mesh}})
    try:
        path = str(sb.kubeconfig_path)
        app = MeshApp(lambda: KubeSource.from_kubeconfig(path))

        def wrapped(cluster: str, request: str) -> str:
            return f'[{now_stamp()}] "GET /{request} HTTP/1.1" 200 - 4 "10.244.88.1:8080" {cluster} default'

        async with app.run_test(size=(160, 50)) as pilot:
            screen = await open_screen(pilot, app, sb, wrapped("outbound|80||other.example.com", "warmup"))
            for i in range(3):
                append(sb, "client-1", wrapped(f"outbound|80|v0|{HOST}", f"w-{i}"))
            await until(pilot, lambda: sum(r.requests for r in screen.split_rows() if r.host == HOST) >= 3,
                        "three requests in the split")
            assert [(r.subset, r.requests) for r in screen.split_rows() if r.host == HOST] == [("v0", 3)]
            assert "did not parse" not in screen.split_text()
    finally:
        if created:
            core.delete_namespaced_config_map("istio", "istio-system")
        else:
            core.replace_namespaced_config_map("istio", "istio-system", {
                "metadata": {"name": "istio"}, "data": old_mesh})
