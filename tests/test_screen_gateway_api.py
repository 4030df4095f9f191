"""The Gateway API in the TUI, read as a user reads it: HTTPRoutes in the service tree with the
share of each backend, Gateway API gateways with their listeners and attached routes, status
conditions that are not True, and the `:httproute`/`:hr`, `:grpcroute`, `:gtw` views."""

from __future__ import annotations

import re
import subprocess
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.app import MeshApp
from meshtui.widgets.big_table import BigTable
from meshtui.widgets.route_tree import RouteTree
from test_screen_mesh import select_service
from ui_helpers import tree_lines, wait_for

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


def table_lines(table: BigTable) -> list[str]:
    """Every line the table draws (header first), as text."""
    return ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]


def share(line: str) -> int | None:
    m = re.search(r"(\d+)% ", line)
    return int(m.group(1)) if m else None


async def test_httproute_split_shows_in_the_service_tree_with_shares(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        lines = await select_service(pilot, app, "storefront", "cart")
        text = "\n".join(lines)
        assert "HTTPRoute storefront/cart" in text
        assert "No VirtualService routes cart" not in text
        assert "parents Service storefront/cart:8080" in text
        assert "when header x-canary=true" in text
        v1 = next(line for line in lines if line.startswith("→ storefront/cart-v1:8080"))
        v2 = [line for line in lines if line.startswith("→ storefront/cart-v2:8080")]
        assert share(v1) == 90 and "weight 90" in v1
        assert sorted(share(line) for line in v2) == [10, 100]
        # The browser marks the service as routed by the Gateway API.
        leaf = next(line for line in tree_lines(app.screen.query_one("#mesh-tree")) if "cart" in line.split())
        assert "HR" in leaf.split()


async def test_relative_weights_are_shown_as_shares_and_gateway_listeners(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        lines = await select_service(pilot, app, "storefront", "cart-v2")
        text = "\n".join(lines)
        # The north-south route written 9/1 draws 90% / 10%.
        assert "HTTPRoute storefront/web" in text
        assert "when PathPrefix /cart" in text
        assert "filter URLRewrite" in text
        nine = next(line for line in lines if line.startswith("→ storefront/cart-v1:8080") and "weight 9" in line)
        assert share(nine) == 90
        assert "Gateway storefront/storefront-gateway  class istio" in text
        listener = next(i for i, line in enumerate(lines) if line.startswith("listener http 80/HTTP"))
        assert "host shop.example.com" in lines[listener]
        assert lines[listener + 1] == "← HTTPRoute storefront/web (shop.example.com)"


async def test_conditions_that_are_not_true_are_shown_with_their_message(demo_dir: Path) -> None:
    path = demo_dir / "storefront-gateway-api.yaml"
    docs = list(yaml.safe_load_all(path.read_text()))
    route = next(d for d in docs if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == "cart")
    route["status"] = {"parents": [{
        "parentRef": {"group": "", "kind": "Service", "name": "cart", "port": 8080},
        "controllerName": "istio.io/gateway-controller",
        "conditions": [
            {"type": "Accepted", "status": "True", "reason": "Accepted", "message": "Route was valid"},
            {"type": "ResolvedRefs", "status": "False", "reason": "BackendNotFound",
             "message": "backend(cart-v3.storefront.svc.cluster.local) not found"},
        ]}]}
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    app = files_app(demo_dir)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        lines = await select_service(pilot, app, "storefront", "cart")
        bad = [line for line in lines if line.startswith("✘ ")]
        assert bad == ["✘ ResolvedRefs False BackendNotFound: backend(cart-v3.storefront.svc.cluster.local) not found "
                       "(Service storefront/cart:8080)"]


def _count(directory: Path, kind: str) -> int:
    """How many Gateway API objects of ``kind`` the manifests in ``directory`` hold (read with
    PyYAML)."""
    return sum(1 for f in directory.glob("*.yaml") for d in yaml.safe_load_all(f.read_text())
               if isinstance(d, dict) and d.get("kind") == kind
               and str(d.get("apiVersion", "")).startswith("gateway.networking.k8s.io/"))


async def _open(pilot: Any, app: MeshApp, command: str) -> BigTable:
    await pilot.press("colon", *command, "enter")
    await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
    return app.screen.query_one(BigTable)


async def test_hr_grpcroute_and_gtw_views_filter_enter_and_yaml(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(220, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        table = await _open(pilot, app, "hr")
        await wait_for(pilot, lambda: table.row_count == _count(demo_dir, "HTTPRoute"))
        lines = table_lines(table)
        header = [h.rstrip("…▲▼") for h in lines[0].split()]
        assert header[:4] == ["NAMESPACE", "NAME", "HOSTNAMES", "PARENTS"]
        web = next(line for line in lines if " web " in line)
        assert "shop.example.com" in web and "Gateway/storefront-gateway/http" in web
        await pilot.press("slash", *"payments", "enter")
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("y")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "YamlScreen")
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MeshScreen")
        await wait_for(pilot, lambda: "HTTPRoute storefront/payments" in tree_lines(app.screen.query_one(RouteTree)))
        # The mixing trap is said first, above both routes.
        first = tree_lines(app.screen.query_one(RouteTree))[0]
        assert first.startswith("⚠ VirtualService storefront/payments and HTTPRoute storefront/payments both route")

        table = await _open(pilot, app, "grpcroute")
        assert table.row_count == 0
        await pilot.press("escape")

        table = await _open(pilot, app, "gtw")
        await wait_for(pilot, lambda: table.row_count == _count(demo_dir, "Gateway"))
        await pilot.press("slash", *"storefront-gateway", "enter")
        await wait_for(pilot, lambda: table.row_count == 1)
        row = table_lines(table)[1]
        assert "storefront-gateway" in row and "istio" in row and "http:80/HTTP" in row
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MeshScreen")
        await wait_for(pilot, lambda: any(line.startswith("Gateway storefront/storefront-gateway")
                                          for line in tree_lines(app.screen.query_one(RouteTree))))


def _kubectl(sandbox: Any, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(["kubectl", "--kubeconfig", str(sandbox.kubeconfig_path), *args], input=stdin,
                          capture_output=True, text=True, timeout=60, check=True).stdout


_GW_UI = """
apiVersion: v1
kind: Namespace
metadata: {name: gw-ui}
---
apiVersion: v1
kind: Service
metadata: {name: shop, namespace: gw-ui}
spec: {selector: {app: shop}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop-v1, namespace: gw-ui}
spec: {selector: {app: shop, version: v1}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: shop-v2, namespace: gw-ui}
spec: {selector: {app: shop, version: v2}, ports: [{name: http, port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: gw-ui}
spec:
  parentRefs: [{group: "", kind: Service, name: shop, port: 80}]
  rules:
    - backendRefs: [{name: shop-v1, port: 80, weight: 3}, {name: shop-v2, port: 80, weight: 1}]
"""


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
async def test_status_written_by_the_controller_reaches_the_tree(sandbox: Any) -> None:
    from meshtui.sources.kube import KubeSource

    _kubectl(sandbox, "apply", "-f", "-", stdin=_GW_UI)
    try:
        app = MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path)))
        async with app.run_test(size=(200, 60)) as pilot:
            await wait_for(pilot, lambda: app.index is not None and app.index.get("HTTPRoute", "gw-ui", "shop"))
            lines = await select_service(pilot, app, "gw-ui", "shop")
            assert [share(line) for line in lines if line.startswith("→ gw-ui/shop-v")] == [75, 25]
            assert not any(line.startswith("✘") for line in lines)
            # Another client sends a quarter of the traffic to a Service that does not exist.
            _kubectl(sandbox, "patch", "httproute", "shop", "-n", "gw-ui", "--type", "json", "-p",
                     '[{"op": "replace", "path": "/spec/rules/0/backendRefs/1/name", "value": "shop-v3"}]')
            message = ""
            for _ in range(100):
                message = _kubectl(sandbox, "get", "httproute", "shop", "-n", "gw-ui", "-o",
                                   'jsonpath={.status.parents[0].conditions[?(@.type=="ResolvedRefs")].message}')
                if "shop-v3" in message:
                    break
            assert "shop-v3" in message

            def shows_problem() -> bool:
                return any(line.startswith("✘ ResolvedRefs False BackendNotFound: " + message)
                           for line in tree_lines(app.screen.query_one(RouteTree)))

            await wait_for(pilot, shows_problem)
    finally:
        _kubectl(sandbox, "delete", "namespace", "gw-ui", "--wait=false")


async def test_httproute_editor_shifts_shares_on_the_files_scale_and_refuses_faults(demo_dir: Path,
                                                                                   tmp_path: Path,
                                                                                   monkeypatch: Any) -> None:
    from textual.widgets import Static, Tree

    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    path = demo_dir / "storefront-gateway-api.yaml"
    before = path.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await _open(pilot, app, "hr")
        await pilot.press("slash", *"web", "enter")
        table = app.screen.query_one(BigTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HTTPRouteEditor")
        tree = app.screen.query_one(Tree)
        # Onto the cart-v2 backend of rule "cart" (written 9/1).
        for _ in range(30):
            node = tree.cursor_node
            if node is not None and node.data == ("backend", 0, 1):
                break
            await pilot.press("down")
        await pilot.press("right")
        await pilot.pause()
        await pilot.press("right")
        await pilot.pause()
        lines = tree_lines(tree)
        v2 = next(line for line in lines if line.startswith("→ storefront/cart-v2:8080"))
        assert " 10% →  20% " in v2 and "weight 1 → 2" in v2
        # Fault injection cannot be expressed: the reason is shown, nothing changes.
        await pilot.press("f")
        bottom = app.screen.query_one("#hr-editor-pending", Static)
        await wait_for(pilot, lambda: "no fault-injection filter" in str(bottom.render()))
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ChangePreview")
        await pilot.press("y")
        await wait_for(pilot, lambda: path.read_text() != before)
    diff = [ln for ln in path.read_text().splitlines() if ln not in before.splitlines()]
    assert diff == ["          weight: 8", "          weight: 2"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
async def test_httproute_editor_writes_to_the_cluster_through_the_write_path(sandbox: Any, tmp_path: Path,
                                                                            monkeypatch: Any) -> None:
    from textual.widgets import Tree

    from meshtui.sources.kube import KubeSource

    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    _kubectl(sandbox, "apply", "-f", "-", stdin=_GW_UI.replace("gw-ui", "gw-edit"))
    try:
        app = MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path)))
        async with app.run_test(size=(200, 60)) as pilot:
            await wait_for(pilot, lambda: app.index is not None and app.index.get("HTTPRoute", "gw-edit", "shop"))
            await select_service(pilot, app, "gw-edit", "shop")
            await pilot.press("w")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "HTTPRouteEditor")
            tree = app.screen.query_one(Tree)
            for _ in range(30):
                node = tree.cursor_node
                if node is not None and node.data == ("backend", 0, 0):
                    break
                await pilot.press("down")
            await pilot.press("p")  # promote shop-v1: 3/1 becomes 4/0 on the route's own scale
            await pilot.pause()
            await pilot.press("enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ChangePreview")
            await pilot.press("y")

            def written() -> bool:
                out = _kubectl(sandbox, "get", "httproute", "shop", "-n", "gw-edit", "-o",
                               "jsonpath={.spec.rules[0].backendRefs[*].weight}")
                return out.split() == ["4", "0"]

            await wait_for(pilot, written)
    finally:
        _kubectl(sandbox, "delete", "namespace", "gw-edit", "--wait=false")


