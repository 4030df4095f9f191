"""Bars for weights and splits, as rich ``Text``: the drawing half of the route views."""

from __future__ import annotations

from rich.text import Text

BAR_WIDTH = 20


def weight_bar(weight: int, style: str, width: int = BAR_WIDTH) -> Text:
    """A horizontal bar of ``weight``% drawn in ``width`` cells."""
    filled = round(width * max(0, min(weight, 100)) / 100)
    bar = Text("█" * filled, style=style)
    bar.append("░" * (width - filled), style="dim")
    return bar


def stacked_bar(parts: list[tuple[str, int, str]], width: int = BAR_WIDTH * 2) -> Text:
    """One bar split in segments: (label, weight, style) each, weights summing to ~100."""
    total = sum(max(w, 0) for _, w, _ in parts) or 1
    text = Text()
    used = 0
    for i, (_, w, style) in enumerate(parts):
        cells = width - used if i == len(parts) - 1 else round(width * max(w, 0) / total)
        cells = max(0, min(cells, width - used))
        text.append("█" * cells, style=style)
        used += cells
    return text
