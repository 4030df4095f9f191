"""The Logs screen's L4 section for an ambient service: ztunnel's connections per workload."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from meshtui.accesslog.l4_window import l4_table
from meshtui.accesslog.ztunnel import L4Split


def render_l4(split: L4Split) -> RenderableType:
    """The section under the split panel: a bold heading line, then the table of
    ``l4_table`` (connections, share, failures, bytes, p50 duration per destination workload)."""
    head, _, body = l4_table(split).partition("\n")
    return Group(Text(head, style="bold"), Text(body, style="dim" if not split.rows else ""))
