"""``meshtui canary`` against the sandbox, run as a user runs it (a subprocess): a healthy canary
reaches --max; one turned bad mid-run with ``kubectl annotate`` aborts and is rolled back; a
concurrent writer stops it (exit 3) without being overwritten; an API server outage stops it
without writing; Ctrl-C leaves the last step. Every step is in the audit log."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from outage_proxy import OutageProxy

from meshtui.sandbox import kubeconfig as sandbox_kubeconfig
from meshtui.sandbox.server import Sandbox

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")]

WAIT = 60.0
FAST = ["--step", "20", "--max", "60", "--interval", "1.5s", "--min-requests", "10", "--yes"]


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox of this module's own, busy enough for 1.5 s gates."""
    box = Sandbox(traffic_rps=300, traffic_seed=3).start()
    box.write_kubeconfig(tmp_path_factory.mktemp("canary") / "kubeconfig")
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="module")
def custom(sb: Sandbox) -> client.CustomObjectsApi:
    """The official client, straight to the sandbox."""
    return client.CustomObjectsApi(config.new_client_from_config(str(sb.kubeconfig_path), persist_config=False))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a meshtui process with an audit log of the test's own."""
    return {**os.environ, "MESHTUI_STATE_DIR": str(tmp_path / "state"), "HOME": str(tmp_path)}


def kubectl(sb: Sandbox, env: dict[str, str], *args: str) -> None:
    """kubectl against the sandbox (an independent client)."""
    done = subprocess.run(["kubectl", "--kubeconfig", str(sb.kubeconfig_path), *args], capture_output=True,
                          text=True, env=env, timeout=30)
    assert done.returncode == 0, done.stderr


def catalog(custom: client.CustomObjectsApi) -> dict[str, Any]:
    return custom.get_namespaced_custom_object("networking.istio.io", "v1", "istioinaction", "virtualservices",
                                               "catalog")


def weights(custom: client.CustomObjectsApi) -> dict[str, int]:
    """The canary rule's weights by subset."""
    rule = next(r for r in catalog(custom)["spec"]["http"] if r.get("name") == "canary")
    return {d["destination"]["subset"]: d.get("weight", 0) for d in rule["route"]}


def set_weights(custom: client.CustomObjectsApi, v1: int, v2: int) -> None:
    vs = catalog(custom)
    rule = next(r for r in vs["spec"]["http"] if r.get("name") == "canary")
    for d in rule["route"]:
        d["weight"] = v1 if d["destination"]["subset"] == "v1" else v2
    custom.replace_namespaced_custom_object("networking.istio.io", "v1", "istioinaction", "virtualservices",
                                            "catalog", vs)


@pytest.fixture
def start(sb: Sandbox, custom: client.CustomObjectsApi, env: dict[str, str]) -> Iterator[None]:
    """catalog at 90/10 with the demo's own v2 (healthy as shipped) before each test; healed after."""
    set_weights(custom, 90, 10)
    yield
    kubectl(sb, env, "annotate", "deploy", "catalog-v2", "-n", "istioinaction", "--overwrite",
            "meshtui.io/simulate-error-rate-", "meshtui.io/simulate-error-status-")


