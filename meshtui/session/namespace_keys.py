"""The `0`–`9` namespace keys (k9s style): `0` is every namespace, `1`–`9` the first nine
namespaces by name; the mesh screen numbers them in a one-line hint."""

from __future__ import annotations

from collections.abc import Sequence

#: How many namespaces get a key of their own.
MAX_KEYS = 9


def namespace_keys(namespaces: Sequence[str]) -> list[str | None]:
    """The scope of each key: position 0 (key `0`) is None (every namespace), then one
    namespace per key `1`–`9`."""
    return [None, *sorted(namespaces)[:MAX_KEYS]]


def scope_for_key(namespaces: Sequence[str], digit: int) -> tuple[bool, str | None]:
    """(whether the key names a scope, the scope) for key ``digit``."""
    keys = namespace_keys(namespaces)
    return (True, keys[digit]) if 0 <= digit < len(keys) else (False, None)
