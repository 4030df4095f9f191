"""Istio's analyzer table test, run through ``meshtui analyze --files DIR -o json``.

Every case of ``conformance/analyze/expected.yaml`` is laid out in a temporary directory as
Istio's harness does (the case's inputs, the harness's default ingress Pod and Service, the
case's mesh config as the ``istio`` ConfigMap) and analyzed with only the case's analyzer, as
the harness does. The findings must be exactly the expected multiset of (code, resource).

One deliberate difference in reading the expectations: Istio's harness leaves an object without
``metadata.namespace`` without one (reported as ``Kind name``); the files source puts it in
``default``, as ``kubectl apply`` would, so such a resource is expected as ``Kind default/name``.
"""

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

ANALYZE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "analyze"
if not ANALYZE.is_dir():
    ANALYZE = (CONFORMANCE_ROOT / "analyze")
EXPECTED = yaml.safe_load((ANALYZE / "expected.yaml").read_text())

SKIPPED: dict[str, str] = {}


def _resource(entry: dict[str, Any]) -> str:
    ns = entry.get("namespace") or "default"
    return f"{entry['kind']} {ns}/{entry['name']}"


def _params() -> list[Any]:
    out = []
    for case in EXPECTED["cases"]:
        marks = [pytest.mark.skip(reason=SKIPPED[case["id"]])] if case["id"] in SKIPPED else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


def layout_case(case: dict[str, Any], root: Path) -> None:
    """Write the case's inputs, the harness defaults and the mesh config under ``root``."""
    for rel in case["input_files"]:
        shutil.copy(ANALYZE / rel, root / Path(rel).name)
    # Named to sort last: where an input defines the same object, the input wins.
    shutil.copy(ANALYZE / EXPECTED["harness"]["extra_resources_file"], root / "zz-harness-defaults.yaml")
    if case.get("mesh_config_file"):
        mesh = (ANALYZE / case["mesh_config_file"]).read_text()
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "istio", "namespace": EXPECTED["harness"]["istio_namespace"]},
              "data": {"mesh": mesh}}
        (root / "zz-mesh-config.yaml").write_text(yaml.safe_dump(cm))


@pytest.mark.parametrize("case", _params())
def test_istio_analyzer_case(case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout_case(case, tmp_path)
    code = main(["analyze", "--files", str(tmp_path), "-o", "json", "--analyzer", case["analyzer"]])
    out = capsys.readouterr().out
    findings = json.loads(out)
    got = Counter((f["code"], f["origin"]) for f in findings)
    want = Counter((e["code"], _resource(e)) for e in case["expected"])
    assert got == want
    assert code == (1 if any(f["level"] == "Error" for f in findings) else 0)
