"""`W` on the mesh browser enrols a namespace or service in a waypoint: a choice of the waypoints
istiod would bind it to, the change preview, `y` writes the label (read back from the manifest on
disk), `u` undoes it. The choices come from the session layer (also checked on their own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.widgets import Input, Static

from meshtui.app import MeshApp
from meshtui.model.index import MeshIndex
from meshtui.session.waypoint_enrolment import enrolment_choices
from meshtui.widgets.mesh_tree import MeshTree
from ui_helpers import wait_for


@pytest.fixture(autouse=True)
def audit_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test writes its own audit log (undo reads it)."""
    state = tmp_path / "state"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(state))
    return state


def _gateway(name: str, ns: str, waypoint_for: str | None = None, cls: str = "istio-waypoint") -> dict[str, Any]:
    labels = {"istio.io/waypoint-for": waypoint_for} if waypoint_for else {}
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"gatewayClassName": cls, "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
            "status": {"addresses": [{"type": "Hostname", "value": f"{name}.{ns}.svc.cluster.local"}]}}


def _manifests() -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop",
                                                               "labels": {"istio.io/dataplane-mode": "ambient"}}},
        _gateway("waypoint", "shop"),
        _gateway("pods-only", "shop", waypoint_for="workload"),  # takes no service traffic
        _gateway("edge", "shop", cls="istio"),  # an ingress gateway, not a waypoint
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "stock", "namespace": "shop"},
         "spec": {"selector": {"app": "stock"}, "ports": [{"name": "http", "port": 9080}]}},
    ]


def test_choices_are_the_waypoints_istiod_would_bind() -> None:
    index = MeshIndex(_manifests())
    service = [c.token for c in enrolment_choices(index, "Service", "shop", "stock")]
    assert service == ["shop/waypoint", "none"]
    namespace = [c.token for c in enrolment_choices(index, "Namespace", "", "shop")]
    assert namespace == ["shop/pods-only", "shop/waypoint"]


async def _to_row(pilot: Any, app: MeshApp, data: tuple[Any, ...]) -> None:
    tree = app.screen.query_one(MeshTree)
    tree.focus()
    await pilot.press("home")
    for _ in range(100):
        cur = tree.cursor_node
        if cur is not None and cur.data == data:
            return
        if cur is not None and cur.data and cur.data[0] == "ns" and not cur.is_expanded:
            await pilot.press("space")
        await pilot.press("down")
    raise AssertionError(f"row {data} not reachable")


def _text(app: MeshApp, selector: str) -> str:
    """What a Static shows, as plain text (a Syntax or Text rendered by rich, as on screen)."""
    import io

    from rich.console import Console

    console = Console(width=200, color_system=None, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text().rstrip("\n")


async def test_w_on_a_service_previews_writes_and_undoes_the_label(tmp_path: Path) -> None:
    from meshtui.sources.files import FilesSource

    root = tmp_path / "mesh"
    root.mkdir()
    manifest = root / "shop.yaml"
    manifest.write_text(yaml.safe_dump_all(_manifests(), sort_keys=False))
    before = manifest.read_text()
    app = MeshApp(lambda: FilesSource(str(root)))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.index.get("Service", "shop", "stock") is not None)
        await _to_row(pilot, app, ("svc", "Service", "shop", "stock"))
        await pilot.press("W")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        assert _text(app, "#form-title") == "Waypoint for Service shop/stock"
        note = _text(app, "#form-note")
        assert "shop/waypoint  service traffic, ready" in note and "none           opt out" in note
        assert "pods-only" not in note and "edge" not in note
        assert app.screen.query_one("#field-waypoint", Input).value == "shop/waypoint"
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ChangePreview")
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) == "ready")
        assert "+    istio.io/use-waypoint: waypoint" in _text(app, "#preview-diff")
        await pilot.press("y")
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) == "applied")
        on_disk = next(d for d in yaml.safe_load_all(manifest.read_text()) if d["kind"] == "Service")
        assert on_disk["metadata"]["labels"] == {"istio.io/use-waypoint": "waypoint"}
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MeshScreen")
        await wait_for(pilot, lambda: "ambient via waypoint shop/waypoint" in _text(app, "#detail-title"))
        await pilot.press("u")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ChangePreview")
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) == "ready")
        await pilot.press("y")
        await wait_for(pilot, lambda: getattr(app.screen, "state", None) == "applied")
    assert manifest.read_text() == before


async def test_w_on_a_namespace_row_offers_its_waypoints_and_esc_writes_nothing(tmp_path: Path) -> None:
    from meshtui.sources.files import FilesSource

    root = tmp_path / "mesh"
    root.mkdir()
    manifest = root / "shop.yaml"
    manifest.write_text(yaml.safe_dump_all(_manifests(), sort_keys=False))
    before = manifest.read_text()
    app = MeshApp(lambda: FilesSource(str(root)))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.index.get("Namespace", "", "shop") is not None)
        await _to_row(pilot, app, ("ns", "shop"))
        await pilot.press("W")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        assert _text(app, "#form-title") == "Waypoint for Namespace shop"
        note = _text(app, "#form-note")
        assert "shop/pods-only" in note and "shop/waypoint" in note and "opt out" not in note
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MeshScreen")
    assert manifest.read_text() == before


async def test_help_lists_the_waypoint_key(tmp_path: Path) -> None:
    from meshtui.sources.files import FilesSource

    root = tmp_path / "mesh"
    root.mkdir()
    (root / "shop.yaml").write_text(yaml.safe_dump_all(_manifests(), sort_keys=False))
    app = MeshApp(lambda: FilesSource(str(root)))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        text = app.screen.query_one("#help-text").source
        assert "| `W` | Waypoint" in text and "Ambient mode" in text
