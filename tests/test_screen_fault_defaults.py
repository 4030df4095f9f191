"""Fault injection asks for its percentage instead of defaulting to every request, and the
pending line says the percentage (issue 12)."""

from __future__ import annotations

from pathlib import Path

import shutil

import pytest
from test_screen_editor import DEMO, open_editor_at
from test_screen_editor_actions import files_app, form, form_error, open_backend, screen_name, set_field
from ui_helpers import wait_for


@pytest.fixture(autouse=True)
def audit_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test writes its own audit log."""
    state = tmp_path / "state"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(state))
    return state


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped demo manifests."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


async def test_abort_without_a_percentage_is_refused_then_the_pending_line_names_it(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await form(pilot, app, "f", abort="503")
        assert "abort percentage is required with an abort" in form_error(app)
        await set_field(pilot, app, "abort_pct", "5")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        pending = str(app.screen.query_one("#editor-pending").render())
        assert "abort 503 for 5%" in pending


async def test_mirror_and_dark_launch_offer_a_subset_the_rule_does_not_route_to(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        # reviews' default rule splits v1/v2; its DestinationRule also knows v3.
        await open_editor_at(pilot, app, "bookinfo", "reviews", ("rule", 1))
        shown = await form(pilot, app, "i", False)
        assert shown.values()["subset"] == "v3"
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        shown = await form(pilot, app, "d", False)
        assert shown.values()["subset"] == "v3"
