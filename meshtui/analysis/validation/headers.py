"""Istio's checks of HTTP header names and values (``pkg/config/validation``:
``ValidateHTTPHeaderName``, ``ValidateCORSHTTPHeaderName``, ``ValidateProbeHeaderName``,
``ValidateHTTPHeaderValue`` with Envoy's header-format state machine), with istiod's error texts.
"""

from __future__ import annotations

import re

_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$")
_PROBE_HEADER_NAME = re.compile(r"^[-A-Za-z0-9]+$")
_HEADER_VALUE = re.compile("^[^\u0000-\u0008\u000a-\u001f\u007f]*$")


def check_header_name(name: str) -> str | None:
    """``ValidateHTTPHeaderNameOrJwtClaimRoute``."""
    if not name:
        return "header name cannot be empty"
    if is_jwt_claim(name) or name in (":method", ":scheme", ":authority", ":path", ":status"):
        return None
    if not _HEADER_NAME.match(name):
        return f"header name {name} is not a valid header name"
    return None


def check_cors_header_name(name: str) -> str | None:
    """``ValidateCORSHTTPHeaderName``."""
    if not name:
        return "header name cannot be empty"
    if name == "*" or _HEADER_NAME.match(name):
        return None
    return f"header name {name} is not a valid header name"


def check_probe_header_name(name: str) -> str | None:
    """``ValidateProbeHeaderName``."""
    if not name:
        return "header name cannot be empty"
    return None if _PROBE_HEADER_NAME.match(name) else f"header name {name} is not a valid header name"


def is_jwt_claim(name: str) -> bool:
    """``jwt.ToRoutingClaim(name).Match``: ``@request.auth.claims.<name>`` / ``[...]``."""
    for prefix in ("@request.auth.claims.", "@request.auth.claims["):
        if name.startswith(prefix) and len(name) > len(prefix):
            return True
    return False


def is_internal_header(name: str) -> bool:
    """``isInternalHeader``: a pseudo header or Host."""
    return name.startswith(":") or name.lower() == "host"


def is_authority_header(name: str) -> bool:
    """``isAuthorityHeader``."""
    return name.lower() in (":authority", "host")


def check_header_value(value: str) -> str | None:
    """``ValidateHTTPHeaderValue``: no control characters, and Envoy's ``%VAR%`` syntax."""
    if not _HEADER_VALUE.match(value):
        return f"header value configuration {value} is invalid"
    err = _envoy_header_format(value)
    return f"header value configuration: {err}" if err else None


def _envoy_header_format(value: str) -> str | None:
    """Envoy's header_parser state machine (Istio's ``validateHeaderValue``)."""
    literal, name, expect_array, expect_str, string, delim, args_end, var_end = range(8)
    state, pos = literal, 0
    while pos < len(value):
        ch = value[pos]
        has_next = pos + 1 < len(value)
        if state == literal:
            if ch == "%":
                if not has_next:
                    return "invalid header configuration. Un-escaped %"
                if value[pos + 1] == "%":
                    pos += 1
                else:
                    state = name
        elif state == name:
            if ch == "%":
                state = literal
            elif ch == "(":
                state = expect_array
        elif state == expect_array:
            if ch == "[":
                state = expect_str
            elif ch != " ":
                state = string
        elif state == delim:
            if ch == ",":
                state = expect_str
            elif ch == "]":
                state = args_end
            elif ch != " ":
                return "invalid header configuration. Expecting ',', ']', or whitespace"
        elif state == expect_str:
            if ch == '"':
                state = string
            elif ch != " ":
                return "invalid header configuration. Expecting '\"'"
        elif state == string:
            if ch == "\\":
                if not has_next:
                    return "invalid header configuration. Un-terminated backslash in JSON string"
                pos += 1
            elif ch == ")":
                state = var_end
            elif ch == '"':
                state = delim
        elif state == args_end:
            if ch == ")":
                state = var_end
            elif ch != " ":
                return "invalid header configuration. Expecting ')' or whitespace after '{}', but found '{}'"
        elif state == var_end:
            if ch == "%":
                state = literal
            elif ch != " ":
                return "invalid header configuration. Expecting '%' or whitespace after"
        pos += 1
    if state != literal:
        return f"invalid header configuration. Un-terminated variable expression '{value}'"
    return None
