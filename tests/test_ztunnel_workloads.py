"""The ztunnel WORKLOAD table equals istioctl's goldens for the reference ztunnel config dump."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from paths import CONFORMANCE_ROOT

from meshtui.envoy.ztunnel_workloads import workload_table

CASES_DIR = CONFORMANCE_ROOT / "ambient" / "ztunnel-config"
INDEX = yaml.safe_load((CASES_DIR / "index.yaml").read_text())
DUMP = json.loads((CASES_DIR / INDEX["input"]["file"]).read_text())

# Filters of the workload cases, as the index's "command" or "filter" states them.
FILTERS: dict[str, dict[str, str]] = {
    "workload": {},
    "workload-namespace": {"namespace": "default"},
    "workload-by-name": {"namespace": "bookinfo", "name": "productpage-v1-675fc69cf-jscn2"},
}


def _golden(case_id: str) -> Path:
    case = next(c for c in INDEX["cases"] if c["id"] == case_id)
    return CASES_DIR / case["golden"]


@pytest.mark.parametrize("case_id", sorted(FILTERS))
def test_workload_table_matches_istioctl_golden(case_id: str) -> None:
    assert workload_table(DUMP, **FILTERS[case_id]) == _golden(case_id).read_text()

