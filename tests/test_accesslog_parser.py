"""The access-log parser on real Istio/Envoy lines, custom and JSON formats, and bad input."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.accesslog.parser import FormatError
from meshtui.accesslog import ISTIO_TEXT_FORMAT, JsonParser, TextParser, make_parser
from meshtui.accesslog.format import tokenize

# Both lines are quoted from Istio's "Envoy Access Logs" task,
# https://istio.io/latest/docs/tasks/observability/logs/access-log/ (istio/istio.io
# content/en/docs/tasks/observability/logs/access-log/index.md): the curl/sleep client's
# sidecar (outbound) and httpbin's sidecar (inbound) logging the same request.
CLIENT_LINE = (
    '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" '
    '"curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" '
    "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 "
    "10.44.1.23:46520 - default"
)
SERVER_LINE = (
    '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" '
    '"curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" '
    "inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 "
    "outbound_.8000_._.httpbin.foo.svc.cluster.local default"
)

# The same page documents the default format with escaped quotes and a trailing \n, as it is
# written in Go; pasting it must work.
DOCS_FORMAT = (
    r'[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% '
    r"%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    r'\"%UPSTREAM_TRANSPORT_FAILURE_REASON%\" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% '
    r'%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" '
    r'\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\" %UPSTREAM_CLUSTER% '
    r"%UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% "
    r"%REQUESTED_SERVER_NAME% %ROUTE_NAME%\n"
)


def test_default_format_reads_the_istio_docs_client_line() -> None:
    record = TextParser().parse(CLIENT_LINE)
    assert record is not None
    assert record.start_time == "2020-11-25T21:26:18.409Z"
    assert (record.method, record.path, record.protocol) == ("GET", "/status/418", "HTTP/1.1")
    assert record.response_code == 418
    assert record.response_flags is None  # "-" means absent
    assert record.flags == []
    assert record.response_code_details == "via_upstream"
    assert record.connection_termination_details is None
    assert record.upstream_transport_failure_reason is None
    assert (record.bytes_received, record.bytes_sent) == (0, 135)
    assert record.duration == 4
    assert record.upstream_service_time == 4
    assert record.x_forwarded_for is None
    assert record.user_agent == "curl/7.73.0-DEV"
    assert record.request_id == "84961386-6d84-929d-98bd-c5aee93b5c88"
    assert record.authority == "httpbin:8000"
    assert record.upstream_host == "10.44.1.27:80"
    assert record.upstream_cluster == "outbound|8000||httpbin.foo.svc.cluster.local"
    assert record.downstream_remote_address == "10.44.1.23:46520"
    assert record.requested_server_name is None
    assert record.route_name == "default"
    cluster = record.cluster
    assert (cluster.direction, cluster.port, cluster.subset, cluster.host) == (
        "outbound", 8000, "", "httpbin.foo.svc.cluster.local"
    )
    assert not record.is_error and not record.is_mirror
    assert record.start_epoch == 1606339578.409


def test_default_format_reads_the_istio_docs_server_line() -> None:
    record = TextParser().parse(SERVER_LINE)
    assert record is not None
    assert record.duration == 3 and record.upstream_service_time == 1
    assert record.upstream_cluster == "inbound|8000||"
    assert record.cluster.direction == "inbound" and record.cluster.port == 8000
    assert record.requested_server_name == "outbound_.8000_._.httpbin.foo.svc.cluster.local"


def test_upstream_cluster_and_upstream_cluster_raw_formats_read_the_same_lines() -> None:
    older = ISTIO_TEXT_FORMAT.replace("%UPSTREAM_CLUSTER_RAW%", "%UPSTREAM_CLUSTER%")
    assert older != ISTIO_TEXT_FORMAT
    for fmt in (older, ISTIO_TEXT_FORMAT, DOCS_FORMAT):
        record = TextParser(fmt).parse(CLIENT_LINE)
        assert record is not None, fmt
        assert record.upstream_cluster == "outbound|8000||httpbin.foo.svc.cluster.local"
        assert record.route_name == "default"


def test_envoy_default_format_example_from_envoy_docs() -> None:
    # Envoy's own default format and its example line, from
    # https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage
    fmt = (
        '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" '
        "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
        '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" '
        '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n'
    )
    line = (
        '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" '
        '"nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"'
    )
    record = TextParser(fmt).parse(line)
    assert record is not None
    assert (record.method, record.path, record.protocol) == ("POST", "/api/v1/locations", "HTTP/2")
    assert (record.response_code, record.bytes_received, record.bytes_sent) == (204, 154, 0)
    assert (record.duration, record.upstream_service_time) == (226, 100)
    assert record.x_forwarded_for == "10.0.35.28"
    assert record.upstream_host == "tcp://10.0.2.1:80"
    assert record.upstream_cluster is None and record.route_name is None  # not in this format


CUSTOM = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
    "- upstream=%UPSTREAM_HOST% duration=%DURATION%ms route=%ROUTE_NAME%"
)


def test_custom_format() -> None:
    parser = make_parser(CUSTOM)
    record = parser.parse(
        '[2024-03-01T10:00:00.000Z] "GET /productpage HTTP/2" 503 - upstream=10.1.2.3:9080 '
        "duration=17ms route=reviews-v3"
    )
    assert record is not None
    assert (record.method, record.path, record.protocol) == ("GET", "/productpage", "HTTP/2")
    assert record.response_code == 503 and record.is_error
    assert record.upstream_host == "10.1.2.3:9080"
    assert record.duration == 17
    assert record.route_name == "reviews-v3"
    assert record.upstream_cluster is None
    # "-" in a field means absent, here for upstream host and duration
    record = parser.parse('[2024-03-01T10:00:00.000Z] "GET / HTTP/1.1" 404 - upstream=- duration=-ms route=-')
    assert record is not None
    assert record.upstream_host is None and record.duration is None and record.route_name is None


def test_generic_operators_are_kept_by_their_text() -> None:
    parser = TextParser('%REQ(X-B3-TRACEID)% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %START_TIME(%s.%3f)% %RESPONSE_CODE%')
    record = parser.parse("463ac35c9f6413ad 2 1527590590.528 200")
    assert record is not None
    assert record.get("REQ(X-B3-TRACEID)") == "463ac35c9f6413ad"
    assert record.get("req(x-b3-traceid)") == "463ac35c9f6413ad"
    assert record.get("UPSTREAM_REQUEST_ATTEMPT_COUNT") == "2"
    assert record.start_epoch == 1527590590.528
    assert record.response_code == 200
    assert record.fields()["REQ(X-B3-TRACEID)"] == "463ac35c9f6413ad"


def test_quote_inside_a_quoted_field_still_parses() -> None:
    line = CLIENT_LINE.replace('"curl/7.73.0-DEV"', '"agent "quoted" 1.0"')
    record = TextParser().parse(line)
    assert record is not None
    assert record.user_agent == 'agent "quoted" 1.0'
    assert record.route_name == "default"


def test_trailing_newline_and_carriage_return_are_ignored() -> None:
    parser = TextParser()
    assert parser.parse(CLIENT_LINE + "\n").route_name == "default"  # type: ignore[union-attr]
    assert parser.parse(CLIENT_LINE + "\r\n").route_name == "default"  # type: ignore[union-attr]


def test_malformed_lines_do_not_parse() -> None:
    parser = make_parser()
    for line in (
        "",
        "hello world",
        CLIENT_LINE[: len(CLIENT_LINE) // 2],  # cut in the middle
        CLIENT_LINE.replace("[2020", "2020"),  # lost its bracket
        "{not json",
        "[1, 2, 3]",
        '"just a string"',
    ):
        assert parser.parse(line) is None, line


def test_non_numeric_values_in_number_fields_read_as_absent() -> None:
    record = TextParser().parse(CLIENT_LINE.replace(" 0 135 4 4 ", " x 135 4.5 - "))
    assert record is not None
    assert record.bytes_received is None
    assert record.duration == 4
    assert record.upstream_service_time is None


# Istio's default JSON keys (istio/istio pilot/pkg/model/telemetry_logging.go,
# EnvoyJSONLogFormatIstio) filled with the values of the docs' client line above.
ISTIO_JSON_LINE = json.dumps(
    {
        "start_time": "2020-11-25T21:26:18.409Z",
        "method": "GET",
        "path": "/status/418",
        "protocol": "HTTP/1.1",
        "response_code": "418",
        "response_flags": "-",
        "response_code_details": "via_upstream",
        "connection_termination_details": "-",
        "upstream_transport_failure_reason": "-",
        "bytes_received": "0",
        "bytes_sent": "135",
        "duration": "4",
        "upstream_service_time": "4",
        "x_forwarded_for": "-",
        "user_agent": "curl/7.73.0-DEV",
        "request_id": "84961386-6d84-929d-98bd-c5aee93b5c88",
        "authority": "httpbin:8000",
        "upstream_host": "10.44.1.27:80",
        "upstream_cluster": "outbound|8000||httpbin.foo.svc.cluster.local",
        "upstream_local_address": "10.44.1.23:37652",
        "downstream_local_address": "10.0.45.184:8000",
        "downstream_remote_address": "10.44.1.23:46520",
        "requested_server_name": "-",
        "route_name": "default",
    }
)


def test_istio_default_json_encoding_gives_the_same_record_as_text() -> None:
    text = TextParser().parse(CLIENT_LINE)
    js = JsonParser().parse(ISTIO_JSON_LINE)
    assert text is not None and js is not None
    assert js.fields() == text.fields()
    # auto-detection sends each line to the right parser
    auto = make_parser()
    assert auto.parse(ISTIO_JSON_LINE).fields() == auto.parse(CLIENT_LINE).fields()  # type: ignore[union-attr]


def test_custom_json_format_from_envoy_docs_and_typed_values() -> None:
    # Envoy's json_format example and the line it documents (access_log usage page).
    parser = make_parser(
        '{"protocol": "%PROTOCOL%", "duration": "%DURATION%", "my_custom_header": "%REQ(MY_CUSTOM_HEADER)%"}'
    )
    record = parser.parse('{"protocol": "HTTP/1.1", "duration": "123", "my_custom_header": "value_of_MY_CUSTOM_HEADER"}')
    assert record is not None
    assert record.protocol == "HTTP/1.1" and record.duration == 123
    assert record.get("my_custom_header") == "value_of_MY_CUSTOM_HEADER"
    # typed JSON renders numbers as numbers and unset values as null
    typed = parser.parse('{"protocol": null, "duration": 123}')
    assert typed is not None and typed.duration == 123 and typed.protocol is None


@settings(max_examples=300, deadline=None)
@given(fmt=st.text(max_size=80), line=st.text(max_size=200))
def test_parser_never_raises_on_arbitrary_format_and_text(fmt: str, line: str) -> None:
    for parser in (make_parser(fmt or None, "TEXT"), make_parser()):
        record = parser.parse(line)
        if record is not None:
            record.fields()
            _ = (record.is_error, record.is_mirror, record.cluster, record.start_epoch)


_OPS = st.sampled_from(
    ["%START_TIME%", "%REQ(:METHOD)%", "%RESPONSE_CODE%", "%DURATION%", "%ROUTE_NAME%",
     "%UPSTREAM_CLUSTER%", "%REQ(X-FOO):5%", "%START_TIME(%s %Y)%", "%", "%%", '"', " ", "[", "]"]
)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(_OPS, st.text(max_size=5)), max_size=12), line=st.text(max_size=120))
def test_parser_never_raises_on_operator_heavy_formats(parts: list[str], line: str) -> None:
    fmt = "".join(parts)
    tokenize(fmt)
    parsers = [make_parser(fmt or None, "TEXT")]
    try:
        parsers.append(make_parser(fmt or None))
    except FormatError as exc:
        # Without an encoding, a format starting with "{" is read as JSON; an invalid one is
        # refused with a specific error rather than a crash.
        assert fmt.lstrip().startswith("{") and "JSON" in str(exc)
    for parser in parsers:
        record = parser.parse(line)
        if record is not None:
            record.fields()
            _ = (record.is_error, record.is_mirror, record.cluster, record.start_epoch)


@settings(max_examples=200, deadline=None)
@given(obj=st.dictionaries(st.sampled_from(["duration", "response_code", "authority", "x"]),
                           st.one_of(st.none(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=10), st.booleans())))
def test_json_parser_never_raises_on_odd_values(obj: dict) -> None:
    record = JsonParser().parse(json.dumps(obj))
    assert record is not None
    record.fields()
    _ = (record.is_error, record.is_mirror, record.cluster)
