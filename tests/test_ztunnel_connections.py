"""The ztunnel CONNECTIONS table equals istioctl's goldens, and names addresses the dump knows."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from paths import CONFORMANCE_ROOT

from meshtui.envoy.ztunnel_connections import connection_table

CASES_DIR = CONFORMANCE_ROOT / "ambient" / "ztunnel-config"
INDEX = yaml.safe_load((CASES_DIR / "index.yaml").read_text())
DUMP = json.loads((CASES_DIR / INDEX["input"]["file"]).read_text())


def _golden(case_id: str) -> str:
    case = next(c for c in INDEX["cases"] if c["id"] == case_id)
    return (CASES_DIR / case["golden"]).read_text()


def test_connection_table_matches_istioctl_golden() -> None:
    assert connection_table(DUMP) == _golden("connections")


# Both filters of the connections-by-workload case, as its "filter" states them.
@pytest.mark.parametrize("filters", [
    {"workload": "productpage-v1-796f87b58-97bjk.bookinfo"},
    {"workload": "productpage-v1-796f87b58-97bjk", "namespace": "bookinfo"},
])
def test_connection_table_of_one_workload_matches_istioctl_golden(filters: dict[str, str]) -> None:
    assert connection_table(DUMP, **filters) == _golden("connections-by-workload")


def test_addresses_of_known_services_and_workloads_are_named_unless_raw() -> None:
    dump = copy.deepcopy(DUMP)
    # Point one outbound connection at the waypoint service's VIP from a known workload's IP.
    state = next(s for s in dump["workloadState"].values() if s["connections"]["outbound"])
    state["connections"]["outbound"][0].update(src="10.244.2.53:4000", actualDst="10.96.65.117:15008")
    row = next(r for r in connection_table(dump).splitlines() if "Outbound" in r and ":4000" in r).split()
    assert row[2:4] == ["productpage-v1-675fc69cf-jscn2.bookinfo:4000",
                        "namespace-istio-waypoint.bookinfo.svc.cluster.local:15008"]
    raw = next(r for r in connection_table(dump, raw=True).splitlines() if ":4000" in r).split()
    assert raw[2:4] == ["10.244.2.53:4000", "10.96.65.117:15008"]
