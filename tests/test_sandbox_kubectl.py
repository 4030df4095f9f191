"""kubectl, an independent client, against the sandbox: what a user types works as on a cluster."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshtui.sandbox.server import Sandbox
from paths import CONFORMANCE_ROOT

SAMPLES = (CONFORMANCE_ROOT / "samples")
pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH"),
]


@pytest.fixture(scope="module")
def kubectl(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Run kubectl with the sandbox's kubeconfig (never ~/.kube); returns CompletedProcess."""
    home = tmp_path_factory.mktemp("kubectl-home")  # kubectl's discovery cache goes here

    def run(*args: str, input: str | None = None, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path), "HOME": str(home)}
        done = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done

    return run


@pytest.fixture
def ns(kubectl) -> Iterator[str]:  # type: ignore[no-untyped-def]
    name = f"k-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


def test_get_vs_all_namespaces(kubectl) -> None:  # type: ignore[no-untyped-def]
    out = kubectl("get", "vs", "-A").stdout
    assert "bookinfo" in out and "reviews" in out


def test_get_vs_reviews_yaml(kubectl) -> None:  # type: ignore[no-untyped-def]
    import yaml

    obj = yaml.safe_load(kubectl("get", "vs", "reviews", "-n", "bookinfo", "-o", "yaml").stdout)
    assert obj["kind"] == "VirtualService" and obj["apiVersion"] == "networking.istio.io/v1"
    assert obj["metadata"]["namespace"] == "bookinfo" and obj["spec"]["hosts"]


def test_patch_merge_and_apply_sample(kubectl, ns: str) -> None:  # type: ignore[no-untyped-def]
    sample = SAMPLES / "bookinfo/networking/virtual-service-reviews-90-10.yaml"
    out = kubectl("apply", "-n", ns, "-f", str(sample)).stdout
    assert "virtualservice.networking.istio.io/reviews created" in out
    assert "unchanged" in kubectl("apply", "-n", ns, "-f", str(sample)).stdout
    kubectl("patch", "vs", "reviews", "-n", ns, "--type", "merge",
            "-p", '{"spec":{"http":[{"route":[{"destination":{"host":"reviews","subset":"v2"}}]}]}}')
    obj = json.loads(kubectl("get", "vs", "reviews", "-n", ns, "-o", "json").stdout)
    assert obj["spec"]["http"] == [{"route": [{"destination": {"host": "reviews", "subset": "v2"}}]}]
    assert obj["metadata"]["generation"] == 2


def test_get_pods_by_label_across_namespaces(kubectl) -> None:  # type: ignore[no-untyped-def]
    out = kubectl("get", "pods", "-l", "version=v2", "-A", "-o", "json").stdout
    items = json.loads(out)["items"]
    assert items and all(p["metadata"]["labels"]["version"] == "v2" for p in items)
    assert "bookinfo" in {p["metadata"]["namespace"] for p in items}


def test_get_watch_sees_a_change(kubectl, sandbox: Sandbox, ns: str) -> None:  # type: ignore[no-untyped-def]
    kubectl("create", "configmap", "watched", "-n", ns, "--from-literal=a=1")
    env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path)}
    proc = subprocess.Popen(["kubectl", "get", "cm", "-n", ns, "--watch", "--output-watch-events",
                             "--request-timeout=20s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        assert proc.stdout is not None
        first = [proc.stdout.readline(), proc.stdout.readline()]  # header, ADDED watched
        assert "ADDED" in first[1] and "watched" in first[1]
        kubectl("label", "cm", "watched", "-n", ns, "changed=yes")
        line = proc.stdout.readline()
        assert "MODIFIED" in line and "watched" in line
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_replace_with_stale_resource_version_is_a_conflict(kubectl, ns: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kubectl("apply", "-n", ns, "-f", str(SAMPLES / "bookinfo/networking/virtual-service-reviews-90-10.yaml"))
    stale = tmp_path / "stale.yaml"
    stale.write_text(kubectl("get", "vs", "reviews", "-n", ns, "-o", "yaml").stdout)
    kubectl("label", "vs", "reviews", "-n", ns, "moved=on")
    done = kubectl("replace", "-f", str(stale), check=False)
    assert done.returncode != 0
    assert "Operation cannot be fulfilled" in done.stderr and "the object has been modified" in done.stderr


def test_read_only_context_cannot_write(kubectl) -> None:  # type: ignore[no-untyped-def]
    done = kubectl("--context", "meshtui-sandbox-readonly", "label", "vs", "reviews", "-n", "bookinfo", "x=y",
                   check=False)
    assert done.returncode != 0 and "Forbidden" in done.stderr
    assert kubectl("--context", "meshtui-sandbox-readonly", "auth", "can-i", "patch", "vs", "-n", "bookinfo",
                   check=False).stdout.strip().startswith("no")


def test_meshtui_sandbox_command_serves_kubectl(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kc"
    proc = subprocess.Popen([str(Path(os.sys.executable)), "-m", "meshtui", "sandbox", "--kubeconfig-out", str(kubeconfig)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[2].strip() == f"export KUBECONFIG={kubeconfig}"
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
        out = subprocess.run(["kubectl", "get", "gw", "-A"], capture_output=True, text=True, env=env, timeout=30)
        assert "istioinaction" in out.stdout, out.stderr
    finally:
        proc.send_signal(2)
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
