"""The `:` prompt (k9s style): type a view or command, Tab completes it, enter runs it, esc cancels."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from meshtui.session.commands import complete, completions, prompt_hint
from meshtui.widgets.host import session_of
from meshtui.widgets.key_order import FirstFieldTakesEarlyKeys, KeyOrderedInput


class CommandInput(KeyOrderedInput):
    """The prompt's field: Tab completes, handled by the field itself so that it comes after
    the letters typed before it (a binding would run ahead of them in a burst of keys)."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "tab":
            event.stop()
            event.prevent_default()
            screen = self.screen
            if isinstance(screen, CommandPrompt):
                screen.complete_line()
            return
        await super()._on_key(event)


class CommandPrompt(FirstFieldTakesEarlyKeys, ModalScreen[str | None]):
    """Returns the typed command line, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def compose(self) -> ComposeResult:
        yield CommandInput(placeholder=prompt_hint(), id="prompt")
        listed = Static(id="prompt-choices")
        listed.display = False
        yield listed

    def _namespaces(self) -> list[str]:
        session = session_of(self)
        index = session.index if session is not None else None
        return list(index.namespaces) if index is not None else []

    def complete_line(self) -> None:
        """Tab: complete the word being typed; when several fit, list them under the field."""
        box = self.query_one("#prompt", Input)
        namespaces = self._namespaces()
        done = complete(box.value, namespaces)
        box.value = done
        box.cursor_position = len(done)
        choices = completions(done, namespaces)
        listed = self.query_one("#prompt-choices", Static)
        listed.update("  ".join(choices))
        listed.display = len(choices) > 1

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Return the command."""
        self.dismiss(event.value.strip().lstrip(":"))

    def action_cancel(self) -> None:
        """Close without a command."""
        self.dismiss(None)
