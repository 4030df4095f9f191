"""Weight algebra: totals stay 100, nothing goes negative, the moved destination gets its value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshtui.routing.weights import (
    WeightError,
    add_destination,
    apportion,
    drain,
    normalize,
    remove_destination,
    set_weight,
    shift_weight,
)


def split(n: int) -> st.SearchStrategy[list[int]]:
    """Weights of ``n`` destinations that sum to 100."""
    return st.lists(st.integers(0, 100), min_size=n - 1, max_size=n - 1).map(
        lambda cuts: [b - a for a, b in zip([0, *sorted(cuts)], [*sorted(cuts), 100])]
    )


sizes = st.sampled_from([2, 3, 5])


def order_preserved(before: list[int], after: list[int]) -> bool:
    """Among the untouched destinations, more before never means less after."""
    return all(
        after[i] >= after[j] for i in range(len(before)) for j in range(len(before)) if before[i] > before[j]
    )


@given(data=st.data(), n=sizes)
def test_set_weight_properties(data: st.DataObject, n: int) -> None:
    weights = data.draw(split(n))
    index = data.draw(st.integers(0, n - 1))
    value = data.draw(st.integers(0, 100))
    out = set_weight(weights, index, value)
    assert sum(out) == 100
    assert all(w >= 0 for w in out)
    assert out[index] == value
    others_before = [w for i, w in enumerate(weights) if i != index]
    others_after = [w for i, w in enumerate(out) if i != index]
    assert order_preserved(others_before, others_after)


@given(data=st.data(), n=sizes)
def test_shift_weight_properties(data: st.DataObject, n: int) -> None:
    weights = data.draw(split(n))
    index = data.draw(st.integers(0, n - 1))
    delta = data.draw(st.integers(-120, 120))
    out = shift_weight(weights, index, delta)
    assert sum(out) == 100 and all(w >= 0 for w in out)
    assert out[index] == min(100, max(0, weights[index] + delta))


@given(data=st.data(), n=sizes)
def test_drain_add_remove_properties(data: st.DataObject, n: int) -> None:
    weights = data.draw(split(n))
    index = data.draw(st.integers(0, n - 1))
    drained = drain(weights, index)
    assert drained[index] == 0 and sum(drained) == 100
    added = add_destination(weights, data.draw(st.integers(0, 100)))
    assert len(added) == n + 1 and sum(added) == 100 and min(added) >= 0
    removed = remove_destination(weights, index)
    assert len(removed) == n - 1 and sum(removed) == 100 and min(removed) >= 0


def test_ninety_ten_canary_steps() -> None:
    assert shift_weight([90, 10], 1, 10) == [80, 20]
    assert shift_weight([90, 10], 1, -20) == [100, 0]
    assert set_weight([90, 10], 0, 0) == [0, 100]


def test_three_way_split_keeps_proportions() -> None:
    # 50/30/20, set the first to 20: the 80 left is shared 3:2 between the others.
    assert set_weight([50, 30, 20], 0, 20) == [20, 48, 32]


def test_rounding_is_deterministic_and_favours_the_larger() -> None:
    # 100 over three equal destinations: the remainder goes to the first.
    assert normalize([1, 1, 1]) == [34, 33, 33]
    assert apportion([2, 1], 1) == [1, 0]


def test_zero_weights_are_representable() -> None:
    assert set_weight([100, 0, 0], 0, 40) == [40, 30, 30]
    assert drain([100, 0], 0) == [0, 100]


def test_single_destination_is_always_100() -> None:
    assert set_weight([100], 0, 30) == [100]
    assert shift_weight([100], 0, -50) == [100]
    assert normalize([7]) == [100]


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(WeightError, match="between 0 and 100"):
        set_weight([50, 50], 0, 101)
    with pytest.raises(WeightError, match="does not exist"):
        drain([50, 50], 2)
    with pytest.raises(WeightError, match="only destination"):
        remove_destination([100], 0)
