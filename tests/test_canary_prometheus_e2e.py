"""``--basis prometheus`` of ``meshtui canary`` and of ``--verify``, against the real Prometheus
binary scraping the sandbox (the harness of ``test_prometheus_e2e``: found as Service
``istio-system/prometheus`` through the API server's service proxy).

Istio's metrics carry no route name, so the metrics basis counts every rule of the service: the
catalog's ``internal-cohort`` rule (5 % of its calls, always to v2) is removed first, so that the
split Prometheus sees is the ``canary`` rule's alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from test_prometheus_e2e import PROMETHEUS, Stack, api, no_user_settings, scraped_for, stack, wait_for  # noqa: F401

from meshtui.cli import main
from meshtui.sandbox import prometheus_config

pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.skipif(PROMETHEUS is None, reason="the prometheus binary is not installed (Debian: apt-get install "
                                                  "prometheus; .ci/run installs it)"),
]

GROUP, VERSION, PLURAL = "networking.istio.io", "v1", "virtualservices"


def catalog(custom: client.CustomObjectsApi) -> dict[str, Any]:
    return custom.get_namespaced_custom_object(GROUP, VERSION, "istioinaction", PLURAL, "catalog")


def canary_weights(custom: client.CustomObjectsApi) -> dict[str, int]:
    rule = next(r for r in catalog(custom)["spec"]["http"] if r.get("name") == "canary")
    return {d["destination"]["subset"]: d.get("weight", 0) for d in rule["route"]}


@pytest.fixture
def one_rule(api: client.ApiClient, stack: Stack, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        client.CustomObjectsApi]:
    """catalog with its canary rule only, at 90/10, a healthy v2, and an audit log of the test's own;
    the VirtualService as it was afterwards."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    custom = client.CustomObjectsApi(api)
    apps = client.AppsV1Api(api)
    original = catalog(custom)
    vs = catalog(custom)
    vs["spec"]["http"] = [r for r in vs["spec"]["http"] if r.get("name") == "canary"]
    for d in vs["spec"]["http"][0]["route"]:
        d["weight"] = 90 if d["destination"]["subset"] == "v1" else 10
    custom.replace_namespaced_custom_object(GROUP, VERSION, "istioinaction", PLURAL, "catalog", vs)
    apps.patch_namespaced_deployment("catalog-v2", "istioinaction", {"metadata": {"annotations": {
        "meshtui.io/simulate-error-rate": "0"}}})
    wait_for(lambda: scraped_for(stack, 10), "Prometheus to hold 10 s of scraped metrics")
    try:
        yield custom
    finally:
        current = catalog(custom)
        original["metadata"] = {**original["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]}
        custom.replace_namespaced_custom_object(GROUP, VERSION, "istioinaction", PLURAL, "catalog", original)


def test_verify_on_the_prometheus_basis_gives_a_verdict_and_says_its_basis(
        one_rule: client.CustomObjectsApi, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["shift", "catalog.istioinaction", "v2=40", "--yes", "--verify", "10", "--basis", "prometheus",
                 "--kubeconfig", str(stack.kubeconfig)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    verdict = next(line for line in captured.out.splitlines() if line.startswith("outcome:"))
    assert "converged" in verdict and "v2 " in verdict and "weight 40" in verdict
    requests = int(verdict.split(" over ")[1].split(" ")[0])
    assert requests >= 100  # ~10 s of the edge's catalog calls, counted by Prometheus
    assert "from Prometheus" in captured.err
    assert "measured prometheus: istio_requests_total increase() to catalog.istioinaction.svc.cluster.local" \
        in captured.err and "every rule" in captured.err


def test_a_healthy_canary_on_the_prometheus_basis_reaches_max(
        one_rule: client.CustomObjectsApi, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    interval = f"{4 * prometheus_config.SCRAPE_INTERVAL_SECONDS}s"
    code = main(["canary", "catalog.istioinaction", "--to", "v2", "--step", "20", "--max", "50", "--interval",
                 interval, "--min-requests", "10", "--threshold", "5", "--basis", "prometheus", "--yes",
                 "--kubeconfig", str(stack.kubeconfig)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert canary_weights(one_rule) == {"v1": 50, "v2": 50}
    assert "measured prometheus:" in captured.out and "reached v2=50" in captured.out
    assert captured.out.count("— passed") == 2 and captured.out.count("(prometheus): ") == 2


def test_basis_prometheus_without_one_stops_before_writing(
        one_rule: client.CustomObjectsApi, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["canary", "catalog.istioinaction", "--to", "v2", "--step", "20", "--max", "50", "--interval",
                 "2s", "--basis", "prometheus", "--prometheus", "http://127.0.0.1:9", "--yes",
                 "--kubeconfig", str(stack.kubeconfig)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("meshtui: --basis prometheus:") and "nothing was written" in err
    assert len(err.strip().splitlines()) == 1
    assert canary_weights(one_rule) == {"v1": 90, "v2": 10}


@pytest.fixture
def cart_split_only(api: client.ApiClient, stack: Stack, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[
        client.CustomObjectsApi]:
    """The GAMMA HTTPRoute storefront/cart with its 90/10 rule only (its x-canary rule, always to
    cart-v2, removed: metrics cannot tell the rules apart); as it was afterwards."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    custom = client.CustomObjectsApi(api)
    args = ("gateway.networking.k8s.io", "v1", "storefront", "httproutes", "cart")
    original = custom.get_namespaced_custom_object(*args)
    route = custom.get_namespaced_custom_object(*args)
    route["spec"]["rules"] = [r for r in route["spec"]["rules"] if r.get("name") == "split"]
    custom.replace_namespaced_custom_object(*args, route)
    wait_for(lambda: scraped_for(stack, 10), "Prometheus to hold 10 s of scraped metrics")
    try:
        yield custom
    finally:
        current = custom.get_namespaced_custom_object(*args)
        original["metadata"] = {**original["metadata"], "resourceVersion": current["metadata"]["resourceVersion"]}
        original.pop("status", None)
        custom.replace_namespaced_custom_object(*args, original)


def test_verify_of_an_httproute_shift_on_the_prometheus_basis_counts_the_version_services(
        cart_split_only: client.CustomObjectsApi, stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["shift", "httproute/cart.storefront", "cart-v2=50", "--yes", "--verify", "10", "--basis",
                 "prometheus", "--kubeconfig", str(stack.kubeconfig)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    verdict = next(line for line in captured.out.splitlines() if line.startswith("outcome:"))
    assert "converged" in verdict and "cart-v1 " in verdict and "cart-v2 " in verdict and "weight 50" in verdict
    assert "and cart-v1, cart-v2 (every rule" in captured.err
