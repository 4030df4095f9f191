"""RE2 regular expressions, as Envoy evaluates them, approximated with Python's ``re``.

Envoy's ``safe_regex`` is Google RE2: always a full match, linear time, and no constructs that
need backtracking. Python's ``re`` accepts a superset, so patterns are screened for the RE2-only
restrictions first (lookaround, backreferences, atomic groups, possessive quantifiers,
conditionals) and reported as invalid instead of silently matching differently.
"""

from __future__ import annotations

import re
from functools import lru_cache

# (pattern that finds the construct, what to call it). Checked on the pattern with escaped
# characters masked, so ``\(?=`` (a literal paren) is not mistaken for a lookahead.
_UNSUPPORTED: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\(\?="), "lookahead (?=...)"),
    (re.compile(r"\(\?!"), "negative lookahead (?!...)"),
    (re.compile(r"\(\?<="), "lookbehind (?<=...)"),
    (re.compile(r"\(\?<!"), "negative lookbehind (?<!...)"),
    (re.compile(r"\(\?>"), "atomic group (?>...)"),
    (re.compile(r"\(\?\("), "conditional (?(...)...)"),
    (re.compile(r"\(\?P="), "named backreference (?P=...)"),
    (re.compile(r"[*+?}]\+"), "possessive quantifier"),
)
_BACKREF = re.compile(r"\\[1-9]|\\k<|\\g<")
_ESCAPED = re.compile(r"\\.", re.S)


class RegexError(ValueError):
    """A pattern RE2 (and so Envoy and Istio's validation) would reject."""


def re2_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid RE2 expression, or None when it is."""
    if _BACKREF.search(pattern):
        return "backreferences are not supported by RE2"
    masked = _ESCAPED.sub("__", pattern)
    # A character class like [+*] can legitimately contain '+'; mask classes too.
    masked = re.sub(r"\[[^\]]*\]", "_", masked)
    for finder, what in _UNSUPPORTED:
        if finder.search(masked):
            return f"{what} is not supported by RE2"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    return None


def check_re2(pattern: str) -> None:
    """Raise ``RegexError`` with a one-line cause when ``pattern`` is not valid RE2."""
    problem = re2_problem(pattern)
    if problem:
        raise RegexError(f"regex {pattern!r}: {problem}")


@lru_cache(maxsize=4096)
def compile_re2(pattern: str) -> re.Pattern[str]:
    """The compiled pattern (ASCII classes, as RE2's ``\\d``/``\\w``); raises ``RegexError``."""
    check_re2(pattern)
    return re.compile(pattern, re.ASCII)


def full_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches ``pattern`` in full, as Envoy's ``safe_regex`` does."""
    compiled = compile_re2(pattern)
    if ignore_case:
        compiled = re.compile(compiled.pattern, re.ASCII | re.IGNORECASE)
    return compiled.fullmatch(value) is not None
