"""``meshtui logs --file F --split`` over parts of a big regular file, one worker process each.

One core counts a default-format log at about 300,000 lines a second, nearly all of it in the
regular expression and the counting of each line (see ``meshtui.accesslog.bulk``), work that
the interpreter lock keeps on one core whatever the threads. A saved file can be cut into byte
ranges at line breaks and each counted by its own process (forked, so it shares the parser and
arguments without pickling them); the parts' statistics are then merged in file order
(``SplitStats.merge``), so the result is the one a single pass gives. Memory stays bounded per
worker (a few read chunks and the bounded counters), whatever the file size.

Only where it pays and is exact: a regular file of at least ``MIN_BYTES``, more than one
usable core, ``fork`` available, statistics without a window, no ``--duration``, and no UTF-16
byte-order mark (that text is decoded from the first byte on).
"""

from __future__ import annotations

import argparse
import codecs
import io
import os
import pickle
import signal
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing import connection, get_all_start_methods, get_context
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from meshtui.commands._line_reader import CHUNK_BYTES, MAX_LINE_BYTES, BoundedLines, cuts_warning, first_cut_warning
from meshtui.commands.common import CommandError

if TYPE_CHECKING:
    from meshtui.accesslog.parser import Parser
    from meshtui.accesslog.stats import SplitStats

#: Smaller files are read in one pass: starting workers costs more than it saves.
MIN_BYTES = 32 * 1024 * 1024
#: How often the parent shows progress and looks for finished workers (seconds).
POLL_S = 0.25


def worker_count() -> int:
    """How many worker processes a big file is counted with (the usable cores, at most 8)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def can_split(path: str, size: int | None, args: argparse.Namespace) -> bool:
    """Whether ``--file path --split`` is counted in parallel parts (see the module docstring)."""
    return (path != "-" and size is not None and size >= MIN_BYTES and worker_count() > 1
            and args.window is None and args.duration is None and "fork" in get_all_start_methods()
            and not _has_utf16_mark(path))


def cut_points(handle: BinaryIO, size: int, parts: int) -> list[int]:
    """Offsets that cut the file into about ``parts`` ranges, each starting a line: the first
    byte after the first newline at or beyond each even cut (ranges may come out empty or fewer
    when lines are long). Starts with 0 and ends with ``size``."""
    points = [0]
    for i in range(1, parts):
        at = max(size * i // parts, points[-1])
        while at < size:
            chunk = os.pread(handle.fileno(), CHUNK_BYTES, at)
            if not chunk:
                at = size
                break
            newline = chunk.find(b"\n")
            if newline >= 0:
                at += newline + 1
                break
            at += len(chunk)
        if at > points[-1]:
            points.append(min(at, size))
    if points[-1] != size:
        points.append(size)
    return points


class _Range(io.RawIOBase):
    """Bytes ``start`` to ``end`` of an open file, read with ``pread`` (no file descriptor of
    its own: ``BoundedLines`` then reads it with ``read``)."""

    def __init__(self, fd: int, start: int, end: int, done: Any) -> None:
        super().__init__()
        self._fd = fd
        self._at = start
        self._end = end
        self._done = done  # a shared counter of bytes read, for the parent's progress line

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        left = self._end - self._at
        if left <= 0:
            return b""
        n = left if size is None or size < 0 else min(size, left)
        data = os.pread(self._fd, n, self._at)
        self._at += len(data)
        self._done.value = self._done.value + len(data)
        return data


class _Shared:
    """A worker's progress: its line count in a counter the parent reads (the parent shows the
    whole file's progress line)."""

    def __init__(self, lines: Any) -> None:
        self._lines = lines

    def tick(self, done_bytes: int, lines: int) -> None:
        """Publish the lines counted so far."""
        self._lines.value = lines

    def done(self, lines: int) -> None:
        """Publish the final count."""
        self._lines.value = lines


@dataclass
class _Part:
    """What a worker sends back for its range."""

    stats: Any = None
    formats: Counter[str] = field(default_factory=Counter)
    lines: int = 0
    cut: int = 0
    first_cut: int | None = None
    error: str | None = None


