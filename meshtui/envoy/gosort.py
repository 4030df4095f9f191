"""Go's ``sort.Slice`` (pattern-defeating quicksort), so rows that compare equal land where
istioctl puts them.

``sort.Slice`` is not stable: for more than 12 elements, ties (and comparators that are not
strict weak orders, such as istioctl's route sort, which calls every non-numeric name
"not less") come out in an order that only this exact algorithm reproduces. The port follows
``sort/zsortfunc.go`` and ``sort/sort.go`` of Go 1.22 line by line; it is deterministic
(the "random" pattern breaker is an xorshift seeded with the length).

``go_sort_by_key`` is the fast path: when all keys differ, any correct sort gives the same
order, so Python's ``sorted`` is used and the port only runs when there are ties.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
Less = Callable[[Any, Any], bool]

_MASK64 = (1 << 64) - 1
_UNKNOWN, _INCREASING, _DECREASING = 0, 1, 2


def go_sort_slice(data: list[T], less: Callable[[T, T], bool]) -> None:
    """Sort ``data`` in place exactly as Go's ``sort.Slice(data, less)`` would."""
    n = len(data)
    _pdqsort(data, less, 0, n, n.bit_length())


def go_sort_by_key(data: list[T], key: Callable[[T], Any]) -> list[T]:
    """Return ``data`` sorted like ``sort.Slice`` with ``less = key(a) < key(b)``."""
    keys = [key(x) for x in data]
    try:
        distinct = len(set(keys)) == len(keys) if all(isinstance(k, Hashable) for k in keys) else False
    except TypeError:
        distinct = False
    if distinct:
        order = sorted(range(len(data)), key=keys.__getitem__)
        return [data[i] for i in order]
    pairs = list(zip(keys, range(len(data))))
    go_sort_slice(pairs, lambda a, b: a[0] < b[0])
    return [data[i] for _, i in pairs]


def _insertion(d: list, less: Less, a: int, b: int) -> None:
    for i in range(a + 1, b):
        j = i
        while j > a and less(d[j], d[j - 1]):
            d[j], d[j - 1] = d[j - 1], d[j]
            j -= 1


def _sift_down(d: list, less: Less, lo: int, hi: int, first: int) -> None:
    root = lo
    while True:
        child = 2 * root + 1
        if child >= hi:
            return
        if child + 1 < hi and less(d[first + child], d[first + child + 1]):
            child += 1
        if not less(d[first + root], d[first + child]):
            return
        d[first + root], d[first + child] = d[first + child], d[first + root]
        root = child


