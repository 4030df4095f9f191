"""A proxy-config table: columns, rows, the raw object behind each row, and istioctl's layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.envoy.tabwriter import format_cells
from meshtui.util.gcpause import gc_paused_call


@dataclass
class Table:
    """Rows as istioctl prints them; ``raw[i]`` is the dump object row ``i`` came from.

    ``padding`` and ``minwidth`` are the tabwriter settings istioctl uses for this table
    (5 for most tables, 1 for listeners and the bootstrap summary). The UI shows ``rows`` in a
    data table and the JSON of ``raw[i]`` for the selected row; the CLI prints ``render()``.
    """

    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    raw: list[Any] = field(default_factory=list)
    padding: int = 5
    minwidth: int = 0
    header: bool = True

    def add(self, row: list[str], raw: Any = None) -> None:
        """Append one row and the object it describes; ``TypeError`` naming the column when a
        cell is not text (a dump with a list or number where Envoy writes a string)."""
        for i, cell in enumerate(row):
            if type(cell) is not str and not isinstance(cell, str):
                column = self.columns[i] if i < len(self.columns) else f"column {i + 1}"
                raise TypeError(f"{column} would be {type(cell).__name__} {cell!r:.60}, not text")
        self.rows.append(row)
        self.raw.append(raw)

    @gc_paused_call
    def render(self) -> str:
        """The table as Go's tabwriter formats it for istioctl (trailing cells padded)."""
        lines = [self.columns, *self.rows] if self.header else self.rows
        return format_cells(lines, minwidth=self.minwidth, padding=self.padding)
