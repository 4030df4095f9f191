"""The split panel claims no health it did not observe (issue 12): over 0 requests it does not
say "no errors in the window"."""

from __future__ import annotations

import io

from rich.console import Console

from meshtui.accesslog.stats import SplitStats
from meshtui.views.split_view import render_split


def panel_text(stats: SplitStats, configured: dict[str, float]) -> str:
    """The panel as the user reads it."""
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(render_split(stats.rows(configured), stats.error_rollups(), title="Observed split · reviews",
                               basis="by subset", window=60.0, configured=configured, lines=0))
    return console.export_text()


def test_an_empty_window_does_not_claim_no_errors() -> None:
    text = panel_text(SplitStats(window=60.0), {"v1": 90.0, "v2": 10.0})
    assert "0 lines counted" in text
    assert "no errors" not in text
