"""SVG snapshots of the mesh screen, reviewed by eye before they were committed.

They run on the shipped demo manifests through the files source (no clock, no random pod
names), from a fixed relative path so the status bar reads the same on every machine.
Update with `pytest tests/test_snapshots.py --snapshot-update` and review the new SVGs.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from meshtui.app import MeshApp
from meshtui.widgets.mesh_tree import MeshTree

DEMO = Path(str(files("meshtui.demo")))
SIZE = (120, 36)


def _demo_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MeshApp:
    from meshtui.sources.files import FilesSource

    shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.chdir(tmp_path)
    return MeshApp(lambda: FilesSource("demo"))


def _select(namespace: str, name: str) -> Any:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        while app.index is None:
            await pilot.pause(0.05)
        # The problem markers come from the background analysis: wait for it, then for the
        # screen to draw them, so the picture does not depend on timing.
        while getattr(app.findings, "latest", None) is None:
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        app.screen.select_object("Service", namespace, name)
        app.screen.query_one(MeshTree).focus()
        await pilot.pause(0.3)

    return run_before


def test_mesh_screen_catalog(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _demo_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=SIZE, run_before=_select("istioinaction", "catalog"))


def test_mesh_screen_backend(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = _demo_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=SIZE, run_before=_select("default", "backend-service"))
