"""``meshtui history`` and ``meshtui undo`` on a damaged audit log or an unusable state
directory (one line each, the good lines still count), and ``history`` taking the source flags
after the subcommand, as every subcommand does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kubernetes import client, config
from write_helpers import catalog_vs

from meshtui.cli import main
from meshtui.sandbox.server import Sandbox

pytestmark = pytest.mark.timeout(120)


def entry_line(entry_id: str, result: str = "applied") -> bytes:
    """One audit line as meshtui writes it (fields it needs for history)."""
    return json.dumps({"id": entry_id, "time": "2026-01-01T00:00:00.000Z", "user": "u", "source": "s",
                       "source_id": "files:/nowhere", "result": result, "description": f"change {entry_id}",
                       "object": {"kind": "VirtualService", "namespace": "shop", "name": "catalog"}}).encode() + b"\n"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def damage(state: Path) -> None:
    state.mkdir(parents=True)
    (state / "audit.jsonl").write_bytes(
        entry_line("first") + b"\xff\xfe\x00 not text\n" + b'{"id": "cut", "resu' + b"\n" + entry_line("last"))


def test_history_reports_damaged_lines_and_shows_the_others(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damage(state)
    assert main(["history"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert "id=first" in out and "id=last" in out
    warnings = err.strip().splitlines()
    assert len(warnings) == 2
    assert "line 2: not UTF-8 text; skipped" in warnings[0] and "line 3: not JSON" in warnings[1]
    assert main(["history", "-o", "json"]) == 0
    assert [e["id"] for e in json.loads(capsys.readouterr().out)] == ["last", "first"]


def test_undo_reports_damaged_lines_and_goes_on(sandbox: Sandbox, state: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    damage(state)
    code = main(["undo", "--kubeconfig", str(sandbox.kubeconfig_path), "--yes"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "line 2: not UTF-8 text; skipped" in err
    assert "no applied change to undo" in err.strip().splitlines()[-1]


def test_a_state_directory_that_is_a_file_gives_one_line(sandbox: Sandbox, state: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("not a directory")
    for args in (["history"], ["undo", "--kubeconfig", str(sandbox.kubeconfig_path), "--yes"]):
        assert main(args) == 2
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("meshtui: ") and "audit log" in lines[0], err
    assert state.read_text() == "not a directory"  # nothing of the user's was touched


def test_history_takes_the_source_flags_after_the_subcommand(sandbox: Sandbox, state: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = str(sandbox.kubeconfig_path)
    api = config.new_client_from_config(kubeconfig, persist_config=False)
    try:
        client.CoreV1Api(api).create_namespace({"metadata": {"name": "histflags"}})
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            "networking.istio.io", "v1", "histflags", "virtualservices", catalog_vs("histflags"))
    finally:
        api.close()
    assert main(["shift", "catalog.histflags", "v2=20", "--kubeconfig", kubeconfig, "--yes"]) == 0
    capsys.readouterr()
    # The source flags after `history`: only that source's changes.
    assert main(["history", "--kubeconfig", kubeconfig, "--context", "meshtui-sandbox", "-n", "histflags"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "applied" in out[0] and "VirtualService histflags/catalog" in out[0]
    other = tmp_path / "manifests"
    other.mkdir()
    assert main(["history", "--files", str(other)]) == 0
    assert capsys.readouterr().out == ""  # nothing was changed there
    assert main(["--kubeconfig", kubeconfig, "history"]) == 0  # before the subcommand, as always
    assert "histflags/catalog" in capsys.readouterr().out
