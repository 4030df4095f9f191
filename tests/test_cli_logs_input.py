"""``meshtui logs --file``: input without newlines (binary, ``/dev/zero``) keeps memory bounded
with one warning, overlong lines are cut and the lines after them still count, and
``--duration`` ends a read of a silent or endless stdin. Run in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

LINE = ('[2024-05-01T12:00:00.000Z] "GET /reviews/0 HTTP/1.1" 200 - via_upstream - "-" 0 10 10 1 "-" '
        '"curl/8.0" "id" "reviews:9080" "10.0.0.1:9080" outbound|9080|v1|reviews.default.svc.cluster.local '
        '10.0.0.2:1 10.0.0.1:9080 10.0.0.2:2 - default')


def rss_kib(pid: int) -> int:
    try:
        for row in Path(f"/proc/{pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@pytest.mark.skipif(not Path("/dev/zero").exists() or not Path("/proc/self/status").exists(),
                    reason="needs /dev/zero and /proc")
def test_endless_input_without_newlines_stays_bounded_and_duration_ends_it() -> None:
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.Popen([sys.executable, "-m", "meshtui", "logs", "--file", "-", "--split",
                                 "-o", "json", "--duration", "3"],
                                stdin=zero, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        peak = 0
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            peak = max(peak, rss_kib(proc.pid))
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            pytest.fail(f"--duration 3 did not end the read of /dev/zero (peak RSS {peak // 1024} MiB)")
        out, err = proc.communicate()
    assert proc.returncode == 1, err  # no line is an access log line (issue 12 point 9)
    assert peak < 300 * 1024, f"peak RSS {peak // 1024} MiB"
    text = err.decode()
    assert "Traceback" not in text
    warnings = [ln for ln in text.splitlines() if "longer than" in ln]
    assert len(warnings) == 1 and warnings[0].startswith("meshtui: warning: line 1 ")
    assert json.loads(out)["unparsed"] == 1  # one cut line; the rest of it is skipped


def test_an_overlong_line_is_cut_and_the_lines_after_it_still_count(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_bytes((LINE + "\n").encode() + b"\x00\xff" * 200_000 + b"\n" + (LINE + "\n").encode() * 2)
    result = subprocess.run([sys.executable, "-m", "meshtui", "logs", "--file", str(log), "--split", "-o", "json"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["lines"], summary["unparsed"]) == (4, 1)
    assert sum(row["requests"] for row in summary["rows"]) == 3
    [warning] = [ln for ln in result.stderr.splitlines() if "longer than" in ln]
    assert warning.startswith("meshtui: warning: line 2 is longer than 65536 bytes")


def test_duration_ends_a_read_of_a_silent_stdin() -> None:
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, (LINE + "\n").encode())  # one line, then the writer stays silent
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", "meshtui", "logs", "--file", "-", "--split", "-o", "json",
                                 "--duration", "1"], stdin=read_end, capture_output=True, text=True, timeout=60)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lines"] == 1
    assert time.monotonic() - started < 50  # a hang guard, not a speed expectation
