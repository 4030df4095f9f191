"""The waypoint's Istio metrics: the sandbox's waypoint pod reports the requests it proxies as a
waypoint does (``reporter="waypoint"``, source the ambient client, destination the backend it
picked), on its ``/stats/prometheus`` through the API server's pod proxy; a real Prometheus
scrapes them, and ``meshtui logs basket.shop --basis prometheus`` shows the HTTPRoute's 90/10
split of the ambient service from them.

Prometheus runs on 127.0.0.1 on a free port (the harness of ``test_prometheus_e2e``); skipped
without the binary.
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

from meshtui.cli import main
from meshtui.sandbox.prometheus_process import PrometheusProcess
from meshtui.sandbox.server import Sandbox

PROMETHEUS = shutil.which("prometheus")
WAIT = 90.0  # hang guard of every wait below
WINDOW = 20  # seconds of traffic the split counts
SIGMAS = 4.5


def _wait(cond: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.25)


def _parse(exposition: str) -> list[dict[str, str]]:
    """The label sets of the ``istio_requests_total`` samples of a Prometheus text exposition."""
    out = []
    for line in exposition.splitlines():
        if line.startswith("istio_requests_total{"):
            body = line[len("istio_requests_total{"):line.rindex("}")]
            labels = dict(pair.split("=", 1) for pair in body.split('",'))
            out.append({k: v.strip('"') for k, v in labels.items()} | {"value": line.rsplit(" ", 1)[1]})
    return out


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    """A busy sandbox of its own (traffic at 300 requests/s)."""
    sb = Sandbox(traffic_rps=300, traffic_seed=7).start()
    try:
        yield sb, sb.write_kubeconfig(tmp_path_factory.mktemp("wp-prom") / "kubeconfig")
    finally:
        sb.stop()


def _waypoint_metrics(path: Path) -> list[dict[str, str]]:
    api = config.new_client_from_config(str(path), persist_config=False)
    try:
        core = client.CoreV1Api(api)
        pod = core.list_namespaced_pod("shop", label_selector="gateway.networking.k8s.io/gateway-name=waypoint").items[0]
        text = core.connect_get_namespaced_pod_proxy_with_path(f"{pod.metadata.name}:15020", "shop", "stats/prometheus")
    finally:
        api.close()
    return _parse(text)


def _observer_counts(url: str, path: Path) -> Any:
    from meshtui.model.index import MeshIndex
    from meshtui.session.observed_split_prometheus import PrometheusObservedSplit
    from meshtui.session.outcome_check import RuleTarget
    from meshtui.sources.kube import KubeSource
    from meshtui.sources.prometheus import PrometheusClient

    source = KubeSource.from_kubeconfig(str(path))
    try:
        index = MeshIndex(source.snapshot().objects)
    finally:
        source.close()
    target = RuleTarget(0, None, "shop", "basket", {"basket-v1": 90.0, "basket-v2": 10.0})
    observer = PrometheusObservedSplit(PrometheusClient.direct(url), index, target, settle=0.0)
    assert 'reporter="waypoint"' in observer.basis
    now = time.time()
    return observer.observation(now - WINDOW, now)


def test_the_waypoint_pod_reports_its_requests_as_a_waypoint(kubeconfig: tuple[Sandbox, Path]) -> None:
    _, path = kubeconfig
    samples = _wait(lambda: [s for s in _waypoint_metrics(path) if s["destination_service_namespace"] == "shop"],
                    "the waypoint's istio_requests_total")
    assert {s["reporter"] for s in samples} == {"waypoint"}
    assert {s["destination_service"] for s in samples} <= {"basket-v1.shop.svc.cluster.local",
                                                           "basket-v2.shop.svc.cluster.local"}
    assert {s["source_workload"] for s in samples} == {"storefront-v1"}
    assert {s["connection_security_policy"] for s in samples} == {"mutual_tls"}


@pytest.mark.skipif(PROMETHEUS is None, reason="the prometheus binary is not installed (.ci/run installs it)")
def test_logs_prometheus_basis_shows_the_ambient_split_from_the_waypoint(
    kubeconfig: tuple[Sandbox, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no user settings
    sb, path = kubeconfig
    prom = PrometheusProcess.start(sb, tmp_path)
    try:
        prom.wait_ready(WAIT)

        def scraped() -> bool:
            query = urllib.parse.urlencode({"query": f'count(istio_requests_total{{reporter="waypoint"}} offset {WINDOW}s)'})
            with urllib.request.urlopen(f"{prom.url}/api/v1/query?{query}", timeout=10) as resp:
                return bool(json.load(resp)["data"]["result"])

        _wait(scraped, "a window of the waypoint's metrics in Prometheus")
        capsys.readouterr()
        code = main(["logs", "basket.shop", "--kubeconfig", str(path), "--split", "-o", "json",
                     "--basis", "prometheus", "--window", str(WINDOW)])
        captured = capsys.readouterr()
        # A canary run's or outcome check's observer reads the same view of the waypoint.
        observed = _observer_counts(prom.url, path)
    finally:
        prom.stop()
    assert set(observed.destinations) == {"basket-v1", "basket-v2"}
    assert observed.served == observed.destinations
    assert code == 0, captured.err
    split = json.loads(captured.out.splitlines()[-1])
    rows = {r["subset"]: r for r in split["rows"]}
    assert set(rows) == {"basket-v1", "basket-v2"}, split["rows"]
    assert (rows["basket-v1"]["weight"], rows["basket-v2"]["weight"]) == (0.9, 0.1)
    n = rows["basket-v1"]["requests"] + rows["basket-v2"]["requests"]
    assert n >= 100, n
    share = rows["basket-v1"]["requests"] / n
    assert abs(share - 0.9) <= SIGMAS * math.sqrt(0.9 * 0.1 / n), (share, n)
    assert abs(rows["basket-v1"]["host_share"] - share) < 1e-6
