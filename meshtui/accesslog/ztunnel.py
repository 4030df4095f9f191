"""ztunnel's connection logs (ambient mode's L4 access log), and the L4 split they show.

ztunnel writes one ``access`` event per connection in its "Istio" text format
(``src/telemetry.rs``: ``TIME<TAB>level<TAB>target<TAB>message<TAB>k=v k=v …``, values in Rust
``Debug`` form, so strings are double-quoted with backslash escapes and addresses and numbers are
bare) or, with ``LOG_FORMAT=json``, as one JSON object (``level``, ``time``, ``scope``,
``message`` and the fields by name). ``connection opened`` (debug level) and ``connection
complete`` (info; error level with ``error=…`` when it failed) carry ``src.*``/``dst.*``,
``direction`` and, when complete, ``bytes_sent``, ``bytes_recv`` (unflipped for logs: as seen from
the logging side) and ``duration`` (``"12ms"``). A connection denied before it is known
(``connection failed``, warn level) has only addresses, direction and the error.

Both ends log a mesh connection: the source ztunnel ``outbound`` (to ``dst.addr`` on the HBONE
port 15008, the real target in ``dst.hbone_addr``) and the destination ztunnel ``inbound``. The
split counts one direction (outbound, the caller's view, as Kiali's source reporter; inbound
only when no outbound line was seen), so a connection is never counted twice.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

#: The levels ztunnel writes (``tracing``'s, lower-cased).
LEVELS = frozenset({"trace", "debug", "info", "warn", "error"})
#: The access-log messages; the first two end a connection.
COMPLETE = "connection complete"
FAILED = "connection failed"
OPENED = "connection opened"

_HEAD = re.compile(r"(\S+)\s+(trace|debug|info|warn|error)\s+(\S+)\s+")
# A field starts at a key (dotted identifier) directly followed by "=".
_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z_][\w.]*)=")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}


@dataclass(frozen=True, slots=True)
class ZtunnelRecord:
    """One parsed ztunnel log line: header, message and fields (values as written, unquoted)."""

    timestamp: str
    level: str
    target: str
    message: str
    fields: dict[str, str]
    #: The keys whose value was double-quoted in the text format.
    quoted: tuple[str, ...] = ()

    @property
    def is_access(self) -> bool:
        """Whether this is a connection access event (target ``access``)."""
        return self.target == "access" or self.target.startswith("access:")

    @property
    def direction(self) -> str:
        """``outbound`` (logged by the source ztunnel) or ``inbound`` (the destination's)."""
        return self.fields.get("direction", "")

    @property
    def failed(self) -> bool:
        """Whether the connection failed (an ``error`` field, or a ``connection failed`` event)."""
        return "error" in self.fields or self.message == FAILED

    @property
    def bytes_sent(self) -> int:
        """Bytes sent by the logging side (0 when absent)."""
        return _int(self.fields.get("bytes_sent"))

    @property
    def bytes_recv(self) -> int:
        """Bytes received by the logging side (0 when absent)."""
        return _int(self.fields.get("bytes_recv"))

    @property
    def duration_ms(self) -> float | None:
        """The connection's duration in ms (``duration="12ms"``), None when absent."""
        return _duration_ms(self.fields.get("duration"))

    @property
    def epoch(self) -> float | None:
        """The timestamp in seconds since the epoch, None when it does not parse."""
        try:
            return datetime.fromisoformat(self.timestamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None


def parse_line(line: str) -> ZtunnelRecord | None:
    """A ztunnel log line (text or JSON format) as a record; None when it is not one."""
    text = line.strip()
    if text.startswith("{"):
        return _parse_json(text)
    head = _HEAD.match(text)
    if head is None:
        return None
    timestamp, level, target = head.groups()
    rest = text[head.end():]
    first = _KEY.search(rest)
    message = (rest[: first.start()] if first else rest).strip()
    fields: dict[str, str] = {}
    quoted: list[str] = []
    pos = first.start() if first else len(rest)
    while pos < len(rest):
        key_match = _KEY.match(rest, pos)
        if key_match is None:
            break  # not k=v: the rest is not ours to guess
        key = key_match.group(1)
        pos = key_match.end()
        if pos < len(rest) and rest[pos] == '"':
            value, pos = _quoted(rest, pos)
            quoted.append(key)
        else:
            end = pos
            while end < len(rest) and not rest[end].isspace():
                end += 1
            value, pos = rest[pos:end], end
        fields[key] = value
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
    return ZtunnelRecord(timestamp, level, target, message, fields, tuple(quoted))


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """The Rust-``Debug`` string starting at ``text[pos] == '"'``, and the index after it."""
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and text.startswith("{", i + 2):
                close = text.find("}", i + 3)
                if close != -1:
                    try:
                        out.append(chr(int(text[i + 3:close], 16)))
                        i = close + 1
                        continue
                    except ValueError:
                        pass
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out), i  # unterminated: keep what there is


def _parse_json(text: str) -> ZtunnelRecord | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("level"), str) or "message" not in doc:
        return None
    skip = {"level", "time", "scope", "message"}
    fields = {str(k): _json_value(v) for k, v in doc.items() if k not in skip and not isinstance(v, dict)}
    return ZtunnelRecord(str(doc.get("time", "")), doc["level"].lower(), str(doc.get("scope", "")),
                         _json_value(doc["message"]), fields)


