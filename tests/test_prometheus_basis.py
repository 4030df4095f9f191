"""Choosing the observed split's basis without a Prometheus at hand, and the sandbox's side of it:
``meshtui logs --split --basis …`` errors and the logs fallback, the settings file's
``[prometheus]`` table, the HTTP service discovery endpoint and the API server's service proxy.
(The real Prometheus is in ``test_prometheus_e2e.py``.)"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from meshtui.accesslog.target import LogTarget
from meshtui.app import MeshApp
from meshtui.cli import main
from meshtui.sandbox import prometheus_config
from meshtui.sandbox.server import Sandbox
from meshtui.screens.logs import LogsScreen
from meshtui.session.split_basis import load_prometheus_settings
from meshtui.sources.kube import KubeSource
from meshtui.widgets.status_bar import StatusBar


@pytest.fixture(autouse=True)
def no_user_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own settings file must not steer these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_an_unreachable_prometheus_is_one_line_exit_1_and_nothing_else(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, out, err = run(capsys, "logs", "backend-service.default", "--kubeconfig", str(sandbox.kubeconfig_path),
                         "--split", "--basis", "prometheus", "--prometheus", url, "-o", "json")
    assert (code, out) == (1, "")
    assert err == f"meshtui: --basis prometheus: cannot reach Prometheus at {url}: Connection refused\n"


def test_basis_prometheus_without_a_prometheus_service_says_so(sandbox: Sandbox,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "logs", "backend-service.default", "--kubeconfig", str(sandbox.kubeconfig_path),
                         "--split", "--basis", "prometheus", "-o", "json")
    assert (code, out, err) == (1, "", "meshtui: --basis prometheus: no Service prometheus in istio-system\n")


def test_without_prometheus_the_split_comes_from_logs_with_a_one_line_reason(
        sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "logs", "backend-service.default", "--kubeconfig", str(sandbox.kubeconfig_path),
                         "--split", "-o", "json", "--duration", "1.5", "--interval", "1")
    assert code == 0
    assert err.splitlines()[0] == "meshtui: split from logs (no Service prometheus in istio-system)"
    last = json.loads(out.splitlines()[-1])
    assert isinstance(last["lines"], int)
    assert all(row["basis"] == "logs" for row in last["rows"])


@pytest.mark.parametrize(("argv", "message"), [
    (["--file", "x.log", "--split", "--basis", "prometheus"], "--basis: only for a live SERVICE[.NS], not --file"),
    (["SVC", "--basis", "prometheus"], "--basis: only with --split"),
    (["--file", "x.log", "--split", "--prometheus", "http://p:9090"], "--prometheus: only for a live SERVICE[.NS], not --file"),
    (["SVC", "--split", "--prometheus-ca", "ca.pem"], "--prometheus-ca: only with --prometheus URL"),
    (["SVC", "--split", "--basis", "logs", "--prometheus", "http://p:9090"],
     "--prometheus with --basis logs: choose one basis"),
])
def test_basis_flags_that_cannot_apply_are_refused(argv: list[str], message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "logs", *argv)
    assert (code, out, err) == (2, "", f"meshtui: {message}\n")


def test_basis_logs_with_a_saved_file_is_the_file_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "x.log"
    log.write_text("")
    code, out, err = run(capsys, "logs", "--file", str(log), "--split", "--basis", "logs", "-o", "json")
    assert (code, err) == (0, "") and json.loads(out)["lines"] == 0


def test_a_prometheus_url_that_is_not_http_is_refused(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "logs", "backend-service.default", "--kubeconfig", str(sandbox.kubeconfig_path),
                         "--split", "--prometheus", "prometheus:9090")
    assert (code, out) == (1, "")
    assert err == "meshtui: --basis prometheus: --prometheus prometheus:9090: not an http(s):// URL\n"


def test_the_settings_file_prometheus_table_and_its_problems(tmp_path: Path) -> None:
    file = tmp_path / "keys.toml"
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    file.write_text(f'[keys]\nlogs-pause = "space"\n[prometheus]\nnamespace = "monitoring"\n'
                    f'service = "prometheus-k8s"\ntoken_file = "{token}"\n')
    options, problems = load_prometheus_settings(file)
    assert (options.namespace, options.service, options.token, options.url, problems) == (
        "monitoring", "prometheus-k8s", "s3cret", None, [])
    file.write_text('[prometheus]\nservice = 3\n')
    options, problems = load_prometheus_settings(file)
    assert options.service == "prometheus" and problems == [f"{file}: prometheus.service must be a non-empty string"]
    file.write_text('[prometheus\n')
    options, problems = load_prometheus_settings(file)
    assert options.namespace == "istio-system" and len(problems) == 1 and problems[0].startswith(f"{file}: ")


def _sd(sandbox: Sandbox, token: str | None) -> list[dict]:
    assert sandbox.ca_pem is not None
    ctx = ssl.create_default_context(cadata=sandbox.ca_pem.decode())
    request = urllib.request.Request(sandbox.url + "/meshtui/v1/prometheus-sd")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, context=ctx, timeout=10) as resp:
        return list(json.load(resp))


def test_the_sandbox_serves_http_service_discovery_of_every_sidecar_pod(sandbox: Sandbox) -> None:
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    try:
        pods = client.CoreV1Api(api).list_pod_for_all_namespaces().items
    finally:
        api.close()
    sidecars = {(p.metadata.namespace, p.metadata.name) for p in pods
                if any(c.name == "istio-proxy" and any((q.name or "").endswith("-envoy-prom") for q in c.ports or [])
                       for c in p.spec.containers)}
    groups = _sd(sandbox, sandbox.readonly_token)
    found = {(g["labels"]["__meta_kubernetes_namespace"], g["labels"]["__meta_kubernetes_pod_name"]) for g in groups}
    assert found == sidecars and len(found) >= 10
    one = next(g for g in groups if g["labels"]["__meta_kubernetes_pod_name"].startswith("reviews-v2-"))
    assert one["targets"] == [sandbox.url.removeprefix("https://")]
    assert one["labels"]["__meta_kubernetes_pod_label_version"] == "v2"
    assert one["labels"]["__meta_kubernetes_pod_container_port_name"] == "http-envoy-prom"
    with pytest.raises(urllib.error.HTTPError) as err:
        _sd(sandbox, None)
    assert err.value.code == 401


def test_the_service_proxy_answers_like_a_service_without_endpoints(sandbox: Sandbox) -> None:
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    try:
        core = client.CoreV1Api(api)
        with pytest.raises(client.ApiException) as err:
            core.connect_get_namespaced_service_proxy_with_path("backend-service:80", "default", "api/v1/query")
        assert err.value.status == 503 and 'no endpoints available for service \\"backend-service\\"' in err.value.body
        with pytest.raises(client.ApiException) as err:
            core.connect_get_namespaced_service_proxy_with_path("nope:80", "default", "x")
        assert err.value.status == 404
    finally:
        api.close()


def test_the_written_config_parses_for_the_installed_prometheus(sandbox: Sandbox, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus; .ci/run installs it)")
    assert sandbox.ca_pem is not None
    path = prometheus_config.write(tmp_path / "prom.yml", sandbox.url, sandbox.readonly_token, sandbox.ca_pem,
                                   discovery="auto")
    doc = yaml.safe_load(path.read_text())
    job = doc["scrape_configs"][0]
    assert ("http_sd_configs" in job) != ("kubernetes_sd_configs" in job)
    if "http_sd_configs" in job:
        assert job["http_sd_configs"][0]["url"] == sandbox.url + "/meshtui/v1/prometheus-sd"
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sandbox_command_refuses_a_prometheus_service_that_is_not_local(capsys: pytest.CaptureFixture[str],
                                                                       tmp_path: Path) -> None:
    code, out, err = run(capsys, "sandbox", "--no-traffic", "--kubeconfig-out", str(tmp_path / "kc"),
                         "--prometheus-service", "http://10.0.0.1:9090")
    assert code == 2
    assert err.endswith("meshtui: --prometheus-service http://10.0.0.1:9090: the sandbox proxies only to "
                        "http(s)://127.0.0.1 addresses\n")


async def test_the_logs_screen_says_the_split_is_from_logs_and_why(sandbox: Sandbox) -> None:
    path = str(sandbox.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(180, 50)) as pilot:
        deadline = time.monotonic() + 60
        while app.index is None or app.index.get("Service", "default", "backend-service") is None:
            assert time.monotonic() < deadline, "the mesh never loaded"
            await pilot.pause(0.1)
        screen = LogsScreen(LogTarget("Service", "default", "backend-service"), tail_lines=0)
        await app.push_screen(screen)
        while "logs basis: no Service prometheus in istio-system" not in " ".join(screen.split_text().split()):
            assert time.monotonic() < deadline, screen.split_text()
            await pilot.pause(0.1)
        status = screen.query_one(StatusBar).render().plain
        assert "split from logs (no Service prometheus in istio-system)" in status
