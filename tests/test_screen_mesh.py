"""The mesh browser, driven with Textual's Pilot: on the demo manifests and on the sandbox."""

from __future__ import annotations

import copy
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from meshtui.app import MeshApp
from meshtui.widgets.big_table import BigTable
from meshtui.widgets.mesh_tree import MeshTree
from meshtui.widgets.route_tree import RouteTree
from ui_helpers import dest_weight, toasts, tree_lines, wait_for

DEMO = Path(str(files("meshtui.demo")))


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped demo manifests."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def files_app(path: Path) -> MeshApp:
    from meshtui.sources.files import FilesSource

    return MeshApp(lambda: FilesSource(str(path)))


async def select_service(pilot: Any, app: MeshApp, namespace: str, name: str) -> list[str]:
    """Move the browser's cursor onto a service with the keyboard; return the route tree."""
    tree = app.screen.query_one(MeshTree)
    tree.focus()
    await pilot.press("home")
    for _ in range(200):
        node = tree.cursor_node
        if node is not None and node.data == ("svc", "Service", namespace, name):
            break
        if node is not None and node.data == ("ns", namespace) and not node.is_expanded:
            await pilot.press("space")  # open the namespace
        await pilot.press("down")
    else:
        raise AssertionError(f"service {namespace}/{name} not reachable with the keyboard")
    await pilot.pause()
    return tree_lines(app.screen.query_one(RouteTree))


async def test_backend_routes_show_header_prefix_rewrite_and_weights(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        lines = await select_service(pilot, app, "default", "backend-service")
        text = "\n".join(lines)
        assert 'when header x-canary = "true"' in text
        assert "when uri prefix /test/v1" in text
        assert "rewrite uri → /" in text
        v0 = next(line for line in lines if line.startswith("→ backend-service v0"))
        v1 = [line for line in lines if line.startswith("→ backend-service v1")]
        assert dest_weight(v0) == 90
        assert any(dest_weight(line) == 10 for line in v1)
        # The rule order is the order of spec.http.
        assert text.index("x-canary") < text.index("/test/v1") < text.index("v0")


async def test_catalog_tree_shows_gateway_and_split(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        lines = await select_service(pilot, app, "istioinaction", "catalog")
        text = "\n".join(lines)
        assert "catalog-gateway" in text
        assert 'header x-istio-cohort = "internal"' in text
        assert any(line.startswith("→ catalog v1") and dest_weight(line) == 90 for line in lines)
        assert any(line.startswith("subset v2") for line in lines)


async def test_filter_colon_jumps_and_help(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("slash", *"revi")
        tree = app.screen.query_one(MeshTree)
        shown = [n.data[3] for ns in tree.root.children for n in ns.children]
        assert shown == ["reviews"]
        await pilot.press("escape")
        shown = [n.data[3] for ns in tree.root.children for n in ns.children]
        assert "catalog" in shown and "reviews" in shown

        await pilot.press("colon", *"dr", "enter")
        await pilot.pause()
        table = app.screen.query_one(BigTable)
        assert table.row_count == app.index.count("DestinationRule")
        await pilot.press("slash", *"^istioinaction ")
        assert table.row_count == 1
        await pilot.press("enter", "enter")  # leave the filter, then open the row
        await pilot.pause()
        assert type(app.screen).__name__ == "MeshScreen"
        lines = tree_lines(app.screen.query_one(RouteTree))
        assert any("VirtualService istioinaction/catalog" in line for line in lines)

        await pilot.press("colon", *"nosuchview", "enter")
        await wait_for(pilot, lambda: any("unknown command" in t for t in toasts(app)))

        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen", "? opens the help"


async def test_scope_switch_with_colon_ns(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("colon", *"ns bookinfo", "enter")
        await pilot.pause()
        tree = app.screen.query_one(MeshTree)
        assert [n.data[1] for n in tree.root.children] == ["bookinfo"]
        await pilot.press("colon", *"ns", "enter")
        await pilot.pause()
        assert len(tree.root.children) > 1


def _backend_objects(namespace: str) -> list[dict[str, Any]]:
    """The demo's backend Service, DestinationRule and VirtualService, moved to ``namespace``."""
    import yaml

    docs = [d for d in yaml.safe_load_all((DEMO / "default-backend-service.yaml").read_text()) if d]
    out = []
    for d in docs:
        if d.get("kind") in ("Service", "DestinationRule", "VirtualService"):
            d = copy.deepcopy(d)
            d["metadata"]["namespace"] = namespace
            d["metadata"].pop("resourceVersion", None)
            out.append(d)
    return out


async def test_watch_event_updates_open_tree(sandbox: Any) -> None:
    """A weight changed by another client (kubectl patch equivalent) repaints the open tree."""
    from kubernetes import client, config

    from meshtui.sources.kube import KubeSource

    ns = "ui-watch"
    api_client = config.new_client_from_config(str(sandbox.kubeconfig_path))
    core = client.CoreV1Api(api_client)
    custom = client.CustomObjectsApi(api_client)
    core.create_namespace({"metadata": {"name": ns}})
    for obj in _backend_objects(ns):
        if obj["kind"] == "Service":
            core.create_namespaced_service(ns, obj)
        else:
            plural = obj["kind"].lower() + "s"
            custom.create_namespaced_custom_object("networking.istio.io", "v1", ns, plural, obj)

    app = MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path)))
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.index.get("VirtualService", ns, "backend-service") is not None)
        lines = await select_service(pilot, app, ns, "backend-service")
        assert any(line.startswith("→ backend-service v0") and dest_weight(line) == 90 for line in lines)
        vs = custom.get_namespaced_custom_object("networking.istio.io", "v1", ns, "virtualservices", "backend-service")
        default_rule = vs["spec"]["http"][-1]
        default_rule["route"][0]["weight"] = 70
        default_rule["route"][1]["weight"] = 30
        custom.patch_namespaced_custom_object(
            "networking.istio.io", "v1", ns, "virtualservices", "backend-service",
            {"spec": {"http": vs["spec"]["http"]}},
        )

        def shows_70_30() -> bool:
            lines = tree_lines(app.screen.query_one(RouteTree))
            return any(line.startswith("→ backend-service v0") and dest_weight(line) == 70 for line in lines) and any(
                line.startswith("→ backend-service v1") and dest_weight(line) == 30 for line in lines
            )

        await wait_for(pilot, shows_70_30)
        # The cursor stayed on the service.
        assert app.screen.query_one(MeshTree).cursor_node.data == ("svc", "Service", ns, "backend-service")
    core.delete_namespace(ns)


