"""Kiali's "subset not found" cases (KIA1107) through ``meshtui analyze``.

meshtui maps Kiali's check to Istio's IST0101 ``host+subset in destinationrule``
(``virtualservice.DestinationRuleAnalyzer``); Kiali's path ``spec/http[0]/route[0]/destination``
is our ``path`` ``spec.http[0].route[0].destination.subset`` less its last field. Kiali checks
only the first VirtualService of the file, so only its findings are compared. Where Kiali's
reading of hosts differs from Istio's, the case is skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

KIALI = (CONFORMANCE_ROOT / "analyze/kiali-subset-presence")
EXPECTED = yaml.safe_load((KIALI / "expected.yaml").read_text())

SKIPPED: dict[str, str] = {
    "dr-other-namespace-half-fqdn-host": "Kiali expands a host written name.namespace (reviews.bookinfo) to the service FQDN; Istio does not (ResolveShortnameToFQDN only expands names without a dot), so its analyzer, and meshtui, report the subset as not found",
    "service-dot-namespace-host-matching": "Kiali expands a host written name.namespace (reviews.bookinfo) to the service FQDN; Istio does not (ResolveShortnameToFQDN only expands names without a dot), so its analyzer, and meshtui, report the subset as not found",
}


def _params() -> list[Any]:
    out = []
    for case in EXPECTED["cases"]:
        marks = [pytest.mark.skip(reason=SKIPPED[case["id"]])] if case["id"] in SKIPPED else []
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_kiali_subset_presence(case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = KIALI / case["input_file"]
    shutil.copy(src, tmp_path / src.name)
    first_vs = next(d for d in yaml.safe_load_all(src.read_text()) if d and d.get("kind") == "VirtualService")
    meta = first_vs["metadata"]
    origin = f"VirtualService {meta.get('namespace') or 'default'}/{meta['name']}"
    main(["analyze", "--files", str(tmp_path), "-o", "json", "--analyzer", "virtualservice.DestinationRuleAnalyzer"])
    findings = [f for f in json.loads(capsys.readouterr().out) if f["origin"] == origin]
    got = sorted(f["path"].rsplit(".", 1)[0] for f in findings)
    want = sorted(e["path"].replace("/", ".") for e in case["expected"])
    assert got == want
    assert all(f["code"] == "IST0101" and f["level"] == "Error" for f in findings)
