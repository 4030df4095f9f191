"""Plain-text and JSON-ready renderings of records and split statistics (stable for scripts)."""

from __future__ import annotations

from typing import Any

from meshtui.accesslog.record import Record
from meshtui.accesslog.stats import SplitStats

_DASH = "-"


def record_line(record: Record) -> str:
    """One record as one stable line:
    ``TIME METHOD PATH CODE FLAGS DURATIONms CLUSTER UPSTREAM_HOST route=ROUTE [mirror]``."""
    duration = record.duration
    parts = [
        record.start_time or _DASH,
        record.method or _DASH,
        record.path or _DASH,
        _DASH if record.response_code is None else str(record.response_code),
        record.response_flags or _DASH,
        _DASH if duration is None else f"{duration}ms",
        record.upstream_cluster or _DASH,
        record.upstream_host or _DASH,
        f"route={record.route_name or _DASH}",
    ]
    if record.is_mirror:
        parts.append("mirror")
    return " ".join(parts)


def unparsed_line(raw: str) -> str:
    """How a line that did not parse is shown: raw, marked, never dropped."""
    return f"unparsed: {raw}"


def record_json(record: Record) -> dict[str, Any]:
    """One record as a JSON-ready object: every field, plus the decoded cluster and mirror flag."""
    out = record.fields()
    info = record.cluster
    out["cluster"] = {
        "direction": info.direction,
        "port": info.port,
        "subset": info.subset,
        "host": info.host,
    }
    out["mirrored"] = record.is_mirror
    out["error"] = record.is_error
    return out


def split_table(stats: SplitStats, weights: dict[str, float] | None = None) -> str:
    """The observed split as an aligned table, then line counts and the error rollups."""
    rows = stats.rows(weights)
    show_weight = any(r.weight is not None for r in rows)
    header = ["CLUSTER", "SUBSET", "REQUESTS", "RATE/S", "SHARE"]
    if show_weight:
        header.append("WEIGHT")
    header += ["ERRORS", "ERR%", "P50", "P95", "P99"]
    table: list[list[str]] = [header]
    for r in rows:
        cells = [
            r.cluster or _DASH,
            r.subset or _DASH,
            str(r.requests),
            _DASH if r.rate is None else f"{r.rate:.2f}",
            "mirror" if r.mirrored else _pct(r.share),
        ]
        if show_weight:
            cells.append(_DASH if r.weight is None else _pct(r.weight))
        cells += [
            str(r.errors),
            _pct(r.error_rate),
            _ms(r.p50_ms),
            _ms(r.p95_ms),
            _ms(r.p99_ms),
        ]
        table.append(cells)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = []
    for row in table:
        # Left-align the text columns, right-align the numbers.
        cells = [
            cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.append("")
    lines.append(f"lines: {stats.lines}  unparsed: {stats.unparsed}")
    rollups = stats.error_rollups(limit=10)
    if rollups.groups:
        lines.append("errors:")
        lines.extend(f"  {g.describe()}" for g in rollups.groups)
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return _DASH if value is None else f"{value * 100:.1f}%"


def _ms(value: int | None) -> str:
    return _DASH if value is None else f"{value}ms"
