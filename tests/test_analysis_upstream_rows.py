"""Istio's analyzer table rows for the analyzers added after the conformance set: the
EnvoyFilter patch analyzer (IST0151-IST0155; rows in ``tests/data/analyzer_rows``) and the
condition analyzer (IST0171; its row in ``conformance/gateway-api/analyze``), run through
``meshtui analyze --files DIR -o json --analyzer NAME`` with the harness of
``test_analysis_conformance``; and each is listed under Istio's analyzer name."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

ROWS = Path(__file__).parent / "data" / "analyzer_rows"
ANALYZE = CONFORMANCE_ROOT / "analyze"
GATEWAY_API = CONFORMANCE_ROOT / "gateway-api" / "analyze"


def _cases() -> list[Any]:
    out = [pytest.param(ROWS, c, id=c["id"]) for c in yaml.safe_load((ROWS / "expected.yaml").read_text())["cases"]]
    for c in yaml.safe_load((GATEWAY_API / "expected.yaml").read_text())["cases"]:
        if c["analyzer"] == "conditions.ConditionAnalyzer":
            out.append(pytest.param(GATEWAY_API, c, id=c["id"]))
    return out


@pytest.mark.parametrize(("base", "case"), _cases())
def test_upstream_row(base: Path, case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for rel in case["input_files"]:
        shutil.copy(base / rel, tmp_path / Path(rel).name)
    shutil.copy(ANALYZE / "harness-default-resources.yaml", tmp_path / "zz-harness-defaults.yaml")
    code = main(["analyze", "--files", str(tmp_path), "-o", "json", "--analyzer", case["analyzer"]])
    findings = json.loads(capsys.readouterr().out)
    assert Counter((f["code"], f["origin"]) for f in findings) == Counter(
        (e["code"], e["resource"]) for e in case["expected"])
    assert code == (1 if any(f["level"] == "Error" for f in findings) else 0)


def test_new_analyzers_are_listed_under_istios_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--list-analyzers"]) == 0
    names = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()]
    for name in ("envoyfilter.EnvoyPatchAnalyzer", "conditions.ConditionAnalyzer",
                 "serviceentry.ConflictingServiceEntryProtocolAnalyzer", "schema.ValidationAnalyzer.EnvoyFilter",
                 "schema.ValidationAnalyzer.WorkloadEntry", "schema.ValidationAnalyzer.WorkloadGroup"):
        assert name in names
