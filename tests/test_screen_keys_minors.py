"""The small keys of issue 12 that an on-call user reaches for: `?` help by task with the
markers' legend, `0`–`9` namespace scope, `d` describe, Tab completion in the `:` prompt."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from meshtui.app import MeshApp
from meshtui.sources.files import FilesSource
from meshtui.widgets.mesh_tree import MeshTree
from test_screen_narrow import screen_lines
from ui_helpers import toasts, wait_for

DEMO = Path(str(files("meshtui.demo")))


@pytest.fixture()
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _app(path: Path) -> MeshApp:
    return MeshApp(lambda: FilesSource(str(path)))


def _screen(app: MeshApp) -> str:
    return type(app.screen).__name__


def _tree_namespaces(app: MeshApp) -> list[str]:
    return [n.data[1] for n in app.screen.query_one(MeshTree).root.children]


async def test_question_mark_opens_help_by_task_with_the_markers_legend(demo_dir: Path) -> None:
    app = _app(demo_dir)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: _screen(app) == "HelpScreen")
        text = app.screen.query_one("#help-text").source
        for task in ("Find where traffic goes", "Watch live traffic", "Shift traffic safely",
                     "Check the configuration", "Move around"):
            assert task in text
        for marker in ("`VS`", "`DR`", "`SE`", "`⚙`", "`!` red / yellow"):
            assert f"| {marker} |" in text, marker
        # The keys of the screen it was opened on, with what they do.
        assert "| `w` | Edit routes" in text and "| `d` | Describe" in text
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: _screen(app) == "MeshScreen")


async def test_digit_keys_pick_the_namespaces_the_hint_numbers(demo_dir: Path) -> None:
    app = _app(demo_dir)
    async with app.run_test(notifications=True, size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and len(_tree_namespaces(app)) > 2)
        namespaces = sorted(app.index.namespaces)
        fresh = _tree_namespaces(app)
        assert fresh == sorted(fresh)
        hint = str(app.screen.query_one("#ns-keys").render())
        assert hint.startswith("0 all  1 " + namespaces[0]) and f"2 {namespaces[1]}" in hint, hint
        await pilot.press("2")
        await wait_for(pilot, lambda: _tree_namespaces(app) == [namespaces[1]])
        assert f"ns: {namespaces[1]}" in screen_lines(app)[-2]
        await pilot.press("0")
        # Back to every namespace, in the order a fresh tree has (not the picked one first).
        await wait_for(pilot, lambda: _tree_namespaces(app) == fresh)
        await pilot.press("9")  # the demo has fewer namespaces than keys
        await wait_for(pilot, lambda: any("no namespace on key 9" in t for t in toasts(app)))


async def test_d_describes_the_highlighted_service_and_a_vs_row(demo_dir: Path) -> None:
    app = _app(demo_dir)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.findings.latest is not None)
        app.screen.select_object("Service", "default", "backend-service")
        app.screen.query_one(MeshTree).focus()
        await pilot.press("d")
        await wait_for(pilot, lambda: _screen(app) == "DescribeScreen")
        shown = "\n".join(screen_lines(app))
        assert "Service default/backend-service" in shown
        assert "backend-service.default.svc.cluster.local" in shown
        assert "VirtualServices:" in shown and "default/backend-service" in shown
        assert "subset v0" in shown and "subset v1" in shown
        await pilot.press("escape")
        await wait_for(pilot, lambda: _screen(app) == "MeshScreen")
        await pilot.press("colon", *"vs", "enter")
        await wait_for(pilot, lambda: _screen(app) == "KindScreen")
        await pilot.press("d")
        await wait_for(pilot, lambda: _screen(app) == "DescribeScreen")
        shown = "\n".join(screen_lines(app))
        assert "VirtualService " in shown and "Hosts:" in shown and "http[0]" in shown


async def test_tab_completes_commands_and_namespaces_in_the_prompt(demo_dir: Path) -> None:
    app = _app(demo_dir)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)

        def typed() -> str:
            return app.screen.query_one("#prompt").value

        # Sent in one burst: the Tab completes what was typed before it.
        await pilot.press("colon", "h", "i", "tab")
        await wait_for(pilot, lambda: _screen(app) == "CommandPrompt" and typed() == "history")
        await pilot.press(*["backspace"] * 7, "s", "tab")
        await wait_for(pilot, lambda: typed() == "s")
        choices = str(app.screen.query_one("#prompt-choices").render())
        assert choices.split() == ["se", "svc"]
        await pilot.press(*["backspace"], "n", "tab", "i", "s", "t", "i", "o", "-", "tab")
        await wait_for(pilot, lambda: typed() == "ns istio-system")
        await pilot.press("enter")
        await wait_for(pilot, lambda: _tree_namespaces(app) == ["istio-system"])
