"""Observed split statistics: shares, errors, latency quantiles, mirrors, the window."""

from __future__ import annotations

import math
import random

import pytest

from meshtui.accesslog import SplitStats, TextParser
from meshtui.accesslog.quantile import LatencyHistogram

PARSER = TextParser()


def line(
    *,
    t: str = "2024-05-01T12:00:00.000Z",
    code: int = 200,
    flags: str = "-",
    duration: int | str = 5,
    cluster: str = "outbound|9080|v1|reviews.default.svc.cluster.local",
    authority: str = "reviews:9080",
    upstream: str = "10.0.0.1:9080",
    route: str = "default",
) -> str:
    """A line in Istio's default TEXT format (field layout as in Istio's access-log task)."""
    return (
        f'[{t}] "GET /reviews/0 HTTP/1.1" {code} {flags} via_upstream - "-" 0 10 {duration} 1 "-" '
        f'"curl/8.0" "req-1" "{authority}" "{upstream}" {cluster} 10.0.0.9:1 10.0.0.8:9080 '
        f"10.0.0.9:2 - {route}"
    )


def add(stats: SplitStats, text: str, **kw: object) -> None:
    record = PARSER.parse(text)
    assert record is not None, text
    stats.add(record, **kw)  # type: ignore[arg-type]


V1 = "outbound|9080|v1|reviews.default.svc.cluster.local"
V2 = "outbound|9080|v2|reviews.default.svc.cluster.local"
V3 = "outbound|9080|v3|reviews.default.svc.cluster.local"


def test_shares_errors_and_weights_per_subset() -> None:
    stats = SplitStats(window=None)
    for _ in range(70):
        add(stats, line(cluster=V1))
    for _ in range(20):
        add(stats, line(cluster=V2, code=500))
    for _ in range(10):
        add(stats, line(cluster=V3, code=503, flags="UH", upstream="-", route="reviews-route"))
    rows = {r.subset: r for r in stats.rows(weights={"v1": 80, "v2": 10, V3: 10})}
    assert rows["v1"].requests == 70 and rows["v1"].share == pytest.approx(0.7)
    assert rows["v2"].share == pytest.approx(0.2) and rows["v3"].share == pytest.approx(0.1)
    assert rows["v1"].weight == pytest.approx(0.8) and rows["v3"].weight == pytest.approx(0.1)
    assert rows["v1"].errors == 0 and rows["v2"].errors == 20 and rows["v3"].error_rate == 1.0
    assert rows["v3"].host == "reviews.default.svc.cluster.local"
    assert math.isclose(sum(r.share for r in rows.values()), 1.0)
    rollups = stats.error_rollups()
    assert rollups.by_flag[0] == ("-", 20) and ("UH", 10) in rollups.by_flag
    top = [g for g in rollups.groups if g.response_flags == "UH"][0]
    assert (top.response_code, top.cluster, top.route_name, top.count) == (503, V3, "reviews-route", 10)
    assert "NoHealthyUpstream" in top.describe() and V3 in top.describe()
    assert dict(rollups.by_route) == {"default": 20, "reviews-route": 10}


def test_failure_flag_with_non_5xx_code_is_an_error_but_delay_injection_is_not() -> None:
    stats = SplitStats(window=None)
    add(stats, line(code=0, flags="DC"))
    add(stats, line(code=200, flags="DI"))
    add(stats, line(code=429, flags="RL"))
    (row,) = stats.rows()
    assert row.requests == 3 and row.errors == 2


def test_latency_quantiles_are_nearest_rank() -> None:
    rng = random.Random(3)
    values = [rng.randrange(0, 250) for _ in range(501)]
    stats = SplitStats(window=None)
    for v in values:
        add(stats, line(duration=v))
    ordered = sorted(values)

    def nearest_rank(q: float) -> int:
        return ordered[max(1, math.ceil(q * len(ordered))) - 1]

    (row,) = stats.rows()
    assert (row.p50_ms, row.p95_ms, row.p99_ms) == (nearest_rank(0.5), nearest_rank(0.95), nearest_rank(0.99))


def test_large_latencies_stay_within_the_stated_error() -> None:
    rng = random.Random(5)
    values = [rng.randrange(0, 120_000) for _ in range(2000)]
    hist = LatencyHistogram()
    for v in values:
        hist.add(v)
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.95, 0.99, 1.0):
        exact = ordered[max(1, math.ceil(q * len(ordered))) - 1]
        assert abs(hist.quantile(q) - exact) <= exact / 128 + 1  # type: ignore[operator]


def test_missing_duration_gives_no_latency() -> None:
    stats = SplitStats(window=None)
    add(stats, line(duration="-"))
    (row,) = stats.rows()
    assert row.requests == 1 and row.p50_ms is None


def test_mirrored_requests_are_counted_apart() -> None:
    stats = SplitStats(window=None)
    for _ in range(3):
        add(stats, line(cluster="inbound|9080||", authority="reviews:9080"))
    add(stats, line(cluster="inbound|9080||", authority="reviews-shadow:9080"))
    add(stats, line(cluster="inbound|9080||", authority="reviews.default.svc.cluster.local-shadow"))
    rows = stats.rows()
    normal = [r for r in rows if not r.mirrored]
    mirrored = [r for r in rows if r.mirrored]
    assert [r.requests for r in normal] == [3] and normal[0].share == 1.0
    assert [r.requests for r in mirrored] == [2] and mirrored[0].share is None


def test_subset_given_by_caller_for_inbound_lines() -> None:
    stats = SplitStats(window=None)
    add(stats, line(cluster="inbound|9080||"), subset="v1")
    add(stats, line(cluster="inbound|9080||"), subset="v2")
    add(stats, line(cluster="inbound|9080||"), subset="v2")
    rows = {r.subset: r for r in stats.rows()}
    assert rows["v1"].requests == 1 and rows["v2"].requests == 2
    assert rows["v2"].host_share == pytest.approx(2 / 3)


def test_sliding_window_forgets_old_requests() -> None:
    stats = SplitStats(window=60)
    add(stats, line(t="2024-05-01T12:00:00.000Z", cluster=V1))
    add(stats, line(t="2024-05-01T12:00:30.000Z", cluster=V2))
    assert sum(r.requests for r in stats.rows()) == 2
    add(stats, line(t="2024-05-01T12:01:10.000Z", cluster=V2))  # 12:00:00 is now out
    rows = {r.subset: r.requests for r in stats.rows()}
    assert rows == {"v2": 2}
    stats.set_window(30)  # 12:00:30 falls out too
    assert {r.subset: r.requests for r in stats.rows()} == {"v2": 1}
    assert stats.lines == 3


def test_rate_uses_the_time_covered() -> None:
    stats = SplitStats(window=60)
    for second in range(120):
        add(stats, line(t=f"2024-05-01T12:{second // 60:02d}:{second % 60:02d}.000Z"))
    (row,) = stats.rows()
    assert row.requests == 60 and row.rate == pytest.approx(1.0)


def test_explicit_time_and_bad_window() -> None:
    stats = SplitStats(window=10)
    record = PARSER.parse(line())
    assert record is not None
    stats.add(record, t=100.0)
    stats.add(record, t=200.0)
    assert sum(r.requests for r in stats.rows()) == 1
    with pytest.raises(ValueError, match="window"):
        SplitStats(window=0)


def test_unparsed_lines_are_counted_and_kept() -> None:
    stats = SplitStats()
    stats.add_unparsed("garbage")
    summary = stats.summary()
    assert summary["lines"] == 1 and summary["unparsed"] == 1 and summary["rows"] == []
    assert list(stats.unparsed_samples) == ["garbage"]
