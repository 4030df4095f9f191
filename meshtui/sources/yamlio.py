"""YAML reading and in-place writing for the files source.

Reading uses PyYAML's C loader (about 20x faster than ruamel's round-trip loader), with
timestamps left as strings as the Kubernetes API returns them. Writing uses ruamel.yaml's
round-trip mode on the one document being edited, applies the smallest set of edits that turns
``base`` into ``obj``, and carries the result back into the file text with
:func:`meshtui.sources.files_merge.merge_edit`, so every byte outside the edited values stays.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import io
import json
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from typing import Any

import yaml

from meshtui.sources.files_merge import merge_edit
from meshtui.sources.yaml_align import align, fingerprint, permutation
from meshtui.sources.yaml_aliases import expand_along, may_have_aliases, unshare
from meshtui.sources.yaml_patch import is_json, patch_document, replacements

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class FastLoader(_BaseLoader):
    """Safe loader (C when available) that keeps timestamps as strings, like the API server."""


FastLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    # _BaseLoader is chosen at run time (C or pure loader): mypy sees only "type".
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()  # type: ignore[attr-defined]
}


class EditError(Exception):
    """The edit could not be carried out on the file text (its one-line cause is the message)."""


def load_all(text: str) -> list[Any]:
    """Every document of ``text`` (a JSON text is one) as plain Python values, aliases
    expanded into values of their own (raises ``yaml.YAMLError``, and ``AliasBombError`` for
    aliases that expand too far)."""
    if is_json(text):  # one JSON value: read as JSON (YAML readers trip over tabs, ``\\/``)
        return [json.loads(text)]
    docs = list(yaml.load_all(text, Loader=FastLoader))
    return unshare(docs) if may_have_aliases(text) else docs


def document_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the documents of ``text``; together they cover the whole text.

    A span runs from the end of the previous one to the end of its document's line, so the
    comments and the ``---`` before a document belong to it, and the last span takes the tail.
    """
    if is_json(text):
        return [(0, len(text))]
    ends = [ev.end_mark.index for ev in yaml.parse(text, Loader=FastLoader) if isinstance(ev, yaml.DocumentEndEvent)]
    spans: list[tuple[int, int]] = []
    start = 0
    for i, end in enumerate(ends):
        if i == len(ends) - 1:
            end = len(text)
        elif end > 0 and text[end - 1] != "\n":
            nl = text.find("\n", end)
            rest = text[end : nl if nl >= 0 else len(text)].strip()
            if not rest or rest.startswith("#"):
                end = nl + 1 if nl >= 0 else len(text)
        end = max(end, start)
        spans.append((start, end))
        start = end
    return spans


_BLOCK_SCALAR = re.compile(r"[|>][-+0-9]*\s*(#.*)?$")


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    """(indent, stripped) of lines that hold YAML structure (no comments, blanks, block text)."""
    block_indent: int | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if block_indent is not None:
            if indent > block_indent:
                continue
            block_indent = None
        if _BLOCK_SCALAR.search(stripped) and ":" in stripped or stripped.startswith("- |"):
            block_indent = indent
        yield indent, stripped


def detect_indent(text: str, fallback: str | None = None) -> tuple[int, int, int]:
    """The (mapping, sequence, offset) indentation most used in ``text``, in ruamel's terms;
    what ``text`` does not show (no nested list, say) is looked up in ``fallback``.

    ``key:\\n  - a`` is sequence 4 / offset 2; ``key:\\n- a`` is sequence 2 / offset 0.
    """
    maps: Counter[int] = Counter()
    seqs: Counter[tuple[int, int]] = Counter()
    prev: tuple[int, str] | None = None
    for indent, stripped in _content_lines(text):
        if prev is not None:
            p_indent, p_text = prev
            opens = p_text.endswith(":") or re.search(r":\s+#", p_text) is not None
            if p_text.startswith("- "):
                p_indent += 2 + (len(p_text) - 2 - len(p_text[2:].lstrip(" ")))
                p_text = p_text[2:].lstrip(" ")
            if opens and indent >= p_indent:
                if stripped.startswith("- ") or stripped == "-":
                    after = stripped[1:]
                    gap = len(after) - len(after.lstrip(" ")) if after.strip() else 1
                    offset = indent - p_indent
                    seqs[(offset + 1 + gap, offset)] += 1
                elif indent > p_indent:
                    maps[indent - p_indent] += 1
        prev = (indent, stripped)
    if fallback is not None and (not maps or not seqs):
        other = detect_indent(fallback[:200_000])
        mapping = maps.most_common(1)[0][0] if maps else other[0]
        sequence, offset = seqs.most_common(1)[0][0] if seqs else (other[1], other[2])
        return mapping, max(sequence, offset + 2), offset
    mapping = maps.most_common(1)[0][0] if maps else 2
    sequence, offset = seqs.most_common(1)[0][0] if seqs else (2, 0)
    return mapping, max(sequence, offset + 2), offset


