"""Turning Prometheus instant-vector results into the rows of the observed split."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from meshtui.metrics.promql import SPLIT_LABELS

Key = tuple[str, str, str]


@dataclass(slots=True)
class MetricsRow:
    """Observed traffic to one version/workload of a service over the window, from metrics."""

    host: str
    subset: str
    workload: str
    requests: int
    share: float | None
    errors: int
    p50_ms: int | None
    p95_ms: int | None
    p99_ms: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (a row of ``meshtui logs --split --basis prometheus -o json``)."""
        return {
            "host": self.host,
            "subset": self.subset,
            "workload": self.workload,
            "requests": self.requests,
            "share": None if self.share is None else round(self.share, 6),
            "errors": self.errors,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "basis": "prometheus",
        }


def vector_values(result: Sequence[Mapping[str, Any]]) -> dict[Key, float]:
    """Map each sample of a Prometheus vector result to its split key; NaN samples are dropped."""
    values: dict[Key, float] = {}
    for sample in result:
        metric = sample.get("metric", {})
        service, version, workload = (str(metric.get(label, "unknown")) for label in SPLIT_LABELS)
        key = (service, version, workload)
        value = float(sample["value"][1])
        if not math.isnan(value):
            values[key] = values.get(key, 0.0) + value
    return values


def _ms(values: Mapping[Key, float], key: Key) -> int | None:
    value = values.get(key)
    return None if value is None or math.isinf(value) else round(value)


def split_rows(
    requests: Mapping[Key, float],
    errors: Mapping[Key, float],
    quantiles: Mapping[float, Mapping[Key, float]],
) -> list[MetricsRow]:
    """Rows for every key with requests, busiest first; shares are of all requests in the window.

    ``increase()`` extrapolates, so counts are rounded to whole requests.
    """
    total = sum(requests.values())
    rows = []
    for key, count in requests.items():
        if round(count) <= 0:
            continue
        host, version, workload = key
        rows.append(
            MetricsRow(
                host=host,
                subset=version,
                workload=workload,
                requests=round(count),
                share=count / total if total else None,
                errors=round(errors.get(key, 0.0)),
                p50_ms=_ms(quantiles.get(0.5, {}), key),
                p95_ms=_ms(quantiles.get(0.95, {}), key),
                p99_ms=_ms(quantiles.get(0.99, {}), key),
            )
        )
    rows.sort(key=lambda r: (-r.requests, r.host, r.subset))
    return rows
