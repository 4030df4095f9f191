"""`:ctx`: pick a kubeconfig context; the app reconnects to it live."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class ContextPicker(ModalScreen[str | None]):
    """Lists the contexts of the current kubeconfig; returns the chosen name or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, contexts: list[str], current: str) -> None:
        super().__init__()
        self._contexts = contexts
        self._current = current

    def compose(self) -> ComposeResult:
        yield Static("Switch context (enter picks, esc cancels)", id="ctx-title")
        yield OptionList(
            *[Option(f"{'●' if c == self._current else ' '} {c}", id=c) for c in self._contexts],
            id="ctx-list",
        )

    def on_mount(self) -> None:
        """Start on the current context."""
        options = self.query_one(OptionList)
        if self._current in self._contexts:
            options.highlighted = self._contexts.index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Return the chosen context."""
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without switching."""
        self.dismiss(None)
