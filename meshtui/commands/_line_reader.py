"""Lines of a saved log (a file or stdin) with bounded memory, for ``meshtui logs --file``.

Python's own line iteration keeps a line in memory until its newline comes, so input without
newlines (a binary file, ``/dev/zero``) grows without end. Here a line longer than
``MAX_LINE_BYTES`` is cut there (the cut part is delivered, the rest of that line skipped) with
one warning, so memory stays at a few chunks whatever the input. An optional deadline ends the
reading (``--duration``) even while the input is silent (``tail -f | meshtui logs --file -``).
A byte-order mark says how the text is encoded: a UTF-8 BOM is dropped, and UTF-16 with a BOM
(what PowerShell's ``>`` writes) is decoded chunk by chunk into UTF-8 lines.
"""

from __future__ import annotations

import codecs
import io
import os
import select
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

#: Longer than any access-log line Envoy writes (its default line limit is 16 KiB) by far.
MAX_LINE_BYTES = 64 * 1024
#: Read size: big enough that a bulk pass over each chunk's lines pays its fixed costs rarely,
#: small enough that memory stays at a few chunks.
CHUNK_BYTES = 1024 * 1024


class BoundedLines:
    """Iterate the lines of ``stream`` (decoded as UTF-8, bad bytes replaced, no newline);
    ``warn`` gets each one-line warning. ``cut`` counts the lines that were cut. A stream with
    a file descriptor is read with ``os.read`` (and the deadline waits with ``select``); any
    other file-like object (an in-memory stream) with its ``read``."""

    def __init__(self, stream: IO[Any], warn: Callable[[str], None], *, max_line: int = MAX_LINE_BYTES,
                 deadline: float | None = None, at_start: bool = True) -> None:
        self.stream = stream
        self.warn = warn
        self.max_line = max_line
        self.deadline = deadline  # time.monotonic() value
        #: Whether the stream begins the input (only there can a byte-order mark be).
        self.at_start = at_start
        self.cut = 0
        #: The number (from 1, in this stream) of the first line that was cut, if any.
        self.first_cut: int | None = None
        #: Bytes taken from the stream so far (for a progress line).
        self.bytes_read = 0
        self._number = 0

    def _fd(self) -> int | None:
        try:
            return self.stream.fileno()
        except (AttributeError, OSError, io.UnsupportedOperation):
            return None

    def _chunks(self) -> Iterator[bytes]:
        fd = self._fd()
        if fd is None:
            while data := self.stream.read(CHUNK_BYTES):
                self.bytes_read += len(data)
                yield data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    return
            return
        while True:
            if self.deadline is not None:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    return
                ready, _, _ = select.select([fd], [], [], left)
                if not ready:
                    return
            chunk = os.read(fd, CHUNK_BYTES)
            if not chunk:
                return
            self.bytes_read += len(chunk)
            yield chunk

    def _unmarked(self) -> Iterator[bytes]:
        """The input as UTF-8 bytes, whatever byte-order mark opens it."""
        chunks = self._chunks()
        if not self.at_start:
            yield from chunks
            return
        head = b""
        for chunk in chunks:  # gather the 3 bytes a BOM may take, even from tiny reads
            head += chunk
            if len(head) >= 3:
                break
        if head.startswith(codecs.BOM_UTF8):
            head = head[len(codecs.BOM_UTF8):]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            decoder = codecs.getincrementaldecoder("utf-16")("replace")  # reads and drops the BOM
            yield decoder.decode(head).encode("utf-8")
            for chunk in chunks:
                yield decoder.decode(chunk).encode("utf-8")
            yield decoder.decode(b"", final=True).encode("utf-8")
            return
        if head:
            yield head
        yield from chunks

    def _line(self, data: bytes | bytearray) -> str:
        return bytes(data).decode("utf-8", "replace").rstrip("\r")

    @property
    def lines_read(self) -> int:
        """Lines delivered so far (a cut line counts once)."""
        return self._number

    def _cut_here(self) -> None:
        self.cut += 1
        if self.cut == 1:
            self.first_cut = self._number
            self.warn(first_cut_warning(self._number, self.max_line))

    def _region(self, region: bytes) -> list[str]:
        """The lines of ``region`` (whole lines, each ending with a newline)."""
        text = region.decode("utf-8", "replace")
        lines = text.split("\n")
        lines.pop()  # after the last newline: nothing
        # A line of more than max_line / 4 characters may hold more than max_line bytes (UTF-8
        # takes up to 4 a character): only then are the lines measured in bytes, one by one.
        if lines and max(map(len, lines)) * 4 > self.max_line:
            lines = []
            for piece in region.split(b"\n")[:-1]:
                self._number += 1
                if len(piece) > self.max_line:
                    self._cut_here()
                    piece = piece[: self.max_line]
                lines.append(self._line(piece))
            return lines
        self._number += len(lines)
        if "\r" in text:
            lines = [line.rstrip("\r") for line in lines]
        return lines

    def blocks(self) -> Iterator[list[str]]:
        """The lines as lists, one per chunk read (what a bulk pass takes whole)."""
        carry = b""
        skipping = False  # inside a line that was already cut: drop up to its newline
        for chunk in self._unmarked():
            if skipping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    continue
                chunk = chunk[newline + 1:]
                skipping = False
            data = carry + chunk if carry else chunk
            end = data.rfind(b"\n") + 1
            carry = data[end:]
            if end:
                yield self._region(data[:end])
            if len(carry) > self.max_line:  # a line still going, already too long: cut it now
                self._number += 1
                self._cut_here()
                yield [self._line(carry[: self.max_line])]
                carry, skipping = b"", True
        if carry:
            self._number += 1
            yield [self._line(carry)]
        if self.cut > 1:
            self.warn(cuts_warning(self.cut, self.max_line))

    def __iter__(self) -> Iterator[str]:
        for block in self.blocks():
            yield from block


def first_cut_warning(number: int, max_line: int) -> str:
    """The warning for the first line cut (line ``number`` of the input)."""
    return (f"warning: line {number} is longer than {max_line} bytes: cut there, "
            "the rest of it skipped (and so for any longer line)")


def cuts_warning(count: int, max_line: int) -> str:
    """The closing warning when more than one line was cut."""
    return f"warning: {count} lines longer than {max_line} bytes were cut"
