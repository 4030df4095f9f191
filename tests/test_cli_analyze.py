"""``meshtui analyze`` end to end on manifest directories (in-process CLI)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

INPUTS = (CONFORMANCE_ROOT / "analyze/inputs")
SAMPLES = (CONFORMANCE_ROOT / "samples")


def test_text_output_in_istioctl_form_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(INPUTS / "virtualservice_destinationrules.yaml", tmp_path)
    code = main(["analyze", "--files", str(tmp_path), "--analyzer", "virtualservice.DestinationRuleAnalyzer"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert ('Error [IST0101] (VirtualService default/reviews-bogussubset) '
            'Referenced host+subset in destinationrule not found: "reviews+bogus"') in lines


def test_json_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(INPUTS / "virtualservice_destinationrules.yaml", tmp_path)
    main(["analyze", "--files", str(tmp_path), "-o", "json", "--analyzer", "virtualservice.DestinationRuleAnalyzer"])
    findings = json.loads(capsys.readouterr().out)
    first = next(f for f in findings if f["origin"] == "VirtualService default/reviews-bogussubset")
    assert first["code"] == "IST0101"
    assert first["name"] == "ReferencedResourceNotFound"
    assert first["level"] == "Error"
    assert first["path"] == "spec.http[0].route[0].destination.subset"
    assert first["documentation_url"].endswith("/ist0101/")
    assert first["message"] == 'Referenced host+subset in destinationrule not found: "reviews+bogus"'


def test_clean_mesh_prints_no_issues_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SAMPLES / "bookinfo/platform/kube/bookinfo.yaml", tmp_path)
    shutil.copy(SAMPLES / "bookinfo/networking/destination-rule-reviews.yaml", tmp_path)
    shutil.copy(SAMPLES / "bookinfo/networking/virtual-service-reviews-90-10.yaml", tmp_path)
    code = main(["analyze", "--files", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("\u2714 No validation issues found when analyzing files in ")


def test_non_error_findings_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(INPUTS / "service-no-port-name.yaml", tmp_path)
    code = main(["analyze", "--files", str(tmp_path), "--analyzer", "service.PortNameAnalyzer"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Info [IST0118] (Service my-namespace1/my-service1)" in out


def test_load_errors_are_reported_and_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.yaml").write_text("kind: VirtualService\napiVersion: [\n")
    code = main(["analyze", "--files", str(tmp_path)])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.yaml" in captured.err and "Traceback" not in captured.err


def test_unknown_analyzer_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["analyze", "--files", str(tmp_path), "--analyzer", "nope.Analyzer"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("meshtui: unknown analyzer 'nope.Analyzer'") and len(err.splitlines()) == 1


def test_list_analyzers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--list-analyzers"]) == 0
    out = capsys.readouterr().out
    assert "virtualservice.DestinationRuleAnalyzer:" in out and "meshtui.WeightAnalyzer:" in out


def test_live_source_through_the_sandbox(sandbox, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    code = main(["analyze", "--kubeconfig", str(sandbox.kubeconfig_path), "-o", "json"])
    findings = json.loads(capsys.readouterr().out)
    assert isinstance(findings, list)
    assert code == (1 if any(f["level"] == "Error" for f in findings) else 0)
