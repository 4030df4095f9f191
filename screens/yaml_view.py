"""A read-only, syntax-highlighted YAML view of one object."""

from __future__ import annotations

import io
import re
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
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]  # ruamel types it None
    out = io.StringIO()
    yaml.dump(obj, out)
    return out.getvalue()


_PATH_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def path_line(text: str, path: str) -> int | None:
    """The 1-based line of ``text`` (YAML) holding the field ``path`` (``spec.http[0].route``),
    or of its deepest ancestor present; None when not even the first step exists."""
    from ruamel.yaml import YAML

    try:
        node: Any = YAML(typ="rt").load(text)
    except Exception:  # noqa: BLE001 - no highlight rather than no YAML
        return None
    line: int | None = None
    for index, key in _PATH_PART.findall(path or ""):
        try:
            if index:
                at = node.lc.item(int(index))
                node = node[int(index)]
            else:
                at = node.lc.key(key)
                node = node[key]
        except (AttributeError, KeyError, IndexError, TypeError):
            break
        line = at[0] + 1
    return line


class YamlScreen(ModalScreen[None]):
    """Shows an object as YAML; esc or q closes it. With ``highlight_path`` (a finding's
    field, ``spec.http[0].route[0].destination.subset``) that line is highlighted and shown."""

    BINDINGS = [Binding("escape,q,y", "app.pop_screen", "Close", id="close")]

    def __init__(self, obj: dict[str, Any], highlight_path: str | None = None) -> None:
        super().__init__()
        self._obj = obj
        self._text = to_yaml(obj)
        #: The highlighted 1-based line, when ``highlight_path`` was found in the object.
        self.highlight_line = path_line(self._text, highlight_path) if highlight_path else None

    def compose(self) -> ComposeResult:
        lines = {self.highlight_line} if self.highlight_line else None
        with VerticalScroll(id="yaml-box"):
            yield Static(Syntax(self._text, "yaml", theme="ansi_dark", word_wrap=False,
                                line_numbers=lines is not None, highlight_lines=lines))

    def on_mount(self) -> None:
        """Bring the highlighted line into view, a few lines below the top."""
        if self.highlight_line:
            box = self.query_one("#yaml-box", VerticalScroll)
            self.call_after_refresh(box.scroll_to, y=max(0, self.highlight_line - 4), animate=False)
