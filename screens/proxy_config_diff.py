"""What changed in one pod's Envoy between a snapshot and a fresh fetch (Proxy config ``d``).

A modal table of ``meshtui.envoy.diff`` changes (``KIND CHANGE NAME DETAIL``: ``+`` added,
``-`` removed, ``~`` changed); enter shows the before / after JSON of the selected change.
Styles: ``styles/proxy_config.tcss``.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from meshtui.widgets.big_table import BigTable, Column

_WIDTHS = {"KIND": 8, "CHANGE": 6, "NAME": 70, "DETAIL": 120}


class ProxyDiffScreen(ModalScreen[None]):
    """The changes between two fetches of one pod's Envoy config; esc or q closes it."""

    BINDINGS = [Binding("escape,q", "app.pop_screen", "Close", id="close")]

    def __init__(self, title: str, changes: list[Any]) -> None:
        """``changes``: ``meshtui.envoy.diff.Change`` items, in the order to show them."""
        from meshtui.envoy.diff import diff_table

        super().__init__()
        self._title = title
        self.changes = list(changes)
        self._table = diff_table(self.changes)

    def compose(self) -> ComposeResult:
        table = self._table
        with Vertical(id="pc-diff-box") as box:
            box.border_title = self._title
            summary = f"{len(self.changes)} change{'s' if len(self.changes) != 1 else ''}" if self.changes \
                else "no differences"
            yield Static(Text(summary, style="bold" if self.changes else "dim"), id="pc-diff-msg")
            yield BigTable([Column(c, _WIDTHS.get(c, 40)) for c in table.columns], id="pc-diff-table")

    def on_mount(self) -> None:
        """Fill and focus the table (changes in diff order: routes, clusters, endpoints)."""
        grid = self.query_one("#pc-diff-table", BigTable)
        grid.sort_column = -1
        grid.set_rows([(i, tuple(row)) for i, row in enumerate(self._table.rows)])
        grid.focus()

    def on_big_table_selected(self, event: BigTable.Selected) -> None:
        """Enter: the selected change's before and after, as JSON."""
        from meshtui.screens.proxy_config import JsonScreen

        event.stop()
        if isinstance(event.key, int) and 0 <= event.key < len(self.changes):
            c = self.changes[event.key]
            self.app.push_screen(JsonScreen(f"{c.what} {c.name}", {"before": c.before, "after": c.after}))
