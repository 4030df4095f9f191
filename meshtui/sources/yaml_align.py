"""How two versions of a YAML list line up: canonical fingerprints of plain values, pure
reorderings, and the cheapest edit script between two lists (used to turn a base list into an
edited one with the fewest changes to the file)."""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from typing import Any


def fingerprint(value: Any) -> str:
    """A canonical text of a plain value, for comparing (tells ``True`` from ``1``)."""
    try:
        return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    except TypeError:  # keys of mixed types (YAML 1.1 reads a key `on` as True)
        return json.dumps(_keys_as_text(value), sort_keys=True, default=str, separators=(",", ":"))


def _keys_as_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {f"{type(k).__name__}:{k}": _keys_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys_as_text(v) for v in value]
    return value


# ---- minimal edits on ruamel's CommentedMap / CommentedSeq ---------------------------------


def permutation(base: list[Any], new: list[Any]) -> list[int] | None:
    """When ``new`` is ``base`` with its items reordered (rules moved), the base index of each
    new item; None when anything else changed too."""
    if base == new:
        return None
    free: dict[str, list[int]] = {}
    for i, b in enumerate(base):
        free.setdefault(fingerprint(b), []).append(i)
    perm: list[int] = []
    for n in new:
        slots = free.get(fingerprint(n))
        if not slots:
            return None
        perm.append(slots.pop(0))
    return perm


def _leaves(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, dict):
        return {leaf for k, v in value.items() for leaf in _leaves(v, f"{prefix}.{k}")}
    if isinstance(value, list):
        return {leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{prefix}[{i}]")}
    return {f"{prefix}={fingerprint(value)}"}


def align(base: list[Any], new: list[Any]) -> list[tuple[str, int, int]]:
    """Cheapest script of ("edit", i, j) / ("delete", i, -) / ("insert", i, j) turning base into
    new; editing an item costs its dissimilarity (0..1), deleting or inserting costs 1."""
    if len(base) * len(new) > 40_000:  # huge lists: exact matches only
        matcher = SequenceMatcher(None, [fingerprint(b) for b in base], [fingerprint(n) for n in new], autojunk=False)
        script: list[tuple[str, int, int]] = []
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            common = min(i2 - i1, j2 - j1) if tag != "equal" else i2 - i1
            script.extend(("edit", i1 + k, j1 + k) for k in range(common))
            script.extend(("delete", i, -1) for i in range(i1 + common, i2))
            script.extend(("insert", i2, j) for j in range(j1 + common, j2))
        return script
    lb, ln = [_leaves(b) for b in base], [_leaves(n) for n in new]

    def cost(i: int, j: int) -> float:
        union = len(lb[i] | ln[j])
        return 1.0 - (len(lb[i] & ln[j]) / union if union else 1.0)

    rows, cols = len(base), len(new)
    best = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows + 1):
        for j in range(cols + 1):
            if i == 0 or j == 0:
                best[i][j] = float(i + j)
                continue
            best[i][j] = min(best[i - 1][j - 1] + cost(i - 1, j - 1), best[i - 1][j] + 1, best[i][j - 1] + 1)
    script = []
    i, j = rows, cols
    while i or j:
        if i and j and best[i][j] == best[i - 1][j - 1] + cost(i - 1, j - 1):
            script.append(("edit", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and best[i][j] == best[i - 1][j] + 1:
            script.append(("delete", i - 1, -1))
            i -= 1
        else:
            script.append(("insert", i, j - 1))
            j -= 1
    script.reverse()
    return script


# ---- one document ------------------------------------------------------------------------------
