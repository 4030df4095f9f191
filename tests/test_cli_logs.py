"""``meshtui logs --file``: parsed lines, JSON lines, the split table and JSON, and errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from meshtui.cli import main

# Lines of Istio's "Envoy Access Logs" task,
# https://istio.io/latest/docs/tasks/observability/logs/access-log/
CLIENT_LINE = (
    '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" '
    '"curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" '
    "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 "
    "10.44.1.23:46520 - default"
)


def reviews_line(subset: str, code: int = 200, flags: str = "-", duration: int = 10, authority: str = "reviews:9080") -> str:
    return (
        f'[2024-05-01T12:00:00.000Z] "GET /reviews/0 HTTP/1.1" {code} {flags} via_upstream - "-" 0 10 '
        f'{duration} 1 "-" "curl/8.0" "id" "{authority}" "10.0.0.1:9080" '
        f"outbound|9080|{subset}|reviews.default.svc.cluster.local 10.0.0.9:1 10.0.0.8:9080 10.0.0.9:2 - default"
    )


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    lines = [reviews_line("v1", duration=d) for d in (10, 20, 30)]
    lines += [reviews_line("v3", code=503, flags="UH", duration=0)]
    lines += [reviews_line("v2", authority="reviews-shadow:9080")]
    lines += ["not an access log line", ""]
    path = tmp_path / "proxy.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_lines_as_text_with_unparsed_shown_raw(log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "--file", str(log_file)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 6
    assert lines[0] == (
        "2024-05-01T12:00:00.000Z GET /reviews/0 200 - 10ms "
        "outbound|9080|v1|reviews.default.svc.cluster.local 10.0.0.1:9080 route=default"
    )
    assert "503 UH 0ms outbound|9080|v3|" in lines[3]
    assert lines[4].endswith(" mirror")
    assert lines[5] == "unparsed: not an access log line"
    assert "1 of 6 lines did not parse" in err


def test_lines_as_json(log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "--file", str(log_file), "-o", "json"]) == 0
    objs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert objs[0]["response_code"] == 200 and objs[0]["duration"] == 10
    assert objs[0]["cluster"] == {
        "direction": "outbound", "port": 9080, "subset": "v1", "host": "reviews.default.svc.cluster.local"
    }
    assert objs[3]["error"] is True and objs[3]["response_flags"] == "UH"
    assert objs[4]["mirrored"] is True
    assert objs[5] == {"unparsed": "not an access log line"}


def test_split_json(log_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "--file", str(log_file), "--split", "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lines"] == 6 and data["unparsed"] == 1
    rows = {(r["subset"], r["mirrored"]): r for r in data["rows"]}
    for row in data["rows"]:
        for key in ("cluster", "host", "subset", "requests", "share", "errors", "p50_ms", "p95_ms", "p99_ms"):
            assert key in row
    v1 = rows[("v1", False)]
    assert v1["cluster"] == "outbound|9080|v1|reviews.default.svc.cluster.local"
    assert v1["host"] == "reviews.default.svc.cluster.local"
    assert v1["requests"] == 3 and v1["share"] == 0.75 and v1["errors"] == 0
    assert (v1["p50_ms"], v1["p95_ms"], v1["p99_ms"]) == (20, 30, 30)
    v3 = rows[("v3", False)]
    assert v3["errors"] == 1 and v3["share"] == 0.25
    assert rows[("v2", True)]["requests"] == 1 and rows[("v2", True)]["share"] is None
    assert data["errors"]["by_flag"][0]["flag"] == "UH"


def test_split_text_table_from_stdin(log_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(log_file.read_text()))
    assert main(["logs", "--file", "-", "--split"]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:5] == ["CLUSTER", "SUBSET", "REQUESTS", "RATE/S", "SHARE"]
    assert header[-3:] == ["P50", "P95", "P99"]
    v1 = next(line for line in out.splitlines() if line.startswith("outbound|9080|v1|"))
    assert v1.split()[1:3] == ["v1", "3"] and "75.0%" in v1
    assert "lines: 6  unparsed: 1" in out
    assert "503 UH outbound|9080|v3|reviews.default.svc.cluster.local route=default: 1" in out


def test_log_format_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "custom.log"
    path.write_text('[2024-01-01T00:00:00Z] "GET / HTTP/1.1" 200 - upstream=10.0.0.1:80 duration=7ms route=r1\n')
    fmt = (
        '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% '
        "- upstream=%UPSTREAM_HOST% duration=%DURATION%ms route=%ROUTE_NAME%"
    )
    assert main(["logs", "--file", str(path), "--log-format", fmt]) == 0
    assert capsys.readouterr().out == "2024-01-01T00:00:00Z GET / 200 - 7ms - 10.0.0.1:80 route=r1\n"


def test_json_lines_are_read_without_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "json.log"
    path.write_text(json.dumps({"response_code": "503", "response_flags": "UF", "duration": "2",
                                "upstream_cluster": "outbound|9080|v2|reviews.default.svc.cluster.local"}) + "\n")
    assert main(["logs", "--file", str(path), "--split", "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rows"][0]["subset"] == "v2" and data["rows"][0]["errors"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["logs"], "logs needs SERVICE[.NS] or --file PATH|-"),
        (["logs", "reviews", "--file", "x"], "give either SERVICE[.NS] or --file, not both"),
        (["logs", "--file", "/nonexistent/proxy.log"], "--file /nonexistent/proxy.log: no such file"),
        (["logs", "--file", "-", "--log-format", "{bad json", "--log-encoding", "JSON"], "--log-format: JSON log format is not valid JSON"),
        (["logs", "--file", "-", "--window", "0"], "--window 0.0: must be a positive number of seconds"),
    ],
)
def test_bad_input_is_one_line_error(argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"meshtui: {message}") and err.count("\n") == 1


def test_file_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "--file", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"meshtui: --file {tmp_path}: is a directory\n"


def test_live_service_missing_from_source_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "reviews.bookinfo", "--files", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "meshtui: service bookinfo/reviews not found\n"


def test_istio_docs_line_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "docs.log"
    path.write_text(CLIENT_LINE + "\n")
    assert main(["logs", "--file", str(path)]) == 0
    assert capsys.readouterr().out == (
        "2020-11-25T21:26:18.409Z GET /status/418 418 - 4ms "
        "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.27:80 route=default\n"
    )


def test_live_path_follows_the_screens_plan_with_subsets_and_mesh_format() -> None:
    from meshtui.accesslog.target import LogTarget, plan_follow
    from meshtui.commands.logs import parse_duration
    from meshtui.model.index import MeshIndex

    def pod(name: str, labels: dict[str, str]) -> dict:
        return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": "bookinfo", "labels": labels},
                "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]}, "status": {"phase": "Running"}}

    objects = [
        {"kind": "Service", "apiVersion": "v1", "metadata": {"name": "reviews", "namespace": "bookinfo"},
         "spec": {"selector": {"app": "reviews"}}},
        pod("reviews-v1-a", {"app": "reviews", "version": "v1"}), pod("reviews-v3-b", {"app": "reviews", "version": "v3"}),
        pod("ratings-1", {"app": "ratings"}),
        {"kind": "DestinationRule", "apiVersion": "networking.istio.io/v1", "metadata": {"name": "reviews", "namespace": "bookinfo"},
         "spec": {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                  {"name": "v3", "labels": {"version": "v3"}}]}},
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "istio", "namespace": "istio-system"},
         "data": {"mesh": "accessLogFile: /dev/stdout\naccessLogEncoding: JSON\naccessLogFormat: '{\"d\": \"%DURATION%\"}'\n"}},
    ]
    index = MeshIndex(objects)
    plan = plan_follow(index, LogTarget("Service", "bookinfo", "reviews"))
    assert plan.own == {("bookinfo", "reviews-v1-a"): "v1", ("bookinfo", "reviews-v3-b"): "v3"}
    assert plan.clients == {("bookinfo", "ratings-1")}  # a caller of reviews in its namespace
    mc = index.mesh_config
    assert (mc.access_log_format, mc.access_log_encoding) == ('{"d": "%DURATION%"}', "JSON")
    assert parse_duration("90") == 90 and parse_duration("1h30m") == 5400


def test_engine_does_not_import_textual_or_kubernetes() -> None:
    import subprocess
    import sys

    code = (
        "import sys, meshtui.accesslog, meshtui.accesslog.stats, meshtui.accesslog.render, meshtui.accesslog.bench;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('textual','kubernetes')];"
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
