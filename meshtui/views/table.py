"""What a table shows, as data: its columns and its keyed rows (drawn by ``BigTable``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its title and the widest it may grow to."""

    title: str
    max_width: int = 40


#: (key, cells): the key keeps the cursor on its object across updates.
Row = tuple[Any, tuple[str, ...]]


class LiveCell(str):
    """A cell whose text depends on the time it is drawn (an AGE): the table asks ``live()``
    at each paint, sorts by ``sort_value`` and filters on the text it was made with."""

    sort_value: float = 0.0

    def live(self) -> str:
        """The text to draw now."""
        return str(self)
