"""The Trace screen, driven with Pilot on the demo manifests.

Expectations come from the demo's backend-service VirtualService (its header comment states
the intent: `x-canary: true` → v1, `/test/v1/...` → v1 with the prefix rewritten, the rest
90/10) and from Istio's and Envoy's routing semantics, cited where they matter.
"""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from meshtui.app import MeshApp
from meshtui.widgets.mesh_tree import MeshTree
from meshtui.widgets.trace_tree import TraceTree
from ui_helpers import tree_lines, wait_for

DEMO = Path(str(files("meshtui.demo")))
BACKEND = "backend-service.default.svc.cluster.local"


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped demo manifests."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


async def open_trace(pilot: Any, app: MeshApp, host: str = "", *, typed: bool = False) -> None:
    """``:trace HOST``, typed at the prompt or (quicker) handed to the command runner."""
    await wait_for(pilot, lambda: app.index is not None)
    if typed:
        await pilot.press("colon", *(f"tr {host}".strip()), "enter")
    else:
        app.run_command(f"trace {host}".strip())
    await pilot.pause()
    assert type(app.screen).__name__ == "TraceScreen"


async def fill(pilot: Any, app: MeshApp, field: str, text: str) -> None:
    """Type into a form field with the keyboard (replacing what is there)."""
    widget = app.screen.query_one(f"#trace-{field}")
    widget.focus()
    await pilot.pause()
    if hasattr(widget, "clear"):
        widget.clear()
    await pilot.press(*text)


def lines(app: MeshApp) -> list[str]:
    return tree_lines(app.screen.query_one(TraceTree))


async def test_canary_header_takes_rule_canary_header_to_v1(demo_dir: Path) -> None:
    from meshtui.sources.files import FilesSource

    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(size=(150, 50)) as pilot:
        await open_trace(pilot, app, BACKEND, typed=True)
        await fill(pilot, app, "headers", "x-canary: true")
        await pilot.press("ctrl+r")
        await pilot.pause()
        shown = lines(app)
        assert any(line.startswith("✔ http[0] canary-header") and "taken" in line for line in shown), shown
        assert any(line.startswith("rule taken http[0] canary-header") for line in shown)
        dests = [line for line in shown if line.startswith("backend-service.default ")]
        assert len(dests) == 1
        assert " v1 " in dests[0] and "100%" in dests[0]
        assert any(line.startswith("DestinationRule default/backend-service") and "version=v1" in line for line in shown)


async def test_prefix_rule_rewrites_the_path(demo_dir: Path) -> None:
    from meshtui.sources.files import FilesSource

    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(size=(150, 50)) as pilot:
        await open_trace(pilot, app, BACKEND)
        await fill(pilot, app, "path", "/test/v1/items?id=3")
        await pilot.press("enter")
        await pilot.pause()
        shown = lines(app)
        assert any(line.startswith("✘ http[0] canary-header") for line in shown)
        assert "✘ header x-canary: absent" in shown
        assert any(line.startswith("✔ http[1] test-v1") for line in shown)
        # Istio translates `rewrite.uri` of a VirtualService to Envoy's prefix_rewrite
        # (pilot/pkg/networking/core/route/route.go, applyHTTPRouteDestination), which replaces
        # the matched prefix `/test/v1` by `/`: `/test/v1/items` reaches v1 as `//items`;
        # the query string is kept.
        assert "rewrite path /test/v1/items?id=3 → //items?id=3" in shown
        assert "timeout 5s" in shown
        dests = [line for line in shown if line.startswith("backend-service.default ")]
        assert len(dests) == 1 and " v1 " in dests[0] and "100%" in dests[0]