def _round_trip(indent: tuple[int, int, int]) -> Any:
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.allow_duplicate_keys = True
    rt.width = 1 << 16  # never fold long lines
    rt.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return rt


def _needs_quotes(text: str) -> bool:
    """Whether a plain scalar ``text`` would read back as something other than a string in
    YAML 1.1 (PyYAML, Kubernetes' go-yaml): ``yes``, ``on``, ``0777``, ``1_000``, dates..."""
    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return tag != "tag:yaml.org,2002:str"


def to_round_trip(value: Any) -> Any:
    """A plain value as ruamel nodes, with strings that YAML 1.1 would misread quoted."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    if isinstance(value, dict):
        cm = CommentedMap()
        for k, v in value.items():
            cm[_key(k)] = to_round_trip(v)
        return cm
    if isinstance(value, list):
        return CommentedSeq(to_round_trip(v) for v in value)
    if isinstance(value, str):
        if "\n" in value.rstrip("\n") and not any(c in value for c in "\t\r"):
            return LiteralScalarString(value)
        if _needs_quotes(value):
            return DoubleQuotedScalarString(value)
    return value


def _key(key: Any) -> Any:
    """A mapping key that reads back as the same string (``on`` would be read as True)."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(key) if isinstance(key, str) and _needs_quotes(key) else key


