"""The app on the session layer, as a user meets it: user key bindings from the settings file,
the `?` panel listing the `:` commands, and a status bar that says why the mesh is stale."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from meshtui.app import MeshApp
from meshtui.sources.files import FilesSource
from ui_helpers import toasts, wait_for

DEMO = Path(str(files("meshtui.demo")))


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped demo manifests."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _notes(app: MeshApp) -> list[str]:
    return toasts(app)


async def test_a_binding_remapped_in_keys_toml_answers_to_its_new_key(demo_dir: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text('[keys]\nanalyze = "z"\nnosuch-binding = "x"\n', encoding="utf-8")
    app = MeshApp(lambda: FilesSource(str(demo_dir)), keymap_path=str(keys))
    async with app.run_test(notifications=True, size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await wait_for(pilot, lambda: any("nosuch-binding" in n for n in _notes(app)))
        assert any(n == "keys.toml: no binding has the id nosuch-binding" for n in _notes(app))
        await pilot.press("a")  # the old key no longer opens Analyze
        await pilot.pause()
        assert type(app.screen).__name__ == "MeshScreen"
        await pilot.press("z")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AnalyzeScreen")


async def test_question_mark_lists_the_colon_commands(demo_dir: Path) -> None:
    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: bool(app.screen.query("#help-text")))
        text = app.screen.query_one("#help-text").source  # the Markdown shown
        assert "`:trace [HOST]`" in text and "`:ns [NAME]`" in text and "`:history`" in text
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: not app.screen.query("#help-text"))


async def test_the_status_bar_says_why_the_mesh_is_stale(tmp_path: Path) -> None:
    app = MeshApp(lambda: FilesSource(str(tmp_path / "gone")))
    async with app.run_test(size=(200, 30)) as pilot:
        def status() -> str:
            return str(app.screen.query_one("#status").render())

        await wait_for(pilot, lambda: "stale" in status())
        assert "not a directory" in status() and "R reconnects" in status()
        (tmp_path / "gone").mkdir()
        shutil.copy(DEMO / "default-backend-service.yaml", tmp_path / "gone")
        await pilot.press("R")
        await wait_for(pilot, lambda: "live" in status() and app.index is not None)
        assert "not a directory" not in status()
