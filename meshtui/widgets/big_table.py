"""A virtualised table for the big lists (20,000 pods): renders only the visible rows.

Textual's ``DataTable`` takes seconds to fill and paint 20,000 rows and relayouts on every
``clear()``; this widget keeps rows as plain tuples, renders lines on demand through the line
API, and replaces its rows by key so the cursor stays on the same object across updates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from meshtui.views.table import Column, LiveCell, Row

__all__ = ["BigTable", "Column", "Row", "compile_filter"]


def compile_filter(text: str) -> Any:
    """A predicate over a row's joined text and its lowercased form: a case-insensitive regex
    when the text is a valid regex with regex syntax in it, a plain substring otherwise (so
    `a.b` still finds `a.b`)."""
    text = text.strip()
    if not text:
        return None
    if any(c in text for c in "^$*+?[](){}|\\"):
        try:
            rx = re.compile(text, re.IGNORECASE)
            return lambda s, low: rx.search(s) is not None
        except re.error:
            pass
    needle = text.lower()
    return lambda s, low: needle in low


class BigTable(ScrollView, can_focus=True):
    """Sortable, filterable table of many rows; posts ``Selected`` on enter."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "jump(0)", "Top", show=False),
        Binding("end,G", "jump(-1)", "Bottom", show=False),
        Binding("left", "pan(-8)", "Left", show=False),
        Binding("right", "pan(8)", "Right", show=False),
        Binding("enter", "select", "Open", id="open"),
        Binding("s", "sort", "Sort", id="sort", tooltip="Sort by the next column"),
        Binding("S", "reverse", "Reverse", show=False, id="reverse"),
    ]

    DEFAULT_CSS = """
    BigTable { height: 1fr; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class Selected(Message):
        """Enter was pressed on a row."""

        def __init__(self, table: "BigTable", key: Any) -> None:
            super().__init__()
            self.table = table
            self.key = key

    def __init__(self, columns: Sequence[Column], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns = list(columns)
        self._all: list[Row] = []
        # The rows in sort order with their joined text and its lowercase, built once per
        # set_rows/sort so that a filter keystroke is one pass of substring tests.
        self._ordered: list[tuple[Row, str, str]] = []
        self._rows: list[Row] = []
        self._widths = [len(c.title) for c in self.columns]
        self._filter_text = ""
        self.sort_column = 0
        self.sort_reverse = False

    # -- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._rows)

    @property
    def shown_rows(self) -> list[Row]:
        """The rows shown (after the filter), in display order."""
        return list(self._rows)

    @property
    def total_count(self) -> int:
        """Rows held (before the filter)."""
        return len(self._all)

    def set_rows(self, rows: list[Row]) -> None:
        """Replace every row; the cursor stays on the row with the same key when it still exists."""
        key = self.cursor_key
        self._all = rows
        self._resort()
        self._recompute(key)

    def set_filter(self, text: str) -> None:
        """Show only rows matching ``text`` (substring, or regex)."""
        self._filter_text = text
        self._recompute(self.cursor_key)

    @property
    def cursor_key(self) -> Any:
        """Key of the row under the cursor, or None."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row][0]
        return None

    def _resort(self) -> None:
        rows = self._all
        col = self.sort_column
        if col >= 0:  # -1: keep the order the rows were given in (e.g. istioctl's)
            rows = sorted(rows, key=lambda r: _sort_key(r[1][col] if col < len(r[1]) else ""), reverse=self.sort_reverse)
        elif self.sort_reverse:
            rows = rows[::-1]
        ordered = []
        for r in rows:
            text = " ".join(r[1])
            ordered.append((r, text, text.lower()))
        self._ordered = ordered

    def _recompute(self, keep_key: Any) -> None:
        pred = compile_filter(self._filter_text)
        if pred is None:
            rows = [r for r, _, _ in self._ordered]
        else:
            rows = [r for r, text, low in self._ordered if pred(text, low)]
        self._rows = rows
        widths = [len(c.title) for c in self.columns]
        # Widths from a bounded sample keep a 20,000-row refresh cheap; cells are cut to fit.
        for _, cells in rows[:2000]:
            for i, cell in enumerate(cells[: len(widths)]):
                if len(cell) > widths[i]:
                    widths[i] = min(len(cell), self.columns[i].max_width)
        self._widths = widths
        self.virtual_size = Size(sum(widths) + 2 * len(widths), len(rows) + 1)
        index = 0
        if keep_key is not None:
            for i, (k, _) in enumerate(rows):
                if k == keep_key:
                    index = i
                    break
        self.cursor_row = min(index, max(0, len(rows) - 1))
        self.refresh()

    # -- rendering ------------------------------------------------------------------------------

    def _line(self, cells: Sequence[str]) -> str:
        parts = []
        for i, width in enumerate(self._widths):
            cell = cells[i] if i < len(cells) else ""
            if isinstance(cell, LiveCell):
                cell = cell.live()
            if len(cell) > width:
                cell = cell[: max(0, width - 1)] + "…"
            parts.append(cell.ljust(width))
        return "  ".join(parts)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the viewport: the header is pinned, rows scroll under it."""
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            titles = [c.title + (" ▼" if i == self.sort_column and self.sort_reverse else " ▲" if i == self.sort_column else "")
                      for i, c in enumerate(self.columns)]
            text = self._line(titles)
            style = Style(bold=True, underline=True)
            return Strip([Segment(text[scroll_x : scroll_x + width].ljust(width), style)])
        index = scroll_y + y - 1
        if index >= len(self._rows):
            return Strip([Segment(" " * width)])
        text = self._line(self._rows[index][1])[scroll_x : scroll_x + width].ljust(width)
        if index == self.cursor_row:
            style = Style(reverse=True, bold=self.has_focus)
        else:
            style = Style()
        return Strip([Segment(text, style)])

    def watch_cursor_row(self, old: int, new: int) -> None:
        """Keep the cursor visible."""
        height = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False)
        self.refresh()

    # -- actions --------------------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        """Move the cursor by ``delta`` rows."""
        if self._rows:
            self.cursor_row = max(0, min(len(self._rows) - 1, self.cursor_row + delta))

    def action_pan(self, delta: int) -> None:
        """Scroll sideways to reach wide columns."""
        self.scroll_to(x=max(0, self.scroll_offset.x + delta), animate=False)

    def action_page(self, direction: int) -> None:
        """Move by a screenful."""
        self.action_cursor(direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        """First (0) or last (-1) row."""
        if self._rows:
            self.cursor_row = 0 if where == 0 else len(self._rows) - 1

    def action_select(self) -> None:
        """Tell the screen which row was chosen."""
        if self.cursor_key is not None:
            self.post_message(self.Selected(self, self.cursor_key))

    def action_sort(self) -> None:
        """Sort by the next column."""
        self.sort_column = (self.sort_column + 1) % len(self.columns)
        self.sort_reverse = False
        self._resort()
        self._recompute(self.cursor_key)

    def action_reverse(self) -> None:
        """Reverse the sort order."""
        self.sort_reverse = not self.sort_reverse
        self._resort()
        self._recompute(self.cursor_key)


def _sort_key(cell: str) -> tuple[int, Any]:
    if isinstance(cell, LiveCell):
        return (0, cell.sort_value)
    # Numbers sort as numbers ("10" after "9"), everything else as text.
    try:
        return (0, float(cell))
    except ValueError:
        return (1, cell.lower())
