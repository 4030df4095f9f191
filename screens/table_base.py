"""What every table screen shares: a hidden filter input shown with `/`, esc to clear it and
then to go back."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Input

from meshtui.widgets.big_table import BigTable


class FilterableTableScreen(Screen[None]):
    """A screen around one ``BigTable`` and an ``Input`` with id ``filter``.

    Subclasses call nothing; they may override ``filter_changed`` to refresh what depends on
    the rows shown (a title with counts, a detail pane).
    """

    def table(self) -> BigTable:
        """The screen's table."""
        return self.query_one(BigTable)

    def filter_changed(self) -> None:
        """Called after the filter text changed and the table was filtered."""

    def action_filter(self) -> None:
        """Show the filter input."""
        box = self.query_one("#filter", Input)
        box.display = True
        self.set_focus(box)  # now, not on a later turn: the keys typed after / go to the box

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        if event.input.id == "filter":
            self.table().set_filter(event.value)
            self.filter_changed()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and returns to the table."""
        if event.input.id == "filter":
            self.table().focus()

    def action_back(self) -> None:
        """Esc clears the filter first, then leaves the view."""
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.table().focus()
            return
        self.app.pop_screen()
