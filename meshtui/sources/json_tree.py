"""A JSON text as PyYAML nodes that carry the character span of every value, so that a JSON
manifest can be edited in place (PyYAML itself cannot read all JSON: tab indentation, ``\\/``)."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

_STR = "tag:yaml.org,2002:str"
_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_LITERALS = ("true", "false", "null")


def json_tree(text: str) -> yaml.Node:
    """A JSON text as PyYAML nodes with the character span of every value (PyYAML itself
    cannot read all JSON: tab indentation, ``\\/``); raises ``ValueError`` for invalid JSON."""
    node, end = _json_value(text, _skip(text, 0))
    if _skip(text, end) != len(text):
        raise ValueError("extra data after the JSON value")
    return node


def _mark(index: int) -> yaml.Mark:
    return yaml.Mark("<json>", index, 0, 0, None, None)


def _skip(text: str, i: int) -> int:
    """The index of the first character at or after ``i`` that is not JSON whitespace."""
    space = _WS.match(text, i)
    return space.end() if space else i


def _json_value(text: str, i: int) -> tuple[yaml.Node, int]:
    ch = text[i:i + 1]
    if ch == '"':
        value, end = json.decoder.scanstring(text, i + 1)  # type: ignore[attr-defined]
        return yaml.ScalarNode(_STR, value, _mark(i), _mark(end), '"'), end
    if ch in ("{", "["):
        closing = "}" if ch == "{" else "]"
        items: list[Any] = []
        j = _skip(text, i + 1)
        if text[j:j + 1] == closing:
            j += 1
        else:
            while True:
                if ch == "{":
                    key, j = _json_value(text, j)
                    if not isinstance(key, yaml.ScalarNode) or key.style != '"':
                        raise ValueError(f"a key must be a string (at {j})")
                    j = _skip(text, j)
                    if text[j:j + 1] != ":":
                        raise ValueError(f"':' expected at {j}")
                    value, j = _json_value(text, _skip(text, j + 1))
                    items.append((key, value))
                else:
                    value, j = _json_value(text, j)
                    items.append(value)
                j = _skip(text, j)
                sep = text[j:j + 1]
                j += 1
                if sep == closing:
                    break
                if sep != ",":
                    raise ValueError(f"',' or {closing!r} expected at {j - 1}")
                j = _skip(text, j)
        cls = yaml.MappingNode if ch == "{" else yaml.SequenceNode
        return cls("tag:yaml.org,2002:map" if ch == "{" else "tag:yaml.org,2002:seq", items, _mark(i), _mark(j)), j
    for word in _LITERALS:
        if text.startswith(word, i):
            return yaml.ScalarNode("tag:yaml.org,2002:" + word, word, _mark(i), _mark(i + len(word))), i + len(word)
    number = _NUMBER.match(text, i)
    if number is None or not number.group():
        raise ValueError(f"a JSON value expected at {i}")
    return yaml.ScalarNode("tag:yaml.org,2002:float", number.group(), _mark(i), _mark(number.end())), number.end()
