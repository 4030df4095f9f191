"""A read-only, syntax-highlighted YAML view of one object."""

from __future__ import annotations

import io
from typing import Any

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def to_yaml(obj: dict[str, Any]) -> str:
    """Block-style YAML of a raw object, keys in their original order."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[attr-defined]
    out = io.StringIO()
    yaml.dump(obj, out)
    return out.getvalue()


class YamlScreen(ModalScreen[None]):
    """Shows an object as YAML; esc or q closes it."""

    BINDINGS = [Binding("escape,q,y", "app.pop_screen", "Close", id="close")]

    def __init__(self, obj: dict[str, Any]) -> None:
        super().__init__()
        self._obj = obj

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="yaml-box"):
            yield Static(Syntax(to_yaml(self._obj), "yaml", theme="ansi_dark", word_wrap=False))
