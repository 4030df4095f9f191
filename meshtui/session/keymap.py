"""User key bindings from the settings file: ``$XDG_CONFIG_HOME/meshtui/keys.toml`` (default
``~/.config/meshtui/keys.toml``), a ``[keys]`` table mapping a binding id to the keys that
should trigger it instead (Textual's keymap: comma-separated keys)::

    [keys]
    logs-pause = "space"
    edit-routes = "w,ctrl+e"

A missing file is no keymap. A file that does not parse, or an entry that is not a string, is
reported as a problem line and left out; what remains still applies.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path

KEYMAP_FILE = "keys.toml"


def keymap_path() -> Path:
    """Where the settings file is looked for."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "meshtui" / KEYMAP_FILE


def load_keymap(path: str | os.PathLike[str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The keymap (binding id → keys) of the settings file, and one line per problem in it."""
    file = Path(path) if path is not None else keymap_path()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"{file}: {exc}; key bindings left as they are"]
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        return {}, [f"{file}: [keys] must be a table of binding id = \"keys\""]
    keymap: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, value in keys.items():
        if isinstance(value, str) and value.strip():
            keymap[binding_id] = ",".join(k.strip() for k in value.split(",") if k.strip())
        else:
            problems.append(f"{file}: keys.{binding_id} must be a string of keys such as \"ctrl+e\"")
    return keymap, problems


def unknown_ids(keymap: dict[str, str], known: Iterable[str]) -> list[str]:
    """The keymap's binding ids that no binding has (misspelt: they would silently do nothing)."""
    have = set(known)
    return sorted(i for i in keymap if i not in have)
