"""Every binding id of meshtui's screens and widgets: what a user's keymap may name."""

from __future__ import annotations

import importlib
import inspect

from textual.binding import Binding
from textual.dom import DOMNode

#: The modules whose screens and widgets declare bindings.
_MODULES = (
    "meshtui.app", "meshtui.screens.analyze", "meshtui.screens.change_preview",
    "meshtui.screens.context_picker", "meshtui.screens.edit_form", "meshtui.screens.history",
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