async def test_httproute_editor_canary_step_and_header_match(demo_dir: Path, tmp_path: Path,
                                                             monkeypatch: Any) -> None:
    from textual.widgets import Input, Tree

    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    app = files_app(demo_dir)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await _open(pilot, app, "hr")
        await pilot.press("slash", *"Service/cart", "enter")
        table = app.screen.query_one(BigTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HTTPRouteEditor")
        editor = app.screen
        tree = editor.query_one(Tree)
        for _ in range(30):
            node = tree.cursor_node
            if node is not None and node.data == ("backend", 1, 1):  # cart-v2 in rule "split"
                break
            await pilot.press("down")
        await pilot.press("c")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        await pilot.press("enter")  # step 10, max 50
        await wait_for(pilot, lambda: app.screen is editor)
        await pilot.pause()
        v2 = next(line for line in tree_lines(tree) if line.startswith("→ storefront/cart-v2:8080")
                  and "weight 10 →" in line)
        assert " 10% →  20% " in v2 and "weight 10 → 20" in v2
        await pilot.press("m")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        form = app.screen
        inputs = list(form.query(Input))
        inputs[0].value, inputs[1].value = "x-beta", "yes"
        inputs[1].focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is editor)
        await pilot.pause()
        assert "when header x-beta=yes" in tree_lines(tree)