def _restyle(old: Any, new: Any) -> Any:
    """``new`` in the scalar style ``old`` was written in, where that still reads back right."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString, SingleQuotedScalarString

    if isinstance(new, str) and isinstance(old, (SingleQuotedScalarString, DoubleQuotedScalarString)):
        return type(old)(new)
    if isinstance(new, str) and isinstance(old, ScalarString) and "\n" in new:
        return type(old)(new)
    return to_round_trip(new)


def _edit_value(container: Any, key: Any, old: Any, new: Any) -> None:
    if fingerprint(old) == fingerprint(new):
        return
    cur = container[key]
    if isinstance(old, dict) and isinstance(new, dict) and isinstance(cur, dict):
        edit_mapping(cur, old, new)
    elif isinstance(old, list) and isinstance(new, list) and isinstance(cur, list) and len(cur) == len(old):
        edit_sequence(cur, old, new)
    else:
        container[key] = _restyle(cur, new)


def edit_mapping(target: Any, base: dict[str, Any], new: dict[str, Any]) -> None:
    """Turn ``target`` (a CommentedMap equal to ``base``) into ``new`` with minimal edits."""
    for k in base:
        if k not in new and k in target:
            del target[k]
    keys = list(new)
    for pos, k in enumerate(keys):
        if k in base and fingerprint(base[k]) == fingerprint(new[k]):
            continue  # unchanged (possibly a default the file leaves out, like the namespace)
        if k in base and k in target:
            _edit_value(target, k, base[k], new[k])
            continue
        if k in target:
            target[k] = _restyle(target[k], new[k])
            continue
        # Insert after the nearest key before it (in new's order) that the file already has.
        at = 0
        for prev in reversed(keys[:pos]):
            if prev in target:
                at = list(target).index(prev) + 1
                break
        target.insert(at, _key(k), to_round_trip(new[k]))


def edit_sequence(target: Any, base: list[Any], new: list[Any]) -> None:
    """Turn ``target`` (a CommentedSeq equal to ``base``) into ``new`` with minimal edits.

    Items are aligned by similarity, so removing the first of two routes deletes that route's
    lines and keeps the other's, instead of rewriting the first into the second.
    """
    if len(base) == len(new):
        perm = permutation(base, new)
        if perm is not None:
            _reorder(target, perm)
            return
        for i, (b, n) in enumerate(zip(base, new, strict=False)):
            _edit_value(target, i, b, n)
        return
    ops = align(base, new)
    # Apply from the end so the indices of what is still to do stay valid.
    for op, i, j in reversed(ops):
        if op == "edit":
            _edit_value(target, i, base[i], new[j])
        elif op == "delete":
            del target[i]
        else:
            target.insert(i, to_round_trip(new[j]))


def _reorder(target: Any, perm: list[int]) -> None:
    """Move the existing nodes (with the comments inside them) instead of rewriting items, so a
    moved rule keeps its comments. Comments between items stay where they are: one above the
    first item describes the list, not the rule that happens to be first."""
    nodes = list(target)
    for j, i in enumerate(perm):
        target[j] = nodes[i]


def edit_document(
    doc_text: str, base: Any, new: Any, item: int | None, indent: tuple[int, int, int], *, expand: bool = True
) -> str:
    """The text of one document with ``base`` turned into ``new``, everything else kept.

    ``item`` is the index in ``items`` when the object sits in a ``kind: List`` document. An
    edit of values only rewrites just those values in the text (and a JSON document stays
    JSON); other edits go through ruamel's round trip, expanding an alias that is edited
    (``expand=False``: the aliases on the way are expanded already).
    """
    patched = patch_document(doc_text, base, new, item)
    if patched is not None:
        return patched
    if is_json(doc_text):
        raise EditError("cannot make this edit and keep the document JSON")
    rt = _round_trip(indent)
    try:
        doc = rt.load(doc_text)
        normalized = _dump(rt, doc)
        target = doc["items"][item] if item is not None else doc
    except Exception as exc:  # ruamel raises many unrelated types on odd input
        raise EditError(f"cannot edit this document with the round-trip loader: {_one_line(exc)}") from exc
    if not isinstance(target, dict):
        raise EditError("the document is not a mapping")
    if expand and expand_along(target, [path for path, _ in replacements(base, new)]):
        # Expand first, as a change of its own, then edit the expanded text: the line diff of
        # the two steps in one would mix the edited lines with the expanded ones.
        expanded = merge_edit(doc_text, normalized, _dump(rt, doc))
        return edit_document(expanded, base, new, item, indent, expand=False)
    edit_mapping(target, base, new)
    return merge_edit(doc_text, normalized, _dump(rt, doc))


def dump_new(obj: dict[str, Any], indent: tuple[int, int, int] = (2, 2, 0)) -> str:
    """The YAML text of a new object, in the given indentation."""
    return _dump(_round_trip(indent), to_round_trip(obj))


def _dump(rt: Any, doc: Any) -> str:
    buf = io.StringIO()
    rt.dump(doc, buf)
    return buf.getvalue()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# ---- files -------------------------------------------------------------------------------------


class ChangedUnderneathError(Exception):
    """The file that a write replaced was not the one checked: another program changed it in
    the window; its version was put back and nothing of ours stays."""


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: str, b: str) -> bool:
    """Swap the files ``a`` and ``b`` atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False
    when the system or filesystem cannot, so the caller falls back to a plain rename."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), b)


def _sha256_of(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except FileNotFoundError:
        return None


def atomic_write(
    path: str, text: str, *, bom: bool = False, expected_sha256: str | None = None
) -> tuple[int, int, str]:
    """Replace ``path`` with ``text`` (written as given: line endings are the caller's) atomically
    (temp file in the same directory + rename), keeping the file's mode; returns the new file's
    (mtime_ns, size, sha256).

    With ``expected_sha256`` the rename is an exchange where the system allows it: the file
    replaced is checked after the swap, and when it is not the expected one (another program
    wrote it in the window) it is swapped back and ``ChangedUnderneathError`` is raised. Where
    it cannot exchange, the file is hashed once more right before the plain rename.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:  # a new file gets what open() would give it: 0666 less the umask
        umask = os.umask(0o022)
        os.umask(umask)
        mode = 0o666 & ~umask
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    fd, tmp = tempfile.mkstemp(prefix=".meshtui-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), mode)
            mtime_ns = os.fstat(fh.fileno()).st_mtime_ns
        if expected_sha256 is not None and _exchange(tmp, path):
            # ``tmp`` now names exactly what ``path`` held at the instant of the swap.
            with open(tmp, "rb") as old:
                replaced = hashlib.sha256(old.read()).hexdigest()
            if replaced != expected_sha256:
                _exchange(tmp, path)
                raise ChangedUnderneathError(path)
            os.unlink(tmp)
        else:
            # No exchange here: the last check that can be made is right before the rename.
            if expected_sha256 is not None and _sha256_of(path) != expected_sha256:
                raise ChangedUnderneathError(path)
            os.replace(tmp, path)
        return mtime_ns, len(data), hashlib.sha256(data).hexdigest()
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
