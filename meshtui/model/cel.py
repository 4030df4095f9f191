"""CEL rules of CRD schemas (``x-kubernetes-validations``), evaluated as the API server does.

The Common Expression Language itself comes from ``common-expression-language`` (Python
bindings of cel-rust): parsing, macros (``all``, ``exists``, ``exists_one``, ``filter``),
``has()``, ``duration()``, RE2-style ``matches``, and CEL's commutative ``&&``/``||`` (an
error on one side is absorbed when the other side decides). The API server adds Kubernetes'
extension libraries; the functions of them that Istio's and the Gateway API's CRDs use are
defined here: ``substring`` and ``split`` (strings), ``isIP`` (ip).

A rule that calls anything else raises :class:`CelUnsupported` so callers can skip it instead
of guessing; evaluation failures (a missing field, a malformed duration, a type mismatch, an
index out of range) raise :class:`CelError`, which the API server reports as a failed rule.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import threading
import types
from functools import lru_cache
from typing import Any

# The package's __init__ also imports its command-line tool (typer, prompt_toolkit: 0.25-0.35 s
# on every meshtui command that validates); a placeholder for that one submodule, which meshtui
# never uses, keeps the import at ~20 ms. The evaluator (the Rust extension, its stdlib) loads as
# it always does.
if "cel" not in sys.modules:
    sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))
import cel as _cel  # noqa: E402 - after the placeholder above


class CelError(Exception):
    """The rule could not be evaluated on this value (the API server rejects the object)."""


class CelUnsupported(Exception):
    """The rule is not CEL we can evaluate (a function of no library we have, or bad syntax)."""


def _substring(text: str, start: int, end: int | None = None) -> str:
    """Kubernetes' ``string.substring(start[, end])``: code points; out of range is an error."""
    stop = len(text) if end is None else end
    if not 0 <= start <= stop <= len(text):
        raise ValueError(f"substring({start}, {stop}) out of range for a string of length {len(text)}")
    return text[start:stop]


def _split(text: str, separator: str, limit: int | None = None) -> list[str]:
    """Kubernetes' ``string.split(separator[, limit])`` (Go's ``strings.SplitN``)."""
    if limit is None or limit < 0:
        return text.split(separator) if separator else list(text)
    if limit == 0:
        return []
    return text.split(separator, limit - 1) if separator else list(text[: limit - 1]) + [text[limit - 1:]]


def _is_ip(text: str) -> bool:
    """Kubernetes' ``isIP(string)``: an IPv4 or IPv6 address, without zone, not IPv4-mapped."""
    if "%" in text:
        return False
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return not (isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None)


# The binding logs a warning for every exception raised by a function we registered; we report
# those as CelError ourselves, so the log line would only be noise on the user's terminal.
logging.getLogger("cel").setLevel(logging.ERROR)

_EXTENSIONS = {"substring": _substring, "split": _split, "isIP": _is_ip}
_local = threading.local()


def _context(self_value: Any) -> Any:
    """This thread's evaluation context, holding ``self`` (contexts are not shared by threads)."""
    ctx = getattr(_local, "ctx", None)
    if ctx is None:
        ctx = _local.ctx = _cel.Context()
        for name, fn in _EXTENSIONS.items():
            ctx.add_function(name, fn)  # type: ignore[arg-type]  # the binding types it as a builtin function
    ctx.add_variable("self", self_value)
    return ctx


@lru_cache(maxsize=1024)
def compile_rule(text: str) -> Any:
    """The compiled rule (compiled once per text); ``CelUnsupported`` when it does not parse."""
    try:
        return _cel.compile(text)
    except ValueError as exc:
        raise CelUnsupported(f"cannot parse CEL rule {text!r}: {exc}") from None


def evaluate(text: str, self_value: Any) -> Any:
    """Evaluate rule ``text`` with ``self`` bound to ``self_value`` (plain JSON-like data)."""
    program = compile_rule(text)
    try:
        return program.execute(_context(self_value))
    except RuntimeError as exc:
        if "Undefined variable or function" in str(exc):
            raise CelUnsupported(str(exc)) from None
        raise CelError(str(exc)) from None
    except (KeyError, ValueError, TypeError, OverflowError, ZeroDivisionError, IndexError) as exc:
        raise CelError(f"{type(exc).__name__}: {exc}") from None