async def test_httproute_editor_ab_split_is_written_on_the_routes_scale(demo_dir: Path, tmp_path: Path,
                                                                        monkeypatch: Any) -> None:
    from textual.widgets import Input, Tree

    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    app = files_app(demo_dir)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await _open(pilot, app, "hr")
        await pilot.press("slash", *"Gateway/storefront", "enter")
        table = app.screen.query_one(BigTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HTTPRouteEditor")
        editor = app.screen
        tree = editor.query_one(Tree)
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == ("rule", 0))
        await pilot.press("s")  # A/B split on rule "cart" (written 9/1)
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen")
        box = app.screen.query_one(Input)
        assert box.value == "cart-v1:8080=90 cart-v2:8080=10"
        box.value = "cart-v1:8080=50 cart-v2:8080=50"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is editor)
        await pilot.pause()
        v1 = next(line for line in tree_lines(tree) if line.startswith("→ storefront/cart-v1:8080"))
        assert " 90% →  50% " in v1 and "weight 9 → 5" in v1


async def _cursor_to(pilot: Any, tree: Any, data: tuple[Any, ...]) -> None:
    """Move the editor's cursor down (wrapping at most once) onto the node with ``data``."""
    for _ in range(60):
        node = tree.cursor_node
        if node is not None and node.data == data:
            return
        await pilot.press("down")
    raise AssertionError(f"no node {data} in {tree_lines(tree)}")


