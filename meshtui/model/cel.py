"""A small interpreter for the subset of CEL used by Istio's CRD validation rules.

Kubernetes evaluates ``x-kubernetes-validations`` rules (Common Expression Language) on the
API server. Istio's CRDs use a handful of constructs: ``self`` and field selection, ``has()``,
the ternary, boolean and comparison operators, ``in``, ``+``, list literals, ``size()``,
string methods (``contains``, ``startsWith``, ``endsWith``, ``matches``, ``substring``), the
``all`` / ``exists`` / ``exists_one`` macros and ``duration()``. That is what is implemented.
Anything else raises :class:`CelUnsupported` so callers can skip a rule instead of guessing;
evaluation failures (a missing field, a malformed duration, a type mismatch) raise
:class:`CelError`, which the API server reports as a failed rule.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any


class CelError(Exception):
    """The rule could not be evaluated on this value (the API server rejects the object)."""


class CelUnsupported(Exception):
    """The rule uses CEL this interpreter does not implement."""


@dataclass(frozen=True, order=True, slots=True)
class Duration:
    """A CEL ``google.protobuf.Duration`` value, in nanoseconds."""

    nanos: int


# Raw strings (r"...", r'...', r"""...""", no escapes): the Gateway API CRDs write regexes so.
_RAW = r"""[rR](?:"{3}[\s\S]*?"{3}|'{3}[\s\S]*?'{3}|"[^"]*"|'[^']*')"""
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<num>\d+\.\d+|\d+)
    | (?P<raw>""" + _RAW + r""")
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}])
    )""", re.VERBOSE)

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_NANOS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
               "h": 3600 * 10**9}


def parse_duration(text: str) -> Duration:
    """Parse a Go duration string (``300ms``, ``1h30m``, ``1.5s``) as CEL's ``duration()`` does."""
    s = text.strip()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    if s == "0":
        return Duration(0)
    pos, total = 0, 0.0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m:
            raise CelError(f"invalid duration {text!r}")
        total += float(m.group(1)) * _UNIT_NANOS[m.group(2)]
        pos = m.end()
    if not s:
        raise CelError(f"invalid duration {text!r}")
    return Duration(sign * int(round(total)))


# RE2 takes a flag group such as (?i) anywhere; Python only at the start of the pattern.
_INLINE_FLAGS = re.compile(r"\(\?([imsU]+)\)")


def _re2_search(pattern: str, target: str) -> bool:
    """CEL ``matches``: an RE2 search. Flag groups written after ``^`` are moved to the front
    (``^(?i)x`` is ``(?i)^x``); a pattern Python cannot read makes the rule unevaluable."""
    flags = "".join(sorted(set("".join(_INLINE_FLAGS.findall(pattern))) - {"U"}))
    if flags:
        pattern = f"(?{flags})" + _INLINE_FLAGS.sub("", pattern)
    try:
        return re.search(pattern, target) is not None
    except re.error as exc:
        raise CelUnsupported(f"regex {pattern!r}: {exc}") from None


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise CelUnsupported(f"cannot tokenize {text[pos:]!r}")
        pos = m.end()
        if m.group("num"):
            num = m.group("num")
            out.append(("lit", float(num) if "." in num else int(num)))
        elif m.group("raw"):
            body = m.group("raw")[1:]
            quote = 3 if body[:3] in ('"""', "'''") else 1
            out.append(("lit", body[quote:-quote]))
        elif m.group("str"):
            raw = m.group("str")[1:-1]
            out.append(("lit", raw.encode("utf-8").decode("unicode_escape") if "\\" in raw else raw))
        elif m.group("id"):
            word = m.group("id")
            if word in ("true", "false"):
                out.append(("lit", word == "true"))
            elif word == "null":
                out.append(("lit", None))
            elif word == "in":
                out.append(("op", "in"))
            else:
                out.append(("id", word))
        else:
            out.append(("op", m.group("op")))
    out.append(("end", None))
    return out


