"""Edit a document by rewriting only the text of the values that changed.

Most edits change values, not structure: a weight shift rewrites a few numbers. Such an edit is
carried out on the document text directly, at the character spans PyYAML's composer reports for
each value, so everything else (flow-style lists spread over several lines and their comments,
JSON layout, odd indentation) stays byte for byte. A JSON document stays JSON even when the
structure changes: the smallest value that changed is re-rendered as JSON in the layout around it.

What this cannot do returns ``None`` and the caller falls back to the round-trip editor: a
structural change in YAML, a value reached through an alias (it would change every place that
shares it), a merge key on the way, a block scalar (``|``, ``>``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import yaml

from meshtui.sources.json_tree import json_tree
from meshtui.sources.yaml_align import fingerprint

Path = tuple[Any, ...]
_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_JSON_START = re.compile(r"[ \t\r\n]*\{")
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./@+-]*")


def replacements(base: Any, new: Any, path: Path = ()) -> list[tuple[Path, Any]]:
    """The values to replace to turn ``base`` into ``new``: ``(path, new value)``, descending
    into maps with the same keys and lists of the same length, so a structural difference
    replaces the smallest map or list that holds it."""
    if isinstance(base, dict) and isinstance(new, dict) and list(base) == list(new):
        return [r for k in base for r in replacements(base[k], new[k], path + (k,))]
    if isinstance(base, list) and isinstance(new, list) and len(base) == len(new):
        return [r for i, (b, n) in enumerate(zip(base, new)) for r in replacements(b, n, path + (i,))]
    if fingerprint(base) == fingerprint(new):
        return []
    return [(path, new)]


def is_json(doc_text: str) -> bool:
    """Whether the document is JSON (a ``{``-led object that a JSON parser reads)."""
    if _JSON_START.match(doc_text) is None:
        return False
    try:
        json.loads(doc_text)
    except ValueError:
        return False
    return True


def _json_edits(base: Any, new: Any, path: Path = ()) -> list[tuple[str, Path, Any]]:
    """Like ``replacements``, but a map whose keys changed (the kept ones in the same order)
    becomes member edits: ``("set", path, value)``, ``("delete", path, None)`` and
    ``("add", path + (key,), value)``, so a JSON text keeps the layout of the members kept."""
    if isinstance(base, dict) and isinstance(new, dict) and list(base) != list(new):
        kept = [k for k in base if k in new]
        removed, added = len(base) - len(kept), len(new) - len(kept)
        # Members are added after the last kept one or removed, not both at once (the commas
        # of the two would meet), and a map keeps at least one member to anchor an addition.
        if kept and kept == [k for k in new if k in base] and not (removed and added):
            out: list[tuple[str, Path, Any]] = [("delete", path + (k,), None) for k in base if k not in new]
            for k in kept:
                out.extend(_json_edits(base[k], new[k], path + (k,)))
            out.extend(("add", path + (k,), new[k]) for k in new if k not in base)
            return out
    if isinstance(base, dict) and isinstance(new, dict) and list(base) == list(new):
        return [e for k in base for e in _json_edits(base[k], new[k], path + (k,))]
    if isinstance(base, list) and isinstance(new, list) and len(base) == len(new):
        return [e for i, (b, n) in enumerate(zip(base, new)) for e in _json_edits(b, n, path + (i,))]
    if fingerprint(base) == fingerprint(new):
        return []
    return [("set", path, new)]


def patch_document(doc_text: str, base: Any, new: Any, item: int | None) -> str | None:
    """``doc_text`` with the values that differ between ``base`` and ``new`` rewritten in place
    (``item``: the object's index in a ``kind: List``), or ``None`` when that is not possible."""
    prefix: Path = ("items", item) if item is not None else ()
    as_json = is_json(doc_text)
    edits = _json_edits(base, new) if as_json else [("set", p, v) for p, v in replacements(base, new)]
    if not edits:
        return doc_text
    try:
        root = json_tree(doc_text) if as_json else yaml.compose(doc_text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, ValueError):
        return None
    if root is None:
        return None
    shared = _shared_nodes(root)
    spans: list[tuple[int, int, str]] = []
    for op, path, value in edits:
        span = _edit_span(doc_text, root, shared, op, prefix + path, value, as_json)
        if span is None:
            return None
        spans.append(span)
    spans.sort()
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
        return None
    out = doc_text
    for start, end, text in reversed(spans):
        out = out[:start] + text + out[end:]
    return out if _reads_as_edited(doc_text, out, [(op, prefix + path, value) for op, path, value in edits]) else None


def _load(text: str, as_json: bool) -> Any:
    return json.loads(text) if as_json else yaml.load(text, Loader=yaml.SafeLoader)


def _reads_as_edited(before: str, after: str, edits: list[tuple[str, Path, Any]]) -> bool:
    """Whether ``after`` reads as ``before`` with exactly ``edits`` made (a value rendered in a
    style that reads back otherwise, say ``1e-05`` as a string in YAML 1.1, is caught here)."""
    as_json = is_json(before)
    try:
        expected, got = _load(before, as_json), _load(after, as_json)
    except (yaml.YAMLError, ValueError):
        return False
    for op, path, value in edits:
        parent = expected
        for part in path[:-1]:
            parent = parent[part]
        if op == "delete":
            del parent[path[-1]]
        elif path:
            parent[path[-1]] = value
        else:
            expected = value
    return fingerprint(expected) == fingerprint(got)


def _edit_span(text: str, root: yaml.Node, shared: set[int], op: str, path: Path, value: Any,
               as_json: bool) -> tuple[int, int, str] | None:
    """The (start, end, replacement) in ``text`` that carries out one edit, or None."""
    if op == "set":
        node = _node_at(root, path, shared)
        if node is None:
            return None
        if isinstance(node, yaml.ScalarNode) and not isinstance(value, (dict, list)):
            rendered = _scalar_text(value, node.style, as_json)
        elif as_json:
            rendered = _json_text(value, text, node.start_mark.index, node.end_mark.index)
        else:
            return None
        return None if rendered is None else (node.start_mark.index, node.end_mark.index, rendered)
    parent = _node_at(root, path[:-1], shared)
    if not isinstance(parent, yaml.MappingNode):
        return None
    members = parent.value
    if op == "delete":
        at = [i for i, (k, _) in enumerate(members) if k.value == path[-1]]
        if len(at) != 1:
            return None
        i = at[0]
        if i + 1 < len(members):  # up to the next key: the comma and the space after it go too
            return members[i][0].start_mark.index, members[i + 1][0].start_mark.index, ""
        if i > 0:  # the last member: from the end of the one before
            return members[i - 1][1].end_mark.index, members[i][1].end_mark.index, ""
        return members[i][0].start_mark.index, members[i][1].end_mark.index, ""
    if not members:
        return None
    last_key, last_value = members[-1]
    if len(members) > 1:
        gap = text[members[-2][1].end_mark.index:last_key.start_mark.index]
        gap = gap[gap.index(",") + 1:] if "," in gap else " "
    else:
        gap = text[parent.start_mark.index + 1:last_key.start_mark.index]
    line_start = text.rfind("\n", 0, last_key.start_mark.index) + 1
    member_indent = text[line_start:last_key.start_mark.index]
    if "\n" in gap and not member_indent.strip():
        rendered = json.dumps(value, ensure_ascii=False, indent=_json_step(text)).replace("\n", "\n" + member_indent)
    else:
        rendered = json.dumps(value, ensure_ascii=False)
    added = "," + gap + json.dumps(path[-1], ensure_ascii=False) + ": " + rendered
    return last_value.end_mark.index, last_value.end_mark.index, added


def _shared_nodes(root: yaml.Node) -> set[int]:
    """ids of the nodes reached more than once (an anchor and its aliases are one node)."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return shared


def _node_at(root: yaml.Node, path: Path, shared: set[int]) -> yaml.Node | None:
    node = root
    for part in path:
        if id(node) in shared:
            return None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            if any(k.tag == _MERGE for k, _ in node.value):
                return None
            found = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.tag == _STR and k.value == part]
            if not found:
                return None
            node = found[-1]  # a repeated key: the last one is the value readers see
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return None
    return None if id(node) in shared else node


def _scalar_text(value: Any, style: str | None, as_json: bool) -> str | None:
    """``value`` as a scalar in the style the old one was written in, where that reads back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if not isinstance(value, str) or style in ("|", ">"):
        return None
    if as_json or style == '"':
        return json.dumps(value, ensure_ascii=False)
    if style == "'" and value.isprintable():
        return "'" + value.replace("'", "''") + "'"
    if _PLAIN_SAFE.fullmatch(value) and _reads_as_string(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _reads_as_string(text: str) -> bool:
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return bool(tag == _STR)


def _json_text(value: Any, text: str, start: int, end: int) -> str:
    """``value`` as JSON laid out like the value it replaces: on one line when that was on
    one line, else indented by the document's step (spaces or tabs) from the indentation of the
    line it starts on."""
    if "\n" not in text[start:end]:
        return json.dumps(value, ensure_ascii=False)
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start:start]
    base = line[: len(line) - len(line.lstrip(" \t"))]
    rendered = json.dumps(value, ensure_ascii=False, indent=_json_step(text))
    return rendered.replace("\n", "\n" + base)


def _json_step(text: str) -> str:
    """The indentation step of a JSON text: the indentation of its first indented line."""
    for line in text.splitlines()[1:]:
        if line.strip():
            return line[: len(line) - len(line.lstrip(" \t"))] or "  "
    return "  "
