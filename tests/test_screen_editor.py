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
from ui_helpers import toasts, wait_for

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
            if d["kind"] == "DestinationRule":  # its host is the FQDN in the demo's namespace
                d["spec"]["host"] = f"backend-service.{namespace}.svc.cluster.local"
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
    """The notifications on screen now."""
    return "\n".join(toasts(app))


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
        diff = preview.preview.diff.splitlines()
        assert [x.split(":")[-1].strip() for x in diff if x.startswith("-") and "weight:" in x] == ["90", "10"]
        assert [x.split(":")[-1].strip() for x in diff if x.startswith("+") and "weight:" in x] == ["70", "30"]
        assert preview.preview.blocked is None and preview.preview.dry_run is not None
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
        stored = get_vs(api, ns)
        assert default_weights(stored) == [70, 30]
        # The client sidecars' routes (their config dumps, through the API server) follow.
        await wait_for(pilot, lambda: preview.propagation_line.startswith("propagated to"), timeout=45)
        line = preview.propagation_line
        print(line)
        assert "still stale" not in line and not line.startswith("propagated to 0/")
        # Everything else of the object is as it was.
        before = next(o for o in backend_objects(ns) if o["kind"] == "VirtualService")
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


async def edit_to_70_30_and_preview(pilot: Any, app: MeshApp, ns: str) -> None:
    """In the open editor on the default rule's v0: 90/10 → 70/30, then `enter` until ready."""
    await pilot.press("left", "left", "left", "left")
    await pilot.press("enter")
    await wait_for(pilot, lambda: preview_state(app) == "ready")


async def test_conflict_shows_their_change_and_reapplies_on_top(sandbox: Any) -> None:
    """Another client patches the object between the preview and `y`: nothing is written, their
    change is shown, `r` re-applies the same edit on top, and both changes survive."""
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "ed-conflict")
    app = kube_app(sandbox)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("dest", 2, 0))
        await edit_to_70_30_and_preview(pilot, app, ns)
        theirs = get_vs(api, ns)
        theirs["spec"]["http"][-1]["timeout"] = "7s"
        client.CustomObjectsApi(api).patch_namespaced_custom_object(
            *ISTIO, ns, "virtualservices", "backend-service", {"spec": {"http": theirs["spec"]["http"]}})
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "conflict")
        preview = app.screen
        assert default_weights(get_vs(api, ns)) == [90, 10]  # nothing of ours was written
        shown = preview.outcome.conflict.their_changes()
        assert "+  timeout: 7s" in shown or any(x.startswith("+") and "timeout: 7s" in x for x in shown.splitlines())
        await pilot.press("r")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
        stored = get_vs(api, ns)
        assert default_weights(stored) == [70, 30]
        assert stored["spec"]["http"][-1]["timeout"] == "7s"


async def test_read_only_context_blocks_every_write_key_with_reason(sandbox: Any) -> None:
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "ed-readonly")
    app = kube_app(sandbox, context="meshtui-sandbox-readonly")
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        def status_line() -> str:
            return str(app.screen.query_one("#status").render())

        await wait_for(pilot, lambda: app.index is not None and "READ-ONLY (" in status_line())
        # What the status bar says after READ-ONLY: "(reason)".
        reason = status_line().split("READ-ONLY (", 1)[1].split(")  ", 1)[0]
        await open_editor_at(pilot, app, ns, "backend-service", ("dest", 2, 0))
        editor = app.screen
        title = str(editor.query_one("#editor-title").render())
        assert "READ-ONLY" in title and reason in title
        for key in ("left", "plus", "0", "a", "m", "c", "d", "enter"):
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen).__name__ == "RouteEditor", f"{key} opened {type(app.screen).__name__}"
        assert not editor.session.dirty
        said = notes(app)
        assert said.count("cannot be made") == 8 and reason in said
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MeshScreen")
        app.clear_notifications()
        await pilot.press("u", "e")
        await pilot.pause()
        said = notes(app)
        assert "undo cannot be made" in said and "editing cannot be made" in said and reason in said
    assert default_weights(get_vs(api, ns)) == [90, 10]


async def test_undo_restores_the_previous_spec_exactly(sandbox: Any) -> None:
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "ed-undo")
    original = get_vs(api, ns)["spec"]
    app = kube_app(sandbox)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("dest", 2, 0))
        await edit_to_70_30_and_preview(pilot, app, ns)
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
        assert default_weights(get_vs(api, ns)) == [70, 30]
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        await pilot.press("escape")  # back to the browser: `u` there undoes the last change
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MeshScreen")
        await pilot.press("u")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert app.screen.plan.description.startswith("undo ")
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
    assert get_vs(api, ns)["spec"] == original


