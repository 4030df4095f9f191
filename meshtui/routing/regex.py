"""RE2 regular expressions, as Envoy evaluates them, through Google's RE2 library.

Envoy's ``safe_regex`` is Google RE2: always a full match, linear time, POSIX classes such as
``[[:digit:]]`` and Unicode classes such as ``\\pL``, and no construct that needs backtracking
(lookaround, backreferences, atomic groups, possessive quantifiers, conditionals). The
``google-re2`` binding gives exactly those semantics, so a pattern that Envoy rejects is
reported as invalid here instead of silently matching differently.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2


# RE2 names the operator it stopped at; say which Perl construct that is, since people who write
# ``(?!admin).*`` think of it as a negative lookahead, not as an "invalid perl operator".
_CONSTRUCTS: tuple[tuple[str, str], ...] = (
    ("(?<=", "lookbehind (?<=...)"),
    ("(?<!", "negative lookbehind (?<!...)"),
    ("(?=", "lookahead (?=...)"),
    ("(?!", "negative lookahead (?!...)"),
    ("(?>", "atomic group (?>...)"),
    ("(?(", "conditional (?(...)...)"),
    ("(?P=", "named backreference (?P=...)"),
)


class RegexError(ValueError):
    """A pattern RE2 (and so Envoy and Istio's validation) would reject."""


def _options(*, ignore_case: bool = False) -> Any:
    """RE2 options: UTF-8 input, no logging of bad patterns to stderr (we report them)."""
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    return options


@lru_cache(maxsize=4096)
def _compile(pattern: str, ignore_case: bool) -> Any:
    """The compiled pattern, or the RE2 error text as a ``RegexError``."""
    try:
        return re2.compile(pattern, _options(ignore_case=ignore_case))
    except re2.error as exc:
        cause = exc.args[0] if exc.args else exc
        text = cause.decode("utf-8", "replace") if isinstance(cause, bytes) else str(cause)
        text = _explained(text)
        raise RegexError(f"regex {pattern!r}: {text}") from None


def _explained(text: str) -> str:
    """RE2's error text, with the unsupported Perl construct named when that is the cause."""
    if text.startswith("invalid perl operator: "):
        operator = text.removeprefix("invalid perl operator: ")
        for prefix, what in _CONSTRUCTS:
            if operator.startswith(prefix) or (len(operator) >= 3 and prefix.startswith(operator)):
                return f"{what} is not supported by RE2 ({text})"
    if text.startswith("invalid escape sequence: \\") and text[-1:].isdigit():
        return f"backreferences are not supported by RE2 ({text})"
    return text


def re2_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid RE2 expression, or None when it is."""
    try:
        _compile(pattern, False)
    except RegexError as exc:
        return str(exc).split(": ", 1)[1]
    return None


def check_re2(pattern: str) -> None:
    """Raise ``RegexError`` with a one-line cause when ``pattern`` is not valid RE2."""
    _compile(pattern, False)


def compile_re2(pattern: str) -> Any:
    """The compiled RE2 pattern (``fullmatch``, ``sub`` with ``\\1`` groups); raises ``RegexError``."""
    return _compile(pattern, False)


def full_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``pattern`` in full, as Envoy's ``safe_regex`` does."""
    return _compile(pattern, ignore_case).fullmatch(value) is not None
