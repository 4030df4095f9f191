"""The route editor opened on a VirtualService (not on a rule) starts on its weighted rule, not
http[0] (issue 12)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_screen_editor import DEMO, files_app
from ui_helpers import wait_for

from meshtui.screens.route_editor import RouteEditor


@pytest.fixture(autouse=True)
def audit_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test writes its own audit log."""
    state = tmp_path / "state"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(state))
    return state


async def test_editor_opened_on_the_object_starts_on_the_split_rule(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO, demo, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    app = files_app(demo)
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None
                       and app.index.get("VirtualService", "default", "backend-service") is not None)
        await app.push_screen(RouteEditor(("VirtualService", "default", "backend-service")))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        await pilot.pause()
        tree = app.screen.query_one("#edit-tree")
        # backend-service: canary-header and test-v1 go to v1 alone; "default" splits v0/v1 90/10.
        assert tree.cursor_node is not None and "default" in str(tree.cursor_node.label)
