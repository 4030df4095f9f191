"""The ztunnel POLICY table equals istioctl's golden for the reference ztunnel config dump."""

from __future__ import annotations

import json

import yaml
from paths import CONFORMANCE_ROOT

from meshtui.envoy.ztunnel_policies import policy_table

CASES_DIR = CONFORMANCE_ROOT / "ambient" / "ztunnel-config"
INDEX = yaml.safe_load((CASES_DIR / "index.yaml").read_text())
DUMP = json.loads((CASES_DIR / INDEX["input"]["file"]).read_text())


def test_policy_table_matches_istioctl_golden() -> None:
    case = next(c for c in INDEX["cases"] if c["command"] == "istioctl ztunnel-config policy -f dump.json")
    assert policy_table(DUMP) == (CASES_DIR / case["golden"]).read_text()


def test_policy_table_of_a_namespace_without_policies_is_only_the_header() -> None:
    assert policy_table(DUMP, namespace="bookinfo").splitlines() == ["NAMESPACE POLICY NAME ACTION SCOPE"]
