"""``meshtui ztunnel-config`` prints istioctl's ztunnel tables from a saved dump, and rejects bad input in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from paths import CONFORMANCE_ROOT

from meshtui.cli import main

CASES_DIR = CONFORMANCE_ROOT / "ambient" / "ztunnel-config"
INDEX = yaml.safe_load((CASES_DIR / "index.yaml").read_text())
DUMP = CASES_DIR / INDEX["input"]["file"]


@pytest.mark.parametrize("case_id", ["workload", "workload-namespace", "policy", "connections"])
def test_cli_prints_istioctl_golden(case_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    case = next(c for c in INDEX["cases"] if c["id"] == case_id)
    # The index's istioctl command line, run by meshtui instead ("-f dump.json" names the dump here).
    argv = case["command"].split()[1:]
    argv[argv.index("dump.json")] = str(DUMP)
    assert main(argv) == 0
    assert capsys.readouterr().out == (CASES_DIR / case["golden"]).read_text()


def test_cli_certificates_judged_at_the_recording_time_match_istioctl_golden(
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = next(c for c in INDEX["cases"] if c["id"] == "certificate")
    # The index says the golden was recorded while the leaf (2023-03-21 to 2033-03-22) was valid.
    assert main(["ztunnel-config", "certificates", "-f", str(DUMP), "--now", "2024-01-01T00:00:00Z"]) == 0
    assert capsys.readouterr().out == (CASES_DIR / case["golden"]).read_text()


def test_cli_rejects_a_file_that_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "dump.json"
    bad.write_text("not json")
    code = main(["ztunnel-config", "workloads", "-f", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("meshtui: ") and "not a ztunnel config dump" in err
    assert len(err.strip().splitlines()) == 1
    assert bad.read_text() == "not json"


def test_cli_requires_a_pod_or_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ztunnel-config", "policies"]) == 2
    assert "requires POD[.NS], --node NODE or --file" in capsys.readouterr().err


def test_cli_rejects_an_envoy_sidecar_dump(capsys: pytest.CaptureFixture[str]) -> None:
    envoy_dump = CONFORMANCE_ROOT / "proxy-config" / "all" / "config_dump.json"
    assert main(["ztunnel-config", "workloads", "-f", str(envoy_dump)]) == 2
    assert "not a ztunnel config dump (no workloads object)" in capsys.readouterr().err


# -- the live form: POD[.NS] through the kube source's port-forward to the pod's admin port ---


def test_live_pod_that_answers_with_an_envoy_dump_is_refused_in_one_line(  # type: ignore[no-untyped-def]
    sandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    from kubernetes import client, config

    # A pod with no app label whose name starts with "ztunnel" is taken for a ztunnel (istioctl's
    # rule), but this one runs an Envoy sidecar: its admin port answers with an Envoy config dump.
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ztunnel-impostor"},
           "spec": {"nodeName": "sandbox-worker-1", "containers": [{"name": "istio-proxy", "image": "proxyv2"}]}}
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), context="meshtui-sandbox")
    core = client.CoreV1Api(api)
    core.create_namespaced_pod("default", pod)
    try:
        target = "ztunnel-impostor.default"
        code = main(["ztunnel-config", "workloads", target,
                     "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox"])
    finally:
        core.delete_namespaced_pod("ztunnel-impostor", "default")
        api.close()
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == f"meshtui: {target}: not a ztunnel config dump (no workloads object)"
