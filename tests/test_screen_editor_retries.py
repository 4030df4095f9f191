"""Retries and timeout keys in the route editor (issue 12 minors): `r` and `t` open a form,
the edit is pending like any other, and the preview writes it through the one write path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from test_screen_editor import DEMO, files_app
from test_screen_editor_actions import BACKEND, apply, form, form_error, open_backend, screen_name
from ui_helpers import tree_lines, wait_for


@pytest.fixture()
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _backend_rules(path: Path) -> list[dict]:
    vs = next(d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "VirtualService")
    return vs["spec"]["http"]


async def test_r_and_t_set_retries_and_a_timeout_and_apply_them(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = _backend_rules(manifest)
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 2))
        await form(pilot, app, "r", attempts="x")
        assert "not a whole number" in form_error(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        await form(pilot, app, "r", attempts="4", per_try="1s", retry_on="5xx,reset")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        await form(pilot, app, "t", timeout="soon")
        assert "not a duration" in form_error(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        await form(pilot, app, "t", timeout="7s")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert "pending (2)" in str(app.screen.query_one("#editor-pending").render())
        lines = "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        assert "7s" in lines and "4" in lines, lines
        await apply(pilot, app)
    after = _backend_rules(manifest)
    assert after[2]["retries"] == {"attempts": 4, "perTryTimeout": "1s", "retryOn": "5xx,reset"}
    assert after[2]["timeout"] == "7s"
    # Nothing else of the object changed.
    assert after[:2] == before[:2] and after[2]["route"] == before[2]["route"]
