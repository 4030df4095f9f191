"""Files mode (issue 12 point 6): a manifest that stops parsing while meshtui runs is named
``file:line:column`` in a toast and in an Analyze row, and everything else stays live."""

from __future__ import annotations

import re
import shutil
from importlib.resources import files
from pathlib import Path

import pytest

from meshtui.app import MeshApp
from meshtui.sources.files import FilesSource
from test_screen_narrow import screen_lines
from ui_helpers import toasts, wait_for

DEMO = Path(str(files("meshtui.demo")))
BROKEN = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: [oops\n  data: : :\n"


@pytest.fixture()
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def _notes(app: MeshApp) -> list[str]:
    return toasts(app)


def _backend_weights(app: MeshApp) -> list[int]:
    vs = app.index.get("VirtualService", "default", "backend-service") if app.index is not None else None
    if vs is None:
        return []
    return [d.get("weight", 0) for d in vs.raw["spec"]["http"][-1]["route"]]


async def test_a_file_that_stops_parsing_is_named_and_the_rest_stays_live(demo_dir: Path) -> None:
    catalog = demo_dir / "istioinaction-catalog.yaml"
    app = MeshApp(lambda: FilesSource(str(demo_dir), poll_interval=0.2))
    async with app.run_test(notifications=True, size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.findings.latest is not None)

        def status() -> str:
            return str(app.screen.query_one("#status").render())

        catalog.write_text(catalog.read_text() + BROKEN)
        where = re.compile(rf"{re.escape(str(catalog))}:\d+:\d+: ")
        await wait_for(pilot, lambda: any(where.match(n) for n in _notes(app)))
        await pilot.pause(0.3)
        assert "stale" not in status() and "live" in status(), status()
        # The broken file's objects stay, and another file's change still arrives.
        assert app.index.get("VirtualService", "istioinaction", "catalog") is not None
        backend = demo_dir / "default-backend-service.yaml"
        backend.write_text(backend.read_text().replace("weight: 90", "weight: 80").replace("weight: 10", "weight: 20"))
        await wait_for(pilot, lambda: _backend_weights(app) == [80, 20])
        assert "stale" not in status()

        # Analyze lists it among the findings, located (toasts dismissed: they cover the detail).
        app.clear_notifications()
        await pilot.press("a")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "AnalyzeScreen")
        await wait_for(pilot, lambda: "MT0000] File " in "\n".join(screen_lines(app)))
        shown = "\n".join(screen_lines(app))
        assert re.search(r"Error +MT0000 +File ", shown), shown
        # The detail of the selected (first: errors first) row names the place.
        assert re.search(r"MT0000\] File .*istioinaction-catalog\.yaml:\d+:\d+", shown), shown

        # Enter on it says where to fix it (there is no object to open).
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("fix the file" in n for n in _notes(app)))
        assert not any("no longer in the mesh" in n for n in _notes(app))

        # Fixed: said so, and the row goes.
        catalog.write_text(catalog.read_text().replace(BROKEN, ""))
        await wait_for(pilot, lambda: "every file reads again" in _notes(app))
        await wait_for(pilot, lambda: not any("MT0000" in line for line in screen_lines(app)))
