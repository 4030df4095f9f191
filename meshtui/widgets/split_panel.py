"""The observed split panel widget: shows what ``meshtui.views.split_view.render_split`` draws."""

from __future__ import annotations

from rich.console import RenderableType
from textual.widgets import Static


class SplitPanel(Static):
    """Shows ``render_split`` output; the screen calls ``show`` about twice a second."""

    DEFAULT_CSS = """
    SplitPanel { height: auto; }
    """

    _rows = -1

    def show(self, renderable: RenderableType) -> None:
        """Replace the panel's content; lay the screen out again only when its height changes
        (a relayout repaints every widget, the log view included)."""
        width = self.content_region.width or self.size.width
        rows = -1
        if width > 0:
            options = self.app.console.options.update_width(width)
            rows = len(self.app.console.render_lines(renderable, options, pad=False))
        self.update(renderable, layout=rows != self._rows or rows < 0)
        self._rows = rows
