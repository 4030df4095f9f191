"""Files mode reads pod logs saved as ``kubectl cluster-info dump --output-directory`` writes them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from saved_bundle import BACKENDS, CLIENT, FAILED_V1, REQUESTS, write_bundle

from meshtui.cli import main
from meshtui.sources.files import FilesSource


def _last_json(out: str) -> dict:
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, out
    return json.loads(lines[-1])


def test_split_of_a_saved_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = write_bundle(tmp_path)
    code = main(["logs", "backend-service.default", "--files", str(bundle), "--split", "--duration", "2",
                 "-o", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    split = _last_json(captured.out)
    rows = {row["subset"]: row for row in split["rows"]}
    total = sum(REQUESTS.values())
    assert {s: rows[s]["requests"] for s in rows} == REQUESTS
    assert rows["v1"]["share"] == pytest.approx(REQUESTS["v1"] / total)
    assert rows["v1"]["weight"] == pytest.approx(0.10) and rows["v0"]["weight"] == pytest.approx(0.90)
    assert rows["v1"]["errors"] == FAILED_V1 and rows["v0"]["errors"] == 0
    assert split["basis"] == "client"
    assert f"{CLIENT} joined" in captured.err


def test_only_the_sidecar_section_is_read(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path)
    lines = list(FilesSource(str(bundle)).logs("default", CLIENT, container="istio-proxy", follow=False))
    assert len(lines) == sum(REQUESTS.values())
    assert "started" not in lines  # the app container's section
    assert list(FilesSource(str(bundle)).logs("default", CLIENT, container="app", follow=False)) == ["started"]


def test_a_log_saved_without_markers_is_the_sidecar_log(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path)
    pod = BACKENDS["v1"]
    path = bundle / "default" / pod / "logs.txt"
    kept = [line for line in path.read_text().splitlines() if not line.startswith("====")][1:]  # drop "started"
    path.write_text("\r\n".join(kept) + "\r\n")  # as `kubectl logs > logs.txt` on Windows saves it
    lines = list(FilesSource(str(bundle)).logs("default", pod, container="istio-proxy", follow=False, tail_lines=3))
    assert lines == kept[-3:]


def test_a_directory_without_saved_logs_says_what_it_expects(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    bundle = write_bundle(tmp_path)
    for pod in [CLIENT, *BACKENDS.values()]:
        (bundle / "default" / pod / "logs.txt").unlink()
    code = main(["logs", "backend-service.default", "--files", str(bundle), "--split", "--duration", "1"])
    err = capsys.readouterr().err
    assert code != 0
    problem = [line for line in err.splitlines() if "logs.txt" in line]
    assert len(problem) == 1 and "NS/POD/logs.txt" in problem[0] and "Traceback" not in err


def test_names_never_lead_out_of_the_directory(tmp_path: Path) -> None:
    bundle = write_bundle(tmp_path)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "logs.txt").write_text("secret\n")
    source = FilesSource(str(bundle))
    from meshtui.sources.base import NotFoundError

    for namespace, pod in [("..", "outside"), ("default", "../../outside"), ("default", "..")]:
        with pytest.raises(NotFoundError):
            list(source.logs(namespace, pod, follow=False))
