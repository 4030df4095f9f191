"""Access logs as users bring them: pre-1.8 inbound cluster names (issue 12 point 10), format
strings pasted from a web page, wrapped and indented (point 11), and lines saved with collectors'
prefixes, a BOM or as UTF-16 (point 12). Run through ``meshtui logs`` as a
user runs it, reading its JSON output and exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from meshtui.accesslog.cluster import parse_cluster

pytestmark = pytest.mark.timeout(120)

# A format as a documentation page shows it: wrapped over lines, indented, ending in "\n".
WRAPPED_FORMAT = '''
    [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
    %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
    "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER% %ROUTE_NAME%\\n
'''


def line(cluster: str, code: int = 200) -> str:
    """One line in ``WRAPPED_FORMAT`` as the proxy writes it (one line, single spaces)."""
    return (f'[2020-05-01T12:00:00.000Z] "GET /reviews/0 HTTP/1.1" {code} - 0 10 3 '
            f'"10.0.0.1:9080" {cluster} default')


def split_json(tmp_path: Path, lines: list[str], fmt: str | None = None, *, encoding: str = "utf-8",
               newline: str = "\n") -> dict:
    path = tmp_path / "access.log"
    path.write_bytes("".join(f"{x}{newline}" for x in lines).encode(encoding))
    extra = [] if fmt is None else ["--log-format", fmt]
    proc = subprocess.run([sys.executable, "-m", "meshtui", "logs", "--file", str(path), "--split",
                           "-o", "json", *extra], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# Istio's default TEXT format (1.9 onwards), as a sidecar writes it (hand-written, reviewed).
DEFAULT_LINE = ('[2024-05-01T12:00:00.000Z] "GET /reviews/0 HTTP/1.1" 200 - via_upstream - "-" 0 10 10 1 "-" '
                '"curl/8.0" "id" "reviews:9080" "10.0.0.1:9080" outbound|9080|v1|reviews.default.svc.cluster.local '
                '10.0.0.2:1 10.0.0.1:9080 10.0.0.2:2 - default')


@pytest.mark.parametrize("prefix", [
    "2024-05-01T12:00:00.123456789Z ",  # kubectl logs --timestamps
    "2024-05-01T12:00:00+02:00 ",
    "reviews-v1-7d4b9c8f6-abcde istio-proxy ",  # stern / kubetail
    "reviews-v1-7d4b9c8f6-abcde istio-proxy 2024-05-01T12:00:00.123Z ",  # stern --timestamps
    "May 01 12:00:00 node-1 envoy[4242]: ",  # journalctl, short format
])
def test_collector_prefixes_are_read(tmp_path: Path, prefix: str) -> None:
    out = split_json(tmp_path, [prefix + DEFAULT_LINE] * 2)
    assert out["unparsed"] == 0
    assert [(r["subset"], r["requests"]) for r in out["rows"]] == [("v1", 2)]


@pytest.mark.parametrize(("encoding", "newline"), [("utf-8-sig", "\n"), ("utf-16", "\r\n"), ("utf-16-be", "\n")])
def test_bom_and_utf16_files_are_read(tmp_path: Path, encoding: str, newline: str) -> None:
    if encoding == "utf-16-be":  # big-endian with its BOM, as some editors save it
        path_lines = ["\ufeff" + DEFAULT_LINE, DEFAULT_LINE, DEFAULT_LINE]
    else:
        path_lines = [DEFAULT_LINE] * 3
    out = split_json(tmp_path, path_lines, encoding=encoding, newline=newline)
    assert out["unparsed"] == 0
    assert [(r["subset"], r["requests"]) for r in out["rows"]] == [("v1", 3)]


def test_wrapped_indented_format_from_docs_parses_every_line(tmp_path: Path) -> None:
    out = split_json(tmp_path, [line("outbound|9080|v1|reviews.default.svc.cluster.local")] * 3,
                     WRAPPED_FORMAT)
    assert out["lines"] == 3 and out["unparsed"] == 0
    assert [(r["subset"], r["requests"]) for r in out["rows"]] == [("v1", 3)]


@pytest.mark.parametrize("cluster", ["inbound|9080|http|reviews.default.svc.cluster.local",
                                     "inbound|9080|http-web|reviews.default.svc.cluster.local",
                                     "inbound|9080||"])
def test_inbound_cluster_port_name_is_not_a_subset(tmp_path: Path, cluster: str) -> None:
    out = split_json(tmp_path, [line(cluster)] * 2, WRAPPED_FORMAT)
    assert out["unparsed"] == 0
    rows = out["rows"]
    assert [(r["direction"], r["port"], r["subset"], r["requests"]) for r in rows] == [("inbound", 9080, "", 2)]


def test_pre_18_inbound_name_keeps_its_host() -> None:
    info = parse_cluster("inbound|8080|http|reviews.default.svc.cluster.local")
    assert (info.direction, info.port, info.subset, info.host) == (
        "inbound", 8080, "", "reviews.default.svc.cluster.local")
