"""The route editor, the change preview and `$EDITOR` editing, driven with Pilot against the
sandbox (read back with the official client) and against a copy of the demo manifests."""

from __future__ import annotations

import copy
import itertools
import shutil
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from meshtui.app import MeshApp
from meshtui.widgets.mesh_tree import MeshTree
from meshtui.widgets.route_tree import RouteTree
from ui_helpers import wait_for

DEMO = Path(str(files("meshtui.demo")))
ISTIO = ("networking.istio.io", "v1")
_ns_counter = itertools.count()


@pytest.fixture(autouse=True)
def audit_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test writes its own audit log."""
    state = tmp_path / "state"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(state))
    return state


def backend_objects(namespace: str) -> list[dict[str, Any]]:
    """The demo's backend Service, DestinationRule and VirtualService, moved to ``namespace``."""
    docs = [d for d in yaml.safe_load_all((DEMO / "default-backend-service.yaml").read_text()) if d]
    out = []
    for d in docs:
        if d.get("kind") in ("Service", "DestinationRule", "VirtualService"):
            d = copy.deepcopy(d)
            d["metadata"]["namespace"] = namespace
            d["metadata"].pop("resourceVersion", None)
            out.append(d)
    return out


def seed_backend(kubeconfig: str, prefix: str) -> tuple[client.ApiClient, str]:
    """A fresh namespace with the backend objects, created with the official client."""
    api = config.new_client_from_config(kubeconfig, persist_config=False)
    ns = f"{prefix}-{next(_ns_counter)}"
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    core.create_namespace({"metadata": {"name": ns}})
    for obj in backend_objects(ns):
        if obj["kind"] == "Service":
            core.create_namespaced_service(ns, obj)
        else:
            custom.create_namespaced_custom_object(*ISTIO, ns, obj["kind"].lower() + "s", obj)
    return api, ns


def get_vs(api: client.ApiClient, ns: str) -> dict[str, Any]:
    """The backend VirtualService as the server holds it."""
    return client.CustomObjectsApi(api).get_namespaced_custom_object(*ISTIO, ns, "virtualservices", "backend-service")


def default_weights(vs: dict[str, Any]) -> list[int]:
    """The weights of the default (last) rule."""
    return [d.get("weight") for d in vs["spec"]["http"][-1]["route"]]


def kube_app(sandbox: Any, context: str | None = None) -> MeshApp:
    from meshtui.sources.kube import KubeSource

    return MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path), context=context))


async def open_editor_at(pilot: Any, app: MeshApp, ns: str, name: str, node: tuple) -> None:
    """Select the service in the browser, walk the route tree to ``node`` and press `w`."""
    await wait_for(pilot, lambda: app.index is not None and app.index.get("VirtualService", ns, name) is not None)
    tree = app.screen.query_one(MeshTree)
    tree.focus()
    await pilot.press("home")
    for _ in range(300):
        cur = tree.cursor_node
        if cur is not None and cur.data == ("svc", "Service", ns, name):
            break
        if cur is not None and cur.data == ("ns", ns) and not cur.is_expanded:
            await pilot.press("space")
        await pilot.press("down")
    else:
        raise AssertionError(f"service {ns}/{name} not reachable")
    await pilot.pause()
    routes = app.screen.query_one(RouteTree)
    routes.focus()
    await pilot.press("home")
    for _ in range(100):
        if routes.cursor_node is not None and routes.cursor_node.data == node:
            break
        await pilot.press("down")
    else:
        raise AssertionError(f"route node {node} not reachable")
    await pilot.press("w")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")


def preview_state(app: MeshApp) -> str | None:
    """The state of the open change preview (None when none is open)."""
    screen = app.screen
    return getattr(screen, "state", None) if type(screen).__name__ == "ChangePreview" else None


def notes(app: MeshApp) -> str:
    """Every notification shown so far."""
    return "\n".join(str(n.message) for n in app._notifications)


async def test_weights_by_keys_preview_apply_read_back(sandbox: Any) -> None:
    """90/10 → 70/30 with ← four times on v0, previewed (diff, dry run) and applied."""
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "ed-weights")
    app = kube_app(sandbox)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("dest", 2, 0))
        await pilot.press("left", "left", "left", "left")
        editor = app.screen
        assert default_weights(editor.session.current) == [70, 30]
        assert "90% → 70%" in "\n".join(str(n.label) for n in _nodes(editor.query_one("#edit-tree")))
        assert get_vs(api, ns)["spec"]["http"][-1]["route"][0]["weight"] == 90  # nothing written yet
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        preview = app.screen
        assert "-    weight: 90" in preview.preview.diff.replace("  - ", "    ") or "weight: 70" in preview.preview.diff
        assert preview.preview.blocked is None and preview.preview.dry_run is not None
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
        stored = get_vs(api, ns)
        assert default_weights(stored) == [70, 30]
        # Everything else of the object is as it was.
        before = backend_objects(ns)[-1]
        assert stored["spec"]["http"][:2] == before["spec"]["http"][:2]
        assert stored["spec"]["http"][-1]["retries"] == before["spec"]["http"][-1]["retries"]
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        assert not app.screen.session.dirty


def _nodes(tree: Any) -> list[Any]:
    out, stack = [], list(tree.root.children)
    while stack:
        n = stack.pop(0)
        out.append(n)
        stack[:0] = list(n.children)
    return out
