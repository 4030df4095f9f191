"""The findings table: a ``BigTable`` whose level column sorts errors first."""

from __future__ import annotations

from typing import Any

from meshtui.views.findings_rows import COLUMNS
from meshtui.widgets.big_table import BigTable


class FindingsTable(BigTable):
    """The findings list (rows from ``meshtui.views.findings_rows``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, **kwargs)
        self.sort_reverse = True

    def action_sort(self) -> None:
        """Sort by the next column; back on LEVEL, errors come first again."""
        super().action_sort()
        if self.sort_column == 0 and not self.sort_reverse:
            self.action_reverse()