async def test_command_palette_offers_views_actions_and_services(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"DestinationRules")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
        assert app.screen.view.kind == "DestinationRule"
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"service default/backend")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen.query_one(MeshTree).cursor_node.data == ("svc", "Service", "default", "backend-service")


def detail_title(app: MeshApp) -> str:
    """The detail pane's heading, as shown."""
    from textual.widgets import Static

    return str(app.screen.query_one("#detail-title", Static).render())


async def test_filter_moves_the_cursor_and_keys_act_on_the_highlighted_service(demo_dir: Path) -> None:
    """Issue 12: after `/ratings⏎` the cursor stayed where it was and `w` edited bookinfo/reviews."""
    app = files_app(demo_dir)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await select_service(pilot, app, "bookinfo", "reviews")
        await pilot.press("slash", *"ratings", "enter")
        await wait_for(pilot, lambda: "bookinfo/ratings" in detail_title(app))
        tree = app.screen.query_one(MeshTree)
        assert tree.cursor_node.data == ("svc", "Service", "bookinfo", "ratings")
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        assert "VirtualService bookinfo/ratings" in str(app.screen.query_one("#editor-title").render())


async def test_the_filter_lands_on_the_first_match_when_several_names_match(demo_dir: Path) -> None:
    """`/basket` matches basket, basket-v1 and basket-v2: the cursor and the detail are on
    basket (the first shown), not on whatever row the cursor's old line number now holds."""
    app = files_app(demo_dir)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("slash", *"basket", "enter")
        await wait_for(pilot, lambda: "shop/basket" in detail_title(app))
        await pilot.pause(0.3)
        tree = app.screen.query_one(MeshTree)
        assert tree.cursor_node.data == ("svc", "Service", "shop", "basket")
        assert "Service shop/basket " in detail_title(app) + " "


async def test_on_a_namespace_row_service_actions_say_so(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await select_service(pilot, app, "default", "backend-service")
        await pilot.press("up")  # the `default` namespace row
        await wait_for(pilot, lambda: "Namespace default" in detail_title(app))
        assert not any(line.startswith("▼ VirtualService") for line in tree_lines(app.screen.query_one(RouteTree)))
        for key in ("l", "w", "y", "c"):
            await pilot.press(key)
            await pilot.pause()
            assert type(app.screen).__name__ == "MeshScreen", key
        await wait_for(pilot, lambda: sum("the cursor is on namespace default" in t for t in toasts(app)) == 4)


async def test_scope_switch_moves_the_detail_to_a_service_of_that_namespace(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(140, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await select_service(pilot, app, "bookinfo", "productpage")
        await pilot.press("colon", *"ns rollouts", "enter")
        await wait_for(pilot, lambda: " rollouts/" in detail_title(app))
        node = app.screen.query_one(MeshTree).cursor_node
        assert node.data[2] == "rollouts"


async def test_networking_only_directory_edits_a_virtual_service_from_vs(tmp_path: Path) -> None:
    """Issue 12: Istio's samples/bookinfo/networking (no Service manifests) could not be edited."""
    from paths import CONFORMANCE_ROOT

    target = tmp_path / "networking"
    shutil.copytree(CONFORMANCE_ROOT / "samples" / "bookinfo" / "networking", target)
    for f in target.iterdir():
        f.chmod(0o644)
    app = files_app(target)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("colon", *"vs", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
        await pilot.press("slash", *"^default reviews", "enter", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
        assert "VirtualService default/reviews" in str(app.screen.query_one("#editor-title").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "RouteEditor")
