"""Figures of the benchmark and the table they print as (median, min, max, target, ratio)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Figure:
    """One measured quantity: its samples, unit and DESIGN.md target.

    ``target`` is an upper bound unless ``higher_is_better`` (then a lower bound); None means
    the figure is reported for comparison only. ``baseline`` names another figure whose median
    divides this one's for the ratio column (e.g. meshtui's load time over kubectl's).
    ``note`` explains a figure that could not be measured (then it has no samples).
    """

    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    target: float | None = None
    higher_is_better: bool = False
    baseline: str | None = None
    note: str = ""

    @property
    def median(self) -> float | None:
        """Median of the samples, or None without samples."""
        return statistics.median(self.samples) if self.samples else None

    def verdict(self, ratio: float | None) -> str:
        """PASS / MISS against the target and, for times, "no slower than" the baseline; '-'
        when there is nothing to compare with, 'n/a' when it was not measured."""
        med = self.median
        if med is None:
            return "n/a"
        checks = []
        if self.target is not None:
            checks.append(med >= self.target if self.higher_is_better else med <= self.target)
        if self.baseline is not None and ratio is not None and self.unit == "s":
            checks.append(ratio <= 1.0)  # DESIGN.md: "no slower than kubectl"
        if not checks:
            return "-"
        return "PASS" if all(checks) else "MISS"


def fmt(value: float | None, unit: str) -> str:
    """A value with its unit, at a precision that suits the unit."""
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "lines/s":
        return f"{value:,.0f}/s"
    return f"{value:g} {unit}"


def _cells(f: Figure, by_name: dict[str, Figure]) -> tuple[str, ...]:
    base = by_name.get(f.baseline) if f.baseline else None
    ratio = f.median / base.median if base is not None and base.median and f.median is not None else None
    target = "-" if f.target is None else ("≥ " if f.higher_is_better else "≤ ") + fmt(f.target, f.unit)
    if f.baseline and f.unit == "s":
        target = target + " & ≤ kubectl" if f.target is not None else "≤ kubectl"
    return (
        f.name,
        fmt(f.median, f.unit),
        fmt(min(f.samples), f.unit) if f.samples else "-",
        fmt(max(f.samples), f.unit) if f.samples else "-",
        target,
        f"{ratio:.2f}x" if ratio is not None else "-",
        f.verdict(ratio) + (f"  ({f.note})" if f.note else ""),
    )


HEADER = ("figure", "median", "min", "max", "target", "ratio", "result")


def table(figures: list[Figure]) -> str:
    """The report: one line per figure, aligned, with target, ratio and PASS/MISS."""
    by_name = {f.name: f for f in figures}
    rows = [HEADER, *(_cells(f, by_name) for f in figures)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER) - 1)]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:-1], widths[1:])] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def markdown(figures: list[Figure]) -> str:
    """The same table in Markdown (for the README's performance section)."""
    by_name = {f.name: f for f in figures}
    out = ["| " + " | ".join(HEADER) + " |", "|---|---:|---:|---:|---|---:|---|"]
    out.extend("| " + " | ".join(_cells(f, by_name)) + " |" for f in figures)
    return "\n".join(out)
