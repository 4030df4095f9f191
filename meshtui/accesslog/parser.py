"""Parsers that turn access-log lines into ``Record``s, compiled from an Envoy format.

``TextParser`` compiles a TEXT format string into one anchored regular expression whose groups
are the operators' values; ``JsonParser`` reads JSON-encoded lines (``accessLogEncoding: JSON``)
by the keys of the JSON format; ``AutoParser`` sends each line to one of them by its first
character. ``make_parser`` picks one from what the user or the mesh config says.

Every ``parse`` returns ``None`` for a line that does not fit (the caller counts and shows it)
and never raises, whatever the line or the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Protocol

from meshtui.accesslog.format import (
    ISTIO_JSON_FORMAT,
    ISTIO_TEXT_FORMAT,
    Operator,
    normalize_text_format,
    operator_field,
    tokenize,
)
from meshtui.accesslog.record import Record, record_class

try:  # orjson is a dependency; the fallback keeps the engine importable without it.
    from orjson import loads as _json_loads
except ImportError:  # pragma: no cover
    _json_loads = json.loads  # type: ignore[assignment]


class FormatError(ValueError):
    """A format the user gave cannot be used (e.g. a JSON format that is not a JSON object)."""


class Parser(Protocol):
    """What every parser offers."""

    #: The format it was compiled from, for display.
    description: str

    def parse(self, line: str) -> Record | None:
        """The record of ``line``, or ``None`` when the line does not fit the format."""
        ...


class TextParser:
    """A parser for one TEXT format string, compiled into a regular expression.

    Each operator's value runs up to the first character of the literal that follows it
    (``[^"]*+``), a possessive pattern with no backtracking. A line that fails that (a quote
    inside a user agent, say) is tried once more with values running up to the first
    occurrence of the whole following literal. Both patterns take linear time on any line.
    """

    def __init__(self, fmt: str | None = None) -> None:
        text = normalize_text_format(fmt if fmt else ISTIO_TEXT_FORMAT)
        if not text:
            text = normalize_text_format(ISTIO_TEXT_FORMAT)
        self.description = text
        tokens = tokenize(text)
        self.tokens = tokens
        self.operators: list[Operator] = [t for t in tokens if isinstance(t, Operator)]
        fast, tolerant = _compile(tokens)
        self._fast = fast.fullmatch
        self._tolerant = tolerant.fullmatch
        self.record_type = record_class(
            [op.text for op in self.operators], [_canonical_or_none(op) for op in self.operators]
        )

    def parse(self, line: str) -> Record | None:
        """The record of ``line`` (trailing newline allowed), or ``None`` when it does not fit."""
        match = self._fast(line)
        if match is None:
            line = line.rstrip("\r\n")
            match = self._fast(line) or self._tolerant(line)
            if match is None:
                stripped = line.strip()
                if stripped == line:
                    return None
                match = self._fast(stripped) or self._tolerant(stripped)
                if match is None:
                    return None
        return tuple.__new__(self.record_type, match.groups())

    def parse_exact(self, line: str) -> Record | None:
        """The record of ``line`` by the fast pattern only (each value up to the first character
        of the literal after it), ``None`` otherwise: telling formats apart needs this, as the
        tolerant pattern can read one format's line as another's with shifted fields."""
        match = self._fast(line.rstrip("\r\n"))
        return None if match is None else tuple.__new__(self.record_type, match.groups())


class JsonParser:
    """A parser for JSON-encoded lines, by the keys of a JSON format (Istio's default when none).

    Values are read as Envoy writes them: strings (``"-"`` when absent) or, with typed JSON,
    numbers and ``null``. Keys whose value in the format is not a single operator (or nested
    objects) are still reachable with ``Record.get(key)``.
    """

    def __init__(self, fmt: str | Mapping[str, Any] | None = None) -> None:
        mapping = parse_json_format(fmt) if isinstance(fmt, str) else (fmt or ISTIO_JSON_FORMAT)
        if not mapping:
            mapping = ISTIO_JSON_FORMAT
        self.description = json.dumps(dict(mapping), separators=(",", ":"))
        self.keys: tuple[str, ...] = tuple(mapping)
        canonical: list[str | None] = []
        for key in self.keys:
            value = mapping[key]
            field = None
            if isinstance(value, str):
                tokens = tokenize(value)
                if len(tokens) == 1 and isinstance(tokens[0], Operator):
                    field = _canonical_or_none(tokens[0])
            canonical.append(field)
        self.record_type = record_class(list(self.keys), canonical)

    def parse(self, line: str) -> Record | None:
        """The record of a JSON line, or ``None`` when it is not a JSON object."""
        try:
            obj = _json_loads(line)
        except (ValueError, TypeError, RecursionError):
            return None
        if type(obj) is not dict:
            return None
        return tuple.__new__(self.record_type, map(obj.get, self.keys))


class AutoParser:
    """Sends lines that start with ``{`` to a JSON parser and the rest to a TEXT parser, so a
    saved log works without saying its encoding (and a mixed one still parses)."""

    def __init__(self, text: TextParser | None = None, json_parser: JsonParser | None = None) -> None:
        self.text = text or TextParser()
        self.json = json_parser or JsonParser()
        self.description = self.text.description

    def parse(self, line: str) -> Record | None:
        """The record of ``line`` by whichever encoding it is in, or ``None``."""
        if line[:1] == "{" or (line[:1].isspace() and line.lstrip()[:1] == "{"):
            return self.json.parse(line)
        return self.text.parse(line)


def parse_json_format(text: str) -> dict[str, Any]:
    """A JSON access-log format (``accessLogFormat`` with ``accessLogEncoding: JSON``) as a dict;
    raises ``FormatError`` with a one-line cause when it is not a JSON object."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise FormatError(f"JSON log format is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise FormatError("JSON log format must be a JSON object of key: \"%OPERATOR%\"")
    return value


def make_parser(fmt: str | None = None, encoding: str | None = None) -> Parser:
    """The parser for a format and encoding as the user gives them (``--log-format``).

    ``encoding`` is ``TEXT``, ``JSON`` or ``None``; with ``None`` a format that starts with
    ``{`` is taken as JSON, and without a format lines are auto-detected: JSON, or Istio's
    default TEXT format of any release (``meshtui.accesslog.detect.DetectingParser``).
    Raises ``FormatError`` for an unusable JSON format or an unknown encoding.
    """
    enc = (encoding or "").strip().upper() or None
    if enc not in (None, "TEXT", "JSON"):
        raise FormatError(f"unknown access log encoding {encoding!r} (use TEXT or JSON)")
    looks_json = bool(fmt) and fmt.lstrip().startswith("{")  # type: ignore[union-attr]
    if enc == "JSON" or (enc is None and looks_json):
        return JsonParser(fmt or None)
    if enc == "TEXT":
        return TextParser(fmt)
    if fmt:
        return AutoParser(TextParser(fmt))
    return _detecting()


def _detecting() -> Parser:
    """Without a format: Istio's default of any release, Envoy's default, or JSON, by line."""
    from meshtui.accesslog.detect import DetectingParser  # detect builds on this module

    return DetectingParser()


def parser_from_mesh_config(fmt: str | None, encoding: str | None) -> Parser:
    """The parser for a mesh config's ``accessLogFormat`` / ``accessLogEncoding``, falling back as
    Istio does: an empty format means the default, and a JSON format that does not parse
    means the default JSON format (``FileAccessLogFromMeshConfig`` in istio/istio)."""
    enc = (encoding or "TEXT").strip().upper()
    if enc == "JSON":
        try:
            return AutoParser(json_parser=JsonParser(fmt or None))
        except FormatError:
            return AutoParser()
    # No format set: the proxy writes its own release's default, which may be an older one.
    return AutoParser(TextParser(fmt)) if fmt and fmt.strip() else _detecting()


def _canonical_or_none(op: Operator) -> str | None:
    field = operator_field(op.text)
    return None if field == op.text else field


def compile_fields(tokens: list[str | Operator], fields: list[str]) -> tuple[re.Pattern[str], list[int | None]]:
    """The fast pattern of a format with groups for ``fields`` (canonical names) only, and each
    field's group number (``None`` when the format lacks it; the first occurrence counts, as in
    ``record_class``). It matches exactly the lines the parser's fast pattern matches."""
    wanted: dict[int, str] = {}
    for i, token in enumerate(tokens):
        if isinstance(token, Operator):
            field = _canonical_or_none(token)
            if field in fields and field not in wanted.values():
                wanted[i] = field
    fast, _ = _compile(tokens, capture=set(wanted))
    order = sorted(wanted)
    group = {wanted[i]: n + 1 for n, i in enumerate(order)}
    return fast, [group.get(f) for f in fields]


def _compile(tokens: list[str | Operator], capture: set[int] | None = None) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The fast and tolerant patterns; with ``capture``, only the operators at those token
    indexes have a group (the others are matched the same way, without one)."""
    fast: list[str] = []
    tolerant: list[str] = []
    for i, token in enumerate(tokens):
        if isinstance(token, str):
            literal = re.escape(token)
            fast.append(literal)
            tolerant.append(literal)
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if following is None:
            # The last value runs to the end of the line, but never takes its line break.
            fast.append(r"([^\r\n]*+)")
            tolerant.append(r"([^\r\n]*+)")
        elif isinstance(following, Operator):
            # Two operators with nothing between them cannot be told apart in general; give
            # the first one a run of non-space characters.
            fast.append(r"(\S*+)")
            tolerant.append(r"(\S*+)")
        else:
            fast.append(f"([^{re.escape(following[0])}]*+)")
            tolerant.append(f"((?:(?!{re.escape(following)}).)*+)")
        if capture is not None and i not in capture:
            fast[-1] = "(?:" + fast[-1][1:]
            tolerant[-1] = "(?:" + tolerant[-1][1:]
    return re.compile("".join(fast), re.DOTALL), re.compile("".join(tolerant), re.DOTALL)
