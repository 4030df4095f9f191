"""Line endings kept per line across an edit.

Edits are made on text with LF newlines. Afterwards every line that was in the file keeps the
ending it had (CRLF or LF), and a new or rewritten line takes the ending of the line it replaces,
else of the line above it: one CRLF line in a file never turns the LF lines into CRLF.
"""

from __future__ import annotations

from difflib import SequenceMatcher


def with_line_endings(original: str, edited: str) -> str:
    """``edited`` (LF newlines) with the line endings of ``original`` (the file as read)."""
    if "\r\n" not in original:
        return edited
    segments = original.split("\n")
    old = [s[:-1] if s.endswith("\r") else s for s in segments]
    # The ending after line i of ``original``; its last segment has none.
    crlf = [s.endswith("\r") for s in segments[:-1]] + [False]
    new = edited.split("\n")
    majority = sum(crlf) * 2 >= len(crlf) - 1
    ending: list[bool] = []
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    ending.extend(crlf[:head])
    matcher = SequenceMatcher(None, old[head:len(old) - tail], new[head:len(new) - tail], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        i1, i2 = i1 + head, i2 + head
        for k in range(j2 - j1):
            if tag == "equal" or (tag == "replace" and k < i2 - i1):
                ending.append(crlf[i1 + k])
            elif i2 > i1:
                ending.append(crlf[i2 - 1])  # more new lines than it replaces: like its last
            elif i1 > 0:
                ending.append(crlf[i1 - 1])  # inserted: like the line above
            else:
                ending.append(majority)
    ending.extend(crlf[len(old) - tail:])
    out = []
    for i, line in enumerate(new):
        out.append(line)
        if i < len(new) - 1:
            out.append("\r\n" if ending[i] else "\n")
    return "".join(out)
