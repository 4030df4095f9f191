"""The observed split of a saved log counted by polars: a block of lines as one column.

``BulkSplit`` matches each line with Python's ``re`` and counts tuples of its groups with a
``Counter``; for a big log that tuple building and hashing is most of the time. ``ColumnarSplit``
hands a block of lines to polars as one string column, extracts the split's fields with the
same format's pattern in the syntax of Rust's regex crate (``parser.columnar_fields_pattern``,
compiled from the same tokens as the parser's own patterns) and groups the columns natively.
The distinct groups go into ``BulkSplit``'s raw counts, so conversion and the statistics are
``BulkSplit``'s, and so the result is the per-line path's. Lines the pattern does not take go
back to the caller for the per-line parser, in order.

polars is imported when the first block comes, so commands that never count a file do not pay
for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from meshtui.accesslog.bulk import FIELDS, BulkSplit
from meshtui.accesslog.parser import AutoParser, TextParser, columnar_fields_pattern
from meshtui.accesslog.stats import SplitStats

if TYPE_CHECKING:
    import polars as pl

#: Column names of the extracted fields, in ``FIELDS`` order.
_NAMES = ["start", "cluster", "authority", "host", "code", "flags", "route", "duration"]


class ColumnarSplit(BulkSplit):
    """``BulkSplit`` with the matching and grouping of each block done by polars."""

    def __init__(self, text: TextParser, pattern: str, groups: list[int | None], skip_json: bool = False,
                 max_groups: int = 200_000) -> None:
        super().__init__(text, skip_json=skip_json, max_groups=max_groups)
        self._pattern = pattern
        self._groups = dict(zip(_NAMES, groups))

    @classmethod
    def for_parser(cls, parser: Any) -> "BulkSplit | None":
        """The columnar pass for a parser's TEXT format; ``BulkSplit``'s when the format has no
        columnar pattern; None when its lines must go one by one."""
        bulk = BulkSplit.for_parser(parser)
        if bulk is None:
            return None
        text = parser if isinstance(parser, TextParser) else parser.text
        compiled = columnar_fields_pattern(text.tokens, FIELDS)
        if compiled is None:
            return bulk
        return cls(text, *compiled, skip_json=isinstance(parser, AutoParser), max_groups=bulk.max_groups)

    def add(self, lines: "list[str] | pl.Series", stats: SplitStats) -> list[str]:
        """Count the lines (a list, or a column as ``BoundedLines.columns`` gives) the pattern
        takes (into ``stats`` by the next ``flush``); return the others, in order, for the per-line
        parser."""
        import polars as pl

        if self._blank_can_match:  # rare: only a format of operators and blanks; Python's isspace
            listed = lines if isinstance(lines, list) else lines.to_list()
            lines = [line for line in listed if line and not line.isspace()]
        column = lines if isinstance(lines, pl.Series) else pl.Series("line", lines, dtype=pl.String)
        if not len(column):
            return []
        present = {name: str(n) for name, n in self._groups.items() if n is not None}
        # The streaming engine matches the block in parallel morsels (the regex is the costly part).
        fields = (pl.LazyFrame({"line": column}).select(pl.col("line").str.extract_groups(self._pattern))
                  .collect(engine="streaming").get_column("line").struct.unnest())
        missed = fields.get_column("1").is_null()
        rest: list[str] = column.filter(missed).to_list() if missed.any() else []
        if len(rest) == len(column):
            return rest
        frame = fields.filter(~missed).select(
            [pl.col(present[name]).alias(name) if name in present else pl.lit(None, pl.String).alias(name)
             for name in _NAMES])
        taken = frame.height
        keys = ["cluster", "authority", "host", "code", "flags", "route"]
        for *key, n in frame.group_by(keys).len().iter_rows():
            self._requests[tuple(key)] += n
        if "duration" in present:
            if "authority" in present:
                for *key, n in frame.group_by(["cluster", "authority", "duration"]).len().iter_rows():
                    self._durations[tuple(key)] += n
            else:
                for *key, n in frame.group_by(["cluster", "duration"]).len().iter_rows():
                    self._durations_plain[tuple(key)] += n
        if "start" in present:
            start = frame.get_column("start")
            low, high = start.min(), start.max()
            self._note_times(str(low), str(high), start.str.len_chars().n_unique() == 1,
                             lambda: start.unique().to_list())
        self._counted(taken, stats)
        return rest
