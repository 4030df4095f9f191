"""The metrics basis's engine: PromQL issued with Istio's labels, vector results as split rows."""

from __future__ import annotations

import pytest

from meshtui.metrics.promql import error_groups_query, errors_query, latency_query, requests_query
from meshtui.metrics.rows import split_rows, vector_values

HOST = "reviews.bookinfo.svc.cluster.local"


def _sample(version: str, value: str) -> dict:
    return {
        "metric": {
            "destination_service": HOST,
            "destination_version": version,
            "destination_workload": f"reviews-{version}",
        },
        "value": [1700000000.0, value],
    }


def test_queries_use_the_source_reporter_and_istio_labels_by_default() -> None:
    q = requests_query(HOST, 60)
    assert 'reporter="source"' in q
    assert f'destination_service="{HOST}"' in q
    assert "[60s]" in q and "istio_requests_total" in q
    assert 'response_code=~"5.."' in errors_query(HOST, 30)
    assert 'response_flags!="-"' in errors_query(HOST, 30)
    lat = latency_query(HOST, 60, 0.95)
    assert lat.startswith("histogram_quantile(0.95,")
    assert "istio_request_duration_milliseconds_bucket" in lat and "le" in lat


def test_bad_window_or_quantile_is_refused() -> None:
    with pytest.raises(ValueError):
        requests_query(HOST, 0)
    with pytest.raises(ValueError):
        latency_query(HOST, 60, 1.5)


def test_vector_results_become_rows_with_shares_errors_and_latencies() -> None:
    requests = vector_values([_sample("v1", "90.4"), _sample("v2", "29.6"), _sample("v3", "0")])
    errors = vector_values([_sample("v2", "3")])
    p50 = vector_values([_sample("v1", "12.2"), _sample("v2", "NaN")])
    rows = [r.to_dict() for r in split_rows(requests, errors, {0.5: p50})]
    assert [(r["subset"], r["requests"], r["errors"]) for r in rows] == [("v1", 90, 0), ("v2", 30, 3)]
    assert rows[0]["share"] == pytest.approx(0.753333, abs=1e-5)
    assert rows[0]["p50_ms"] == 12 and rows[1]["p50_ms"] is None and rows[0]["p95_ms"] is None
    assert all(r["basis"] == "prometheus" and r["host"] == HOST for r in rows)


def test_error_groups_are_counted_by_version_code_and_flags() -> None:
    q = error_groups_query(HOST, 30)
    assert q.startswith("sum by (destination_service,destination_version,response_code,response_flags)")
    assert 'response_code=~"5.."' in q and 'response_flags!="-"' in q and "[30s]" in q
    assert 'reporter="destination"' in error_groups_query(HOST, 30, reporter="destination")