async def test_host_header_matching_no_virtual_service_is_the_trap(demo_dir: Path) -> None:
    from meshtui.sources.files import FilesSource

    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(size=(150, 50)) as pilot:
        await open_trace(pilot, app, BACKEND)
        # curl -H 'Host: backend.example.com' http://backend-service: the VirtualService's host
        # is backend-service, so no virtual host matches and the request is passed through.
        await fill(pilot, app, "headers", "Host: backend.example.com")
        await pilot.press("ctrl+r")
        await pilot.pause()
        shown = lines(app)
        assert (
            "no VirtualService applies: plain Kubernetes load balancing across every pod of default/backend-service"
            in shown
        ), shown
        assert any(line.startswith("VirtualService default/backend-service is for hosts backend-service, "
                                   "not backend.example.com") and "never consulted" in line for line in shown)
        assert not any(line.startswith("✔ http[") for line in shown)


async def test_service_without_virtual_service_and_gateway_entry(demo_dir: Path) -> None:
    from meshtui.sources.files import FilesSource

    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(size=(150, 50)) as pilot:
        # No VirtualService names the ingress gateway's Service: Kubernetes balances over its pods.
        await open_trace(pilot, app, "istio-ingressgateway.istio-system")
        assert ("no VirtualService applies: plain Kubernetes load balancing across every pod of "
                "istio-system/istio-ingressgateway") in lines(app)
        # Through the catalog gateway, the cohort header takes the demo's internal-cohort rule to v2.
        await fill(pilot, app, "host", "catalog.istioinaction.io")
        await fill(pilot, app, "gateway", "istioinaction/catalog-gateway")
        await fill(pilot, app, "headers", "x-istio-cohort: internal")
        await pilot.press("ctrl+r")
        await pilot.pause()
        shown = lines(app)
        assert "VirtualService istioinaction/catalog" in shown
        assert any(line.startswith("✔ http[0] internal-cohort") for line in shown), shown
        dests = [line for line in shown if line.startswith("catalog.istioinaction ")]
        assert len(dests) == 1 and " v2 " in dests[0] and "100%" in dests[0]


async def test_bad_input_is_one_visible_line(demo_dir: Path) -> None:
    from meshtui.sources.files import FilesSource

    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(size=(150, 50)) as pilot:
        await open_trace(pilot, app, BACKEND)
        before = lines(app)
        await fill(pilot, app, "headers", "x-canary true")
        await pilot.press("ctrl+r")
        await pilot.pause()
        error = app.screen.query_one("#trace-error")
        assert error.display
        text = str(error.render())
        assert "x-canary true" in text and "':'" in text and "\n" not in text.strip()
        assert lines(app) == before  # the last good trace stays
        await fill(pilot, app, "port", "http")
        await fill(pilot, app, "headers", "x-canary: true")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "port 'http' is not a number" in str(error.render())
        await fill(pilot, app, "port", "")
        await pilot.press("enter")
        await pilot.pause()
        assert not error.display
        assert type(app.screen).__name__ == "TraceScreen"


async def test_t_in_the_browser_traces_the_selected_service(demo_dir: Path) -> None:
    from meshtui.sources.files import FilesSource

    app = MeshApp(lambda: FilesSource(str(demo_dir)))
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        app.show_in_browser(("Service", "bookinfo", "reviews"))
        tree = app.screen.query_one(MeshTree)
        # The jump lands once the tree has drawn its rows: press t on the row the user sees highlighted.
        await wait_for(pilot, lambda: tree.cursor_node is not None and "reviews" in str(tree.cursor_node.label))
        tree.focus()
        await pilot.press("t")
        await pilot.pause()
        assert type(app.screen).__name__ == "TraceScreen"
        assert app.screen.query_one("#trace-host").value == "reviews.bookinfo.svc.cluster.local"
        shown = lines(app)
        assert "VirtualService bookinfo/reviews" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "MeshScreen"


def test_headers_one_per_line_or_comma_separated() -> None:
    from meshtui.routing.request import RequestError
    from meshtui.screens.trace import parse_headers

    assert parse_headers("x-a: 1\nx-b: 2") == [("x-a", "1"), ("x-b", "2")]
    assert parse_headers("x-a: 1, x-b: 2") == [("x-a", "1"), ("x-b", "2")]
    # A comma inside a value stays in the value.
    assert parse_headers("accept: text/html, application/json") == [("accept", "text/html, application/json")]
    with pytest.raises(RequestError, match="has no ':'"):
        parse_headers("x-a: 1\noops")
