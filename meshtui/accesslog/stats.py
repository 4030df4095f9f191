"""Observed traffic split from access-log records, over a sliding time window.

``SplitStats`` groups requests by upstream cluster (which names direction, port, subset and
service host) and keeps, per one-second slice of event time, request and error counts, a
latency histogram (``quantile.LatencyHistogram``: exact below 256 ms, within 0.8 % above) and
counts per upstream host. Rows merge the slices inside the window (default 60 s; ``None``
keeps everything, as for a saved log). Mirrored (shadow) requests get rows of their own and
never count toward shares. Errors (5xx or a failure response flag) are also rolled up by
cluster, response flag and route, so "503 UH on reviews v3" reads at a glance.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meshtui.accesslog.cluster import ClusterName, parse_cluster
from meshtui.accesslog.flags import describe, has_failure, split_flags
from meshtui.accesslog.quantile import LatencyHistogram
from meshtui.accesslog.record import Record

#: (upstream cluster, subset override or "", mirrored)
_Key = tuple[str, str, bool]
#: (response code or None, response flags or "", upstream cluster, route name or "")
_ErrorKey = tuple[int | None, str, str, str]
#: A bulk pass's group: (cluster or "", mirrored, upstream host or "-", code, flags, route)
GroupKey = tuple[str, bool, str, int | None, str | None, str | None]


class _Agg:
    """Counts of one row in one time slice."""

    __slots__ = ("requests", "errors", "hist", "endpoints")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.hist = LatencyHistogram()
        self.endpoints: dict[str, list[int]] = {}

    def merge(self, other: "_Agg") -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.hist.merge(other.hist)
        for host, (n, e) in other.endpoints.items():
            mine = self.endpoints.setdefault(host, [0, 0])
            mine[0] += n
            mine[1] += e


class _Slice:
    __slots__ = ("rows", "errors")

    def __init__(self) -> None:
        self.rows: dict[_Key, _Agg] = {}
        self.errors: Counter[_ErrorKey] = Counter()


@dataclass(slots=True)
class EndpointRow:
    """Requests to one upstream host (pod IP:port) of a row."""

    upstream_host: str
    requests: int
    errors: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"upstream_host": self.upstream_host, "requests": self.requests, "errors": self.errors}


@dataclass(slots=True)
class SplitRow:
    """Observed traffic to one upstream cluster (one subset of one service) in the window.

    ``share`` is the fraction of all non-mirrored requests in the window (``None`` for a
    mirrored row); ``host_share`` the fraction among non-mirrored requests to the same service
    host and direction, which is what compares with a configured ``weight`` (0-1, ``None`` when
    not given). Latencies are in ms; ``rate`` in requests per second (``None`` without time).
    """

    cluster: str
    direction: str
    port: int | None
    subset: str
    host: str
    mirrored: bool
    requests: int
    rate: float | None
    share: float | None
    host_share: float | None
    weight: float | None
    errors: int
    error_rate: float
    p50_ms: int | None
    p95_ms: int | None
    p99_ms: int | None
    endpoints: list[EndpointRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``rows`` of ``meshtui logs --split -o json``)."""
        return {
            "cluster": self.cluster,
            "direction": self.direction,
            "port": self.port,
            "host": self.host,
            "subset": self.subset,
            "mirrored": self.mirrored,
            "requests": self.requests,
            "rate": _round(self.rate),
            "share": _round(self.share),
            "host_share": _round(self.host_share),
            "weight": _round(self.weight),
            "errors": self.errors,
            "error_rate": _round(self.error_rate),
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "endpoints": [e.to_dict() for e in self.endpoints],
        }


