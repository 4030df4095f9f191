"""The findings table as data: one row per distinct finding (errors first) and level counts."""

from __future__ import annotations

from meshtui.analysis.finding import Finding
from meshtui.views.table import Column

#: The LEVEL cell of each level. The glyphs sort Info < Warning < Error, so a reversed sort on
#: the column (the table's default) shows errors first; the sort is stable within a level.
LEVEL_CELLS = {"Error": "✖ Error", "Warning": "⚠ Warning", "Info": "ℹ Info"}

COLUMNS = (
    Column("LEVEL", 10),
    Column("CODE", 8),
    Column("ORIGIN", 44),
    Column("MESSAGE", 60),
    Column("PATH", 44),
)

FindingKey = tuple[str, str, str, str, str, str, str]


def finding_key(f: Finding) -> FindingKey:
    """A row key that stays the same across analyses, so the cursor survives a refresh."""
    return (f.level, f.code, f.kind, f.namespace, f.resource_name, f.path or "", f.message)


def finding_rows(findings: list[Finding]) -> tuple[list[tuple[FindingKey, tuple[str, ...]]], dict[FindingKey, Finding]]:
    """Table rows (errors first) and the finding behind each key.

    Two analyzers can report the very same message about the same field (istioctl's gateway
    analyzers do); the table shows it once.
    """
    rows: list[tuple[FindingKey, tuple[str, ...]]] = []
    by_key: dict[FindingKey, Finding] = {}
    for f in findings:
        key = finding_key(f)
        if key in by_key:
            continue
        by_key[key] = f
        cells = (LEVEL_CELLS.get(f.level, f.level), f.code, f.origin, f.message, f.path or "")
        rows.append((key, cells))
    return rows, by_key


def level_counts(findings: list[Finding]) -> dict[str, int]:
    """How many distinct findings of each level (``Error``, ``Warning``, ``Info``)."""
    counts = {"Error": 0, "Warning": 0, "Info": 0}
    for f in {finding_key(f): f for f in findings}.values():
        counts[f.level] = counts.get(f.level, 0) + 1
    return counts
