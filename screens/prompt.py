"""The `:` prompt (k9s style): type a view or command, enter runs it, esc cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from meshtui.widgets.key_order import FirstFieldTakesEarlyKeys, KeyOrderedInput
from textual.widgets import Input

from meshtui.session.commands import prompt_hint


class CommandPrompt(FirstFieldTakesEarlyKeys, ModalScreen[str | None]):
    """Returns the typed command line, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def compose(self) -> ComposeResult:
        yield KeyOrderedInput(placeholder=prompt_hint(), id="prompt")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return the command."""
        self.dismiss(event.value.strip().lstrip(":"))

    def action_cancel(self) -> None:
        """Close without a command."""
        self.dismiss(None)