@dataclass(slots=True)
class ErrorGroup:
    """Errors with one response code, flag set, cluster and route: "503 UH on reviews v3"."""

    response_code: int | None
    response_flags: str
    cluster: str
    route_name: str
    count: int

    def describe(self) -> str:
        """One line: ``503 UH outbound|9080|v3|reviews... route=default: 12 (UH: ...)``."""
        code = "-" if self.response_code is None else str(self.response_code)
        flags = self.response_flags or "-"
        text = f"{code} {flags} {self.cluster or '-'} route={self.route_name or '-'}: {self.count}"
        meanings = [describe(f) for f in split_flags(self.response_flags)]
        return text + (f"  [{'; '.join(meanings)}]" if meanings else "")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "response_code": self.response_code,
            "response_flags": self.response_flags or None,
            "cluster": self.cluster or None,
            "route_name": self.route_name or None,
            "count": self.count,
        }


@dataclass(slots=True)
class ErrorRollups:
    """Errors in the window counted by cluster, by single response flag, by route, and by the
    full (code, flags, cluster, route) combination, most frequent first."""

    by_cluster: list[tuple[str, int]]
    by_flag: list[tuple[str, int]]
    by_route: list[tuple[str, int]]
    groups: list[ErrorGroup]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; each flag carries its meaning."""
        return {
            "by_cluster": [{"cluster": c, "errors": n} for c, n in self.by_cluster],
            "by_flag": [{"flag": f, "meaning": describe(f), "errors": n} for f, n in self.by_flag],
            "by_route": [{"route_name": r, "errors": n} for r, n in self.by_route],
            "groups": [g.to_dict() for g in self.groups],
        }


class SplitStats:
    """Observed split statistics over a sliding window of event time.

    ``window`` is in seconds (``None``: no window, keep every line). Time comes from the
    ``t`` given to ``add`` or else the record's ``%START_TIME%``; a record without either
    is placed at the latest time seen (without a window it is counted and does not move the
    span of the rates). Records older than the window are counted in
    ``lines`` but not in the rows.
    """

    def __init__(self, window: float | None = 60.0) -> None:
        if window is not None and not (window > 0 and math.isfinite(window)):
            raise ValueError(f"window must be a positive number of seconds, not {window!r}")
        self.window = window
        self.lines = 0
        self.unparsed = 0
        #: The last unparsed lines, raw, for display (bounded).
        self.unparsed_samples: deque[str] = deque(maxlen=100)
        self._slices: dict[int, _Slice] = {}
        self._latest: float | None = None
        self._earliest: float | None = None

    def set_window(self, window: float | None) -> None:
        """Change the window; a shorter one drops slices that fall outside it."""
        if window is not None and not (window > 0 and math.isfinite(window)):
            raise ValueError(f"window must be a positive number of seconds, not {window!r}")
        self.window = window
        self._expire()

    def add_unparsed(self, line: str) -> None:
        """Count a line that did not parse, keeping it for display."""
        self.lines += 1
        self.unparsed += 1
        self.unparsed_samples.append(line)

    def add(self, record: Record, *, t: float | None = None, subset: str | None = None) -> None:
        """Count one request. ``subset`` names the subset when the caller knows it better than
        the cluster name does (inbound lines, attributed by the pod that logged them)."""
        self.lines += 1
        if t is None:
            t = record.start_epoch
        advanced = False
        if t is None and self.window is None:
            # Without a window (a saved log read whole) a line without a time says nothing
            # about the span of the rates: it is counted and moves neither end (as in bulk).
            slot = 0
        else:
            if t is None:
                t = self._latest if self._latest is not None else 0.0
            if self._earliest is None or t < self._earliest:
                self._earliest = t
            advanced = self._latest is None or t > self._latest
            if advanced:
                self._latest = t
            slot = int(t // 1) if self.window is not None else 0
        if self.window is not None and self._latest is not None and slot <= self._latest - self.window:
            return  # older than the window
        piece = self._slices.get(slot)
        if piece is None:
            piece = self._slices[slot] = _Slice()
        cluster = record.upstream_cluster or ""
        key = (cluster, subset or "", record.is_mirror)
        agg = piece.rows.get(key)
        if agg is None:
            agg = piece.rows[key] = _Agg()
        agg.requests += 1
        code = record.response_code
        flags = record.response_flags
        error = (code is not None and code >= 500) or has_failure(flags)
        if error:
            agg.errors += 1
            piece.errors[(code, flags or "", cluster, record.route_name or "")] += 1
        duration = record.duration
        if duration is not None:
            agg.hist.add(duration)
        host = record.upstream_host or "-"
        counts = agg.endpoints.get(host)
        if counts is None:
            counts = agg.endpoints[host] = [0, 0]
        counts[0] += 1
        counts[1] += error
        if advanced:
            self._expire()

    def add_grouped(self, requests: Mapping[GroupKey, int], durations: Mapping[tuple[str, bool, int], int],
                    lines: int, earliest: float | None, latest: float | None) -> None:
        """Count ``lines`` requests already grouped by a bulk pass (``meshtui.accesslog.bulk``):
        ``requests`` by (cluster, mirrored, upstream host, code, flags, route), ``durations``
        by (cluster, mirrored, ms); ``earliest``/``latest`` their start times. Only without a
        window: a bulk pass does not keep per-second slices."""
        if self.window is not None:
            raise ValueError("grouped counts need statistics without a window")
        self.lines += lines
        self._note_span(earliest, latest)
        piece = self._slices.get(0)
        if piece is None:
            piece = self._slices[0] = _Slice()
        rows = piece.rows
        for (cluster, mirrored, host, code, flags, route), n in requests.items():
            key = (cluster, "", mirrored)
            agg = rows.get(key)
            if agg is None:
                agg = rows[key] = _Agg()
            agg.requests += n
            error = (code is not None and code >= 500) or has_failure(flags)
            counts = agg.endpoints.get(host)
            if counts is None:
                counts = agg.endpoints[host] = [0, 0]
            counts[0] += n
            if error:
                agg.errors += n
                counts[1] += n
                piece.errors[(code, flags or "", cluster, route or "")] += n
        for (cluster, mirrored, ms), n in durations.items():
            key = (cluster, "", mirrored)
            agg = rows.get(key)
            if agg is None:
                agg = rows[key] = _Agg()
            agg.hist.add_many(ms, n)

    def _note_span(self, earliest: float | None, latest: float | None) -> None:
        for t in (earliest, latest):
            if t is not None:
                if self._earliest is None or t < self._earliest:
                    self._earliest = t
                if self._latest is None or t > self._latest:
                    self._latest = t

    def merge(self, later: "SplitStats") -> None:
        """Add the counts of ``later``, made from the lines that follow this one's (a saved log
        read in parts), as if one pass had read them all. Only without a window."""
        if self.window is not None or later.window is not None:
            raise ValueError("only statistics without a window can be merged")
        self.lines += later.lines
        self.unparsed += later.unparsed
        self.unparsed_samples.extend(later.unparsed_samples)
        self._note_span(later._earliest, later._latest)
        for slot, piece in later._slices.items():
            mine = self._slices.get(slot)
            if mine is None:
                self._slices[slot] = piece
                continue
            for key, agg in piece.rows.items():
                have = mine.rows.get(key)
                if have is None:
                    mine.rows[key] = agg
                else:
                    have.merge(agg)
            mine.errors.update(piece.errors)

    def _expire(self) -> None:
        if self.window is None or self._latest is None:
            return
        oldest = self._latest - self.window
        # A slice is kept while its second lies within the last ``window`` seconds.
        for slot in [s for s in self._slices if s <= oldest]:
            del self._slices[slot]

    def _span(self) -> float | None:
        if self._latest is None or self._earliest is None:
            return None
        # A span under a second would inflate rates; one second is the resolution of the slices.
        span = max(self._latest - self._earliest, 1.0)
        if self.window is not None:
            span = min(span + 1.0, self.window)
        return span

    def rows(self, weights: Mapping[str, float] | None = None,
             group_hosts: Mapping[str, str] | None = None) -> list[SplitRow]:
        """One row per upstream cluster (and subset override, and mirrored or not) in the window.

        ``group_hosts`` maps a host to the host whose split it is part of (the per-version
        Services of a Gateway API route): a row's ``host_share`` is its part of that group.
        ``weights`` are configured weights in percent, keyed by cluster name or by subset name;
        a row shows its weight as a 0-1 fraction. Rows are sorted by mirrored, host, direction,
        port, subset and cluster, so the output is stable.
        """
        merged: dict[_Key, _Agg] = {}
        for piece in self._slices.values():
            for key, agg in piece.rows.items():
                into = merged.get(key)
                if into is None:
                    into = merged[key] = _Agg()
                into.merge(agg)
        total = sum(a.requests for k, a in merged.items() if not k[2])
        group = group_hosts or {}
        per_host: Counter[tuple[str, str]] = Counter()
        decoded: dict[_Key, ClusterName] = {key: parse_cluster(key[0]) for key in merged}
        for key, agg in merged.items():
            if not key[2]:
                info = decoded[key]
                per_host[(info.direction, group.get(info.host, info.host))] += agg.requests
        span = self._span()
        out: list[SplitRow] = []
        for key, agg in merged.items():
            cluster, subset_override, mirrored = key
            info = decoded[key]
            subset = subset_override or info.subset
            p50, p95, p99 = agg.hist.quantiles((0.50, 0.95, 0.99))
            weight = None
            if weights:
                raw_weight = weights.get(cluster)
                if raw_weight is None and subset:
                    raw_weight = weights.get(subset)
                weight = None if raw_weight is None else raw_weight / 100.0
            host_total = per_host.get((info.direction, group.get(info.host, info.host)), 0)
            out.append(
                SplitRow(
                    cluster=cluster,
                    direction=info.direction,
                    port=info.port,
                    subset=subset,
                    host=info.host,
                    mirrored=mirrored,
                    requests=agg.requests,
                    rate=(agg.requests / span) if span else None,
                    share=None if mirrored else (agg.requests / total if total else 0.0),
                    host_share=None if mirrored else (agg.requests / host_total if host_total else 0.0),
                    weight=weight,
                    errors=agg.errors,
                    error_rate=agg.errors / agg.requests if agg.requests else 0.0,
                    p50_ms=p50,
                    p95_ms=p95,
                    p99_ms=p99,
                    endpoints=[
                        EndpointRow(h, n, e) for h, (n, e) in sorted(agg.endpoints.items())
                    ],
                )
            )
        out.sort(key=lambda r: (r.mirrored, r.host, r.direction, r.port or 0, r.subset, r.cluster))
        return out

    def error_rollups(self, limit: int | None = None) -> ErrorRollups:
        """Errors in the window by cluster, flag, route and full combination (``limit`` each)."""
        combos: Counter[_ErrorKey] = Counter()
        for piece in self._slices.values():
            combos.update(piece.errors)
        by_cluster: Counter[str] = Counter()
        by_flag: Counter[str] = Counter()
        by_route: Counter[str] = Counter()
        for (_code, flags, cluster, route), n in combos.items():
            by_cluster[cluster or "-"] += n
            by_route[route or "-"] += n
            for flag in split_flags(flags) or ["-"]:
                by_flag[flag] += n

        def ranked(counter: Counter[Any]) -> list[Any]:
            return sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]

        groups = [
            ErrorGroup(code, flags, cluster, route, n)
            for (code, flags, cluster, route), n in ranked(combos)
        ]
        return ErrorRollups(ranked(by_cluster), ranked(by_flag), ranked(by_route), groups)

    def summary(self, weights: Mapping[str, float] | None = None) -> dict[str, Any]:
        """Everything as one JSON-ready object: ``lines``, ``unparsed``, ``rows``, ``errors``."""
        return {
            "lines": self.lines,
            "unparsed": self.unparsed,
            "window_s": self.window,
            "rows": [r.to_dict() for r in self.rows(weights)],
            "errors": self.error_rollups().to_dict(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
