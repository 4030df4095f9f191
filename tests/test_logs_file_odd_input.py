"""``meshtui logs --file F --split`` in bulk on what saved logs really hold (issue 17 point 6): the
split, the unparsed count and the formats reported are the ones counting line by line gives,
whatever the bytes, the format string or the mix of formats; memory does not grow with the file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_logs_file_bulk import line, mixed_log, per_line

from meshtui.accesslog.detect import KNOWN_TEXT_FORMATS
from meshtui.accesslog.format import ISTIO_JSON_FORMAT
from meshtui.accesslog.parser import make_parser
from meshtui.accesslog.render import split_table
from meshtui.accesslog.stats import SplitStats
from meshtui.cli import main
from meshtui.commands._line_reader import BoundedLines


def odd_bytes() -> bytes:
    """A saved log with what a bulk pass must not read differently from the line-by-line path:
    NULs, carriage returns, bytes that are not UTF-8, a byte-order mark, blank lines, a line
    longer than 64 KiB, non-ASCII text, quotes, ``-`` fields, JSON lines, other formats' lines,
    and no newline at the end."""
    lines = [text.encode() for text in mixed_log()]
    lines[20] = line(20, ua="agent\x00with NUL").encode()
    lines[21] = line(21).encode() + b"\r"
    lines[22] = line(22, ua="caf\xe9").encode("latin-1")  # not UTF-8: replaced, still parses
    lines[23] = line(23, ua="Zürich → ☃").encode()
    lines[24] = b"\xef\xbb\xbf" + line(24).encode()  # a BOM inside the file stays part of the line
    lines[25] = line(25, ua="x" * 70_000).encode()  # cut at 64 KiB: does not parse
    lines[26] = line(26, code="-", flags="-", duration="-", authority="-").encode()
    lines[27] = b"\t"
    lines[28] = line(28, ua='say "hi"').encode()  # the tolerant pattern
    lines[29] = json.dumps({k: "-" for k in ISTIO_JSON_FORMAT} | {
        "upstream_cluster": "outbound|9080|v2|reviews.default.svc.cluster.local", "response_code": "200",
        "duration": "12", "authority": "reviews-shadow:9080", "start_time": "2024-05-01T12:00:01.000Z"}).encode()
    # A line of Istio 1.8's default format (one field fewer) among today's lines.
    old = make_parser(KNOWN_TEXT_FORMATS[1][1], "TEXT")
    assert old.parse(line(30).replace(' via_upstream -', '', 1)) is not None
    lines[30] = line(30).replace(' via_upstream -', '', 1).encode()
    return b"\n".join(lines)  # no newline after the last line


def expected_split(data: bytes, fmt: str | None = None) -> SplitStats:
    """The split counted line by line, from the lines as the line reader gives them."""
    reader = BoundedLines(io.BytesIO(data), lambda _text: None)
    parser = make_parser(fmt) if fmt else make_parser()
    return per_line(list(reader), parser)


@pytest.mark.parametrize("output", ["json", "text"])
def test_odd_input_gives_the_line_by_line_split(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                output: str) -> None:
    data = odd_bytes()
    log = tmp_path / "odd.log"
    log.write_bytes(data)
    assert main(["logs", "--file", str(log), "--split", "-o", output]) == 0
    captured = capsys.readouterr()
    expected = expected_split(data)
    if output == "json":
        got = json.loads(captured.out)
        assert got == json.loads(json.dumps(expected.summary()))
        assert got["unparsed"] == 3  # "not an access log line", the one after a BOM, the cut one
        mirrored = [r for r in got["rows"] if r["mirrored"]]
        assert sum(r["requests"] for r in mirrored) == 2  # the shadow lines: TEXT and JSON
    else:
        assert captured.out == split_table(expected) + "\n"
    # The formats the lines were in, counted as they were read.
    assert "Istio 1.8 default TEXT format (1 line)" in captured.err
    assert "JSON (2 lines)" in captured.err


def test_a_big_file_of_odd_blocks_gives_the_line_by_line_split(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Many 1 MiB blocks, odd lines in some of them only."""
    plain = "\n".join(line(i) for i in range(3000)).encode() + b"\n"
    data = plain * 12 + odd_bytes() + b"\n" + plain * 12
    log = tmp_path / "big.log"
    log.write_bytes(data)
    assert main(["logs", "--file", str(log), "--split", "-o", "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got == json.loads(json.dumps(expected_split(data).summary()))
    assert got["lines"] == 24 * 3000 + 2997  # three blank lines in the odd part


@pytest.mark.parametrize("fmt", [
    # Literals that are special in regular expressions, non-ASCII ones, a value at the very end.
    '<%START_TIME%> (%UPSTREAM_CLUSTER%) |%RESPONSE_CODE%| *%RESPONSE_FLAGS%* \\%DURATION%\\ →%REQ(:AUTHORITY)%← '
    '$%UPSTREAM_HOST%^ %ROUTE_NAME%',
    # Two operators side by side.
    "%START_TIME% %UPSTREAM_CLUSTER%%RESPONSE_CODE% %DURATION%",
    # Only operators and blanks: a blank line would match, and is skipped as line by line.
    "%START_TIME% %UPSTREAM_CLUSTER% %RESPONSE_CODE% %DURATION%",
])
def test_a_custom_format_gives_the_line_by_line_split(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      fmt: str) -> None:
    clusters = ["outbound|9080|v1|reviews.default.svc.cluster.local", "inbound|9080||", "-"]
    lines = []
    for i in range(2000):
        values = {"%START_TIME%": f"2024-05-01T12:00:{i % 60:02d}.000Z", "%UPSTREAM_CLUSTER%": clusters[i % 3],
                  "%RESPONSE_CODE%": ("200", "503", "-")[i % 3], "%RESPONSE_FLAGS%": ("-", "UH", "UF,URX")[i % 3],
                  "%DURATION%": str(i % 700), "%REQ(:AUTHORITY)%": ("reviews:9080", "reviews-shadow:9080")[i % 2],
                  "%UPSTREAM_HOST%": f"10.0.0.{i % 5}:9080", "%ROUTE_NAME%": ("default", "-")[i % 2]}
        text = fmt
        for op, value in values.items():
            text = text.replace(op, value)
        lines.append(text)
    lines[5] = "garbage"
    lines[6] = "   "
    data = ("\n".join(lines) + "\n").encode()
    log = tmp_path / "custom.log"
    log.write_bytes(data)
    assert main(["logs", "--file", str(log), "--split", "-o", "json", "--log-format", fmt]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got == json.loads(json.dumps(expected_split(data, fmt).summary()))
    assert got["lines"] == 1999 and got["unparsed"] == 1 and len(got["rows"]) >= 3


PEAK = r'''
import resource, sys
from meshtui.cli import main
code = main(sys.argv[1:])
peak = next(int(r.split()[1]) for r in open("/proc/self/status") if r.startswith("VmHWM:"))
# A big file is counted in parts by worker processes: the biggest one's peak as well.
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"peak_kb={max(peak, workers)}", file=sys.stderr)
sys.exit(code)
'''


def _peak_mb(log: Path) -> tuple[float, dict[str, object]]:
    """The peak RSS of the command or of its biggest worker process, and its split."""
    proc = subprocess.run([sys.executable, "-c", PEAK, "logs", "--file", str(log), "--split", "-o", "json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    peak = [int(r.split("=")[1]) for r in proc.stderr.splitlines() if r.startswith("peak_kb=")]
    return peak[-1] / 1024, json.loads(proc.stdout)


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    block = ("\n".join(line(i) for i in range(10_000)) + "\n").encode()  # ~3 MB
    small, big = tmp_path / "small.log", tmp_path / "big.log"
    small.write_bytes(block * 4)
    with big.open("wb") as out:
        for _ in range(100):  # ~300 MB, written without holding it
            out.write(block)
    small_mb, small_split = _peak_mb(small)
    big_mb, big_split = _peak_mb(big)
    assert big_split["lines"] == 1_000_000 and small_split["lines"] == 40_000
    assert big_mb - small_mb < 32, (small_mb, big_mb)  # the same few blocks in memory
