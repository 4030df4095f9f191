"""Go's ``text/tabwriter`` as istioctl uses it, so our tables match its output byte for byte.

Semantics reproduced (Go ``text/tabwriter``, flags 0, non-tab padchar):

* A cell is text terminated by a tab. The text after the last tab of a line is the line's
  last cell; it belongs to no column and is never padded.
* A column block is a run of consecutive lines that all have a (tab-terminated) cell in that
  column; every cell of the block is padded to ``max(minwidth, widest cell + padding)``.
  Empty cells are padded too, so rows end in spaces when their trailing columns are empty.
* Widths count code points (Go counts runes), not display cells.
* ``tabwidth`` only matters when the padding character is a tab, which istioctl never uses;
  ``AlignRight`` and ``DiscardEmptyColumns`` are supported for completeness.

Because a line that has a column also has every column to its left, a column's blocks are
simply the maximal runs of lines having that column; this lets us compute widths column by
column instead of recursing like Go does, with the same result.
"""

from __future__ import annotations

from collections.abc import Sequence

ALIGN_RIGHT = 1 << 2
DISCARD_EMPTY_COLUMNS = 1 << 3


def format_cells(
    lines: Sequence[Sequence[str]],
    *,
    minwidth: int = 0,
    tabwidth: int = 8,
    padding: int = 1,
    padchar: str = " ",
    flags: int = 0,
) -> str:
    """Format lines already split into cells (each line: its tab-terminated cells followed by
    its last cell) exactly as Go's tabwriter would format ``"\\t".join(line) + "\\n"``."""
    if padchar == "\t":
        raise ValueError("tab padding is not supported")  # istioctl never pads with tabs
    n = len(lines)
    if n == 0:
        return ""
    ncols = max(len(line) for line in lines) - 1
    # widths[j][i]: the padded width of column j on line i (only where line i has column j).
    widths: list[list[int]] = []
    for j in range(ncols):
        col = [0] * n
        i = 0
        while i < n:
            if len(lines[i]) - 1 <= j:
                i += 1
                continue
            start = i
            width = minwidth
            empty = True
            while i < n and len(lines[i]) - 1 > j:
                w = len(lines[i][j])
                if w:
                    empty = False
                if w + padding > width:
                    width = w + padding
                i += 1
            if empty and flags & DISCARD_EMPTY_COLUMNS:
                width = 0
            for k in range(start, i):
                col[k] = width
        widths.append(col)
    out: list[str] = []
    append = out.append
    right = bool(flags & ALIGN_RIGHT)
    for i, line in enumerate(lines):
        last = len(line) - 1
        for j in range(last):
            cell = line[j]
            pad = widths[j][i] - len(cell)
            if right and cell:
                append(padchar * pad + cell if pad > 0 else cell)
            else:
                append(cell + padchar * pad if pad > 0 else cell)
        append(line[last] if last >= 0 else "")
        append("\n")
    return "".join(out)


class TabWriter:
    """A buffer with Go's ``tabwriter.Writer`` interface: ``write`` text, then ``flush``.

    Lines without a tab flush the buffer in Go (they cannot influence later columns); we cut
    blocks there too, which gives the same layout.
    """

    def __init__(
        self, minwidth: int = 0, tabwidth: int = 8, padding: int = 1, padchar: str = " ", flags: int = 0
    ) -> None:
        self.minwidth = minwidth
        self.tabwidth = tabwidth
        self.padding = padding
        self.padchar = padchar
        self.flags = flags
        self._buf: list[str] = []

    def write(self, text: str) -> None:
        """Buffer ``text`` (cells separated by tabs, lines by newlines)."""
        self._buf.append(text)

    def flush(self) -> str:
        """Return the formatted text of everything written so far and empty the buffer."""
        text = "".join(self._buf)
        self._buf.clear()
        return tabulate_text(
            text,
            minwidth=self.minwidth,
            tabwidth=self.tabwidth,
            padding=self.padding,
            padchar=self.padchar,
            flags=self.flags,
        )


def tabulate_text(
    text: str, *, minwidth: int = 0, tabwidth: int = 8, padding: int = 1, padchar: str = " ", flags: int = 0
) -> str:
    """Format tab-separated ``text`` as Go's tabwriter would on ``Write(text); Flush()``."""
    if not text:
        return ""
    raw = text.split("\n")
    tail = raw.pop()  # text after the final newline: written as-is, unterminated
    out: list[str] = []
    segment: list[list[str]] = []
    for line in raw:
        cells = line.split("\t")
        if len(cells) == 1:
            # A line without cells flushes in Go: format what came before on its own.
            if segment:
                out.append(_fmt(segment, minwidth, tabwidth, padding, padchar, flags))
                segment = []
            out.append(line + "\n")
        else:
            segment.append(cells)
    if tail:
        segment.append(tail.split("\t"))
    if segment:
        formatted = _fmt(segment, minwidth, tabwidth, padding, padchar, flags)
        if tail:
            formatted = formatted[:-1]  # the unterminated last line gets no newline
        out.append(formatted)
    return "".join(out)


def _fmt(
    lines: list[list[str]], minwidth: int, tabwidth: int, padding: int, padchar: str, flags: int
) -> str:
    return format_cells(
        lines, minwidth=minwidth, tabwidth=tabwidth, padding=padding, padchar=padchar, flags=flags
    )
