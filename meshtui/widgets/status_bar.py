"""The status line: source, namespace scope, read-only, connection state. Always visible."""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


class StatusBar(Static):
    """Shows where the mesh comes from and how current it is."""

    source: reactive[str] = reactive("")
    scope: reactive[str] = reactive("all namespaces")
    read_only: reactive[str | None] = reactive(None)
    state: reactive[str] = reactive("connecting")
    since: reactive[float] = reactive(0.0)
    counts: reactive[str] = reactive("")

    def on_mount(self) -> None:
        """A status bar on a newly pushed screen starts with the app's current status."""
        for name, value in getattr(self.app, "status_values", {}).items():
            setattr(self, name, value)

    def render(self) -> Text:
        """One line; the connection state is coloured by health."""
        text = Text()
        text.append(" ⎈ ", style="bold")
        text.append(self.source or "…", style="bold")
        text.append("  ns: ", style="dim")
        text.append(self.scope)
        if self.read_only:
            text.append("  READ-ONLY", style="bold red")
            text.append(f" ({self.read_only})", style="red")
        text.append("  ")
        style = {"live": "bold green", "reconnecting": "bold yellow", "stale": "bold red"}.get(
            self.state, "yellow"
        )
        label = self.state
        if self.state == "stale" and self.since:
            label += " since " + time.strftime("%H:%M:%S", time.localtime(self.since))
        text.append(f"● {label}", style=style)
        if self.counts:
            text.append(f"  {self.counts}", style="dim")
        return text
