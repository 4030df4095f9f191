"""Access logs as users bring them: pre-1.8 inbound cluster names (issue 12 point 10) and format
strings pasted from a web page, wrapped and indented (point 11). Run through ``meshtui logs`` as a
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


def split_json(tmp_path: Path, lines: list[str], fmt: str) -> dict:
    path = tmp_path / "access.log"
    path.write_text("".join(f"{x}\n" for x in lines))
    proc = subprocess.run([sys.executable, "-m", "meshtui", "logs", "--file", str(path), "--split",
                           "-o", "json", "--log-format", fmt], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


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