def _count_part(path: str, start: int, end: int, first: bool, parser: Parser, args: argparse.Namespace,
                done: Any, lines: Any, send: connection.Connection) -> None:
    """A worker's body: count lines ``start``..``end`` of ``path`` and send the ``_Part``."""
    from meshtui.accesslog.detect import DetectingParser
    from meshtui.accesslog.stats import SplitStats
    from meshtui.commands.logs import count_split

    # Ctrl-C reaches the whole process group: the parent ends the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    part = _Part()
    try:
        if isinstance(parser, DetectingParser):
            parser.counts.clear()  # the parent's detection counted nothing, but start clean
        stats = SplitStats(window=None)
        with open(path, "rb") as handle:
            reader = BoundedLines(cast(IO[bytes], _Range(handle.fileno(), start, end, done)), lambda _text: None,
                                  at_start=first)
            count_split(reader, parser, stats, args, io.StringIO(), _Shared(lines), detect=False)
        part.stats = stats
        part.formats = Counter(parser.counts) if isinstance(parser, DetectingParser) else Counter()
        part.lines, part.cut, part.first_cut = reader.lines_read, reader.cut, reader.first_cut
    except OSError as exc:
        part.error = f"--file {path}: {exc.strerror or exc}"
    except Exception as exc:  # noqa: BLE001 - whatever a worker meets reaches the user as one line
        part.error = f"--file {path}: {type(exc).__name__}: {exc}"
    send.send_bytes(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
    send.close()


def detect_format(path: str, parser: Parser) -> None:
    """Put first the format most of the file's first lines are in (as one pass does)."""
    from meshtui.accesslog.detect import DetectingParser

    if not isinstance(parser, DetectingParser):
        return
    with open(path, "rb") as handle:
        reader = BoundedLines(handle, lambda _text: None)
        for block in reader.blocks():
            parser.detect(block[:200])
            return


def _has_utf16_mark(path: str) -> bool:
    """Whether the file opens with a UTF-16 byte-order mark (decoded as a whole stream)."""
    with open(path, "rb") as handle:
        head = handle.read(2)
    return head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def count_in_parts(path: str, size: int, parser: Parser, stats: SplitStats, args: argparse.Namespace,
                   progress: Any, warn: Callable[[str], None]) -> None:
    """Count ``path`` into ``stats`` with one worker per range (see the module docstring); the
    warnings of a single pass go to ``warn``, the progress line to ``progress``. Raises
    ``CommandError`` when a worker fails."""
    from meshtui.accesslog.detect import DetectingParser

    detect_format(path, parser)
    ctx = get_context("fork")
    with open(path, "rb") as handle:
        points = cut_points(handle, size, worker_count())
    workers: list[tuple[Any, connection.Connection, Any, Any]] = []
    try:
        for i, (start, end) in enumerate(zip(points, points[1:])):
            done, lines = ctx.Value("q", 0, lock=False), ctx.Value("q", 0, lock=False)
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_count_part, args=(path, start, end, i == 0, parser, args, done, lines, send),
                               name=f"meshtui-split-{i}", daemon=True)
            proc.start()
            send.close()
            workers.append((proc, receive, done, lines))
        parts: dict[int, _Part] = {}
        waiting = {w[1]: i for i, w in enumerate(workers)}
        while waiting:
            for ready in connection.wait(list(waiting), timeout=POLL_S):
                i = waiting.pop(ready)  # type: ignore[call-overload]
                try:
                    parts[i] = pickle.loads(ready.recv_bytes())  # type: ignore[union-attr]
                except EOFError:
                    raise CommandError(f"--file {path}: a counting process ended without an answer "
                                       f"(exit {workers[i][0].exitcode})") from None
            progress.tick(sum(w[2].value for w in workers), sum(w[3].value for w in workers))
    finally:
        for proc, receive, _done, _lines in workers:
            receive.close()
            if proc.is_alive():
                proc.terminate()
            proc.join()
    number = 0
    cut = 0
    for i in range(len(workers)):
        part = parts[i]
        if part.error is not None:
            raise CommandError(part.error)
        stats.merge(part.stats)
        if part.first_cut is not None and not cut:
            warn(first_cut_warning(number + part.first_cut, MAX_LINE_BYTES))
        cut += part.cut
        number += part.lines
        if isinstance(parser, DetectingParser):
            parser.counts.update(part.formats)
    if cut > 1:
        warn(cuts_warning(cut, MAX_LINE_BYTES))
    progress.done(stats.lines)

