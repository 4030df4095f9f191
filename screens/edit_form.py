"""A small keyboard form for the route editor's actions (exact weight, match, canary step, ...).

Every field is a text input (choices are offered as completions and checked on submit), so the
whole form is driven by typing, ``tab`` and ``enter``. ``submit`` gets the values and returns
an error to show in the form, or None to close it; ``esc`` closes without doing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from meshtui.widgets.key_order import FirstFieldTakesEarlyKeys, KeyOrderedInput
from textual.widgets import Input, Label, Static


@dataclass
class FormField:
    """One input: its key in the result, the label, a default, and optional fixed choices."""

    name: str
    label: str
    default: str = ""
    choices: Sequence[str] = field(default_factory=tuple)
    placeholder: str = ""
    optional: bool = False
    #: Whether a value outside ``choices`` is refused (else the choices are only suggestions).
    strict: bool = True


Submit = Callable[[dict[str, str]], str | None]


class FormScreen(FirstFieldTakesEarlyKeys, ModalScreen[dict[str, str] | None]):
    """Asks for a few values; ``enter`` in any field submits, ``esc`` cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form-cancel")]

    def __init__(self, title: str, fields: Sequence[FormField], submit: Submit, note: str = "") -> None:
        super().__init__()
        self._title = title
        self._fields = list(fields)
        self._submit = submit
        self._note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(Text(self._title, style="bold"), id="form-title")
            if self._note:
                yield Static(Text(self._note, style="dim"), id="form-note")
            for f in self._fields:
                hint = f"  ({' | '.join(f.choices)})" if f.choices else ""
                yield Label(f"{f.label}{hint}")
                yield KeyOrderedInput(value=f.default, placeholder=f.placeholder or ("optional" if f.optional else ""),
                            id=f"field-{f.name}",
                            suggester=SuggestFromList(list(f.choices), case_sensitive=False) if f.choices else None)
            yield Static("", id="form-error")
            yield Static(Text("enter: ok   tab: next field   esc: cancel", style="dim"))

    def on_mount(self) -> None:
        """Focus the first field."""
        if self._fields:
            self.query_one(f"#field-{self._fields[0].name}", Input).focus()

    def values(self) -> dict[str, str]:
        """The current values, stripped."""
        return {f.name: self.query_one(f"#field-{f.name}", Input).value.strip() for f in self._fields}

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Check the choices and the required fields, then hand the values over."""
        event.stop()
        values = self.values()
        for f in self._fields:
            v = values[f.name]
            if not v and not f.optional:
                return self._error(f"{f.label} is required")
            if v and f.choices and f.strict and v not in f.choices:
                return self._error(f"{f.label}: {v!r} is not one of {', '.join(f.choices)}")
        problem = self._submit(values)
        if problem:
            return self._error(problem)
        self.dismiss(values)

    def _error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(Text(message, style="bold red"))

    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(None)
