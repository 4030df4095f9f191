"""Weight algebra for the destinations of one HTTP rule: the only one in meshtui.

Every function takes the current integer weights (in route order) and returns a new list that
sums to exactly ``TOTAL`` (100) with non-negative integers (``pin_weights`` takes another
``total``: Gateway API backendRefs weights are relative and need not sum to 100). Whatever is not pinned by the
operation is shared among the other destinations in proportion to their current weights, rounded
by the largest-remainder method, so the order of the other weights is preserved (a destination
that had more keeps at least as much). Ties in the remainders go to the destination that had the
larger weight, then to the earlier one, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

TOTAL = 100


class WeightError(ValueError):
    """An impossible weight operation (index out of range, value outside 0..100)."""


def _check(weights: Sequence[int]) -> list[int]:
    out = []
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, int):
            raise WeightError(f"weight {w!r} is not an integer")
        if w < 0:
            raise WeightError(f"weight {w} is negative")
        out.append(w)
    return out


def _check_index(weights: Sequence[int], index: int) -> None:
    if not 0 <= index < len(weights):
        raise WeightError(f"destination {index} does not exist (the rule has {len(weights)})")


def apportion(shares: Sequence[int], total: int) -> list[int]:
    """Split ``total`` into integers proportional to ``shares`` (largest remainder).

    When every share is 0 the total is split evenly. Ties go to the larger share, then to
    the earlier position.
    """
    if total < 0:
        raise WeightError(f"cannot apportion a negative total {total}")
    n = len(shares)
    if n == 0:
        if total:
            raise WeightError("no destination to give the weight to")
        return []
    basis = list(shares) if sum(shares) > 0 else [1] * n
    whole = sum(basis)
    quotas = [Fraction(s * total, whole) for s in basis]
    out = [int(q) for q in quotas]  # floor: quotas are non-negative
    left = total - sum(out)
    order = sorted(range(n), key=lambda i: (-(quotas[i] - out[i]), -basis[i], i))
    for i in order[:left]:
        out[i] += 1
    return out


def normalize(weights: Sequence[int]) -> list[int]:
    """Scale any non-negative weights to sum to 100 (all zero: an even split)."""
    ws = _check(weights)
    if len(ws) == 1:
        return [TOTAL]
    return apportion(ws, TOTAL)


def set_weight(weights: Sequence[int], index: int, value: int) -> list[int]:
    """Give destination ``index`` exactly ``value``; the others share the rest proportionally.

    With one destination the only representable result is ``[100]``.
    """
    ws = _check(weights)
    _check_index(ws, index)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= TOTAL:
        raise WeightError(f"weight {value!r} must be an integer between 0 and {TOTAL}")
    if len(ws) == 1:
        return [TOTAL]
    return pin_weights(ws, {index: value})


def pin_weights(weights: Sequence[int], pins: dict[int, int], total: int = TOTAL) -> list[int]:
    """Destination ``i`` at exactly ``pins[i]``; the others share what is left of ``total`` in
    proportion to their current ``weights``. ``WeightError`` when the pins exceed ``total``, or
    pin every destination without adding up to it."""
    ws = _check(weights)
    for i, value in pins.items():
        _check_index(ws, i)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= total:
            raise WeightError(f"weight {value!r} must be an integer between 0 and {total}")
    pinned = sum(pins.values())
    if pinned > total:
        raise WeightError(f"the weights given add up to {pinned}, more than {total}")
    others = [i for i in range(len(ws)) if i not in pins]
    if not others and pinned != total:
        raise WeightError(f"the weights given add up to {pinned}, not {total}")
    out = list(ws)
    for i, value in pins.items():
        out[i] = value
    for i, value in zip(others, apportion([ws[i] for i in others], total - pinned)):
        out[i] = value
    return out


def add_destination(weights: Sequence[int], value: int = 0, position: int | None = None) -> list[int]:
    """Insert a destination with ``value`` at ``position`` (default: last); the others shrink."""
    ws = _check(weights)
    pos = len(ws) if position is None else position
    if not 0 <= pos <= len(ws):
        raise WeightError(f"position {pos} is outside 0..{len(ws)}")
    if not ws:
        return [TOTAL]
    grown = ws[:pos] + [0] + ws[pos:]
    return set_weight(grown, pos, value)


def remove_destination(weights: Sequence[int], index: int) -> list[int]:
    """Remove destination ``index``; its share goes to the others in proportion."""
    ws = _check(weights)
    _check_index(ws, index)
    if len(ws) == 1:
        raise WeightError("cannot remove the only destination of a rule")
    rest = ws[:index] + ws[index + 1 :]
    if len(rest) == 1:
        return [TOTAL]
    return apportion(rest, TOTAL)
