"""The sandbox's sidecars serve Istio's standard metrics through the API server's pod proxy."""

from __future__ import annotations

import re
import ssl
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from meshtui.sandbox import prometheus_config
from meshtui.sandbox.server import Sandbox

BUCKETS = ("0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "30000",
           "60000", "300000", "600000", "1800000", "3600000", "+Inf")


@pytest.fixture(scope="module")
def busy_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox simulating traffic, with a kubeconfig written."""
    sb = Sandbox(traffic=True, traffic_rps=100, traffic_seed=7).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("stats") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


def _scrape(api: client.CoreV1Api, ns: str, name: str) -> str:
    return str(api.connect_get_namespaced_pod_proxy_with_path(f"{name}:15020", ns, "stats/prometheus"))


def test_each_sidecar_serves_istio_request_metrics_through_the_pod_proxy(busy_sandbox: Sandbox) -> None:
    api = client.CoreV1Api(config.new_client_from_config(str(busy_sandbox.kubeconfig_path)))
    pods = api.list_namespaced_pod("bookinfo").items
    reviews = [p.metadata.name for p in pods if p.metadata.name.startswith("reviews-")]
    assert reviews
    deadline = time.monotonic() + 20
    text = ""
    while time.monotonic() < deadline:
        text = "".join(_scrape(api, "bookinfo", n) for n in reviews)
        if 'reporter="destination"' in text:
            break
        time.sleep(0.2)
    counts = re.findall(r'^istio_requests_total\{([^}]*)\} (\d+)$', text, re.M)
    assert counts, text[:500]
    labels = counts[0][0]
    for name in ("destination_service=\"reviews.bookinfo.svc.cluster.local\"", "destination_workload=\"reviews-v",
                 "response_code=", "response_flags=", "source_workload="):
        assert name in labels
    bounds = re.findall(r'^istio_request_duration_milliseconds_bucket\{[^}]*le="([^"]+)"\}', text, re.M)
    assert tuple(dict.fromkeys(bounds)) == BUCKETS


def test_other_ports_are_refused_like_a_pod_that_does_not_listen(busy_sandbox: Sandbox) -> None:
    api = client.CoreV1Api(config.new_client_from_config(str(busy_sandbox.kubeconfig_path)))
    name = api.list_namespaced_pod("bookinfo").items[0].metadata.name
    with pytest.raises(client.ApiException) as err:
        api.connect_get_namespaced_pod_proxy_with_path(f"{name}:9999", "bookinfo", "stats/prometheus")
    assert err.value.status == 503


def test_prometheus_config_discovers_pods_and_scrapes_through_the_proxy(busy_sandbox: Sandbox,
                                                                        tmp_path: Path) -> None:
    assert busy_sandbox.ca_pem is not None
    path = prometheus_config.write(tmp_path / "prom.yml", busy_sandbox.url, busy_sandbox.readonly_token,
                                   busy_sandbox.ca_pem)
    job = yaml.safe_load(path.read_text())["scrape_configs"][0]
    sd = job["kubernetes_sd_configs"][0]
    assert sd["role"] == "pod" and sd["api_server"] == busy_sandbox.url
    relabel = {r.get("target_label"): r for r in job["relabel_configs"]}
    address = relabel["__address__"]["replacement"]
    metrics_path = relabel["__metrics_path__"]["replacement"].replace("$1", "bookinfo")
    api = client.CoreV1Api(config.new_client_from_config(str(busy_sandbox.kubeconfig_path)))
    name = api.list_namespaced_pod("bookinfo").items[0].metadata.name
    # What Prometheus would do with the written files: the token and CA it names, the path it builds.
    ctx = ssl.create_default_context(cafile=job["tls_config"]["ca_file"])
    token = Path(job["authorization"]["credentials_file"]).read_text()
    req = urllib.request.Request(f"https://{address}{metrics_path.replace('$2', name)}",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
        assert b"# TYPE istio_requests_total counter" in resp.read()
