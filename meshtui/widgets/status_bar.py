"""The status line: source, namespace scope, read-only, connection state and, when not live,
why. Always visible."""

from __future__ import annotations

import time

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from meshtui.session.mesh_session import Status
from meshtui.widgets.host import session_of


class StatusBar(Static):
    """Shows where the mesh comes from and how current it is."""

    source: reactive[str] = reactive("")
    scope: reactive[str] = reactive("all namespaces")
    read_only: reactive[str | None] = reactive(None)
    state: reactive[str] = reactive("connecting")
    since: reactive[float] = reactive(0.0)
    counts: reactive[str] = reactive("")
    detail: reactive[str] = reactive("")
    #: Where the observed split comes from (set by the Logs screen; '' elsewhere).
    basis: reactive[str] = reactive("")

    def on_mount(self) -> None:
        """A status bar on a newly pushed screen starts with the session's current status."""
        session = session_of(self)
        if session is not None:
            self.show(session.status)

    def show(self, status: Status) -> None:
        """Draw ``status``."""
        self.source, self.scope, self.read_only = status.source, status.scope, status.read_only
        self.state, self.since, self.counts, self.detail = status.state, status.since, status.counts, status.detail

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
        if self.detail and self.state != "live":
            text.append(f" ({self.detail}; R reconnects)", style=style.replace("bold ", ""))
        if self.counts:
            text.append(f"  {self.counts}", style="dim")
        if self.basis:
            text.append(f"  {self.basis}", style="cyan")
        return text
