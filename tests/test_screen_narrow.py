"""80×24, the smallest terminal meshtui supports (issue 12 point 7): what a user reads there.

The browser's markers come before the names (a long name is cut, never its `!`), the route
editor's footer keeps its key actions (⏎ Preview first), and the split table drops its bars
before it cuts a number or a header.
"""

from __future__ import annotations

import io
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from meshtui.accesslog import SplitStats, TextParser
from meshtui.app import MeshApp
from meshtui.views.split_view import render_split
from meshtui.widgets.mesh_tree import MeshTree
from ui_helpers import wait_for

DEMO = Path(str(files("meshtui.demo")))
NARROW = (80, 24)


@pytest.fixture()
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the demo manifests, and a private audit log."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def files_app(path: Path) -> MeshApp:
    from meshtui.sources.files import FilesSource

    return MeshApp(lambda: FilesSource(str(path)))


def screen_lines(app: MeshApp) -> list[str]:
    """The terminal's rows as the user sees them (the screen as Textual draws it)."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system="truecolor", legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text().splitlines()


async def loaded(pilot: Any, app: MeshApp) -> None:
    await wait_for(pilot, lambda: app.index is not None and app.findings.latest is not None)
    await pilot.pause(0.3)


async def test_the_problem_marker_is_never_cut_by_a_narrow_browser(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=NARROW) as pilot:
        await loaded(pilot, app)
        tree = app.screen.query_one(MeshTree)
        marked = [key for key, level in tree.problems.items() if level in ("Error", "Warning")]
        assert marked, "the demo has a service with a finding"
        await wait_for(pilot, lambda: any("!" in line for line in screen_lines(app)))
        rows = screen_lines(app)
        checked = 0
        for key in marked:
            node = tree.node_for(key)
            y = node.line - tree.scroll_offset.y if node is not None else -1
            if not 0 <= y < tree.size.height:
                continue  # not on screen at this size
            checked += 1
            line = rows[y]
            assert "!" in line, f"{key}: {line!r}"
            # Its route markers are on screen too, even when the name is cut.
            assert "VS" in line or "HR" in line, line
        assert checked, "a marked service is on screen"


async def test_the_route_editor_footer_keeps_preview_at_80_columns(demo_dir: Path) -> None:
    from meshtui.screens.route_editor import RouteEditor

    app = files_app(demo_dir)
    async with app.run_test(size=NARROW) as pilot:
        await loaded(pilot, app)
        await app.push_screen(RouteEditor(("VirtualService", "default", "backend-service"), ("dest", 2, 1)))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        await pilot.pause(0.3)
        footer = screen_lines(app)[-1]
        assert "⏎ Preview" in footer, footer
        assert "-5%" in footer and "+5%" in footer, footer


PARSER = TextParser()


def _line(subset: str, upstream: str, code: int = 200) -> str:
    cluster = f"outbound|8080|{subset}|backend-service.default.svc.cluster.local"
    return (f'[2024-05-01T12:00:00.000Z] "GET /api/users HTTP/1.1" {code} - via_upstream - "-" 0 10 9 8 "-" '
            f'"curl/8.0" "req-1" "backend-service" "{upstream}" {cluster} 10.244.0.9:1 {upstream} '
            f"10.244.0.9:2 - default")


def test_the_split_table_drops_bars_before_numbers_at_80_columns() -> None:
    stats = SplitStats(window=None)
    for i in range(90):
        stats.add(PARSER.parse(_line("v0", f"10.244.0.{17 + i % 3}:8080")), t=100.0 + i / 10)  # type: ignore[arg-type]
    for i in range(10):
        stats.add(PARSER.parse(_line("v1", "10.244.0.20:8080", 503 if i < 2 else 200)), t=100.0 + i)  # type: ignore[arg-type]
    configured = {"v0": 90.0, "v1": 10.0}

    def shown(width: int) -> str:
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(render_split(stats.rows(configured), stats.error_rollups(), title="Observed split",
                                   basis="at the clients", window=None, configured=configured, lines=100))
        return console.export_text()

    narrow = shown(78)  # the logs screen's panel at 80 columns
    header = next(line for line in narrow.splitlines() if line.lstrip().startswith("SUBSET"))
    for column in ("SUBSET", "REQS", "RATE/s", "OBSERVED", "CONFIGURED", "ERR%", "P50", "P95", "P99"):
        assert column in header, header
    table = narrow.split(header, 1)[1].split("lines counted", 1)[0]
    assert "…" not in table, table
    v0 = next(line for line in table.splitlines() if line.startswith("v0"))
    v1 = next(line for line in table.splitlines() if line.startswith("v1"))
    assert "90.0%" in v0 and "20.0%" in v1 and "10.0%" in v1, (v0, v1)
    assert "10.244.0.17:8080" in table
    # At 160 columns the bars are back.
    assert "█" in shown(160)