async def _fill(pilot: Any, app: MeshApp, editor: Any, key: str, values: list[str | None]) -> str:
    """Press ``key``, type ``values`` into the form's fields (None: keep the default), submit.
    Returns the form's error when it refuses (the form stays open with what was typed, then is
    closed with esc), else ""."""
    from textual.widgets import Input, Static

    await pilot.press(key)
    await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen")
    inputs = list(app.screen.query(Input))
    for box, value in zip(inputs, values):
        if value is not None:
            box.value = value
    inputs[-1].focus()
    await pilot.press("enter")
    form = app.screen
    error = form.query_one("#form-error", Static) if type(form).__name__ == "FormScreen" else None
    await wait_for(pilot, lambda: app.screen is editor or (error is not None and str(error.render()) != ""))
    refused = str(error.render()) if error is not None and app.screen is form else ""
    if refused:
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is editor)
    await pilot.pause()
    return refused


async def test_httproute_editor_edits_path_method_query_and_whole_matches(demo_dir: Path, tmp_path: Path,
                                                                          monkeypatch: Any) -> None:
    from textual.widgets import Static, Tree

    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    path = demo_dir / "storefront-gateway-api.yaml"
    before = path.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await _open(pilot, app, "hr")
        await pilot.press("slash", *"Gateway/storefront", "enter")
        table = app.screen.query_one(BigTable)
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HTTPRouteEditor")
        editor = app.screen
        tree = editor.query_one(Tree)
        bottom = editor.query_one("#hr-editor-pending", Static)
        await pilot.press("question_mark")  # every match key is in the ? help
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        shown = app.screen.query_one("#help-text").source
        for description in ("Match", "Unmatch", "Path", "Method", "Query", "New match", "Drop match"):
            assert f"| {description}" in shown, f"{description} missing from the ? help"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is editor)
        await _cursor_to(pilot, tree, ("match", 0, 0))  # "when PathPrefix /cart" of rule "cart"
        # The rule rewrites the prefix: its CEL rule wants a PathPrefix match, and says so.
        refused = await _fill(pilot, app, editor, "P", ["Exact", None])
        assert refused == ("spec.rules[0]: Invalid value: \"object\": When using URLRewrite filter with "
                           "path.replacePrefixMatch, exactly one PathPrefix match must be specified")
        refused = await _fill(pilot, app, editor, "P", [None, "basket"])
        assert refused == ("spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute "
                           "path and start with '/' when type one of ['Exact', 'PathPrefix']")
        assert "type: 'Prefix' is not one of" in await _fill(pilot, app, editor, "P", ["Prefix", None])
        assert "when PathPrefix /cart" in tree_lines(tree)
        assert "no pending edit" in str(bottom.render())
        await _fill(pilot, app, editor, "P", [None, "/basket"])
        assert "when PathPrefix /basket" in tree_lines(tree)

        await _cursor_to(pilot, tree, ("rule", 1))  # "site": every request today
        assert 'method: Unsupported value: "FETCH"' in await _fill(pilot, app, editor, "V", ["FETCH"])
        await _fill(pilot, app, editor, "V", ["get"])
        await _fill(pilot, app, editor, "Q", ["version", "~^v2$"])
        assert "when query version~^v2$, method GET" in tree_lines(tree)
        await _fill(pilot, app, editor, "n", ["Exact /healthz, method HEAD"])
        assert "or   Exact /healthz, method HEAD" in tree_lines(tree)
        await _fill(pilot, app, editor, "n", ["RegularExpression ^/v[0-9]+/"])
        await _cursor_to(pilot, tree, ("match", 1, 2))
        await pilot.press("X")
        await pilot.pause()
        assert not any("RegularExpression" in line for line in tree_lines(tree))

        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ChangePreview")
        preview = app.screen
        await wait_for(pilot, lambda: getattr(preview, "preview", None) is not None)
        diff = preview.preview.diff.splitlines()
        assert "-        value: /cart" in diff and "+        value: /basket" in diff
        assert "+    - method: GET" in diff and "+        type: RegularExpression" in diff
        await pilot.press("y")
        await wait_for(pilot, lambda: path.read_text() != before)
    # Files mode: only the edited lines change, in the file's own indentation and key order.
    expected = before.replace("            value: /cart\n", "            value: /basket\n").replace(
        "    - name: site\n", "    - name: site\n"
        "      matches:\n"
        "        - method: GET\n"
        "          queryParams:\n"
        "            - name: version\n"
        "              value: ^v2$\n"
        "              type: RegularExpression\n"
        "        - path:\n"
        "            type: Exact\n"
        "            value: /healthz\n"
        "          method: HEAD\n")
    assert path.read_text() == expected


