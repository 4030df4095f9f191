"""End to end with the real Prometheus binary: it discovers the sandbox's sidecar pods, scrapes
their Istio metrics through the API server's pod proxy, and meshtui's metrics basis (found as
Service ``prometheus`` in ``istio-system`` through the API server's service proxy) agrees with the
logs basis on the same traffic within sampling error; a weight change moves both.

Prometheus runs on 127.0.0.1 on a free port with a temporary data directory and is stopped after
the module. Its configuration is the one ``meshtui sandbox --prometheus-config`` writes, with the
pod discovery the installed build parses (Debian's lacks ``kubernetes_sd_configs``: HTTP SD).

The demo's ``legacy-gateway`` forwards a Host no VirtualService lists, so its calls bypass the
split: its log lines name the subset-less cluster while Istio's metrics label them with the
version that served them. Its pods are removed here, so both bases see the same routed traffic.

Sampling error: over one window each basis counts the backend's requests and the v1 share among
them. Treat the two as independent binomial estimates of one share p (they overlap in the
requests they count, which only makes them closer): the difference has a standard deviation of
sqrt(p(1-p)(1/n1 + 1/n2)); 4.5 of those is the bound (a false failure about once in 150,000 runs).
"""

from __future__ import annotations

import json
import math
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.accesslog.target import LogTarget, configured_weights
from meshtui.app import MeshApp
from meshtui.cli import main
from meshtui.sandbox import prometheus_config
from meshtui.sandbox.prometheus_process import PrometheusProcess
from meshtui.sandbox.server import Sandbox
from meshtui.screens.logs import LogsScreen
from meshtui.session.demo import open_demo
from meshtui.session.live_index import LiveIndex
from meshtui.session.log_session import LogSession
from meshtui.session.split_basis import ObservedSplit, PrometheusOptions, find_prometheus, logs_basis, observed_split
from meshtui.sources.kube import KubeSource
from meshtui.sources.prometheus import PrometheusClient, PrometheusError, discover
from meshtui.widgets.status_bar import StatusBar

PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None, reason="the prometheus binary is not installed (Debian: apt-get install prometheus; "
                               ".ci/run installs it)")

BACKEND = "backend-service.default.svc.cluster.local"
WAIT = 90.0  # hang guard of every wait below (they normally take seconds)
WINDOW = 12  # seconds of traffic each basis counts
SIGMAS = 4.5


def wait_for(cond: Callable[[], Any], what: str, limit: float = WAIT) -> Any:
    """Poll ``cond`` until it returns something truthy; fail after ``limit`` s."""
    deadline = time.monotonic() + limit
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.25)


async def until(pilot: Any, cond: Callable[[], Any], what: str, limit: float = WAIT) -> None:
    """Let the app run until ``cond()``; fail after ``limit`` s (a hang guard, not a timing)."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await pilot.pause(0.1)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


class Stack:
    """A busy sandbox, and a real Prometheus scraping it."""

    def __init__(self, sandbox: Sandbox, url: str, kubeconfig: Path, config_file: Path) -> None:
        self.sandbox, self.url, self.kubeconfig, self.config_file = sandbox, url, kubeconfig, config_file


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The sandbox at 400 requests/s, Prometheus on a free 127.0.0.1 port exposed as Service
    ``istio-system/prometheus``; stopped (Prometheus killed if it lingers) after the module."""
    assert PROMETHEUS is not None
    tmp = tmp_path_factory.mktemp("prom-e2e")
    sb = Sandbox(traffic_rps=400, traffic_seed=41).start()
    prom: PrometheusProcess | None = None
    try:
        kubeconfig = sb.write_kubeconfig(tmp / "kubeconfig")
        prom = PrometheusProcess.start(sb, tmp)
        prom.wait_ready(WAIT)
        api = config.new_client_from_config(str(kubeconfig), persist_config=False)
        try:
            core = client.CoreV1Api(api)
            for pod in core.list_namespaced_pod("default", label_selector="app=legacy-gateway").items:
                core.delete_namespaced_pod(pod.metadata.name, "default")
        finally:
            api.close()
        yield Stack(sb, prom.url, kubeconfig, prom.config_file)
    finally:
        if prom is not None:
            prom.stop()
        sb.stop()


@pytest.fixture(autouse=True)
def no_user_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's own settings file (a [prometheus] table) must not steer these tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[client.ApiClient]:
    """The official client on the sandbox."""
    api = config.new_client_from_config(str(stack.kubeconfig), persist_config=False)
    yield api
    api.close()


def sidecar_pods(api: client.ApiClient) -> set[tuple[str, str]]:
    """(namespace, name) of every pod whose istio-proxy declares Istio's metrics port, as listed
    by the official client."""
    pods = client.CoreV1Api(api).list_pod_for_all_namespaces().items
    return {(p.metadata.namespace, p.metadata.name) for p in pods
            if any((port.name or "").endswith("-envoy-prom") for c in p.spec.containers for port in c.ports or [])}


