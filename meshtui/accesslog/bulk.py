"""The observed split of a saved log in bulk: a block of lines at a time, no record per line.

``SplitStats.add`` costs several microseconds a line (a record, its typed fields, a histogram
and endpoint update each). For a whole file that is most of the time, while the split only
needs eight fields and a handful of distinct values of most of them. ``BulkSplit`` matches a
block of lines with a pattern of the format that captures just those fields (the parser's own
fast pattern, with the other groups left out), counts equal (cluster, Host, upstream host,
code, flags, route) and (cluster, Host, duration) tuples with ``collections.Counter`` (a C
loop), and converts each distinct value once. Lines the pattern does not take go back to the
caller for the per-line parser (which also tries its tolerant pattern and collectors'
prefixes), so the result is the one the per-line path gives.

Only for statistics without a window (a saved log read whole); lines without a start time do
not move the span of the rates (the per-line path places them at the latest time seen).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import lru_cache
from operator import methodcaller
from typing import Any

from meshtui.accesslog.format import Operator
from meshtui.accesslog.parser import AutoParser, TextParser, compile_fields
from meshtui.accesslog.record import mirror_host, parse_time, to_int, to_str
from meshtui.accesslog.stats import GroupKey, SplitStats

#: The fields the split reads, in the order of the captured columns.
FIELDS = ["start_time", "upstream_cluster", "authority", "upstream_host", "response_code",
          "response_flags", "route_name", "duration"]


class BulkSplit:
    """Counts blocks of lines of one TEXT format into ``SplitStats`` (see the module docstring).

    Counts stay raw (the captured text) across blocks and are converted into the statistics by
    ``flush``: at the end, or when they hold ``max_groups`` distinct tuples (so memory stays
    bounded however varied the log).
    """

    def __init__(self, text: TextParser, skip_json: bool = False, max_groups: int = 200_000) -> None:
        pattern, groups = compile_fields(text.tokens, FIELDS)
        self._match = pattern.fullmatch
        start, cluster, authority, host, code, flags, route, duration = groups
        self._time = None if start is None else methodcaller("group", start)
        self._key = _picker([cluster, authority, host, code, flags, route])
        self._timed = None if duration is None else _picker([cluster, authority, duration])
        self._timed_plain = None if duration is None else _picker([cluster, duration])
        self._has_authority = authority is not None
        literals = [t for t in text.tokens if isinstance(t, str)]
        # A line of blanks carries nothing (the per-line path skips it); only a format whose
        # every literal is blank can match one, and only then are blank lines looked for.
        self._blank_can_match = all(t.isspace() for t in literals)
        first = text.tokens[0] if text.tokens else ""
        # AutoParser sends lines that start with "{" to JSON: the pattern must not take them.
        self._json_can_match = skip_json and (isinstance(first, Operator) or first[:1] in ("{", "")
                                              or first[:1].isspace())
        self.max_groups = max_groups
        self._requests: Counter[tuple[Any, ...]] = Counter()
        self._durations: Counter[tuple[Any, ...]] = Counter()  # (cluster, authority, ms)
        self._durations_plain: Counter[tuple[Any, ...]] = Counter()  # (cluster, ms): none mirrored
        self._lines = 0
        #: Lines taken so far, flushed or not.
        self.taken = 0
        self._earliest: str | None = None
        self._latest: str | None = None
        self._odd_times: set[str] = set()

    @classmethod
    def for_parser(cls, parser: Any) -> "BulkSplit | None":
        """The bulk pass for a parser's TEXT format, or None when its lines must go one by one."""
        if isinstance(parser, TextParser):
            return cls(parser)
        if isinstance(parser, AutoParser):
            bulk = cls(parser.text, skip_json=True)
            return None if bulk._json_can_match else bulk
        return None

    def add(self, lines: list[str], stats: SplitStats) -> list[str]:
        """Count the lines the pattern takes (into ``stats`` by the next ``flush``); return the
        others, in order, for the per-line parser."""
        if self._blank_can_match:
            lines = [line for line in lines if line and not line.isspace()]
        matches = list(map(self._match, lines))
        rest: list[str] = []
        if None in matches:
            rest = [line for line, m in zip(lines, matches) if m is None]
            matches = [m for m in matches if m is not None]
        if not matches:
            return rest
        self._lines += len(matches)
        self.taken += len(matches)
        block = Counter(map(self._key, matches))
        self._requests.update(block)
        if self._timed is not None and self._timed_plain is not None:
            # Mirrored requests are rare: a block without one keys its latencies by cluster only.
            if self._has_authority and any(_mirrored(key[1]) for key in block):
                self._durations.update(map(self._timed, matches))
            else:
                self._durations_plain.update(map(self._timed_plain, matches))
        if self._time is not None:
            self._note_times(list(map(self._time, matches)))
        if len(self._requests) + len(self._durations) + len(self._durations_plain) > self.max_groups:
            self.flush(stats)
        return rest

    @property
    def pending(self) -> int:
        """Lines counted but not flushed into the statistics yet."""
        return self._lines

    def _note_times(self, values: list[str]) -> None:
        """Keep the earliest and latest start time. Envoy's default (``2024-05-01T12:00:00.000Z``,
        always UTC, fixed width) sorts as text in time order, so only the ends are kept; any other
        shape is kept whole and parsed at ``flush``."""
        low, high = min(values), max(values)
        if (len(low) == len(high) == _ISO_WIDTH and low.endswith("Z") and high.endswith("Z")
                and low[:1].isdigit() and len(set(map(len, values))) == 1):
            for t in (low, high):
                if self._earliest is None or t < self._earliest:
                    self._earliest = t
                if self._latest is None or t > self._latest:
                    self._latest = t
        else:
            self._odd_times.update(v for v in values if v and v != "-")

    def flush(self, stats: SplitStats) -> None:
        """Convert the raw counts into ``stats`` and start afresh."""
        grouped: Counter[GroupKey] = Counter()
        for (c, a, h, co, f, r), n in self._requests.items():
            grouped[(to_str(c) or "", _mirrored(a), to_str(h) or "-", to_int(co), to_str(f), to_str(r))] += n
        timed: Counter[tuple[str, bool, int]] = Counter()
        for (c, a, d), n in self._durations.items():
            ms = to_int(d)
            if ms is not None:
                timed[(to_str(c) or "", _mirrored(a), ms)] += n
        for (c, d), n in self._durations_plain.items():
            ms = to_int(d)
            if ms is not None:
                timed[(to_str(c) or "", False, ms)] += n
        ends = {self._earliest, self._latest, *self._odd_times}
        times = [t for t in map(parse_time, ends) if t is not None]
        if self._lines:
            stats.add_grouped(grouped, timed, self._lines, min(times, default=None), max(times, default=None))
        self._requests.clear()
        self._durations.clear()
        self._durations_plain.clear()
        self._lines = 0
        self._earliest = self._latest = None
        self._odd_times.clear()


#: Width of Envoy's default ``%START_TIME%`` (``2024-05-01T12:00:00.000Z``).
_ISO_WIDTH = 24


def _picker(groups: list[int | None]) -> Callable[[Any], tuple[Any, ...]]:
    """A function of a match giving the tuple of ``groups`` (``None`` for a field the format lacks)."""
    present = [g for g in groups if g is not None]
    if len(present) == len(groups) and len(groups) > 1:
        return methodcaller("group", *groups)
    slots = [i for i, g in enumerate(groups) if g is not None]

    def fill(m: Any) -> tuple[Any, ...]:
        out: list[Any] = [None] * len(groups)
        for i in slots:
            out[i] = m.group(groups[i])
        return tuple(out)

    return fill


@lru_cache(maxsize=4096)
def _mirrored(authority: str | None) -> bool:
    return bool(authority) and authority != "-" and mirror_host(authority)  # type: ignore[arg-type]
