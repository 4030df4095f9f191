"""The ztunnel certificate table equals istioctl's golden for the reference ztunnel config dump."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import yaml
from paths import CONFORMANCE_ROOT

from meshtui.envoy.ztunnel_certificates import certificate_table

CASES_DIR = CONFORMANCE_ROOT / "ambient" / "ztunnel-config"
INDEX = yaml.safe_load((CASES_DIR / "index.yaml").read_text())
DUMP = json.loads((CASES_DIR / INDEX["input"]["file"]).read_text())
# The index says the golden was recorded while the leaf (2023-03-21 to 2033-03-22) was valid.
RECORDED = datetime(2024, 1, 1, tzinfo=UTC)


def test_certificate_table_matches_istioctl_golden() -> None:
    case = next(c for c in INDEX["cases"] if c["id"] == "certificate")
    assert certificate_table(DUMP, RECORDED) == (CASES_DIR / case["golden"]).read_text()


def test_leaf_is_not_valid_after_its_expiry() -> None:
    rows = certificate_table(DUMP, datetime(2034, 1, 1, tzinfo=UTC)).splitlines()
    leaf = next(r for r in rows if " Leaf " in r).split()
    assert leaf[3] == "false"