def healthy_targets(stack: Stack) -> set[tuple[str, str]]:
    """(namespace, pod) of the targets Prometheus scraped successfully last time."""
    doc = get_json(stack.url + "/api/v1/targets?state=active")
    return {(t["labels"].get("namespace", ""), t["labels"].get("pod", ""))
            for t in doc["data"]["activeTargets"] if t["health"] == "up"}


def scraped_for(stack: Stack, seconds: float) -> bool:
    """Whether Prometheus has held Istio's request counters for at least ``seconds``."""
    doc = get_json(stack.url + "/api/v1/query?" + urllib.parse.urlencode(
        {"query": f"count(istio_requests_total offset {seconds:g}s)"}))
    return bool(doc["data"]["result"])


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


def split_json(capsys: pytest.CaptureFixture[str], stack: Stack, *args: str) -> dict[str, Any]:
    """The last JSON object ``meshtui logs backend-service.default --split`` prints."""
    capsys.readouterr()
    code = main(["logs", "backend-service.default", "--kubeconfig", str(stack.kubeconfig), "--split",
                 "-o", "json", "--window", str(WINDOW), *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return dict(json.loads(captured.out.splitlines()[-1]))


def backend_rows(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["subset"]: r for r in obj["rows"] if r["host"] == BACKEND and not r["mirrored"]}


def both_bases(capsys: pytest.CaptureFixture[str], stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """The logs basis over the last WINDOW s (every rule, as metrics count), then the metrics basis."""
    logs = split_json(capsys, stack, "--basis", "logs", "--route", "all", "--duration", str(WINDOW + 3),
                      "--interval", str(WINDOW + 3))
    metrics = split_json(capsys, stack, "--basis", "prometheus")
    return logs, metrics


def assert_agree(logs: dict[str, Any], metrics: dict[str, Any]) -> float:
    """Both bases show the same v1 share within the sampling bound; returns the metrics share."""
    a, b = backend_rows(logs), backend_rows(metrics)
    assert set(a) == set(b) == {"v0", "v1"}, (a.keys(), b.keys())
    n1 = a["v0"]["requests"] + a["v1"]["requests"]
    n2 = b["v0"]["requests"] + b["v1"]["requests"]
    assert n1 >= 300 and n2 >= 300, (n1, n2)
    s1, s2 = a["v1"]["requests"] / n1, b["v1"]["requests"] / n2
    p = (a["v1"]["requests"] + b["v1"]["requests"]) / (n1 + n2)
    bound = SIGMAS * math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    assert abs(s1 - s2) <= bound, f"v1 share logs {s1:.4f} (n={n1}) vs metrics {s2:.4f} (n={n2}), bound {bound:.4f}"
    # The same traffic: request counts over one window agree within Poisson noise plus a scrape
    # interval of misalignment between the two windows.
    rate = n1 / WINDOW
    slack = SIGMAS * math.sqrt(n1 + n2) + rate * prometheus_config.SCRAPE_INTERVAL_SECONDS * 2
    assert abs(n1 - n2) <= slack, (n1, n2, slack)
    # Errors (the sandbox fails some of v1's calls with 500): the same error rate, binomially.
    e1, e2 = a["v1"]["errors"] / a["v1"]["requests"], b["v1"]["errors"] / b["v1"]["requests"]
    q = (a["v1"]["errors"] + b["v1"]["errors"]) / (a["v1"]["requests"] + b["v1"]["requests"])
    bound_e = SIGMAS * math.sqrt(max(q * (1 - q), 1e-4) * (1 / a["v1"]["requests"] + 1 / b["v1"]["requests"]))
    assert abs(e1 - e2) <= bound_e, (e1, e2, bound_e)
    return s2


def test_prometheus_discovers_every_sidecar_pod_and_scrapes_it(stack: Stack, api: client.ApiClient) -> None:
    expected = sidecar_pods(api)
    assert len(expected) >= 10
    wait_for(lambda: healthy_targets(stack) == expected, f"Prometheus to scrape all {len(expected)} sidecar pods")
    # A pod that appears is discovered and scraped too; one that goes away is dropped.
    core = client.CoreV1Api(api)
    template = core.read_namespaced_pod(sorted(n for ns, n in expected if ns == "default")[0], "default")
    body = api.sanitize_for_serialization(template)
    body["metadata"] = {"name": "prom-e2e-extra", "namespace": "default", "labels": body["metadata"]["labels"]}
    core.create_namespaced_pod("default", body)
    try:
        wait_for(lambda: ("default", "prom-e2e-extra") in healthy_targets(stack), "the new pod to be scraped")
    finally:
        core.delete_namespaced_pod("prom-e2e-extra", "default")
    wait_for(lambda: ("default", "prom-e2e-extra") not in healthy_targets(stack), "the deleted pod to be dropped")


def test_metrics_basis_agrees_with_the_logs_basis_and_a_weight_change_moves_both(
        stack: Stack, api: client.ApiClient, capsys: pytest.CaptureFixture[str]) -> None:
    wait_for(lambda: scraped_for(stack, WINDOW + 2 * prometheus_config.SCRAPE_INTERVAL_SECONDS),
             "a window of scraped metrics")
    logs, metrics = both_bases(capsys, stack)
    # The JSON contract of the metrics basis: no log lines, and every row says its basis.
    assert metrics["lines"] is None and metrics["unparsed"] is None
    assert metrics["window_s"] == WINDOW
    for row in metrics["rows"]:
        assert row["basis"] == "prometheus"
        assert {"host", "subset", "requests", "share", "errors", "p50_ms", "p95_ms", "p99_ms"} <= set(row)
    assert all(row["basis"] == "logs" for row in logs["rows"])
    assert {s: r["weight"] for s, r in backend_rows(metrics).items()} == {"v0": 0.9, "v1": 0.1}
    if backend_rows(metrics)["v1"]["errors"]:
        groups = metrics["errors"]["groups"]
        assert any(g["response_code"] == 500 and g["cluster"] == f"outbound|80|v1|{BACKEND}" for g in groups), groups
    before = assert_agree(logs, metrics)
    for subset in ("v0", "v1"):
        # p50 from the duration histogram (interpolated within Envoy's buckets 5/10/25 ms ...) is
        # within the bucket the logs' exact median falls in, or its neighbour.
        exact, estimated = backend_rows(logs)[subset]["p50_ms"], backend_rows(metrics)[subset]["p50_ms"]
        bounds = (0, 0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000)
        bucket = next(i for i, b in enumerate(bounds) if exact <= b)
        assert bounds[max(0, bucket - 2)] <= estimated <= bounds[min(len(bounds) - 1, bucket + 1)], (exact, estimated)

    set_default_weights(api, 10, 90)
    try:
        wait_for(lambda: backend_rows(split_json(capsys, stack, "--basis", "prometheus"))["v1"]["weight"] == 0.9,
                 "the metrics basis to compare with the new weights")
        start = time.time()
        logs, _ = both_bases(capsys, stack)
        # The metrics window must lie after the change too.
        wait_for(lambda: time.time() - start >= WINDOW + 2 * prometheus_config.SCRAPE_INTERVAL_SECONDS,
                 "the metrics window to pass the change", limit=WINDOW * 3)
        metrics = split_json(capsys, stack, "--basis", "prometheus")
        after = assert_agree(logs, metrics)
    finally:
        set_default_weights(api, 90, 10)
    # 10 % → 90 % of the default rule's share moves v1 from ~30 % to ~90 % of the backend's calls.
    assert after - before > 0.4, (before, after)


def test_no_requests_in_the_window_is_one_line_and_exit_1(stack: Stack, api: client.ApiClient,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_service("default", {"metadata": {"name": "idle"}, "spec": {
        "selector": {"app": "idle"}, "ports": [{"name": "http", "port": 80}]}})
    try:
        capsys.readouterr()
        code = main(["logs", "idle.default", "--kubeconfig", str(stack.kubeconfig), "--split", "--basis",
                     "prometheus", "-o", "json"])
        out, err = capsys.readouterr()
    finally:
        core.delete_namespaced_service("idle", "default")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("meshtui: ")
    assert "no istio_requests_total for idle.default.svc.cluster.local" in err


def test_a_bad_query_is_one_line_through_either_way_of_reaching_prometheus(stack: Stack) -> None:
    source = KubeSource.from_kubeconfig(str(stack.kubeconfig))
    try:
        found, where = discover(source.rest)
        assert found is not None, where
        for prom in (PrometheusClient.direct(stack.url), found):
            with pytest.raises(PrometheusError) as err:
                prom.query("sum(istio_requests_total", time.time())
            text = str(err.value)
            assert "\n" not in text and "Prometheus answered 400" in text and "parse error" in text
    finally:
        source.close()


def test_the_settings_file_names_the_service(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    stack.sandbox.expose_prometheus(stack.url, namespace="istio-system", name="prom-k8s")
    settings = tmp_path / "meshtui" / "keys.toml"
    settings.parent.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    settings.write_text('[prometheus]\nnamespace = "istio-system"\nservice = "nope"\n')
    capsys.readouterr()
    code = main(["logs", "backend-service.default", "--kubeconfig", str(stack.kubeconfig), "--split",
                 "--basis", "prometheus", "-o", "json"])
    out, err = capsys.readouterr()
    assert (code, out, err) == (1, "", "meshtui: --basis prometheus: no Service nope in istio-system\n")
    settings.write_text('[prometheus]\nservice = "prom-k8s"\n')
    obj = split_json(capsys, stack, "--basis", "prometheus")
    assert obj["rows"] and all(r["basis"] == "prometheus" for r in obj["rows"])


def test_without_basis_the_found_prometheus_is_used(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    obj = split_json(capsys, stack)
    assert obj["rows"] and {r["basis"] for r in obj["rows"]} == {"prometheus"}


async def test_the_logs_screen_shows_the_split_from_prometheus_and_says_so(stack: Stack) -> None:
    app = MeshApp(lambda: KubeSource.from_kubeconfig(str(stack.kubeconfig)))
    async with app.run_test(size=(180, 50)) as pilot:
        await until(pilot, lambda: app.index is not None and app.index.get("Service", "default", "backend-service"),
                    "the mesh to load")
        screen = LogsScreen(LogTarget("Service", "default", "backend-service"), tail_lines=0)
        await app.push_screen(screen)
        await until(pilot, lambda: "from Prometheus" in screen.split_text(), "the panel's metrics basis")
        status = screen.query_one(StatusBar).render().plain
        assert "split from Prometheus (Service prometheus in istio-system (port http) via the API server)" in status
        rows = {r.subset: r for r in screen.split_rows() if r.host == BACKEND}
        assert set(rows) == {"v0", "v1"} and rows["v0"].weight == 0.9 and rows["v0"].requests > 0
        assert "reporter=source" in screen.split_text()
        # o: auto -> at the clients -> at the servers, which on this basis is Istio's destination reporter.
        await pilot.press("o", "o")
        await until(pilot, lambda: "reporter=destination" in " ".join(screen.split_text().split()),
                    "the servers' view")


def test_the_text_table_says_it_is_from_prometheus(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = main(["logs", "backend-service.default", "--kubeconfig", str(stack.kubeconfig), "--split",
                 "--basis", "prometheus", "--window", str(WINDOW)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert "observed from Prometheus, reporter=source" in out[0] and f"window {WINDOW}s" in out[0]
    assert out[1].split()[:3] == ["CLUSTER", "SUBSET", "REQUESTS"]
    assert [line.split()[1] for line in out[2:4]] == ["v0", "v1"]


async def test_the_demo_runs_prometheus_and_l_shows_the_split_from_it() -> None:
    app = MeshApp(lambda: open_demo(prometheus=True))
    async with app.run_test(size=(180, 50)) as pilot:
        await until(pilot, lambda: app.index is not None and app.index.get("Service", "default", "backend-service"),
                    "the demo mesh to load")
        await until(pilot, lambda: app.index is not None
                    and app.index.get("Service", "istio-system", "prometheus") is not None,
                    "the demo's Prometheus Service")
        screen = LogsScreen(LogTarget("Service", "default", "backend-service"), tail_lines=0)
        await app.push_screen(screen)
        await until(pilot, lambda: "from Prometheus" in screen.split_text(), "the panel's metrics basis")
        assert "split from Prometheus" in screen.query_one(StatusBar).render().plain


def test_observed_split_gives_either_basis_as_the_logs_screen_would(stack: Stack) -> None:
    source = KubeSource.from_kubeconfig(str(stack.kubeconfig))
    live = LiveIndex.load(source)
    target = LogTarget("Service", "default", "backend-service")
    session: LogSession | None = None
    try:
        weights = configured_weights(live.index, target)
        choice = find_prometheus(source, PrometheusOptions())
        assert choice.basis == "prometheus", choice.reason
        split = observed_split(choice, None, live.index, target, WINDOW, weights)
        assert split.basis == "prometheus" and {r.subset for r in split.rows} == {"v0", "v1"}
        assert {r["subset"]: r["weight"] for r in split.summary()["rows"]} == {"v0": 0.9, "v1": 0.1}
        logs = logs_basis("the test asks for the logs")
        with pytest.raises(ValueError):
            observed_split(logs, None, live.index, target, WINDOW, weights)
        session = LogSession(source, live.index, target, tail_lines=0, since_seconds=None, window=WINDOW)

        def counted() -> ObservedSplit | None:
            assert session is not None
            batch, _ = session.take(10_000, timeout=0.2)
            session.process(batch)
            got = observed_split(logs, session, live.index, target, WINDOW, weights)
            return got if {r.subset for r in got.rows if r.host == BACKEND} == {"v0", "v1"} else None

        from_logs = wait_for(counted, "the logs basis to count both subsets")
        assert from_logs.basis == "logs" and isinstance(from_logs.summary()["lines"], int)
    finally:
        if session is not None:
            session.close()
        live.stop()
        source.close()
