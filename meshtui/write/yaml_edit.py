"""Editing an object as YAML text (``e`` in the UI opens it in ``$EDITOR``): the text to
edit, reading the edited text back, and the edit function of what the user changed.

The text starts with a comment header; when the edited text does not parse (or is not the
same object any more), it is handed back to the editor with the error as a comment at the top
and the user's text below it, so nothing typed is lost. Comment lines at the top are ignored
when reading back.

The edit is three-way: only the paths the user changed (relative to the object as read) are
written onto the object the edit is applied to, so re-applying it after a conflict keeps the
other writer's changes elsewhere. Lists of the same length are compared element by element;
a list whose length changed is replaced whole.
"""

from __future__ import annotations

import copy
from typing import Any

from meshtui.routing.rules import ReleaseError
from meshtui.sources.base import ObjectKey, RawObject
from meshtui.write.plan import Edit, fingerprint, plain, render_yaml

HEADER = "# meshtui: edit {label}; save and quit to review the change, or empty the file to cancel.\n"
_MISSING = object()
# Fields an edit must not change: identity and what the server owns.
_FIXED = (("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace"))
_SERVER_OWNED = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


class EditedTextError(ValueError):
    """The edited text is not a valid edit of the object; the message is one line."""


def edit_text(obj: RawObject, error: str | None = None, text: str | None = None) -> str:
    """The text handed to the editor: a header (and ``error`` as comments) above the YAML of
    ``obj``, or above ``text`` (the user's previous attempt) when given."""
    label = str(ObjectKey.of(obj))
    head = HEADER.format(label=label)
    if error:
        head += "".join(f"# ERROR: {line}\n" for line in error.splitlines()) + "#\n"
    body = text if text is not None else _editable_yaml(obj)
    return head + _strip_header(body)


def _editable_yaml(obj: RawObject) -> str:
    shown = plain(obj)
    shown.pop("status", None)
    meta = shown.get("metadata")
    if isinstance(meta, dict):
        for key in _SERVER_OWNED:
            meta.pop(key, None)
    return render_yaml(shown)


def _strip_header(text: str) -> str:
    lines = text.splitlines(keepends=True)
    while lines and lines[0].lstrip().startswith("#"):
        lines.pop(0)
    return "".join(lines)


def parse_edited(text: str, base: RawObject) -> RawObject | None:
    """The object the user wrote (None when the file was emptied: cancelled).

    Raises ``EditedTextError`` for YAML that does not parse, is not a mapping, or changes the
    object's kind, name or namespace."""
    import yaml

    body = _strip_header(text)
    if not body.strip():
        return None
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise EditedTextError(f"YAML does not parse{where}: {problem}") from None
    if not isinstance(data, dict):
        raise EditedTextError("the YAML is not a mapping (an object with apiVersion, kind, metadata, spec)")
    for path in _FIXED:
        if _get(data, path) != _get(base, path):
            raise EditedTextError(f"{'.'.join(path)} cannot be changed here "
                                  f"({_get(base, path)!r} -> {_get(data, path)!r})")
    return data


def _get(obj: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def changes(before: Any, after: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any, Any]]:
    """The paths where ``after`` differs from ``before``: ``(path, old, new)``, ``_MISSING``
    standing for an absent key. Dicts recurse by key, equal-length lists by position."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in list(before) + [k for k in after if k not in before]:
            out.extend(changes(before.get(key, _MISSING), after.get(key, _MISSING), path + (key,)))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (a, b) in enumerate(zip(before, after)):
            out.extend(changes(a, b, path + (i,)))
        return out
    if before is _MISSING and after is _MISSING:
        return []
    if before is not _MISSING and after is not _MISSING and fingerprint(before) == fingerprint(after):
        return []
    return [(path, before, after)]


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if isinstance(obj, dict):
            obj = obj.get(part, _MISSING)
        elif isinstance(obj, list) and isinstance(part, int) and 0 <= part < len(obj):
            obj = obj[part]
        else:
            return _MISSING
        if obj is _MISSING:
            return obj
    return obj


def _path_text(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


def _same(a: Any, b: Any) -> bool:
    if a is _MISSING or b is _MISSING:
        return a is b
    return fingerprint(a) == fingerprint(b)


def three_way_edit(base: RawObject, edited: RawObject) -> Edit:
    """The edit that writes the user's changes (``base`` -> ``edited``) onto any object.

    Metadata the server owns is never written. On an object where a changed path no longer
    holds what ``base`` had there (someone else changed the same field), ``ReleaseError``."""
    diffs = [d for d in changes(plain(base), plain(edited))
             if not (len(d[0]) >= 2 and d[0][0] == "metadata" and d[0][1] in _SERVER_OWNED)
             and d[0] != ("status",) and (not d[0] or d[0][0] != "status")]

    def edit(obj: RawObject) -> RawObject:
        new = copy.deepcopy(obj)
        for path, old, value in diffs:
            here = _at(new, path)
            if not _same(here, old) and not _same(here, value):
                raise ReleaseError(f"{_path_text(path)} was changed by someone else too")
            parent = _at(new, path[:-1]) if len(path) > 1 else new
            if parent is _MISSING:
                # Create the missing parents (a new map where the user added a nested field).
                parent = new
                for part in path[:-1]:
                    if not isinstance(parent, dict):
                        raise ReleaseError(f"{_path_text(path)} cannot be written on the current object")
                    parent = parent.setdefault(part, {})
            key = path[-1]
            if value is _MISSING:
                if isinstance(parent, dict):
                    parent.pop(key, None)
                continue
            if isinstance(parent, dict):
                parent[key] = copy.deepcopy(value)
            elif isinstance(parent, list) and isinstance(key, int) and 0 <= key < len(parent):
                parent[key] = copy.deepcopy(value)
            else:
                raise ReleaseError(f"{_path_text(path)} cannot be written on the current object")
        return new

    return edit


def describe_changes(base: RawObject, edited: RawObject) -> str:
    """``edit in $EDITOR: spec.http[1].route[0].weight, …`` for the audit log."""
    paths = [_path_text(p) for p, _, _ in changes(plain(base), plain(edited))
             if p and p[0] != "status" and not (len(p) >= 2 and p[0] == "metadata" and p[1] in _SERVER_OWNED)]
    shown = ", ".join(paths[:3]) + (f" (+{len(paths) - 3} more)" if len(paths) > 3 else "")
    return f"edit in $EDITOR: {shown or 'no change'}"
