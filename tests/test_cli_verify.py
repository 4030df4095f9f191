"""``--verify [SECONDS]`` of the weight-changing commands against the sandbox: the observed split
of the changed rule is judged after the change has propagated; the Host-header trap of the demo
(``default/backend-service``) diverges with the Host named and exit 6."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from meshtui.cli import main
from meshtui.sandbox.server import Sandbox

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox of this module's own (its routes are shifted)."""
    box = Sandbox(traffic_rps=300, traffic_seed=8).start()
    box.write_kubeconfig(tmp_path_factory.mktemp("verify") / "kubeconfig")
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))


def requests_of(line: str) -> int:
    found = re.search(r"over (\d+) request\(s\)", line)
    assert found, line
    return int(found.group(1))


def test_the_host_trap_diverges_naming_the_host(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["shift", "backend-service", "v1=50", "--yes", "--verify", "4", "--kubeconfig", str(sb.kubeconfig_path)])
    out = capsys.readouterr().out
    assert code == 6
    verdict = next(line for line in out.splitlines() if line.startswith("outcome:"))
    assert "diverging" in verdict and "Host 10.22.12.178:30785" in verdict
    assert "matches no VirtualService host" in verdict and "meshtui trace" in verdict
    assert "backend-service.default:80" in verdict and "Envoy route allow_any" in verdict  # its port and route
    assert requests_of(verdict) > 0
    assert "propagated to" in out  # the verdict comes after the proxies have the change


def test_a_split_traffic_follows_converges(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["shift", "catalog.istioinaction", "v2=30", "--yes", "--verify", "4",
                 "--kubeconfig", str(sb.kubeconfig_path)])
    out = capsys.readouterr().out
    assert code == 0
    verdict = next(line for line in out.splitlines() if line.startswith("outcome:"))
    assert "converged" in verdict and "v2 " in verdict and "weight 30" in verdict
    assert requests_of(verdict) >= 50


def test_promote_verifies_too(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["promote", "catalog.istioinaction", "v1", "--yes", "--verify", "3",
                 "--kubeconfig", str(sb.kubeconfig_path)])
    out = capsys.readouterr().out
    assert code == 0
    verdict = next(line for line in out.splitlines() if line.startswith("outcome:"))
    assert "converged" in verdict and "v1 100.0% (weight 100" in verdict


def test_a_bad_verify_window_is_a_usage_error(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["shift", "catalog.istioinaction", "v2=30", "--yes", "--verify", "-3",
              "--kubeconfig", str(sb.kubeconfig_path)])
    assert exc.value.code == 2
    assert "SECONDS" in capsys.readouterr().err


def test_verify_on_manifests_says_there_is_no_traffic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil
    from importlib.resources import files

    demo = tmp_path / "demo"
    shutil.copytree(str(files("meshtui.demo")), demo, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    code = main(["shift", "catalog.istioinaction", "v2=30", "--yes", "--verify", "2", "--files", str(demo)])
    assert code == 0
    assert "no traffic to watch" in capsys.readouterr().err
    assert "weight: 30" in (demo / "istioinaction-catalog.yaml").read_text()


def test_a_subset_without_pods_diverges_saying_no_pod_got_its_requests(
        sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from kubernetes import client, config

    custom = client.CustomObjectsApi(config.new_client_from_config(str(sb.kubeconfig_path), persist_config=False))
    group = ("networking.istio.io", "v1", "istioinaction")
    dr = custom.get_namespaced_custom_object(*group, "destinationrules", "catalog")
    dr["spec"]["subsets"].append({"name": "v3", "labels": {"version": "v3"}})  # no pod has version v3
    custom.replace_namespaced_custom_object(*group, "destinationrules", "catalog", dr)
    vs = custom.get_namespaced_custom_object(*group, "virtualservices", "catalog")
    rule = next(r for r in vs["spec"]["http"] if r.get("name") == "canary")
    rule["route"].append({"destination": {"host": "catalog", "subset": "v3"}, "weight": 0})
    custom.replace_namespaced_custom_object(*group, "virtualservices", "catalog", vs)

    code = main(["shift", "catalog.istioinaction", "v3=30", "--yes", "--verify", "4",
                 "--kubeconfig", str(sb.kubeconfig_path)])
    out = capsys.readouterr().out
    assert code == 6
    verdict = next(line for line in out.splitlines() if line.startswith("outcome:"))
    assert "diverging" in verdict and "routed to v3 reached no pod" in verdict


def test_a_basis_without_verify_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["shift", "catalog.istioinaction", "v2=30", "--basis", "prometheus", "--files", str(tmp_path),
                 "--yes"])
    err = capsys.readouterr().err
    assert code == 2 and err == "meshtui: --basis: only with --verify\n"
