"""SVG snapshots of the main screens, reviewed before they were committed.

They run on the shipped demo manifests through the files source (no clock, no random pod
names), from a fixed relative path so the status bar reads the same on every machine, with the
text cursor's blink frozen. Every screen is taken at 80×24 (the smallest terminal meshtui
supports) and 160×45. Update with `pytest tests/test_snapshots.py --snapshot-update` and review
the new SVGs.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input

from meshtui.app import MeshApp
from meshtui.widgets.mesh_tree import MeshTree

DEMO = Path(str(files("meshtui.demo")))
SIZE = (120, 36)
SIZES = {"80x24": (80, 24), "160x45": (160, 45)}
BACKEND_VS = ("VirtualService", "default", "backend-service")


def _demo_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MeshApp:
    from meshtui.sources.files import FilesSource

    shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.chdir(tmp_path)
    # The audit log (History) lives in a fresh state directory: no entries from other runs.
    monkeypatch.setenv("MESHTUI_STATE_DIR", "state")  # relative: the title shows the path
    return MeshApp(lambda: FilesSource("demo"))


async def _until(pilot: Any, predicate: Any, what: str) -> None:
    for _ in range(400):
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{what} did not happen")


async def _settle(pilot: Any) -> None:
    """Freeze every text cursor (no blink) and let the screen draw."""
    await pilot.pause(0.3)
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    await pilot.pause(0.2)


async def _loaded(pilot: Any) -> None:
    app = pilot.app
    await _until(pilot, lambda: app.index is not None and app.findings.latest is not None, "the mesh to load")
    await pilot.pause(0.3)


async def _mesh(pilot: Any) -> None:
    await _loaded(pilot)
    pilot.app.screen.select_object("Service", "default", "backend-service")
    pilot.app.screen.query_one(MeshTree).focus()


async def _route_editor(pilot: Any) -> None:
    from meshtui.screens.route_editor import RouteEditor

    await _loaded(pilot)
    await pilot.app.push_screen(RouteEditor(BACKEND_VS, ("dest", 2, 1)))
    await pilot.pause(0.2)
    await pilot.press("right")  # a pending edit: v1 +5


async def _change_preview(pilot: Any) -> None:
    await _route_editor(pilot)
    await pilot.press("enter")
    await _until(pilot, lambda: type(pilot.app.screen).__name__ == "ChangePreview"
                 and pilot.app.screen.state != "checking", "the checks")


async def _analyze(pilot: Any) -> None:
    await _loaded(pilot)
    pilot.app.run_command("analyze")


async def _trace(pilot: Any) -> None:
    await _loaded(pilot)
    pilot.app.run_command("trace backend-service.default.svc.cluster.local")
    await pilot.pause(0.2)
    await pilot.press("ctrl+r")


async def _proxy_config(pilot: Any) -> None:
    await _mesh(pilot)
    await pilot.pause(0.2)
    await pilot.press("c")  # no pod on disk: the Deployment backend-service-v0, generated
    await _until(pilot, lambda: type(pilot.app.screen).__name__ == "ProxyConfigScreen", "the proxy config")


async def _endpoints(pilot: Any) -> None:
    await _mesh(pilot)
    await pilot.pause(0.2)
    await pilot.press("E")
    await _until(pilot, lambda: type(pilot.app.screen).__name__ == "ServiceEndpointsScreen", "the endpoints")


async def _history(pilot: Any) -> None:
    await _loaded(pilot)
    pilot.app.run_command("history")


async def _help(pilot: Any) -> None:
    await _mesh(pilot)
    await pilot.press("question_mark")
    await _until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen", "the help")


SCREENS = {
    "mesh": _mesh, "route-editor": _route_editor, "change-preview": _change_preview, "analyze": _analyze,
    "trace": _trace, "proxy-config": _proxy_config, "endpoints": _endpoints, "history": _history,
    "help": _help,
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(SCREENS))
def test_main_screen(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, screen: str,
                     size: str) -> None:
    app = _demo_app(tmp_path, monkeypatch)

    async def run_before(pilot: Any) -> None:
        await SCREENS[screen](pilot)
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", list(SIZES))
def test_logs_screen_with_split(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                size: str) -> None:
    """The Logs screen with its split panel, on the hand-written incident bundle of
    ``saved_bundle``: the client's sidecar saw 80/20 against the configured 90/10, and v1's 503 UF
    answers."""
    from saved_bundle import REQUESTS, write_bundle

    from meshtui.sources.files import FilesSource

    write_bundle(tmp_path, with_backends=False)  # one stream: what arrives comes in one order
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MESHTUI_STATE_DIR", "state")
    app = MeshApp(lambda: FilesSource("bundle"))

    async def run_before(pilot: Any) -> None:
        await _mesh(pilot)
        await pilot.press("l")
        await _until(pilot, lambda: type(pilot.app.screen).__name__ == "LogsScreen", "the Logs screen")
        screen = pilot.app.screen
        await _until(pilot, lambda: sum(r.requests for r in screen.split_rows()) == sum(REQUESTS.values()),
                     "the split of every request")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


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
