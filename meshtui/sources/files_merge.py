"""Carry a round-trip edit over to the original text, line by line.

ruamel.yaml's round-trip dump keeps comments, quoting and key order, but still normalises a few
things: a comment block before a leading ``---``, ``...`` markers, ``null``/``~`` written as an
empty value, ``True`` written as ``true``, and any indentation that differs from the one style it
emits. An SRE's diff must show only the value that was edited, so the edit is applied as a patch:

- ``original``   the text on disk (O),
- ``normalized`` ruamel's dump of O without any change (N),
- ``edited``     ruamel's dump after the change (E).

The N→E line diff is the edit; the O↔N line alignment says where each N line lives in O. Every
hunk of N→E is widened until its edges fall on lines O and N agree on, then its lines are
replaced in O. Lines outside the hunks are O's own bytes. A pure deletion keeps the full-line
comments it ends with, because ruamel attaches a comment to the node *before* it, so deleting a
route would otherwise take the comment that introduces the next route with it; and it takes
the comment lines right above it at its own indentation, which describe what is deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import SequenceMatcher
from typing import Any

_Opcodes = list[tuple[str, int, int, int, int]]


def _opcodes(a: list[str], b: list[str]) -> _Opcodes:
    """Line opcodes a→b; the common head and tail are trimmed first, since edits are small."""
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[len(a) - 1 - tail] == b[len(b) - 1 - tail]:
        tail += 1
    mid = SequenceMatcher(None, a[head : len(a) - tail], b[head : len(b) - tail], autojunk=False)
    ops: _Opcodes = []
    if head:
        ops.append(("equal", 0, head, 0, head))
    for tag, i1, i2, j1, j2 in mid.get_opcodes():
        ops.append((tag, i1 + head, i2 + head, j1 + head, j2 + head))
    if tail:
        ops.append(("equal", len(a) - tail, len(a), len(b) - tail, len(b)))
    return ops


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" ")) if line.strip() else 1 << 20


def _slide(ops: _Opcodes, a: list[str], b: list[str]) -> _Opcodes:
    """Slide each pure deletion / insertion to the equivalent place whose first line is least
    indented, so a removed list item reads as ``- destination: ...`` down to its last line,
    not as the tail of one item plus the head of the next (diff's classic ambiguity)."""
    out: list[list[Any]] = [list(op) for op in ops]
    for idx, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "delete":
            seq, lo, hi = a, i1, i2
        elif tag == "insert":
            seq, lo, hi = b, j1, j2
        else:
            continue
        prev = out[idx - 1] if idx > 0 and out[idx - 1][0] == "equal" else None
        nxt = out[idx + 1] if idx + 1 < len(out) and out[idx + 1][0] == "equal" else None
        shifts = [0]
        k = 1
        while prev is not None and k <= prev[2] - prev[1] and seq[lo - k] == seq[hi - k]:
            shifts.append(-k)
            k += 1
        k = 1
        while nxt is not None and k <= nxt[2] - nxt[1] and seq[lo + k - 1] == seq[hi + k - 1]:
            shifts.append(k)
            k += 1
        best = min(shifts, key=lambda sh: (_indent(seq[lo + sh]), abs(sh)))
        if best == 0:
            continue
        out[idx] = [tag, i1 + best, i2 + best, j1 + best, j2 + best]
        if prev is not None:
            prev[2] += best
            prev[4] += best
        if nxt is not None:
            nxt[1] += best
            nxt[3] += best
    return [(str(t), int(p), int(q), int(r), int(u)) for t, p, q, r, u in out]


def _overlaps(s: int, e: int, bs: int, be: int) -> bool:
    """Whether [s, e) and [bs, be) share a line; an empty range is a point between lines."""
    if s == e and bs == be:
        return s == bs
    if s == e:
        return bs < s < be
    if bs == be:
        return s < bs < e
    return bs < e and s < be


def _map(ops: _Opcodes, p: int, len_a: int, len_b: int, pick: Callable[[list[int]], int]) -> int:
    """Map boundary ``p`` of sequence a to b through the equal blocks (``pick`` breaks ties)."""
    cands = [j1 + (p - i1) for tag, i1, i2, j1, _ in ops if tag == "equal" and i1 <= p <= i2]
    if p == 0:
        cands.append(0)
    if p == len_a:
        cands.append(len_b)
    return pick(cands) if cands else (0 if p == 0 else len_b)


def _words(line: str) -> str:
    return " ".join(line.split())


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def merge_edit(original: str, normalized: str, edited: str) -> str:
    """Return ``original`` with the N→E edit applied and every other line left as it was."""
    if normalized == edited:
        return original
    if original == normalized:
        return edited
    o = original.splitlines(keepends=True)
    n = normalized.splitlines(keepends=True)
    e = edited.splitlines(keepends=True)
    a_ops = _opcodes(n, o)
    b_ops = _slide(_opcodes(n, e), n, e)
    blocks = [(i1, i2) for tag, i1, i2, _, _ in a_ops + b_ops if tag != "equal"]
    # Hunks that add lines also take in the differing lines they touch: new lines are indented
    # like ruamel's siblings, so siblings indented otherwise in O must come from E as well.
    hunks = sorted((i1, i2, j2 - j1 > i2 - i1) for tag, i1, i2, j1, j2 in b_ops if tag != "equal")
    changed = True
    while changed:  # widen hunks over every block they cut, and merge hunks that meet
        changed = False
        for idx, (s, end, grows) in enumerate(hunks):
            for bs, be in blocks:
                meets = (bs <= end and s <= be) if grows else _overlaps(s, end, bs, be)
                if meets and (bs < s or be > end):
                    s, end = min(s, bs), max(end, be)
                    changed = True
            hunks[idx] = (s, end, grows)
        merged: list[tuple[int, int, bool]] = []
        for s, end, grows in sorted(hunks):
            if merged and _overlaps(merged[-1][0], merged[-1][1], s, end):
                merged[-1] = (merged[-1][0], max(merged[-1][1], end), merged[-1][2] or grows)
                changed = True
            else:
                merged.append((s, end, grows))
        hunks = merged
    out: list[str] = []
    o_pos = 0
    for s, end, _ in hunks:
        if s == end:
            o1 = o2 = _map(a_ops, s, len(n), len(o), min)
        else:
            o1 = _map(a_ops, s, len(n), len(o), max)
            o2 = _map(a_ops, end, len(n), len(o), min)
        e1 = _map(b_ops, s, len(n), len(e), min)
        e2 = _map(b_ops, end, len(n), len(e), max)
        o1 = max(o1, o_pos)
        o2 = max(o2, o1)
        if e1 == e2:
            # A pure deletion keeps the comments that introduce what follows it, and takes the
            # comment lines directly above it at its own indentation (they describe it).
            while o2 > o1 and _is_comment(o[o2 - 1]):
                o2 -= 1
            # ...unless the lines reappear elsewhere in E (a rule moved): the comment above
            # then describes the place (the list's head), not the moved lines.
            moved = "".join(n[s:end]) in "".join(e)
            if o2 > o1 and not moved:
                first = _indent(o[o1])
                while o1 > o_pos and _is_comment(o[o1 - 1]) and _indent(o[o1 - 1]) == first:
                    o1 -= 1
        out.extend(o[o_pos:o1])
        out.extend(_in_original_style(o[o1:o2], n[s:end], e[e1:e2]))
        o_pos = o2
    out.extend(o[o_pos:])
    return "".join(out)


def _in_original_style(o_lines: list[str], n_lines: list[str], e_lines: list[str]) -> list[str]:
    """The hunk's new lines as O would have written them.

    Lines E did not change and O holds (maybe indented otherwise) are O's own; changed and new
    lines take the indentation O uses at that place: that of the line they replace, else of the
    nearest line above at the same depth, else their parent's plus ruamel's step.
    """
    if not e_lines:
        return []
    n_to_o: dict[int, int] = {}
    # Compared without whitespace: ruamel moves end-of-line comments when it re-indents.
    matcher = SequenceMatcher(None, [_words(ln) for ln in n_lines], [_words(ln) for ln in o_lines], autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            n_to_o.update((i1 + k, j1 + k) for k in range(i2 - i1))
    same: dict[int, int] = {}  # e index -> n index of an identical line
    replaces: dict[int, int] = {}  # e index -> n index of the line it replaces
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, n_lines, e_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            same.update((j1 + k, i1 + k) for k in range(j2 - j1))
        elif tag == "replace":
            replaces.update((j1 + k, i1 + k) for k in range(min(i2 - i1, j2 - j1)))
    out: list[str] = []
    placed: list[tuple[int, int]] = []  # (indent in E, indent written) of the lines so far
    for j, line in enumerate(e_lines):
        if j in same and same[j] in n_to_o:
            kept = o_lines[n_to_o[same[j]]]
            out.append(kept)
            if kept.strip():
                placed.append((_indent(line), _indent(kept)))
            continue
        if not line.strip():
            out.append(line)
            continue
        depth = _indent(line)
        target: int | None = None
        ref = replaces.get(j)
        if ref is not None and ref in n_to_o and _indent(n_lines[ref]) == depth:
            target = _indent(o_lines[n_to_o[ref]])
        else:
            for seen_depth, written in reversed(placed):
                if seen_depth <= depth:
                    target = written + (depth - seen_depth)
                    break
        if target is None:
            target = depth
        out.append(" " * target + line.lstrip(" "))
        placed.append((depth, target))
    return out
