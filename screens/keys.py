"""Every binding id of meshtui's screens and widgets: what a user's keymap may name."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode

from meshtui.session.keymap import load_keymap, unknown_ids

#: The modules whose screens and widgets declare bindings.
_MODULES = (
    "meshtui.app", "meshtui.screens.analyze", "meshtui.screens.browse_keys", "meshtui.screens.change_preview",
    "meshtui.screens.confirm", "meshtui.screens.describe",
    "meshtui.screens.context_picker", "meshtui.screens.edit_form", "meshtui.screens.help", "meshtui.screens.history",
    "meshtui.screens.kind_view", "meshtui.screens.logs", "meshtui.screens.mesh", "meshtui.screens.prompt",
    "meshtui.screens.proxy_config", "meshtui.screens.proxy_config_diff", "meshtui.screens.release_forms",
    "meshtui.screens.route_editor", "meshtui.screens.service_endpoints", "meshtui.screens.trace",
    "meshtui.screens.yaml_view", "meshtui.widgets.big_table", "meshtui.widgets.log_view",
    "meshtui.widgets.weight_editor",
)


def binding_ids() -> set[str]:
    """The id of every binding declared by a screen, widget or the app."""
    ids: set[str] = set()
    for name in _MODULES:
        module = importlib.import_module(name)
        for _n, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == name:
                for binding in cls.BINDINGS:
                    if isinstance(binding, Binding) and binding.id:
                        ids.add(binding.id)
    return ids


class UserKeymap:
    """The user's key bindings (``meshtui.session.keymap``) applied to an app."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path
        self._keymap: dict[str, str] = {}
        self._checked = False

    def apply(self, app: App[Any]) -> None:
        """Read the settings file and remap the bindings it names; say what is wrong in it."""
        self._keymap, problems = load_keymap(self._path)
        app.set_keymap(self._keymap)
        for problem in problems:
            app.notify(problem, severity="warning", timeout=10)

    def check(self, app: App[Any]) -> None:
        """Say which ids no binding has, once (done after the first screen shows: it imports
        every screen)."""
        if self._checked or not self._keymap:
            return
        self._checked = True
        unknown = unknown_ids(self._keymap, binding_ids())
        if unknown:
            app.notify(f"keys.toml: no binding has the id {', '.join(unknown)}", severity="warning", timeout=10)
