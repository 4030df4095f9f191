"""Fuzzing the access-log parser (hypothesis): whatever the line and whatever the format, a
parser returns a ``Record`` or ``None``; every field of a record reads without raising; the
split statistics take any record; a format that cannot be used is a one-line ``FormatError``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshtui.accesslog import (
    ISTIO_JSON_FORMAT,
    ISTIO_TEXT_FORMAT,
    AutoParser,
    FormatError,
    JsonParser,
    Record,
    SplitStats,
    TextParser,
    make_parser,
    parser_from_mesh_config,
)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A real line of Istio's default format, to mutate.
GOOD = ('[2024-05-01T12:00:00.123Z] "GET /catalog/items?id=7 HTTP/1.1" 200 - via_upstream - "-" 0 1234 12 10 '
        '"10.0.0.1" "curl/8.0" "a1b2c3" "catalog:80" "10.244.1.7:3000" '
        'outbound|80|v2|catalog.istioinaction.svc.cluster.local 10.244.1.5:43210 10.96.0.10:80 '
        '10.244.1.5:43208 - default')
PARSERS = [TextParser(), AutoParser(), JsonParser(), make_parser(), make_parser(encoding="JSON"),
           TextParser("%START_TIME% %REQ(:METHOD)%%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %RESPONSE_CODE%"),
           TextParser('"%UPSTREAM_CLUSTER%" [%DURATION%] %RESPONSE_FLAGS% %BYTES_SENT%\n')]
PROPERTIES = [
    "start_time", "method", "path", "protocol", "response_code", "response_flags", "response_code_details",
    "connection_termination_details", "upstream_transport_failure_reason", "bytes_received", "bytes_sent",
    "duration", "upstream_service_time", "x_forwarded_for", "user_agent", "request_id", "authority",
    "upstream_host", "upstream_cluster", "upstream_local_address", "downstream_local_address",
    "downstream_remote_address", "requested_server_name", "route_name", "cluster", "flags", "is_error",
    "is_mirror", "start_epoch", "fields",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
    | st.sampled_from(["-", "200", "5xx", "UH,URX", "2024-05-01T12:00:00Z", "1714564800.5", "1e400",
                       "outbound|80|v2|catalog", "outbound|x|y", "inbound|||", "catalog-shadow:80"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def read_everything(record: Record) -> None:
    """Every accessor a screen or the statistics use; none may raise."""
    for name in PROPERTIES:
        getattr(record, name)
    cluster = record.cluster
    for part in ("direction", "port", "subset", "host"):
        getattr(cluster, part, None)
    for key in ("response_code", "REQ(X-B3-TRACEID)", "x", "", "%"):
        record.get(key)
    stats = SplitStats(window=None)
    stats.add(record)
    stats.add(record, t=0.0, subset="v1")
    stats.rows({"v1": 50, "v2": 50})
    stats.error_rollups()
    json.dumps(stats.summary({"v1": 100}), default=str)


def check(parser: Any, line: str) -> None:
    record = parser.parse(line)
    assert record is None or isinstance(record, Record)
    if record is not None:
        read_everything(record)


@FUZZ
@given(st.text(max_size=300))
def test_random_text_never_raises(line: str) -> None:
    for parser in PARSERS:
        check(parser, line)


@FUZZ
@given(st.data())
def test_a_real_line_with_random_damage_never_raises(data: st.DataObject) -> None:
    line = GOOD
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        i = data.draw(st.integers(0, len(line)), label="at")
        j = data.draw(st.integers(i, min(len(line), i + 20)), label="to")
        line = line[:i] + data.draw(st.text(max_size=10) | st.sampled_from(['"', " ", "-", "\n", "\x00", "{"]),
                                    label="insert") + line[j:]
    for parser in PARSERS:
        check(parser, line)


@FUZZ
@given(st.dictionaries(st.sampled_from(list(ISTIO_JSON_FORMAT)) | st.text(max_size=8), json_values, max_size=8))
def test_random_json_lines_never_raise(obj: dict[str, Any]) -> None:
    line = orjson.dumps(obj).decode()
    for parser in PARSERS:
        check(parser, line)
        check(parser, " " + line + "\r\n")


@FUZZ
@given(st.text(max_size=80), st.sampled_from([None, "", "TEXT", "JSON", "json", "yaml"]),
       st.text(max_size=120))
def test_any_format_compiles_or_is_a_format_error_and_then_never_raises(fmt: str, encoding: str | None,
                                                                         line: str) -> None:
    try:
        parser = make_parser(fmt, encoding)
    except FormatError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    check(parser, line)
    check(parser, GOOD)
    mesh = parser_from_mesh_config(fmt, encoding)  # Istio's fallbacks: never an error
    check(mesh, line)


@FUZZ
@given(st.lists(st.sampled_from(["%START_TIME%", "%RESPONSE_CODE%", "%DURATION%", "%REQ(:PATH)%",
                                 "%UPSTREAM_CLUSTER%", "%RESPONSE_FLAGS%", "%BYTES_SENT%", " ", '"', "[",
                                 "]", "-", "%", "%%", "%REQ(", ")%", "%START_TIME(%s.%3f)%", "x"]),
                max_size=12),
       st.text(max_size=120))
def test_operator_soup_formats_never_raise(parts: list[str], line: str) -> None:
    parser = TextParser("".join(parts))
    check(parser, line)
    check(parser, GOOD)


def test_the_default_format_reads_a_real_line() -> None:
    """Sanity check that the fuzzed parsers are the real ones (the default format is Istio's)."""
    record = TextParser(ISTIO_TEXT_FORMAT).parse(GOOD)
    assert record is not None
    assert (record.method, record.path, record.response_code, record.duration) == (
        "GET", "/catalog/items?id=7", 200, 12)
    assert record.cluster.subset == "v2"
