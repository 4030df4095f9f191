"""Slim access-log records: a tuple of the raw field values with typed, lazy accessors.

Each parser builds one ``Record`` subclass for its format (``record_class``): a ``tuple``
subclass without instance dict, whose properties read a fixed index and convert on access
(``-`` is absent, numbers are parsed only when asked for). Creating a record is one
``tuple.__new__`` call, which keeps the parser near the speed of the regex itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from meshtui.accesslog.cluster import ClusterName, parse_cluster
from meshtui.accesslog.flags import has_failure, split_flags
from meshtui.accesslog.format import CANONICAL_FIELDS, INT_FIELDS


def absent(value: Any) -> bool:
    """Whether a raw field value means "not set": ``-`` (Envoy's marker), empty, or ``None``."""
    return value is None or value == "-" or value == ""


def to_str(value: Any) -> str | None:
    """A raw field value as text, ``None`` when absent."""
    if value is None or value == "-" or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def to_int(value: Any) -> int | None:
    """A raw field value as an integer (``"4"``, ``4``, ``"4.0"``), ``None`` when absent or not a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None or value == "-" or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        pass
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number)


def parse_time(value: Any) -> float | None:
    """``%START_TIME%`` as a UNIX time: ISO 8601 (Envoy's default) or epoch seconds; else ``None``."""
    text = to_str(value)
    if text is None:
        return None
    if text[:1].isdigit() and text.replace(".", "", 1).isdigit():
        try:
            return float(text)
        except ValueError:
            return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        # Envoy logs UTC; a zone-less stamp is read as UTC, not as this machine's local time.
        from datetime import timezone

        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.timestamp()


class Record(tuple):
    """One parsed access-log line. Canonical fields are properties (``None`` when the format
    lacks them or the line has ``-``); any operator or JSON key is reachable with ``get``."""

    __slots__ = ()

    #: Field name (canonical, operator text, or JSON key) -> index; set per subclass.
    _index: Mapping[str, int] = {}
    #: (name, index) of the fields with no canonical name, in format order; set per subclass.
    _generic: tuple[tuple[str, int], ...] = ()

    # Canonical fields; subclasses replace these with index-reading properties.
    start_time: str | None = None
    method: str | None = None
    path: str | None = None
    protocol: str | None = None
    response_code: int | None = None
    response_flags: str | None = None
    response_code_details: str | None = None
    connection_termination_details: str | None = None
    upstream_transport_failure_reason: str | None = None
    bytes_received: int | None = None
    bytes_sent: int | None = None
    duration: int | None = None
    upstream_service_time: int | None = None
    x_forwarded_for: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    authority: str | None = None
    upstream_host: str | None = None
    upstream_cluster: str | None = None
    upstream_local_address: str | None = None
    downstream_local_address: str | None = None
    downstream_remote_address: str | None = None
    requested_server_name: str | None = None
    route_name: str | None = None

    def get(self, name: str) -> Any:
        """The raw value of a field by canonical name, operator text (``REQ(X-B3-TRACEID)``) or
        JSON key; ``None`` when absent."""
        index = self._index.get(name)
        if index is None:
            index = self._index.get(name.upper())
        if index is None:
            return None
        value = self[index]
        return None if absent(value) else value

    @property
    def cluster(self) -> ClusterName:
        """The upstream cluster, decoded into direction, port, subset and host."""
        return parse_cluster(self.upstream_cluster)

    @property
    def flags(self) -> list[str]:
        """The individual response flags (``["UT", "URX"]``); empty when none."""
        return split_flags(self.response_flags)

    @property
    def is_error(self) -> bool:
        """A 5xx response or a failure response flag (``UH``, ``UF``, ``DC``...)."""
        code = self.response_code
        return (code is not None and code >= 500) or has_failure(self.response_flags)

    @property
    def is_mirror(self) -> bool:
        """A mirrored (shadow) request: Envoy suffixes the mirror's authority host with
        ``-shadow`` (``httpbin:8000`` -> ``httpbin-shadow:8000``)."""
        authority = self.authority
        if not authority:
            return False
        return mirror_host(authority)

    @property
    def start_epoch(self) -> float | None:
        """``start_time`` as a UNIX time, or ``None`` when absent or unreadable."""
        return parse_time(self.start_time)

    def fields(self) -> dict[str, Any]:
        """Every field of the line by name: canonical fields typed, the others raw."""
        out: dict[str, Any] = {}
        for name in CANONICAL_FIELDS:
            if name in self._index:
                out[name] = getattr(self, name)
        for name, index in self._generic:
            if name not in out:
                value = self[index]
                out[name] = None if absent(value) else value
        return out


def mirror_host(authority: str) -> bool:
    """Whether an authority (``host[:port]``) names a mirror target (host part ends ``-shadow``)."""
    host = authority
    if host.startswith("["):
        end = host.find("]")
        host = host[: end + 1] if end >= 0 else host
    else:
        colon = host.rfind(":")
        if colon >= 0 and host[colon + 1 :].isdigit():
            host = host[:colon]
    return host.endswith("-shadow")


def record_class(names: list[str], canonical: list[str | None]) -> type[Record]:
    """A ``Record`` subclass for a tuple layout: ``names[i]`` is the operator text or JSON key
    at index i, ``canonical[i]`` its canonical field (``None`` for a generic one). When a field
    appears twice the first occurrence wins."""
    namespace: dict[str, Any] = {"__slots__": ()}
    index: dict[str, int] = {}
    generic: list[tuple[str, int]] = []
    for i, (name, field) in enumerate(zip(names, canonical)):
        if field is not None and field not in index:
            index[field] = i
            namespace[field] = _int_property(i) if field in INT_FIELDS else _str_property(i)
        elif field is None:
            generic.append((name, i))
        index.setdefault(name, i)
        index.setdefault(name.upper(), i)
    namespace["_index"] = index
    namespace["_generic"] = tuple(generic)
    return type("FormatRecord", (Record,), namespace)


def _str_property(i: int) -> property:
    def read(self: tuple) -> str | None:
        return to_str(self[i])

    return property(read)


def _int_property(i: int) -> property:
    def read(self: tuple) -> int | None:
        return to_int(self[i])

    return property(read)
