"""Envoy access-log format strings: Istio's defaults and a tokenizer for command operators.

A format string is literal text with command operators such as ``%START_TIME%``,
``%REQ(:METHOD)%``, ``%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%`` or ``%REQ(USER-AGENT):10%`` (a
maximum length). Operators meshtui understands map to a canonical field name (``method``,
``response_code``...); every other operator is kept under its own text (``REQ(FOO)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Istio's default TEXT format (istio/istio ``pilot/pkg/model/telemetry_logging.go``,
#: ``EnvoyTextLogFormat``, Istio 1.9 onwards; current releases log ``%UPSTREAM_CLUSTER_RAW%``).
ISTIO_TEXT_FORMAT = (
    '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% '
    '%PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% '
    "%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "
    '"%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% '
    '%DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" '
    '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" '
    "%UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% "
    "%DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n"
)

#: Istio's default JSON format (``EnvoyJSONLogFormatIstio`` in the same file): key -> operator.
ISTIO_JSON_FORMAT: dict[str, str] = {
    "start_time": "%START_TIME%",
    "route_name": "%ROUTE_NAME%",
    "method": "%REQ(:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "protocol": "%PROTOCOL%",
    "response_code": "%RESPONSE_CODE%",
    "response_flags": "%RESPONSE_FLAGS%",
    "response_code_details": "%RESPONSE_CODE_DETAILS%",
    "connection_termination_details": "%CONNECTION_TERMINATION_DETAILS%",
    "bytes_received": "%BYTES_RECEIVED%",
    "bytes_sent": "%BYTES_SENT%",
    "duration": "%DURATION%",
    "upstream_service_time": "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%",
    "x_forwarded_for": "%REQ(X-FORWARDED-FOR)%",
    "user_agent": "%REQ(USER-AGENT)%",
    "request_id": "%REQ(X-REQUEST-ID)%",
    "authority": "%REQ(:AUTHORITY)%",
    "upstream_host": "%UPSTREAM_HOST%",
    "upstream_cluster": "%UPSTREAM_CLUSTER_RAW%",
    "upstream_local_address": "%UPSTREAM_LOCAL_ADDRESS%",
    "downstream_local_address": "%DOWNSTREAM_LOCAL_ADDRESS%",
    "downstream_remote_address": "%DOWNSTREAM_REMOTE_ADDRESS%",
    "requested_server_name": "%REQUESTED_SERVER_NAME%",
    "upstream_transport_failure_reason": "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
}

# Canonical field names of the operators meshtui reads. Header names are case-insensitive in
# Envoy, so keys here are upper case and lookups upper-case the operator first.
_CANONICAL: dict[str, str] = {
    "START_TIME": "start_time",
    "REQ(:METHOD)": "method",
    "REQ(X-ENVOY-ORIGINAL-PATH?:PATH)": "path",
    "REQ(:PATH)": "path",
    "REQ(:PATH?X-ENVOY-ORIGINAL-PATH)": "path",
    "REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)": "path",
    "REQ_WITHOUT_QUERY(:PATH)": "path",
    "PROTOCOL": "protocol",
    "RESPONSE_CODE": "response_code",
    "RESPONSE_FLAGS": "response_flags",
    "RESPONSE_FLAGS_LONG": "response_flags",
    "RESPONSE_CODE_DETAILS": "response_code_details",
    "CONNECTION_TERMINATION_DETAILS": "connection_termination_details",
    "UPSTREAM_TRANSPORT_FAILURE_REASON": "upstream_transport_failure_reason",
    "BYTES_RECEIVED": "bytes_received",
    "BYTES_SENT": "bytes_sent",
    "DURATION": "duration",
    "RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)": "upstream_service_time",
    "REQ(X-FORWARDED-FOR)": "x_forwarded_for",
    "REQ(USER-AGENT)": "user_agent",
    "REQ(X-REQUEST-ID)": "request_id",
    "REQ(:AUTHORITY)": "authority",
    "REQ(HOST)": "authority",
    "REQ(:AUTHORITY?HOST)": "authority",
    "UPSTREAM_HOST": "upstream_host",
    "UPSTREAM_CLUSTER": "upstream_cluster",
    "UPSTREAM_CLUSTER_RAW": "upstream_cluster",
    "UPSTREAM_LOCAL_ADDRESS": "upstream_local_address",
    "DOWNSTREAM_LOCAL_ADDRESS": "downstream_local_address",
    "DOWNSTREAM_REMOTE_ADDRESS": "downstream_remote_address",
    "REQUESTED_SERVER_NAME": "requested_server_name",
    "ROUTE_NAME": "route_name",
}

#: Every canonical field, in the order records list them.
CANONICAL_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(_CANONICAL.values()))

#: Canonical fields holding integers (``-`` or a non-number reads as ``None``).
INT_FIELDS: frozenset[str] = frozenset(
    {"response_code", "bytes_received", "bytes_sent", "duration", "upstream_service_time"}
)

# %NAME%, %NAME(arg)%, %NAME(arg):N% and %NAME:N%. The argument may hold '%' and spaces
# (START_TIME takes a strftime pattern), so it ends at the first ')' followed by ':N%' or '%'.
_OPERATOR = re.compile(r"%([A-Z][A-Z0-9_]*)(?:\((.*?)\))?(?::(\d+))?%", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Operator:
    """One command operator: ``text`` is its canonical spelling (``REQ(:METHOD)``), ``field`` the
    canonical field name it fills, or ``text`` itself for operators meshtui treats generically."""

    name: str
    arg: str | None
    max_length: int | None
    text: str
    field: str


Token = str | Operator


def operator_field(text: str) -> str:
    """The canonical field of an operator spelled ``text`` (``REQ(:method)`` -> ``method``)."""
    upper = text.upper()
    field = _CANONICAL.get(upper)
    if field is not None:
        return field
    if upper.startswith("START_TIME("):  # a custom time format is still the start time
        return "start_time"
    return text


def tokenize(fmt: str) -> list[Token]:
    """Split a format string into literal strings and ``Operator``s, in order; never raises.

    Adjacent literals are merged; text that only looks like an operator stays literal.
    """
    tokens: list[Token] = []
    pos = 0
    for match in _OPERATOR.finditer(fmt):
        if match.start() > pos:
            _add_literal(tokens, fmt[pos : match.start()])
        name, arg, max_len = match.group(1), match.group(2), match.group(3)
        text = name if arg is None else f"{name}({arg})"
        tokens.append(
            Operator(name, arg, int(max_len) if max_len else None, text, operator_field(text))
        )
        pos = match.end()
    if pos < len(fmt):
        _add_literal(tokens, fmt[pos:])
    return tokens


def _add_literal(tokens: list[Token], text: str) -> None:
    if tokens and isinstance(tokens[-1], str):
        tokens[-1] += text
    else:
        tokens.append(text)


def normalize_text_format(fmt: str) -> str:
    """A TEXT format as the proxy uses it: without its final newline.

    Formats pasted from Istio's documentation spell quotes and the newline as ``\\"`` and
    ``\\n``; those escapes are undone so the pasted text works as well as the real one. Leading
    indentation is dropped and a format wrapped over several lines is joined with single spaces.
    """
    if '\\"' in fmt:
        fmt = fmt.replace('\\"', '"')
    fmt = fmt.strip(" \t\r\n")
    while fmt.endswith("\\n"):
        fmt = fmt[:-2].rstrip(" \t")
    # A format wrapped over several lines on a web page (or folded in YAML) is one line to
    # the proxy: each line break with the indentation around it stands for one space.
    return _LINE_BREAK.sub(" ", fmt)


_LINE_BREAK = re.compile(r"[ \t]*\r?\n[ \t]*")