async def test_dark_launch_rule_from_the_ui_is_taken_by_trace(sandbox: Any) -> None:
    from meshtui.model.index import MeshIndex
    from meshtui.routing.request import TraceRequest
    from meshtui.routing.trace import trace

    api, ns = seed_backend(str(sandbox.kubeconfig_path), "ed-dark")
    app = kube_app(sandbox)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("dest", 2, 1))
        await pilot.press("d")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        assert app.screen.values() == {"subset": "v1", "header": "x-istio-cohort", "value": "internal",
                                       "kind": "exact"}
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert app.screen.preview.blocked is None, app.screen.preview.blocked.message
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
    vs = get_vs(api, ns)
    names = [r.get("name") for r in vs["spec"]["http"]]
    assert names == ["canary-header", "test-v1", "dark-launch-v1", "default"]
    objects = [o for o in backend_objects(ns) if o["kind"] != "VirtualService"] + [vs]
    index = MeshIndex(objects)
    host = f"backend-service.{ns}.svc.cluster.local"
    inside = trace(index, TraceRequest.build(host, "/", headers={"x-istio-cohort": "internal"}, source_namespace=ns))
    assert inside.rule_name == "dark-launch-v1"
    assert [d.subset for d in inside.destinations] == ["v1"]
    outside = trace(index, TraceRequest.build(host, "/", source_namespace=ns))
    assert outside.rule_name == "default"


# -- files source ------------------------------------------------------------------------------


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped (commented) demo manifests."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def files_app(path: Path) -> MeshApp:
    from meshtui.sources.files import FilesSource

    return MeshApp(lambda: FilesSource(str(path)))


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """(old, new) line pairs that differ; the files must have the same number of lines."""
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b), "lines were added or removed"
    return [(x, y) for x, y in zip(a, b) if x != y]


async def test_files_source_edit_changes_only_the_weight_lines(demo_dir: Path) -> None:
    manifest = demo_dir / "default-backend-service.yaml"
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "default", "backend-service", ("dest", 2, 0))
        await edit_to_70_30_and_preview(pilot, app, "default")
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
    assert changed_lines(before, manifest.read_text()) == [
        ("            weight: 90", "            weight: 70"),
        ("            weight: 10", "            weight: 30"),
    ]


EDITOR_SCRIPT = '''
import pathlib, sys
runs, path = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])  # $EDITOR's own args, then the file
count = int(runs.read_text()) if runs.exists() else 0
runs.write_text(str(count + 1))
text = path.read_text()
if count == 0:
    path.write_text(text + "  broken: [unclosed\\n")
else:
    assert "# ERROR: YAML does not parse" in text, text
    assert "broken: [unclosed" in text, "the user's text was lost"
    text = text.replace("  broken: [unclosed\\n", "")
    path.write_text(text.replace("weight: 90", "weight: 80").replace("weight: 10", "weight: 20"))
'''


async def test_editor_invalid_yaml_reopens_then_writes_only_the_edit(demo_dir: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "fake_editor.py"
    script.write_text(EDITOR_SCRIPT)
    runs = tmp_path / "runs"
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {script} {runs}")
    manifest = demo_dir / "default-backend-service.yaml"
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "default", "backend-service", ("dest", 2, 0))
        await pilot.press("escape")  # leave the route editor; the route tree keeps its cursor
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MeshScreen")
        app.screen.query_one(RouteTree).focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert runs.read_text() == "2"  # re-opened once with the error
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
    assert changed_lines(before, manifest.read_text()) == [
        ("            weight: 90", "            weight: 80"),
        ("            weight: 10", "            weight: 20"),
    ]


async def test_our_own_write_coming_back_through_the_watch_is_not_taken_for_another_writers(
        demo_dir: Path) -> None:
    """Issue 12: after an apply, the watch brings our own write back while the preview is still
    open; the editor must recognise it, not say the object "changed at the source"."""
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "default", "backend-service", ("dest", 2, 0))
        await edit_to_70_30_and_preview(pilot, app, "default")
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")

        def stored_weights() -> list[int]:
            vs = app.index.get("VirtualService", "default", "backend-service") if app.index else None
            return default_weights(vs.raw) if vs is not None else []

        await wait_for(pilot, lambda: stored_weights() == [70, 30])  # the watch caught up
        await pilot.pause(0.3)
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        assert "changed at the source" not in notes(app)
        assert "pending (" not in str(app.screen.query_one("#editor-pending").render())