class _Parser:
    """Recursive-descent parser producing tuples: (node-type, ...)."""

    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, Any]:
        return self.toks[self.i]

    def take(self, value: str | None = None) -> tuple[str, Any]:
        tok = self.toks[self.i]
        if value is not None and tok != ("op", value):
            raise CelUnsupported(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def at(self, *ops: str) -> bool:
        kind, value = self.peek()
        return kind == "op" and value in ops

    def parse(self) -> tuple[Any, ...]:
        node = self.expr()
        if self.peek()[0] != "end":
            raise CelUnsupported(f"unexpected {self.peek()[1]!r}")
        return node

    def expr(self) -> tuple[Any, ...]:
        cond = self.binary(0)
        if self.at("?"):
            self.take("?")
            yes = self.expr()
            self.take(":")
            return ("cond", cond, yes, self.expr())
        return cond

    _LEVELS = (("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "in"), ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> tuple[Any, ...]:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.at(*self._LEVELS[level]):
            op = self.take()[1]
            left = ("bin", op, left, self.binary(level + 1))
        return left

    def unary(self) -> tuple[Any, ...]:
        if self.at("!", "-"):
            op = self.take()[1]
            return ("un", op, self.unary())
        return self.member()

    def member(self) -> tuple[Any, ...]:
        node = self.primary()
        while self.at(".", "["):
            if self.take()[1] == ".":
                kind, name = self.take()
                if kind != "id":
                    raise CelUnsupported(f"expected a field name, got {name!r}")
                if self.at("("):
                    node = ("call", name, node, self.args())
                else:
                    node = ("sel", node, name)
            else:
                index = self.expr()
                self.take("]")
                node = ("index", node, index)
        return node

    def args(self) -> list[tuple[Any, ...]]:
        self.take("(")
        out: list[tuple[Any, ...]] = []
        while not self.at(")"):
            out.append(self.expr())
            if not self.at(")"):
                self.take(",")
        self.take(")")
        return out

    def primary(self) -> tuple[Any, ...]:
        kind, value = self.take()
        if kind == "lit":
            return ("lit", value)
        if kind == "id":
            if self.at("("):
                return ("call", value, None, self.args())
            return ("var", value)
        if value == "(":
            node = self.expr()
            self.take(")")
            return node
        if value == "[":
            items: list[tuple[Any, ...]] = []
            while not self.at("]"):
                items.append(self.expr())
                if not self.at("]"):
                    self.take(",")
            self.take("]")
            return ("list", items)
        raise CelUnsupported(f"unexpected {value!r}")


@functools.lru_cache(maxsize=512)
def compile_rule(text: str) -> tuple[Any, ...]:
    """Parse a rule once; raises CelUnsupported for syntax outside the subset."""
    return _Parser(text).parse()


def evaluate(text: str, self_value: Any) -> Any:
    """Evaluate rule ``text`` with ``self`` bound to ``self_value`` (a decoded JSON value)."""
    return _eval(compile_rule(text), {"self": self_value})


_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})


def _eval(node: tuple[Any, ...], env: dict[str, Any]) -> Any:
    tag = node[0]
    if tag == "lit":
        return node[1]
    if tag == "var":
        if node[1] not in env:
            raise CelUnsupported(f"unknown identifier {node[1]!r}")
        return env[node[1]]
    if tag == "list":
        return [_eval(n, env) for n in node[1]]
    if tag == "sel":
        target = _eval(node[1], env)
        if not isinstance(target, dict):
            raise CelError(f"cannot select {node[2]!r} from {type(target).__name__}")
        if node[2] not in target:
            raise CelError(f"no such key: {node[2]}")
        return target[node[2]]
    if tag == "index":
        target, key = _eval(node[1], env), _eval(node[2], env)
        try:
            return target[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise CelError(f"bad index {key!r}") from exc
    if tag == "cond":
        return _eval(node[2] if _bool(_eval(node[1], env)) else node[3], env)
    if tag == "un":
        value = _eval(node[2], env)
        if node[1] == "!":
            return not _bool(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CelError("unary minus on a non-number")
        return -value
    if tag == "bin":
        return _binary(node[1], node[2], node[3], env)
    if tag == "call":
        return _call(node[1], node[2], node[3], env)
    raise CelUnsupported(f"node {tag}")


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise CelError(f"expected bool, got {type(value).__name__}")
    return value


def _binary(op: str, left_node: tuple[Any, ...], right_node: tuple[Any, ...], env: dict[str, Any]) -> Any:
    if op == "&&":
        return _bool(_eval(left_node, env)) and _bool(_eval(right_node, env))
    if op == "||":
        return _bool(_eval(left_node, env)) or _bool(_eval(right_node, env))
    left, right = _eval(left_node, env), _eval(right_node, env)
    if op == "in":
        if not isinstance(right, (list, dict)):
            raise CelError("'in' needs a list or map")
        return left in right
    if op == "==":
        return left == right and type(left) is type(right) or _num_eq(left, right)
    if op == "!=":
        return not (left == right and type(left) is type(right) or _num_eq(left, right))
    try:
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        if op == "+":
            if type(left) is not type(right) and not _numbers(left, right):
                raise CelError("'+' on mixed types")
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op in ("/", "%"):
            if right == 0:
                raise CelError("division by zero")
            return left // right if op == "/" and isinstance(left, int) else (left / right if op == "/" else left % right)
    except TypeError as exc:
        raise CelError(f"no such overload: {op}") from exc
    raise CelUnsupported(f"operator {op}")


def _numbers(*values: Any) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _num_eq(left: Any, right: Any) -> bool:
    return _numbers(left, right) and left == right


def _call(name: str, target_node: tuple[Any, ...] | None, args: list[tuple[Any, ...]], env: dict[str, Any]) -> Any:
    if name == "has" and target_node is None:
        if len(args) != 1 or args[0][0] != "sel":
            raise CelUnsupported("has() needs a field selection")
        target = _eval(args[0][1], env)
        return isinstance(target, dict) and args[0][2] in target
    if name in _MACROS and target_node is not None:
        return _macro(name, _eval(target_node, env), args, env)
    values = [_eval(a, env) for a in args]
    if target_node is None:
        if name == "size" and len(values) == 1:
            return _size(values[0])
        if name == "duration" and len(values) == 1:
            if not isinstance(values[0], str):
                raise CelError("duration() needs a string")
            return parse_duration(values[0])
        raise CelUnsupported(f"function {name}()")
    target = _eval(target_node, env)
    if name == "size" and not values:
        return _size(target)
    if not isinstance(target, str):
        raise CelUnsupported(f"method {name}() on {type(target).__name__}")
    if name in ("contains", "startsWith", "endsWith", "matches") and len(values) == 1:
        arg = values[0]
        if not isinstance(arg, str):
            raise CelError(f"{name}() needs a string")
        if name == "contains":
            return arg in target
        if name == "startsWith":
            return target.startswith(arg)
        if name == "endsWith":
            return target.endswith(arg)
        return _re2_search(arg, target)
    if name == "substring" and 1 <= len(values) <= 2:
        start = values[0]
        end = values[1] if len(values) == 2 else len(target)
        if not (0 <= start <= end <= len(target)):
            raise CelError("substring index out of range")
        return target[start:end]
    if name == "lowerAscii" and not values:
        return target.lower()
    raise CelUnsupported(f"method {name}()")


def _size(value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise CelError("size() of a non-collection")


def _macro(name: str, target: Any, args: list[tuple[Any, ...]], env: dict[str, Any]) -> Any:
    if len(args) != 2 or args[0][0] != "var":
        raise CelUnsupported(f"{name}() needs (variable, expression)")
    if not isinstance(target, (list, dict)):
        raise CelError(f"{name}() on a non-collection")
    var = args[0][1]
    body = args[1]
    items = list(target)  # a map iterates over its keys

    def test(item: Any) -> Any:
        return _eval(body, {**env, var: item})

    if name == "all":
        return all(_bool(test(x)) for x in items)
    if name == "exists":
        return any(_bool(test(x)) for x in items)
    if name == "exists_one":
        return sum(1 for x in items if _bool(test(x))) == 1
    if name == "filter":
        return [x for x in items if _bool(test(x))]
    return [test(x) for x in items]
