"""`d`: the describe view of one object (``meshtui.views.describe_object``); esc closes it.
Styles: ``styles/dialogs.tcss``."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from meshtui.views.describe_object import Line


class DescribeScreen(ModalScreen[None]):
    """Shows the describe lines of one object; `esc`, `q` or `d` close it."""

    BINDINGS = [Binding("escape,q,d", "app.pop_screen", "Close", id="describe-close")]

    def __init__(self, title: str, lines: list[Line]) -> None:
        super().__init__()
        self._title = title
        self._lines = lines

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for label, value in self._lines:
            table.add_row(label + (":" if label and not label.startswith(" ") else ""),
                          Text(value, style="yellow" if not label else ""))
        with VerticalScroll(id="describe-box"):
            yield Static(Text(self._title, style="bold"), id="describe-title")
            yield Static(table, id="describe-text")
