"""Editing an object in ``$EDITOR`` (``meshtui.write.editor``): the text round trip, no UI."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshtui.write.editor import edit_loop, editor_command, run_editor

VS = {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
      "metadata": {"name": "backend", "namespace": "default", "resourceVersion": "7"},
      "spec": {"hosts": ["backend"], "http": [{"route": [{"destination": {"host": "backend"}}]}]}}


def test_text_that_does_not_parse_goes_back_to_the_editor_with_the_error_and_the_users_text() -> None:
    seen: list[str] = []

    def edit(text: str) -> str:
        seen.append(text)
        if len(seen) == 1:
            return text.replace("hosts:", "hosts: [unclosed")
        return seen[0].replace("- backend\n", "- backend\n  - backend.example.com\n", 1)

    edited, message = edit_loop(VS, edit)
    assert message is None and edited is not None
    assert edited["spec"]["hosts"] == ["backend", "backend.example.com"]
    assert len(seen) == 2 and "[unclosed" in seen[1] and seen[1].lstrip().startswith("#")


def test_a_failed_editor_or_an_emptied_file_changes_nothing() -> None:
    assert edit_loop(VS, lambda _text: None)[0] is None
    assert "failed; nothing was changed" in (edit_loop(VS, lambda _text: None)[1] or "")
    assert edit_loop(VS, lambda _text: "") == (None, "the file was emptied: edit cancelled")


def test_the_editor_is_visual_then_editor_then_vi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", "nano -w")
    assert editor_command() == ["nano", "-w"]
    monkeypatch.setenv("VISUAL", "code --wait")
    assert editor_command() == ["code", "--wait"]
    script = tmp_path / "ed.sh"
    script.write_text("#!/bin/sh\nsed -i 's/backend/frontend/' \"$1\"\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(script))
    assert run_editor("host: backend\n") == "host: frontend\n"
    monkeypatch.setenv("VISUAL", str(tmp_path / "missing-editor"))
    assert run_editor("host: backend\n") is None
