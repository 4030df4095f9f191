"""ztunnel's connection logs: the lines Istio's documentation prints, and ztunnel's own formats."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml
from paths import CONFORMANCE_ROOT

from meshtui.accesslog.ztunnel import l4_split, parse_line

DOCS = CONFORMANCE_ROOT / "ambient" / "docs-examples" / "ztunnel-access-logs.yaml"
CASES = yaml.safe_load(DOCS.read_text())["lines"]


@pytest.mark.parametrize("case", CASES, ids=[c["parsed"]["timestamp"] for c in CASES])
def test_documented_lines_parse_as_transcribed(case: dict) -> None:
    record = parse_line(case["line"])
    assert record is not None
    expected = case["parsed"]
    assert (record.timestamp, record.level, record.target, record.message) == (
        expected["timestamp"], expected["level"], expected["target"], expected["message"])
    assert record.fields == expected["fields"]
    assert list(record.fields) == list(expected["fields"])  # in their order
    assert sorted(record.quoted) == sorted(case["parsed"].get("quoted", []))


def test_the_documented_load_balancing_split() -> None:
    """The page's four outbound connections to reviews, balanced over v1, v2 and v3."""
    lines = [c["line"] for c in CASES]
    split = l4_split(lines, "reviews.default.svc.cluster.local")
    outbound = [c["parsed"]["fields"] for c in CASES
                if c["parsed"]["fields"]["dst.service"] == "reviews.default.svc.cluster.local"
                and c["parsed"]["fields"]["direction"] == "outbound"]
    expected = Counter(f["dst.workload"] for f in outbound)
    assert split.direction == "outbound"
    assert {row.workload: row.connections for row in split.rows} == dict(expected)
    assert split.connections == len(outbound) == 4
    assert sum(row.share for row in split.rows) == pytest.approx(1.0)
    assert all(row.bytes_recv == 169 * row.connections for row in split.rows)
    assert split.other == len(CASES) - len(outbound)  # the productpage lines
    assert split.unparsed == 0


def test_both_ends_of_one_connection_count_once() -> None:
    """productpage's connection is logged inbound and outbound: the split counts it once."""
    split = l4_split([c["line"] for c in CASES], "productpage.default.svc.cluster.local")
    assert split.direction == "outbound"
    assert [(r.workload, r.connections) for r in split.rows] == [("productpage-v1-87d54dd59-fn6vw", 1)]
    inbound_only = [c["line"] for c in CASES if '"inbound"' in c["line"]]
    assert l4_split(inbound_only, "productpage.default.svc.cluster.local").direction == "inbound"


# ztunnel's own text format (src/telemetry.rs): tabs between time, level, target, the message and
# the fields; Debug values: strings quoted with escapes, numbers and addresses bare.
TAB_LINE = ("2026-12-01T10:00:00.000001Z\terror\taccess\tconnection complete\t"
            'src.addr=10.0.0.5:41000 src.workload="client-1" src.namespace="shop" '
            'dst.addr=10.0.0.9:15008 dst.hbone_addr="10.0.0.9:8080" dst.service="cart.shop.svc.cluster.local" '
            'dst.workload="cart-v2-1" dst.namespace="shop" direction="outbound" bytes_sent=0 bytes_recv=0 '
            'duration="1500ms" error="connection refused: \\"cart\\" (os error 111)"')


def test_a_failed_connection_in_ztunnels_tab_format() -> None:
    record = parse_line(TAB_LINE)
    assert record is not None and record.level == "error" and record.message == "connection complete"
    assert record.fields["error"] == 'connection refused: "cart" (os error 111)'
    assert record.failed and record.duration_ms == 1500.0
    split = l4_split([TAB_LINE, TAB_LINE.replace("error\taccess", "info\taccess").split(" error=")[0]],
                     "cart.shop.svc.cluster.local")
    (row,) = split.rows
    assert (row.workload, row.connections, row.failures) == ("cart-v2-1", 2, 1)


def test_the_json_format() -> None:
    line = ('{"level":"info","time":"2026-12-01T10:00:01.000002Z","scope":"access",'
            '"message":"connection complete","src.addr":"10.0.0.5:41002","src.workload":"client-1",'
            '"dst.service":"cart.shop.svc.cluster.local","dst.workload":"cart-v1-1","dst.namespace":"shop",'
            '"direction":"outbound","bytes_sent":12,"bytes_recv":34,"duration":"3ms"}')
    record = parse_line(line)
    assert record is not None and record.target == "access" and record.bytes_recv == 34
    assert l4_split([line], "cart.shop.svc.cluster.local").rows[0].workload == "cart-v1-1"


def test_lines_that_are_not_ztunnels() -> None:
    envoy = '[2026-12-01T10:00:00.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 1 2 1 "-"'
    split = l4_split([envoy, "", "garbage"], "cart.shop.svc.cluster.local")
    assert split.rows == [] and split.unparsed == 3 and split.connections == 0
