"""The Logs screen's memory: a bounded ring of access-log lines and a filtered view of it (pure).

Lines are numbered by a sequence number that only grows (``seq``); the ring keeps the newest
``capacity`` of them, so memory is bounded whatever the rate. A filter keeps the sequence
numbers of the matching lines in order, updated as lines arrive and as old ones fall out of
the ring, so showing "only 5xx" over 100,000 lines costs one pass when the filter changes and
O(1) per new line afterwards. Views read lines by position (``visible(i)``) and render only
what is on screen.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from meshtui.accesslog.flags import lookup, split_flags

DEFAULT_CAPACITY = 100_000


class TailEntry(NamedTuple):
    """One followed line, slim: what the filters and the colours need, plus the raw line.

    ``code`` is ``None`` when the line has none or did not parse (``parsed`` is then False);
    ``flags`` is ``""`` when none. ``upstream`` is the upstream cluster, ``host`` the upstream
    host, ``duration`` in ms.
    """

    pod: str
    line: str
    code: int | None
    flags: str
    path: str
    upstream: str
    host: str
    method: str
    duration: int | None
    parsed: bool
    mirrored: bool = False



#: Index of each field in a ring row (rows are plain tuples laid out like ``TailEntry``).
CODE, FLAGS, PATH, UPSTREAM, HOST, MIRRORED = 2, 3, 4, 5, 6, 10


def entry_row(pod: str, line: str, record: Any) -> tuple[Any, ...]:
    """The ring row of a line (``record`` ``None``: the line did not parse).

    A plain tuple, not a ``TailEntry``: the garbage collector stops tracking a plain tuple of
    strings and numbers, so 100,000 kept rows add nothing to a full collection (a named tuple
    stays tracked and made each full collection of a busy screen ~100 ms longer).
    """
    if record is None:
        return (pod, line, None, "", "", "", "", "", None, False, False)
    return (
        pod, line, record.response_code, intern_small(record.response_flags), intern_small(record.path),
        intern_small(record.upstream_cluster), intern_small(record.upstream_host),
        intern_small(record.method), record.duration, True, record.is_mirror,
    )


_interned: dict[str, str] = {}


def intern_small(text: str | None) -> str:
    """The shared copy of a short, often repeated value (cluster, flags, path): a log repeats a
    handful of them over millions of lines, so sharing them keeps the ring small. The table is
    bounded so that a stream of unique paths cannot grow it without end."""
    if not text:
        return ""
    found = _interned.get(text)
    if found is not None:
        return found
    if len(_interned) < 50_000 and len(text) <= 200:
        _interned[text] = text = sys.intern(text)
    return text


class FilterError(ValueError):
    """A filter expression that cannot be used (``code:abc``); the message is one line."""


#: A test on a ring row (a ``TailEntry`` or the plain tuple of the same layout).
Predicate = Callable[[Any], bool]


def _term(token: str) -> Predicate:
    key, sep, value = token.partition(":")
    key = key.lower()
    if sep and value and key in ("path", "p"):
        return lambda e: value in e[PATH]
    if sep and value and key in ("up", "upstream", "u"):
        low = value.lower()
        return lambda e: low in e[UPSTREAM].lower() or low in e[HOST].lower()
    if sep and value and key == "pod":
        return lambda e: value in e[0]
    if sep and value and key in ("mirror", "shadow") and value in ("yes", "no"):
        wanted_mirror = value == "yes"
        return lambda e: e[MIRRORED] is wanted_mirror
    if sep and value and key in ("flag", "flags"):
        wanted = set(value.split(","))
        return lambda e: bool(wanted.intersection(split_flags(e[FLAGS])))
    if sep and value and key in ("code", "status"):
        if re.fullmatch(r"[1-5]xx", value.lower()):
            klass = int(value[0])
            return lambda e: e[CODE] is not None and e[CODE] // 100 == klass
        if not value.isdigit():
            raise FilterError(f"{token}: a status is a number (503) or a class (5xx)")
        code = int(value)
        return lambda e: e[CODE] == code
    if sep and value and key in ("re", "regex"):
        try:
            rx = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise FilterError(f"{token}: not a regular expression ({exc})") from None
        return lambda e: rx.search(e[1]) is not None
    low = token.lower()
    # A plain word matches what the view shows: the line and the pod name before it.
    return lambda e: low in e[1].lower() or low in e[0].lower()


def compile_text(text: str) -> list[Predicate]:
    """Compile a ``/`` filter: words ANDed; ``path:/api``, ``up:reviews`` (upstream cluster or
    host), ``pod:NAME``, ``flag:UH,UF``, ``code:503`` / ``code:5xx``, ``mirror:yes|no``,
    ``re:REGEX``; any other word is a case-insensitive substring of the raw line or of the pod's
    name. Raises ``FilterError``."""
    return [_term(token) for token in text.split()]


@dataclass(frozen=True, slots=True)
class TailFilter:
    """What the view shows: status classes (2, 4, 5; 0 for no code), response flags (any of),
    errors only (5xx or a failure flag), and a text expression (see ``compile_text``)."""

    classes: frozenset[int] = frozenset()
    flags: frozenset[str] = frozenset()
    text: str = ""
    _terms: tuple[Predicate, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def make(cls, classes: Iterable[int] = (), flags: Iterable[str] = (), text: str = "") -> "TailFilter":
        """A filter; raises ``FilterError`` for a bad text expression or an unknown flag."""
        flags = frozenset(flags)
        for flag in flags:
            if lookup(flag) is None:
                raise FilterError(f"{flag}: not an Envoy response flag")
        return cls(frozenset(classes), flags, text.strip(), tuple(compile_text(text)))

    @property
    def active(self) -> bool:
        """Whether the filter hides anything."""
        return bool(self.classes or self.flags or self._terms)

    def matches(self, e: Any) -> bool:
        """Whether a line (``TailEntry`` or ring row) passes every part of the filter."""
        if self.classes:
            code = e[CODE]
            klass = 0 if code is None else code // 100
            if klass not in self.classes:
                return False
        if self.flags and not self.flags.intersection(split_flags(e[FLAGS])):
            return False
        for term in self._terms:
            if not term(e):
                return False
        return True

    def describe(self) -> str:
        """``5xx 4xx · UH,UF · "path:/api"`` for the header, or ``""`` when inactive."""
        parts = []
        if self.classes:
            parts.append(" ".join(f"{c}xx" if c else "no-code" for c in sorted(self.classes)))
        if self.flags:
            parts.append(",".join(sorted(self.flags)))
        if self.text:
            parts.append(f'"{self.text}"')
        return " · ".join(parts)


class TailBuffer:
    """The newest ``capacity`` lines, numbered by ``seq``, with a filtered view.

    ``visible_count()`` and ``visible(i)`` read the view: all kept lines without a filter, the
    matching ones with it, oldest first. ``limit_seq`` (a pause) hides lines from that seq on.
    ``dropped_visible`` counts visible lines that fell out of the ring, so a view scrolled up
    can keep the same lines in sight while the ring moves under it.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, not {capacity}")
        self.capacity = capacity
        self._buf: list[tuple[Any, ...] | None] = [None] * capacity
        self.next_seq = 0
        self.filter: TailFilter | None = None
        self._matches: list[int] = []
        self._head = 0
        self.dropped_visible = 0

    @property
    def first_seq(self) -> int:
        """The seq of the oldest line kept."""
        return max(0, self.next_seq - self.capacity)

    def __len__(self) -> int:
        return self.next_seq - self.first_seq

    def row(self, seq: int) -> tuple[Any, ...]:
        """The ring row of the line with this seq (must be kept)."""
        item = self._buf[seq % self.capacity]
        assert item is not None
        return item

    def entry(self, seq: int) -> TailEntry:
        """The line with this seq (must be kept)."""
        return TailEntry._make(self.row(seq))

    def extend(self, entries: Iterable[tuple[Any, ...]]) -> None:
        """Append rows (``entry_row`` tuples or ``TailEntry``), dropping the oldest beyond ``capacity``."""
        buf, cap = self._buf, self.capacity
        flt = self.filter
        seq = self.next_seq
        if flt is None:
            for e in entries:
                buf[seq % cap] = e
                seq += 1
            self.dropped_visible += max(0, seq - cap) - max(0, self.next_seq - cap)
            self.next_seq = seq
            return
        matches = self._matches
        test = flt.matches
        for e in entries:
            buf[seq % cap] = e
            if test(e):
                matches.append(seq)
            seq += 1
        self.next_seq = seq
        self._expire_matches()

    def _expire_matches(self) -> None:
        first = self.first_seq
        matches, head = self._matches, self._head
        start = head
        while head < len(matches) and matches[head] < first:
            head += 1
        self.dropped_visible += head - start
        if head > 4096 and head * 2 > len(matches):
            del matches[:head]  # amortised O(1): compact once half the list is dead
            head = 0
        self._head = head

    def set_filter(self, flt: TailFilter | None) -> None:
        """Change the filter (``None`` or an inactive one shows everything); one pass."""
        if flt is not None and not flt.active:
            flt = None
        self.filter = flt
        self._head = 0
        self.dropped_visible = 0
        if flt is None:
            self._matches = []
            return
        test = flt.matches
        row = self.row
        self._matches = [s for s in range(self.first_seq, self.next_seq) if test(row(s))]

    def visible_count(self, limit_seq: int | None = None) -> int:
        """How many lines the view holds (those before ``limit_seq`` when given)."""
        if self.filter is None:
            end = self.next_seq if limit_seq is None else min(limit_seq, self.next_seq)
            return max(0, end - self.first_seq)
        if limit_seq is None:
            return len(self._matches) - self._head
        return bisect_left(self._matches, limit_seq, self._head) - self._head

    def visible_seq(self, i: int) -> int:
        """The seq of the i-th visible line (0 = oldest)."""
        if self.filter is None:
            return self.first_seq + i
        return self._matches[self._head + i]

    def visible(self, i: int) -> TailEntry:
        """The i-th visible line (0 = oldest)."""
        return self.entry(self.visible_seq(i))
