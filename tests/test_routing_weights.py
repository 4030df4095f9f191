"""Weight algebra: totals stay 100, nothing goes negative, the moved destination gets its value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshtui.routing.weights import (
    WeightError,
    add_destination,
    apportion,
    normalize,
    pin_weights,
    remove_destination,
    set_weight,
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
def test_pin_weights_properties(data: st.DataObject, n: int) -> None:
    weights = data.draw(split(n))
    pinned = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n - 1, unique=True))
    values = data.draw(split(len(pinned) + 1))[:-1]  # pins that leave something for the others
    out = pin_weights(weights, dict(zip(pinned, values)))
    assert sum(out) == 100 and all(w >= 0 for w in out)
    assert [out[i] for i in pinned] == values
    others = [i for i in range(n) if i not in pinned]
    assert order_preserved([weights[i] for i in others], [out[i] for i in others])


def test_pin_weights_with_a_relative_total() -> None:
    # Gateway API backendRefs weights are relative: pinning keeps the rule's own total.
    assert pin_weights([3, 1, 1], {0: 1}, total=5) == [1, 2, 2]
    with pytest.raises(WeightError, match="more than 5"):
        pin_weights([3, 1, 1], {0: 3, 1: 3}, total=5)


@given(data=st.data(), n=sizes)
def test_drain_add_remove_properties(data: st.DataObject, n: int) -> None:
    weights = data.draw(split(n))
    index = data.draw(st.integers(0, n - 1))
    drained = set_weight(weights, index, 0)
    assert drained[index] == 0 and sum(drained) == 100
    added = add_destination(weights, data.draw(st.integers(0, 100)))
    assert len(added) == n + 1 and sum(added) == 100 and min(added) >= 0
    removed = remove_destination(weights, index)
    assert len(removed) == n - 1 and sum(removed) == 100 and min(removed) >= 0


def test_ninety_ten_canary_steps() -> None:
    assert set_weight([90, 10], 1, 20) == [80, 20]
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
    assert set_weight([100, 0], 0, 0) == [0, 100]


def test_single_destination_is_always_100() -> None:
    assert set_weight([100], 0, 30) == [100]
    assert normalize([7]) == [100]


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(WeightError, match="between 0 and 100"):
        set_weight([50, 50], 0, 101)
    with pytest.raises(WeightError, match="does not exist"):
        set_weight([50, 50], 2, 0)
    with pytest.raises(WeightError, match="only destination"):
        remove_destination([100], 0)