def canary(kubeconfig: Path | str, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "meshtui", "canary", "catalog.istioinaction", "--to", "v2",
                             "--kubeconfig", str(kubeconfig), *FAST, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def wait_until(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=WAIT)
    return proc.returncode, out, err


def audit(env: dict[str, str]) -> list[dict[str, Any]]:
    path = Path(env["MESHTUI_STATE_DIR"]) / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def applied(env: dict[str, str]) -> list[str]:
    """Descriptions of the applied writes, oldest first."""
    return [e["description"] for e in audit(env) if e["result"] == "applied"]


def test_healthy_canary_reaches_max_with_every_step_audited(sb: Sandbox, custom: client.CustomObjectsApi,
                                                            env: dict[str, str], start: None) -> None:
    # A generous threshold: a check starved of requests by a busy machine holds, it does not roll back.
    code, out, err = finish(canary(sb.kubeconfig_path, env, "--threshold", "5"))
    assert code == 0, err
    assert weights(custom) == {"v1": 40, "v2": 60}
    assert "reached v2=60" in out and out.count("— passed") == 3
    assert applied(env) == ["canary step 1/3: v2=30 (rule canary)", "canary step 2/3: v2=50 (rule canary)",
                            "canary step 3/3: v2=60 (rule canary)"]
    history = subprocess.run([sys.executable, "-m", "meshtui", "history"], capture_output=True, text=True,
                             env=env, timeout=30).stdout
    assert history.count("canary step") == 3


def test_a_canary_annotated_into_failure_mid_run_rolls_back(sb: Sandbox, custom: client.CustomObjectsApi,
                                                            env: dict[str, str], start: None) -> None:
    proc = canary(sb.kubeconfig_path, env)
    assert wait_until(lambda: weights(custom)["v2"] == 30)
    kubectl(sb, env, "annotate", "deploy", "catalog-v2", "-n", "istioinaction", "--overwrite",
            "meshtui.io/simulate-error-rate=0.6", "meshtui.io/simulate-error-status=500")
    code, out, err = finish(proc)
    assert code == 5, err
    assert weights(custom) == {"v1": 90, "v2": 10}  # the weights it started from
    assert "rolled back to catalog/v1=90 catalog/v2=10" in out and "error rate" in out
    steps = applied(env)
    assert steps[0] == "canary step 1/3: v2=30 (rule canary)"
    assert steps[-1] == "canary rollback to catalog/v1=90 catalog/v2=10 (rule canary)"


def test_a_concurrent_writer_stops_the_run_and_is_not_overwritten(sb: Sandbox, custom: client.CustomObjectsApi,
                                                                  env: dict[str, str], start: None) -> None:
    proc = canary(sb.kubeconfig_path, env, "--interval", "3s")
    assert wait_until(lambda: weights(custom)["v2"] == 30)
    set_weights(custom, 75, 25)  # someone else, while the step is being watched
    code, out, err = finish(proc)
    assert code == 3, err
    assert "conflict" in err and "nothing was written over it" in err
    assert weights(custom) == {"v1": 75, "v2": 25}
    assert "conflict" in [e["result"] for e in audit(env)]


def test_an_outage_mid_run_stops_without_writing(sb: Sandbox, custom: client.CustomObjectsApi,
                                                 env: dict[str, str], start: None, tmp_path: Path) -> None:
    proxy = OutageProxy(sb.port)
    try:
        url = sb.url.rsplit(":", 1)[0] + f":{proxy.port}"
        proxied = sandbox_kubeconfig.write(tmp_path / "proxied", url, sb.admin_token, sb.readonly_token, sb.ca_pem)
        proc = canary(proxied, env, "--request-timeout", "3")
        assert wait_until(lambda: weights(custom)["v2"] == 30)
        proxy.down()
        code, out, err = finish(proc)
    finally:
        proxy.close()
    assert code == 2, err
    assert "stays at v2=30" in err
    assert weights(custom) == {"v1": 70, "v2": 30}  # the last applied step: no rollback written blind
    assert applied(env) == ["canary step 1/3: v2=30 (rule canary)"]


def test_ctrl_c_leaves_the_last_step_and_says_so(sb: Sandbox, custom: client.CustomObjectsApi,
                                                 env: dict[str, str], start: None) -> None:
    proc = canary(sb.kubeconfig_path, env)
    assert wait_until(lambda: weights(custom)["v2"] == 30)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc)
    assert code == 130, err
    assert "interrupted: the route stays at v2=30" in out and "Traceback" not in err
    assert weights(custom) == {"v1": 70, "v2": 30}


def test_a_route_flagger_drives_is_refused(sb: Sandbox, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "payments.rollouts", "--to", "payments-canary",
                           "--kubeconfig", str(sb.kubeconfig_path), *FAST], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2
    assert "refused" in done.stderr and "Flagger" in done.stderr and "--ignore-owner" in done.stderr
    assert audit(env) == []


def test_read_only_credentials_exit_4(sb: Sandbox, env: dict[str, str], start: None) -> None:
    done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "catalog.istioinaction", "--to", "v2",
                           "--kubeconfig", str(sb.kubeconfig_path), "--context", "meshtui-sandbox-readonly", *FAST],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 4, done.stderr


def test_manifests_on_disk_have_no_traffic_to_gate_on(tmp_path: Path, env: dict[str, str]) -> None:
    from importlib.resources import files

    demo = tmp_path / "demo"
    shutil.copytree(str(files("meshtui.demo")), demo, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = (demo / "istioinaction-catalog.yaml").read_text()
    done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "catalog.istioinaction", "--to", "v2",
                           "--files", str(demo), *FAST], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert "no traffic to gate on" in done.stderr and "Traceback" not in done.stderr
    assert (demo / "istioinaction-catalog.yaml").read_text() == before


@pytest.mark.parametrize("extra,says", [
    (["--to", "v9"], "does not route to 'v9'"),
    (["--to", "v2", "--max", "150"], "at most 100"),
    (["--to", "v2", "--interval", "soon"], "expected a duration"),
    (["--to", "v2", "--basis", "prometheus"], "--basis prometheus: no Service prometheus in istio-system"),
    (["--to", "v2", "--prometheus-ca", "ca.pem"], "--prometheus-ca: only with --prometheus URL"),
])
def test_usage_errors_exit_2_in_one_line(sb: Sandbox, env: dict[str, str], extra: list[str], says: str) -> None:
    done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "catalog.istioinaction",
                           "--kubeconfig", str(sb.kubeconfig_path), *FAST, *extra],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 2
    assert says in done.stderr and "Traceback" not in done.stderr
    assert audit(env) == []
