"""A mergeable latency histogram with bounded relative error (log-linear buckets, as HDR).

``%DURATION%`` is a whole number of milliseconds. Values below 256 ms get a bucket each, so
their quantiles are exact; above that every power of two is cut into 128 buckets, so a
reported quantile is within 1/128 (< 0.8 %) of the true nearest-rank value. Histograms of
one-second slices merge by adding counts, which is what makes a sliding window cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

_BITS = 8  # exact below 2**_BITS; 2**(_BITS-1) sub-buckets per power of two above
_HALF = 1 << (_BITS - 1)


def bucket_of(value: int) -> int:
    """The bucket index of a non-negative integer value."""
    if value < (1 << _BITS):
        return value
    shift = value.bit_length() - _BITS
    return (shift << (_BITS - 1)) + (value >> shift)


def bucket_value(index: int) -> int:
    """The value a bucket reports: itself when exact, else the middle of its range."""
    if index < (1 << _BITS):
        return index
    shift = (index >> (_BITS - 1)) - 1
    mantissa = index - (shift << (_BITS - 1))
    # Guard the decoding of indices produced by bucket_of (mantissa in [HALF, 2*HALF)).
    while mantissa >= 2 * _HALF:
        shift += 1
        mantissa = index - (shift << (_BITS - 1))
    low = mantissa << shift
    return low + ((1 << shift) - 1) // 2


class LatencyHistogram:
    """Counts of latencies (ms) in log-linear buckets; ``quantile`` gives nearest-rank values."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    def add(self, value_ms: int) -> None:
        """Record one latency; negative values count as 0."""
        index = bucket_of(value_ms if value_ms > 0 else 0)
        counts = self.counts
        counts[index] = counts.get(index, 0) + 1
        self.total += 1

    def add_many(self, value_ms: int, count: int) -> None:
        """Record ``count`` latencies of ``value_ms`` (a bulk pass counts equal values once)."""
        index = bucket_of(value_ms if value_ms > 0 else 0)
        counts = self.counts
        counts[index] = counts.get(index, 0) + count
        self.total += count

    def merge(self, other: "LatencyHistogram") -> None:
        """Add another histogram's counts to this one."""
        counts = self.counts
        for index, n in other.counts.items():
            counts[index] = counts.get(index, 0) + n
        self.total += other.total

    def quantile(self, q: float) -> int | None:
        """The nearest-rank ``q`` quantile (0 < q <= 1) in ms, ``None`` when empty."""
        return self.quantiles([q])[0]

    def quantiles(self, qs: Iterable[float]) -> list[int | None]:
        """Several nearest-rank quantiles in one pass over the sorted buckets."""
        wanted = list(qs)
        if self.total == 0:
            return [None for _ in wanted]
        ranks = [max(1, math.ceil(q * self.total)) for q in wanted]
        order = sorted(range(len(wanted)), key=lambda i: ranks[i])
        result: list[int | None] = [None] * len(wanted)
        seen = 0
        pending = iter(order)
        current = next(pending, None)
        for index in sorted(self.counts):
            seen += self.counts[index]
            while current is not None and ranks[current] <= seen:
                result[current] = bucket_value(index)
                current = next(pending, None)
            if current is None:
                break
        return result
