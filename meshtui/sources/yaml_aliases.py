"""YAML anchors and aliases (``route: &routes [...]`` ... ``route: *routes``) in the files source.

A YAML loader hands back one shared value for an anchor and its aliases; an edit of one rule
would then change every rule that shares the value. Objects are therefore read with every
alias expanded into a value of its own (as the API server would store them), and an edit
below an alias expands that alias in the file, so only the edited place changes and the anchor
and its other aliases keep what they had.
"""

from __future__ import annotations

import copy
import re
from typing import Any

#: What expanding the aliases of one file may produce at most: a file of a few aliases that
#: expand to billions of values ("billion laughs") is refused instead of exhausting memory.
MAX_EXPANDED_VALUES = 2_000_000
_ALIAS = re.compile(r"(?:^|[\s\[{,:-])\*[^\s,\[\]{}]")


class AliasBombError(ValueError):
    """The aliases of a file expand to more values than ``MAX_EXPANDED_VALUES``."""


def may_have_aliases(text: str) -> bool:
    """Cheap test whether ``text`` can hold an alias (``*name`` outside quotes looks like this)."""
    return "*" in text and _ALIAS.search(text) is not None


def unshare(docs: list[Any]) -> list[Any]:
    """``docs`` with every value that is reached twice (through an alias) copied, so no two
    places share one value; raises ``AliasBombError`` when that grows beyond the cap."""
    seen: set[int] = set()
    shared = False
    stack: list[Any] = list(docs)
    while stack and not shared:
        value = stack.pop()
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                shared = True
            seen.add(id(value))
            stack.extend(value.values() if isinstance(value, dict) else value)
    if not shared:
        return docs
    budget = [MAX_EXPANDED_VALUES]
    return [_fresh(doc, budget, set()) for doc in docs]


def _fresh(value: Any, budget: list[int], inside: set[int]) -> Any:
    """A copy of ``value`` sharing nothing; ``inside`` holds the ids of the values it is in."""
    budget[0] -= 1
    if budget[0] < 0:
        raise AliasBombError(f"its aliases expand to more than {MAX_EXPANDED_VALUES:,} values")
    if not isinstance(value, (dict, list)):
        return value
    if id(value) in inside:
        raise AliasBombError("an alias refers to a value that contains it, which never ends when expanded")
    inside.add(id(value))
    try:
        if isinstance(value, dict):
            return {k: _fresh(v, budget, inside) for k, v in value.items()}
        return [_fresh(v, budget, inside) for v in value]
    finally:
        inside.discard(id(value))


def expand_along(doc: Any, paths: list[tuple[Any, ...]]) -> bool:
    """In a ruamel round-trip ``doc``, make every map or list on the way to each of ``paths``
    that is shared through an alias belong to that place alone, so an edit there changes
    nothing elsewhere. Below an alias, the alias is expanded into a copy; at the anchor, the
    aliases are expanded (into copies of the value as it was) and the anchor stays in place.
    Returns whether anything was expanded."""
    expanded = False
    sites: dict[int, list[tuple[Any, Any]]] = {}  # id -> (parent, key) of each place, in text order
    stack: list[tuple[Any, Any, Any]] = [(None, None, doc)]
    while stack:
        parent, key, value = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        first = id(value) not in sites
        sites.setdefault(id(value), []).append((parent, key))
        if first:
            children = list(value.items()) if isinstance(value, dict) else list(enumerate(value))
            stack.extend((value, k, v) for k, v in reversed(children))
    for path in paths:
        node = doc
        for part in path:
            try:
                child = node[part]
            except (KeyError, IndexError, TypeError):
                break
            places = sites.get(id(child), [])
            if isinstance(child, (dict, list)) and len(places) > 1:
                anchor = getattr(child, "anchor", None)
                if anchor is not None and anchor.value is not None:
                    anchor.always_dump = True  # the anchor's line stays as written
                here = next(i for i, (p, k) in enumerate(places) if p is node and k == part)
                # At the anchor (the first place in the text) the aliases get copies; below an
                # alias only this place does.
                copied = places[1:] if here == 0 else [places[here]]
                for parent, key in copied:
                    own = copy.deepcopy(child)
                    _drop_anchors(own)
                    parent[key] = own
                    _drop_borrowed_comment(parent, key)
                sites[id(child)] = [places[0]] if here == 0 else places[:here] + places[here + 1:]
                child = node[part]
                expanded = True
            node = child
    return expanded


def _drop_borrowed_comment(parent: Any, key: Any) -> None:
    """ruamel also hangs a comment written after the anchor (``route: &r  # note``) on every
    alias's key, as a comment before the value; at an expanded alias it would be dumped as
    ``route: -``. The comment stays at the anchor."""
    entry = getattr(getattr(parent, "ca", None), "items", {}).get(key)
    if isinstance(entry, list) and len(entry) > 3:
        entry[3] = None


def _drop_anchors(value: Any) -> None:
    """Remove the anchors in a copy, which would otherwise be defined twice in the file, and its
    comments: they stay where they were written, at the anchor (ruamel also misplaces a
    comment that came after the anchor when it is dumped at the alias: ``route: -``)."""
    stack = [value]
    while stack:
        item = stack.pop()
        anchor = getattr(item, "anchor", None)
        if anchor is not None and getattr(anchor, "value", None) is not None:
            anchor.value = None
            anchor.always_dump = False
        comments = getattr(item, "ca", None)
        if comments is not None:
            comments.comment = None
            comments.items.clear()
            comments.end = None
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
