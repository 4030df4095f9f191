"""Label and field selectors with the grammar of Kubernetes' ``labels.Parse`` / ``fields``.

Label selectors: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``,
``k>1``, ``k<1``, joined by commas. Field selectors: ``path=v``, ``path==v``, ``path!=v`` joined
by commas, on the field paths a resource supports (``metadata.name`` and
``metadata.namespace`` everywhere).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]


# One requirement each; bound with functools.partial so every term keeps its own key and value.
def _lacks(key: str, labels: dict[str, Any]) -> bool:
    return key not in labels


def _has(key: str, labels: dict[str, Any]) -> bool:
    return key in labels


def _equal(key: str, value: str, labels: dict[str, Any]) -> bool:
    return labels.get(key) == value


def _not_equal(key: str, value: str, labels: dict[str, Any]) -> bool:
    return labels.get(key) != value


def _in(key: str, values: frozenset[str], labels: dict[str, Any]) -> bool:
    return labels.get(key) in values


def _not_in(key: str, values: frozenset[str], labels: dict[str, Any]) -> bool:
    return labels.get(key) not in values


def _compare(key: str, bound: int, greater: bool, labels: dict[str, Any]) -> bool:
    return _num_cmp(labels.get(key), bound, greater)


def _field_equal(path: str, value: str, obj: dict[str, Any]) -> bool:
    return _get_path(obj, path) == value


def _field_not_equal(path: str, value: str, obj: dict[str, Any]) -> bool:
    return _get_path(obj, path) != value


class SelectorError(ValueError):
    """An unparsable selector; the message is what the API server says (HTTP 400)."""


_TOKEN = re.compile(r"\s*(!=|==|=|!|\(|\)|,|>|<|[^\s!=(),<>]+)")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip() == "":
                break
            raise SelectorError(f"unable to parse requirement: unexpected {text[pos:]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                  r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


def _check_key(key: str) -> str:
    if not _KEY.match(key) or len(key.rpartition("/")[2]) > 63:
        raise SelectorError(
            f'unable to parse requirement: <nil>: Invalid value: "{key}": name part must consist '
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character")
    return key


def parse_label_selector(text: str | None) -> Predicate | None:
    """A predicate on an object's ``metadata.labels``; None for an empty selector (all)."""
    if not text or not text.strip():
        return None
    toks = _tokens(text)
    reqs: list[Predicate] = []
    i = 0

    def expect_value(j: int) -> str:
        if j >= len(toks) or toks[j] in ("(", ")", ",", "=", "==", "!=", "!"):
            got = toks[j] if j < len(toks) else "end of string"
            raise SelectorError(f"unable to parse requirement: found '{got}', expected: identifier")
        return toks[j]

    while i < len(toks):
        if toks[i] == "!":
            key = _check_key(expect_value(i + 1))
            reqs.append(partial(_lacks, key))
            i += 2
        else:
            key = _check_key(expect_value(i))
            op = toks[i + 1] if i + 1 < len(toks) else ","
            if op == ",":
                reqs.append(partial(_has, key))
                i += 1
            elif op in ("=", "==", "!="):
                val = toks[i + 2] if i + 2 < len(toks) and toks[i + 2] not in (",",) else ""
                i += 3 if val else 2
                if op == "!=":
                    reqs.append(partial(_not_equal, key, val))
                else:
                    reqs.append(partial(_equal, key, val))
            elif op in ("in", "notin"):
                if i + 2 >= len(toks) or toks[i + 2] != "(":
                    raise SelectorError("unable to parse requirement: found '"
                                        + (toks[i + 2] if i + 2 < len(toks) else "end of string")
                                        + "', expected: '('")
                j = i + 3
                values: set[str] = set()
                while j < len(toks) and toks[j] != ")":
                    if toks[j] != ",":
                        values.add(toks[j])
                    j += 1
                if j >= len(toks):
                    raise SelectorError("unable to parse requirement: found 'end of string', "
                                        "expected: ',', ')' or identifier")
                i = j + 1
                if op == "in":
                    reqs.append(partial(_in, key, frozenset(values)))
                else:
                    reqs.append(partial(_not_in, key, frozenset(values)))
            elif op in (">", "<"):
                raw = expect_value(i + 2)
                try:
                    bound = int(raw)
                except ValueError:
                    raise SelectorError(f"unable to parse requirement: for 'gt', 'lt' operators, "
                                        f"the value must be an integer: {raw}") from None
                i += 3
                reqs.append(partial(_compare, key, bound, op == ">"))
            else:
                raise SelectorError(f"unable to parse requirement: found '{op}', expected: "
                                    "'=', '!=', '==', 'in', notin'")
        if i < len(toks):
            if toks[i] != ",":
                raise SelectorError(f"unable to parse requirement: found '{toks[i]}', expected: ','")
            i += 1

    def match(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(r(labels) for r in reqs)

    return match


def _num_cmp(value: str | None, bound: int, gt: bool) -> bool:
    try:
        n = int(value) if value is not None else None
    except ValueError:
        return False
    return n is not None and (n > bound if gt else n < bound)


def _get_path(obj: dict[str, Any], path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(text: str | None, supported: tuple[str, ...] = ()) -> Predicate | None:
    """A predicate on field paths; raises SelectorError for an unsupported field label."""
    if not text or not text.strip():
        return None
    allowed = {"metadata.name", "metadata.namespace", *supported}
    reqs: list[Predicate] = []
    for term in text.split(","):
        term = term.strip()
        if not term:
            continue
        m = re.match(r"^([^=!]+)(!=|==|=)(.*)$", term)
        if m is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        path, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        if path not in allowed:
            raise SelectorError(f'field label not supported: {path}')
        if op == "!=":
            reqs.append(partial(_field_not_equal, path, value))
        else:
            reqs.append(partial(_field_equal, path, value))
    if not reqs:
        return None
    return lambda o: all(r(o) for r in reqs)


def field_equals(text: str | None, path: str) -> str | None:
    """The value an ``path=value`` term pins, to answer e.g. ``metadata.name=x`` by key lookup."""
    if not text:
        return None
    for term in text.split(","):
        m = re.match(r"^\s*([^=!]+?)\s*(==|=)\s*(.*?)\s*$", term)
        if m and m.group(1) == path:
            return m.group(3)
    return None
