"""Go text/tabwriter semantics, as istioctl's tables rely on them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from meshtui.envoy.gosort import go_sort_by_key, go_sort_slice
from meshtui.envoy.tabwriter import ALIGN_RIGHT, TabWriter, format_cells, tabulate_text


def test_go_documented_example_align_right() -> None:
    # text/tabwriter ExampleWriter_Init, second half (minwidth 5, tabwidth 0, padding 1, AlignRight).
    w = TabWriter(5, 0, 1, " ", ALIGN_RIGHT)
    w.write("a\tb\tc\td\t.\n")
    w.write("123\t12345\t1234567\t123456789\t.\n")
    assert w.flush() == "    a     b       c         d.\n  123 12345 1234567 123456789.\n"


def test_last_cell_is_not_padded_but_empty_cells_are() -> None:
    out = format_cells([["NAME", "TYPE", "RULE"], ["agent", "STATIC", ""]], padding=5)
    assert out == "NAME      TYPE       RULE\nagent     STATIC     \n"


def test_columns_are_blocks_of_consecutive_lines() -> None:
    # A line with fewer cells ends the block: the later block is sized on its own.
    text = "aaaaaaaa\tx\nb\n" + "c\ty\n"
    assert tabulate_text(text, padding=1) == "aaaaaaaa x\nb\nc y\n"


def test_width_counts_code_points() -> None:
    assert format_cells([["é", "x"], ["ab", "y"]], padding=1) == "é  x\nab y\n"


def test_minwidth() -> None:
    assert format_cells([["a", "b"]], minwidth=4, padding=1) == "a   b\n"


def test_unterminated_last_line_has_no_newline() -> None:
    assert tabulate_text("a\tb\nccc\td", padding=1) == "a   b\nccc d"


@given(st.lists(st.integers(-5, 5), max_size=80))
def test_go_sort_sorts_like_a_sort(values: list[int]) -> None:
    data = list(values)
    go_sort_slice(data, lambda a, b: a < b)
    assert data == sorted(values)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers()), max_size=80))
def test_go_sort_by_key_is_a_permutation_ordered_by_key(items: list[tuple[int, int]]) -> None:
    out = go_sort_by_key(items, lambda t: t[0])
    assert sorted(out) == sorted(items)
    assert [k for k, _ in out] == sorted(k for k, _ in items)


def test_go_sort_leaves_input_alone_when_nothing_is_less() -> None:
    # istioctl's route sort says "not less" for every non-numeric name: order is kept.
    data = [f"name-{i}" for i in range(100)]
    go_sort_slice(data, lambda a, b: False)
    assert data == [f"name-{i}" for i in range(100)]


def test_go_sort_is_deterministic_and_unstable_like_go() -> None:
    # With many ties pdqsort moves equal elements; the result is the same on every run.
    items = [(i % 3, i) for i in range(60)]
    first = go_sort_by_key(list(items), lambda t: t[0])
    assert first == go_sort_by_key(list(items), lambda t: t[0])
    assert [k for k, _ in first] == sorted(k for k, _ in items)