_GRPC_FILE = """\
apiVersion: v1
kind: Service
metadata:
  name: greeter
  namespace: storefront
spec:
  selector: {app: greeter}
  ports:
    - {name: grpc, port: 50051, appProtocol: grpc}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: greeter
  namespace: storefront
spec:
  parentRefs:
    - {group: "", kind: Service, name: greeter, port: 50051}
  rules:
    - backendRefs:
        - {name: greeter, port: 50051}
"""


async def test_httproute_editor_on_a_grpcroute_edits_the_grpc_method_match(demo_dir: Path, tmp_path: Path,
                                                                          monkeypatch: Any) -> None:
    from textual.widgets import Tree

    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    path = demo_dir / "greeter.yaml"
    path.write_text(_GRPC_FILE)
    app = files_app(demo_dir)
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        table = await _open(pilot, app, "grpcroute")
        await wait_for(pilot, lambda: table.row_count == 1)
        await pilot.press("w")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HTTPRouteEditor")
        editor = app.screen
        tree = editor.query_one(Tree)
        await _cursor_to(pilot, tree, ("rule", 0))
        await _fill(pilot, app, editor, "V", ["helloworld.Greeter/SayHello"])
        assert "when grpc Exact helloworld.Greeter/SayHello" in tree_lines(tree)
        # A GRPCRoute has no path: refused with the reason, nothing pending changes.
        refused = await _fill(pilot, app, editor, "P", [None, "/hello"])
        assert "a GRPCRoute matches a gRPC service/method, not a path" in refused
        await _fill(pilot, app, editor, "n", ["grpc RegularExpression helloworld\\..*/*, header x-beta=1"])
        assert "or   grpc RegularExpression helloworld\\..*/*, header x-beta=1" in tree_lines(tree)
        await pilot.press("backspace")  # undo the last pending edit: the new match goes
        await pilot.pause()
        assert not any("x-beta" in line for line in tree_lines(tree))
        await pilot.press("enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ChangePreview")
        await pilot.press("y")
        await wait_for(pilot, lambda: path.read_text() != _GRPC_FILE)
    assert path.read_text() == _GRPC_FILE.replace(
        "  rules:\n    - backendRefs:\n",
        "  rules:\n    - matches:\n        - method:\n            service: helloworld.Greeter\n"
        "            method: SayHello\n      backendRefs:\n")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
async def test_httproute_editor_writes_a_match_edit_to_the_cluster(sandbox: Any, tmp_path: Path,
                                                                   monkeypatch: Any) -> None:
    from textual.widgets import Tree

    from meshtui.sources.kube import KubeSource

    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    _kubectl(sandbox, "apply", "-f", "-", stdin=_GW_UI.replace("gw-ui", "gw-match"))
    try:
        app = MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path)))
        async with app.run_test(size=(200, 60)) as pilot:
            await wait_for(pilot, lambda: app.index is not None and app.index.get("HTTPRoute", "gw-match", "shop"))
            await select_service(pilot, app, "gw-match", "shop")
            await pilot.press("w")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "HTTPRouteEditor")
            editor = app.screen
            tree = editor.query_one(Tree)
            await _cursor_to(pilot, tree, ("rule", 0))
            await _fill(pilot, app, editor, "P", ["PathPrefix", "/shop"])
            await _cursor_to(pilot, tree, ("match", 0, 0))
            await _fill(pilot, app, editor, "Q", ["page", "2"])
            await pilot.press("enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "ChangePreview")
            await pilot.press("y")

            def written() -> bool:
                out = _kubectl(sandbox, "get", "httproute", "shop", "-n", "gw-match", "-o",
                               "jsonpath={.spec.rules[0].matches[0].path.value} {.spec.rules[0].matches[0]"
                               ".queryParams[0].name}={.spec.rules[0].matches[0].queryParams[0].value}")
                return out == "/shop page=2"

            await wait_for(pilot, written)
    finally:
        _kubectl(sandbox, "delete", "namespace", "gw-match", "--wait=false")