def _json_value(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    # The JSON format serialises Debug output, so string fields may carry their own quotes.
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return _quoted(text, 0)[0]
    return text


def _int(value: str | None) -> int:
    try:
        return int(value) if value is not None else 0
    except ValueError:
        return 0


def _duration_ms(value: str | None) -> float | None:
    if not value:
        return None
    match = re.fullmatch(r"([\d.]+)\s*(ns|us|µs|ms|s)?", value.strip())
    if match is None:
        return None
    scale = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1000.0, None: 1.0}[match.group(2)]
    return float(match.group(1)) * scale


@dataclass(slots=True)
class L4Row:
    """Connections to one destination workload, as ztunnel logged them."""

    workload: str
    namespace: str
    connections: int = 0
    failures: int = 0
    bytes_sent: int = 0
    bytes_recv: int = 0
    #: Durations in ms of the completed connections (for percentiles).
    durations: list[float] = field(default_factory=list)
    share: float = 0.0

    def duration_percentile(self, q: float) -> float | None:
        """The ``q`` quantile (0–1) of connection durations in ms, nearest rank; None without any."""
        if not self.durations:
            return None
        ordered = sorted(self.durations)
        rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
        return ordered[rank - 1]


@dataclass(slots=True)
class L4Split:
    """The L4 split of connections to one service over ztunnel logs (see the module docstring)."""

    service: str
    direction: str
    rows: list[L4Row]
    #: Lines that were not ztunnel access events for this service (other logs, other services).
    other: int
    #: Lines that did not parse as ztunnel log lines at all.
    unparsed: int

    @property
    def connections(self) -> int:
        """Connections counted over every row."""
        return sum(r.connections for r in self.rows)


def l4_split(lines: Iterable[str], service: str) -> L4Split:
    """Count the connections to ``service`` (a FQDN, as ztunnel's ``dst.service``) per
    destination workload from ztunnel log lines."""
    by_direction: dict[str, dict[tuple[str, str], L4Row]] = {"outbound": {}, "inbound": {}}
    other = unparsed = 0
    for line in lines:
        record = parse_line(line)
        if record is None:
            unparsed += 1
            continue
        if (not record.is_access or record.message != COMPLETE
                or record.fields.get("dst.service") != service or record.direction not in by_direction):
            other += 1
            continue
        key = (record.fields.get("dst.workload", ""), record.fields.get("dst.namespace", ""))
        seen = by_direction[record.direction]
        row = seen.get(key)
        if row is None:
            row = seen[key] = L4Row(*key)
        row.connections += 1
        row.failures += record.failed
        row.bytes_sent += record.bytes_sent
        row.bytes_recv += record.bytes_recv
        duration = record.duration_ms
        if duration is not None:
            row.durations.append(duration)
    direction = "outbound" if by_direction["outbound"] or not by_direction["inbound"] else "inbound"
    ordered = sorted(by_direction[direction].values(), key=lambda r: (-r.connections, r.workload))
    total = sum(r.connections for r in ordered)
    for counted in ordered:
        counted.share = counted.connections / total if total else 0.0
    return L4Split(service, direction, ordered, other, unparsed)
