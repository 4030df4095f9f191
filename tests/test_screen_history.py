"""`:history`: the audit log newest first with each change's diff; `r` reverts one through the
preview (files source: a copy of the demo manifests)."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from textual.widgets import DataTable

from meshtui.app import MeshApp
from test_screen_editor import edit_to_70_30_and_preview, open_editor_at, preview_state
from ui_helpers import toasts, wait_for

DEMO = Path(str(files("meshtui.demo")))


@pytest.fixture()
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo manifests and a private audit log."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


async def test_history_lists_changes_and_reverts_one(demo_dir: Path) -> None:
    from meshtui.sources.files import FilesSource

    manifest = demo_dir / "default-backend-service.yaml"
    original = manifest.read_text()
    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(notifications=True, size=(160, 50)) as pilot:
        await open_editor_at(pilot, app, "default", "backend-service", ("dest", 2, 0))
        await edit_to_70_30_and_preview(pilot, app, "default")
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
        await pilot.press("escape")
        assert "weight: 70" in manifest.read_text()

        await pilot.press("colon", *"history", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HistoryScreen" and bool(app.screen.entries))
        history = app.screen
        assert [e.result for e in history.entries] == ["applied"]
        assert history.query_one(DataTable).row_count == 1
        diff = history.diff_text
        assert "weight: 90" in diff and "weight: 70" in diff

        await pilot.press("r")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HistoryScreen" and len(app.screen.entries) == 2)
        newest = app.screen.entries[0]
        assert newest.result == "applied" and newest.undoes == app.screen.entries[1].id
        # A change that was reverted cannot be reverted twice: the object is no longer as it left it.
        table = app.screen.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count == 2)

        def index_shows_revert() -> bool:
            vs = app.index.get("VirtualService", "default", "backend-service")
            return vs is not None and vs.raw["spec"]["http"][2]["route"][0]["weight"] == 90

        # The files source's watch polls the directory: until the revert reaches the index, a
        # second revert would be judged against the state before it.
        await wait_for(pilot, index_shows_revert)
        await pilot.pause(0.3)  # the reload after the revert settles
        await pilot.press("down")
        assert app.screen.selected().id == app.screen.entries[1].id
        await pilot.press("r")
        await wait_for(pilot, lambda: any("changed since" in t for t in toasts(app)))
        assert type(app.screen).__name__ == "HistoryScreen"
    assert manifest.read_text() == original
