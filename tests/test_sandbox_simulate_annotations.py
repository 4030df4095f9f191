"""``meshtui.io/simulate-*`` annotations stage a bad (or slow) version live: set with kubectl, an
independent client, on a Deployment or a pod, they change how the traffic simulator answers from
the next requests on; removing them restores the workload's own behaviour."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.accesslog import Record, make_parser
from meshtui.sandbox.server import Sandbox

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")

PARSER = make_parser()
WAIT_SECONDS = 60.0


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox of this module's own (it annotates the demo's workloads)."""
    sb = Sandbox(traffic_rps=300, traffic_seed=5).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("simulate") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def kubectl(busy: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    """Run kubectl against the module's sandbox; returns stdout."""
    home = tmp_path_factory.mktemp("kubectl-home")
    env = {**os.environ, "KUBECONFIG": str(busy.kubeconfig_path), "HOME": str(home)}

    def run(*args: str) -> str:
        done = subprocess.run(["kubectl", *args], capture_output=True, text=True, env=env, timeout=30)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    return run


@pytest.fixture(scope="module")
def core(busy: Sandbox) -> client.CoreV1Api:
    """The official client on the module's sandbox."""
    return client.CoreV1Api(config.new_client_from_config(str(busy.kubeconfig_path), persist_config=False))


def inbound_since(core: client.CoreV1Api, selector: str, since: float, only: str | None = None) -> list[Record]:
    """The inbound access-log lines of the istioinaction pods matching ``selector`` (or of pod
    ``only``) for requests that started after ``since``."""
    out: list[Record] = []
    for pod in core.list_namespaced_pod("istioinaction", label_selector=selector).items:
        if only is not None and pod.metadata.name != only:
            continue
        text = core.read_namespaced_pod_log(pod.metadata.name, "istioinaction", container="istio-proxy")
        for line in text.splitlines():
            record = PARSER.parse(line)
            if record is not None and (record.upstream_cluster or "").startswith("inbound|") \
                    and (record.start_epoch or 0) > since:
                out.append(record)
    return out


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Poll ``fetch`` until ``done`` holds (at most WAIT_SECONDS); the last value."""
    deadline = time.monotonic() + WAIT_SECONDS
    value = fetch()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = fetch()
    return value


def test_deployment_annotation_sets_error_rate_and_status_live(kubectl: Callable[..., str],
                                                               core: client.CoreV1Api) -> None:
    kubectl("annotate", "deploy", "catalog-v1", "-n", "istioinaction", "--overwrite",
            "meshtui.io/simulate-error-rate=1", "meshtui.io/simulate-error-status=418")
    since = time.time()
    seen = wait_for(lambda: inbound_since(core, "app=catalog,version=v1", since), lambda rs: len(rs) >= 40)
    assert len(seen) >= 40
    assert {r.response_code for r in seen} == {418}  # every answer, with the status asked for

    kubectl("annotate", "deploy", "catalog-v1", "-n", "istioinaction",
            "meshtui.io/simulate-error-rate-", "meshtui.io/simulate-error-status-")
    since = time.time()
    healthy = wait_for(lambda: inbound_since(core, "app=catalog,version=v1", since), lambda rs: len(rs) >= 40)
    assert len(healthy) >= 40
    assert 418 not in {r.response_code for r in healthy}  # catalog v1 answers as it did


def test_pod_annotation_sets_latency_and_an_invalid_value_is_ignored(kubectl: Callable[..., str],
                                                                      core: client.CoreV1Api) -> None:
    pod, *others = core.list_namespaced_pod("istioinaction", label_selector="app=catalog,version=v2").items
    name = pod.metadata.name
    kubectl("annotate", "pod", name, "-n", "istioinaction", "--overwrite",
            "meshtui.io/simulate-latency-median-ms=400", "meshtui.io/simulate-latency-p99-ms=500",
            "meshtui.io/simulate-error-rate=lots")
    since = time.time()
    seen = wait_for(lambda: inbound_since(core, "app=catalog,version=v2", since, name), lambda rs: len(rs) >= 30)
    assert len(seen) >= 30
    answered = sorted(r.duration or 0 for r in seen if r.response_code)
    assert answered and answered[len(answered) // 2] >= 300  # the median moved from ~14 ms to ~400 ms
    # "lots" is no rate: catalog v2 stays as healthy as it is instead of failing every request.
    assert not [r for r in seen if (r.response_code or 0) >= 500]
    if others:  # the annotation is the pod's: its siblings answer as fast as before
        fast = wait_for(lambda: inbound_since(core, "app=catalog,version=v2", since, others[0].metadata.name),
                        lambda rs: len(rs) >= 30)
        times = sorted(r.duration or 0 for r in fast if r.response_code)
        assert times and times[len(times) // 2] < 100
