"""Istio's catalogue of analysis messages (``meshtui/data/messages.yaml``), and Go-style text.

The catalogue is Istio's own ``pkg/config/analysis/msg/messages.yaml``, shipped unchanged, so
codes, names, levels and templates are exactly Istio's. Templates are Go ``fmt`` strings;
:func:`go_format` fills them the way Go prints the argument types Istio passes (``%s``, ``%q``,
``%d``, ``%v``; a list prints as ``[a b]``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

DOC_URL = "https://istio.io/latest/docs/reference/config/analysis/{code}/"
_FILE = "messages.yaml"


@dataclass(frozen=True, slots=True)
class MessageType:
    """One catalogue entry: name, code (``IST0101``), level and the Go template of its text."""

    name: str
    code: str
    level: str
    description: str
    template: str

    @property
    def documentation_url(self) -> str | None:
        """Istio's documentation page for an ``IST`` code (None for meshtui's own codes)."""
        return DOC_URL.format(code=self.code.lower()) if self.code.startswith("IST") else None


@functools.cache
def catalogue() -> dict[str, MessageType]:
    """Message name -> type, read once from the catalogue shipped in ``meshtui.data``."""
    import yaml

    # Reading a file of the installed package, like the CRD schemas in meshtui.model.schema.
    text = resources.files("meshtui.data").joinpath(_FILE).read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    out: dict[str, MessageType] = {}
    for entry in doc.get("messages") or []:
        out[entry["name"]] = MessageType(entry["name"], entry["code"], entry["level"],
                                         entry.get("description", ""), entry.get("template", ""))
    return out


def _go_value(value: Any) -> str:
    """``%v`` / ``%s`` of a Go value: lists as ``[a b]``, the rest as str."""
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_go_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def go_quote(value: str) -> str:
    """Go's ``%q`` of a string (a double-quoted, escaped literal)."""
    return json.dumps(value, ensure_ascii=False)


def go_format(template: str, args: tuple[Any, ...]) -> str:
    """Fill a Go ``fmt`` template with ``args`` (verbs ``%s %q %d %v``; ``%%`` is a percent)."""
    out: list[str] = []
    i = 0
    n = 0
    while i < len(template):
        ch = template[i]
        if ch != "%" or i + 1 >= len(template):
            out.append(ch)
            i += 1
            continue
        verb = template[i + 1]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        arg = args[n] if n < len(args) else "%!" + verb + "(MISSING)"
        n += 1
        if verb == "q":
            if isinstance(arg, (list, tuple)):
                out.append("[" + " ".join(go_quote(str(a)) for a in arg) + "]")
            else:
                out.append(go_quote(str(arg)))
        else:
            out.append(_go_value(arg))
    return "".join(out)
