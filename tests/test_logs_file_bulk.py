"""``meshtui logs --file F --split`` in bulk (issue 17 point 6): the same split as counting line
by line whatever the log holds, counts bounded however varied it is, and a progress line on
stderr for a read that takes more than a second."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from meshtui.accesslog.bulk import BulkSplit
from meshtui.accesslog.format import ISTIO_JSON_FORMAT
from meshtui.accesslog.parser import AutoParser, TextParser
from meshtui.accesslog.prefix import parse_prefixed
from meshtui.accesslog.stats import SplitStats
from meshtui.cli import main

CLUSTERS = ("outbound|9080|v1|reviews.default.svc.cluster.local", "outbound|9080|v2|reviews.default.svc.cluster.local",
            "inbound|9080||", "PassthroughCluster", "-")


def line(i: int, *, authority: str = "reviews:9080", ua: str = "curl/8.5.0", code: str | None = None,
         flags: str | None = None, duration: str | None = None, stamp: str | None = None) -> str:
    """One line in Istio's default TEXT format, varied by ``i``."""
    code = code or ("200", "503", "404", "0", "504")[i % 5]
    flags = flags or ("-", "UH", "NR", "DC", "UT,URX")[i % 5]
    duration = duration or str((i * 37) % 1500)
    stamp = stamp or f"2024-05-01T12:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
    cluster = CLUSTERS[i % len(CLUSTERS)]
    return (f'[{stamp}] "GET /reviews/{i} HTTP/1.1" {code} {flags} via_upstream - "-" 0 {100 + i} {duration} 1 '
            f'"-" "{ua}" "req-{i}" "{authority}" "10.44.{i % 3}.{i % 7}:9080" {cluster} 10.44.1.23:37652 '
            f"10.0.45.184:9080 10.44.1.23:46520 - {('default', 'canary', '-')[i % 3]}")


def mixed_log() -> list[str]:
    """What real saved logs hold besides plain lines."""
    lines = [line(i) for i in range(3000)]
    lines[10] = line(10, authority="reviews-shadow:9080")  # mirrored
    lines[11] = line(11, ua='Mozilla "quoted" agent')  # a quote in a value: the tolerant pattern
    lines[12] = line(12, duration="-", code="-")  # absent values
    lines[13] = "2024-05-01T12:00:13.000000000Z " + line(13)  # kubectl logs --timestamps
    lines[14] = json.dumps({k: "-" for k in ISTIO_JSON_FORMAT} | {
        "upstream_cluster": CLUSTERS[0], "response_code": 503, "duration": 7, "authority": "reviews:9080",
        "start_time": "2024-05-01T11:59:00.000Z"})  # JSON encoding, and the earliest time
    lines[15] = ""
    lines[16] = "   "
    lines[17] = "not an access log line"
    lines[18] = line(18, stamp="2024-05-01T13:30:00.000Z")  # out of order: the latest time
    lines[19] = line(19) + "\r"  # CRLF
    return lines


def per_line(lines: list[str], parser: Any) -> SplitStats:
    """The statistics counted line by line, collectors' prefixes tried as the command does."""
    stats = SplitStats(window=None)
    for text in lines:
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        record = parser.parse(text) or parse_prefixed(text, parser.parse)
        if record is None:
            stats.add_unparsed(text)
        else:
            stats.add(record)
    return stats


@pytest.mark.parametrize("max_groups", [200_000, 1])
def test_bulk_counts_equal_line_by_line_counts(max_groups: int) -> None:
    parser = AutoParser()
    lines = [text.rstrip("\r") for text in mixed_log()]
    expected = per_line(lines, parser)
    stats = SplitStats(window=None)
    bulk = BulkSplit.for_parser(parser)
    assert bulk is not None
    bulk.max_groups = max_groups  # 1: flushed after every block, the bound on memory
    rest: list[str] = []
    for start in range(0, len(lines), 700):
        rest += bulk.add(lines[start:start + 700], stats)
    bulk.flush(stats)
    leftover = per_line(rest, parser)  # what the bulk pass leaves, line by line as the command does
    for text in rest:
        if text.strip():
            record = parser.parse(text) or parse_prefixed(text, parser.parse)
            stats.add(record) if record is not None else stats.add_unparsed(text)
    assert leftover.unparsed == 1
    assert len(rest) < 10  # the plain lines were all taken in bulk
    assert stats.summary() == expected.summary()


def test_the_command_gives_the_line_by_line_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "mixed.log"
    log.write_text("\n".join(mixed_log()) + "\n", encoding="utf-8")
    assert main(["logs", "--file", str(log), "--split", "-o", "json"]) == 0
    bulk = json.loads(capsys.readouterr().out)
    expected = per_line(mixed_log(), AutoParser()).summary()
    assert bulk == json.loads(json.dumps(expected))
    assert bulk["lines"] == 2998 and bulk["unparsed"] == 1


def test_a_custom_format_is_counted_in_bulk_too() -> None:
    fmt = '%START_TIME% %UPSTREAM_CLUSTER% %RESPONSE_CODE% %DURATION% "%REQ(:AUTHORITY)%"'
    parser = TextParser(fmt)
    lines = [f"2024-05-01T12:00:0{i % 10}.000Z {CLUSTERS[i % 2]} {200 + 303 * (i % 2)} {i} \"reviews:9080\""
             for i in range(500)]
    stats = SplitStats(window=None)
    bulk = BulkSplit.for_parser(parser)
    assert bulk is not None and bulk.add(lines, stats) == []
    bulk.flush(stats)
    assert stats.summary() == per_line(lines, parser).summary()


def test_a_slow_read_shows_progress_on_stderr() -> None:
    """stdin that takes ~2.5 s to arrive (as a big file would): progress lines, then the total."""
    proc = subprocess.Popen([sys.executable, "-m", "meshtui", "logs", "--file", "-", "--split", "-o", "json"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None

    def feed() -> None:
        assert proc.stdin is not None
        end = time.monotonic() + 2.5
        i = 0
        while time.monotonic() < end:
            proc.stdin.write((line(i) + "\n").encode())
            proc.stdin.flush()
            i += 1
            time.sleep(0.01)
        proc.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    writer.join()
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()  # a few lines: they never fill a pipe
    assert proc.wait(timeout=60) == 0
    lines = json.loads(out)["lines"]
    progress = err.decode().splitlines()
    assert any(p.startswith("meshtui: reading stdin: ") and " lines, " in p for p in progress), progress
    assert any(p.startswith(f"meshtui: read stdin: {lines:,} lines in ") for p in progress), progress


def test_a_quick_read_prints_no_progress(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "small.log"
    log.write_text("\n".join(line(i) for i in range(100)) + "\n")
    assert main(["logs", "--file", str(log), "--split"]) == 0
    assert capsys.readouterr().err == "meshtui: format: Istio 1.9+ default TEXT format (100 lines)\n"
