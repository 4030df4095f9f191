"""The `?` panel: Textual's panel of the focused screen's bindings, with the `:` commands."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import HelpPanel, Markdown

from meshtui.session.commands import help_markdown


class CommandHelpPanel(HelpPanel):
    """Every binding of the focused screen, then every `:` command (from the one registry)."""

    DEFAULT_CSS = """
    CommandHelpPanel #command-help { height: auto; max-height: 50%; margin-top: 1; padding: 0; }
    """

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Markdown(help_markdown(), id="command-help")
