"""``meshtui logs --file F --split`` on a file big enough to be counted in parts, one process
each (issue 17 point 6): the split, the unparsed count, the formats and the warnings are the ones
one pass over the same bytes gives (stdin is always read in one pass), whatever falls where the
file is cut."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_logs_file_bulk import line
from test_logs_file_odd_input import expected_split, odd_bytes

from meshtui.commands.logs_parallel import MIN_BYTES

CLI = [sys.executable, "-m", "meshtui", "logs", "--split", "-o", "json"]


def block(start: int, n: int, **fields: str) -> bytes:
    return ("\n".join(line(i, **fields) for i in range(start, start + n)) + "\n").encode()


def big_log() -> bytes:
    """Over MIN_BYTES: a BOM first; its middle fifth has no start times (a part that starts
    there must place them as one pass does); then odd bytes, with the first line over 64 KiB
    (in the second half: its number counts the lines of the parts before its own), and two
    more such lines later."""
    fifth = MIN_BYTES // 5 + 1
    parts: list[bytes] = [b"\xef\xbb\xbf"]
    size = 0
    i = 0
    while size < 2 * fifth:
        parts.append(block(i, 1000))
        size += len(parts[-1])
        i += 1000
    while size < 3 * fifth:
        # No time, and a quote in the agent: read line by line (the bulk pattern does not take it).
        parts.append(block(i, 1000, stamp="-", ua='say "hi"'))
        size += len(parts[-1])
        i += 1000
    parts.append(odd_bytes() + b"\n")  # its 70,000-byte line is the first one cut
    long_lines = False
    while size < 5 * fifth:
        if size > 4 * fifth and not long_lines:
            long_lines = True
            parts.append((line(i, ua="y" * 70_000) + "\n").encode())
            parts.append((line(i + 1, ua="z" * 90_000) + "\n").encode())
        parts.append(block(i, 1000))
        size += len(parts[-1])
        i += 1000
    return b"".join(parts)


def test_a_file_read_in_parts_gives_the_one_pass_split(tmp_path: Path) -> None:
    data = big_log()
    assert len(data) > MIN_BYTES
    log = tmp_path / "big.log"
    log.write_bytes(data)
    parts = subprocess.run([*CLI, "--file", str(log)], capture_output=True, text=True, timeout=300)
    with log.open("rb") as stdin:
        one = subprocess.run([*CLI, "--file", "-"], stdin=stdin, capture_output=True, text=True, timeout=300)
    assert parts.returncode == one.returncode == 0, (parts.stderr, one.stderr)
    got = json.loads(parts.stdout)
    assert got == json.loads(one.stdout)
    assert got == json.loads(json.dumps(expected_split(data).summary()))
    assert got["unparsed"] == 5  # the odd part's three, the two cut lines

    def said(err: str) -> list[str]:  # every line but the progress ones, which name the input
        return [r for r in err.splitlines() if " reading " not in r and not r.startswith("meshtui: read ")]

    assert said(parts.stderr) == said(one.stderr)
    cut = [r for r in said(parts.stderr) if "is longer than 65536 bytes" in r]
    assert len(cut) == 1
    number = int(cut[0].split("line ")[1].split()[0])
    assert data.split(b"\n")[number - 1].count(b"x") >= 70_000  # the first long line, by its number
    assert number > data.count(b"\n") // 2
    assert "meshtui: warning: 3 lines longer than 65536 bytes were cut" in said(parts.stderr)
    assert "JSON (2 lines)" in parts.stderr and "Istio 1.8 default TEXT format (1 line)" in parts.stderr


def test_a_line_without_a_time_does_not_stretch_the_span(tmp_path: Path) -> None:
    """Read line by line (a quote in its agent) among lines counted in bulk, a line without a
    start time is counted and leaves the span alone: the rates stay those of the timed lines
    (it was placed at time 0, which made every rate 0)."""
    data = block(0, 100) + (line(100, stamp="-", ua='say "hi"') + "\n").encode()
    log = tmp_path / "untimed.log"
    log.write_bytes(data)
    proc = subprocess.run([*CLI, "--file", str(log)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got == json.loads(json.dumps(expected_split(data).summary()))
    assert got["lines"] == 101 and got["unparsed"] == 0
    # 101 requests over the 99 s the timed lines span (12:00:00 to 12:01:39).
    assert abs(sum(r["rate"] for r in got["rows"]) - 101 / 99) < 0.01