def _heapsort(d: list, less: Less, a: int, b: int) -> None:
    first, lo, hi = a, 0, b - a
    for i in range((hi - 1) // 2, -1, -1):
        _sift_down(d, less, i, hi, first)
    for i in range(hi - 1, -1, -1):
        d[first], d[first + i] = d[first + i], d[first]
        _sift_down(d, less, lo, i, first)


def _pdqsort(d: list, less: Less, a: int, b: int, limit: int) -> None:
    was_balanced = True
    was_partitioned = True
    while True:
        length = b - a
        if length <= 12:
            _insertion(d, less, a, b)
            return
        if limit == 0:
            _heapsort(d, less, a, b)
            return
        if not was_balanced:
            _break_patterns(d, a, b)
            limit -= 1
        pivot, hint = _choose_pivot(d, less, a, b)
        if hint == _DECREASING:
            _reverse(d, a, b)
            pivot = (b - 1) - (pivot - a)
            hint = _INCREASING
        if was_balanced and was_partitioned and hint == _INCREASING:
            if _partial_insertion(d, less, a, b):
                return
        if a > 0 and not less(d[a - 1], d[pivot]):
            a = _partition_equal(d, less, a, b, pivot)
            continue
        mid, already = _partition(d, less, a, b, pivot)
        was_partitioned = already
        left, right = mid - a, b - mid
        threshold = length // 8
        if left < right:
            was_balanced = left >= threshold
            _pdqsort(d, less, a, mid, limit)
            a = mid + 1
        else:
            was_balanced = right >= threshold
            _pdqsort(d, less, mid + 1, b, limit)
            b = mid


def _partition(d: list, less: Less, a: int, b: int, pivot: int) -> tuple[int, bool]:
    d[a], d[pivot] = d[pivot], d[a]
    i, j = a + 1, b - 1
    while i <= j and less(d[i], d[a]):
        i += 1
    while i <= j and not less(d[j], d[a]):
        j -= 1
    if i > j:
        d[j], d[a] = d[a], d[j]
        return j, True
    d[i], d[j] = d[j], d[i]
    i += 1
    j -= 1
    while True:
        while i <= j and less(d[i], d[a]):
            i += 1
        while i <= j and not less(d[j], d[a]):
            j -= 1
        if i > j:
            break
        d[i], d[j] = d[j], d[i]
        i += 1
        j -= 1
    d[j], d[a] = d[a], d[j]
    return j, False


def _partition_equal(d: list, less: Less, a: int, b: int, pivot: int) -> int:
    d[a], d[pivot] = d[pivot], d[a]
    i, j = a + 1, b - 1
    while True:
        while i <= j and not less(d[a], d[i]):
            i += 1
        while i <= j and less(d[a], d[j]):
            j -= 1
        if i > j:
            break
        d[i], d[j] = d[j], d[i]
        i += 1
        j -= 1
    return i


def _partial_insertion(d: list, less: Less, a: int, b: int) -> bool:
    i = a + 1
    for _ in range(5):  # maxSteps
        while i < b and not less(d[i], d[i - 1]):
            i += 1
        if i == b:
            return True
        if b - a < 50:  # shortestShifting
            return False
        d[i], d[i - 1] = d[i - 1], d[i]
        if i - a >= 2:
            j = i - 1
            while j >= 1:  # sic: Go shifts down to index 1, not a+1
                if not less(d[j], d[j - 1]):
                    break
                d[j], d[j - 1] = d[j - 1], d[j]
                j -= 1
        if b - i >= 2:
            for j in range(i + 1, b):
                if not less(d[j], d[j - 1]):
                    break
                d[j], d[j - 1] = d[j - 1], d[j]
    return False


def _break_patterns(d: list, a: int, b: int) -> None:
    length = b - a
    if length >= 8:
        random = length
        modulus = 1 << length.bit_length()
        idx = a + (length // 4) * 2 - 1
        while idx <= a + (length // 4) * 2 + 1:
            random ^= (random << 13) & _MASK64
            random ^= random >> 7
            random ^= (random << 17) & _MASK64
            other = random & (modulus - 1)
            if other >= length:
                other -= length
            d[idx], d[a + other] = d[a + other], d[idx]
            idx += 1


def _choose_pivot(d: list, less: Less, a: int, b: int) -> tuple[int, int]:
    length = b - a
    swaps = [0]
    i = a + length // 4 * 1
    j = a + length // 4 * 2
    k = a + length // 4 * 3
    if length >= 8:
        if length >= 50:
            i = _median(d, less, i - 1, i, i + 1, swaps)
            j = _median(d, less, j - 1, j, j + 1, swaps)
            k = _median(d, less, k - 1, k, k + 1, swaps)
        j = _median(d, less, i, j, k, swaps)
    if swaps[0] == 0:
        return j, _INCREASING
    if swaps[0] == 12:
        return j, _DECREASING
    return j, _UNKNOWN


def _order2(d: list, less: Less, a: int, b: int, swaps: list[int]) -> tuple[int, int]:
    if less(d[b], d[a]):
        swaps[0] += 1
        return b, a
    return a, b


def _median(d: list, less: Less, a: int, b: int, c: int, swaps: list[int]) -> int:
    a, b = _order2(d, less, a, b, swaps)
    b, c = _order2(d, less, b, c, swaps)
    a, b = _order2(d, less, a, b, swaps)
    return b


def _reverse(d: list, a: int, b: int) -> None:
    i, j = a, b - 1
    while i < j:
        d[i], d[j] = d[j], d[i]
        i += 1
        j -= 1
