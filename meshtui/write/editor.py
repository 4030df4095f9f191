"""Editing an object as YAML in the user's editor (``$VISUAL``, ``$EDITOR``, ``vi``): the text
round trip, without any UI. The UI suspends itself around ``edit_loop`` (or runs it off the
loop when it has no terminal to hand over) and sends the result down the one write path."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable

from meshtui.sources.base import RawObject


def editor_command() -> list[str]:
    """``$VISUAL``, else ``$EDITOR``, else ``vi``, split like a shell would."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def run_editor(text: str) -> str | None:
    """Let the user edit ``text`` in their editor (on a temporary file); the text saved, or
    None when the editor failed (it could not start, or exited with an error)."""
    fd, path = tempfile.mkstemp(prefix="meshtui-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            rc = subprocess.run([*editor_command(), path], check=False).returncode
        except OSError:
            return None
        if rc != 0:
            return None
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


def edit_loop(obj: RawObject, edit: Callable[[str], str | None]) -> tuple[RawObject | None, str | None]:
    """Edit ``obj`` as YAML until it parses: ``(edited object or None, message)``. Invalid text
    goes back to the editor with the error as a comment on top and the user's text kept."""
    from meshtui.write.yaml_edit import EditedTextError, edit_text, parse_edited

    text = edit_text(obj)
    while True:
        result = edit(text)
        if result is None:
            return None, f"the editor ({' '.join(editor_command())}) failed; nothing was changed"
        try:
            edited = parse_edited(result, obj)
        except EditedTextError as exc:
            text = edit_text(obj, error=str(exc), text=result)
            continue
        if edited is None:
            return None, "the file was emptied: edit cancelled"
        return edited, None
