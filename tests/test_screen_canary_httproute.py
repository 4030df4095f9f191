"""The canary autopilot from the Gateway API route editor: `A` on a backend of the GAMMA
HTTPRoute storefront/cart opens the same form as the VirtualService editor's and the same live
timeline, driving the same runner through the Gateway API edit API; a healthy backend reaches the
maximum, a failing one is rolled back to the weights the run started from."""

from __future__ import annotations

import re

import subprocess
from typing import Any

import pytest
from kubernetes import client, config
from test_screen_editor import kube_app
from test_screen_editor_actions import form, screen_name, set_field
from test_screen_mesh import select_service
from textual.widgets import Tree
from ui_helpers import wait_for

from meshtui.sandbox.server import Sandbox

pytestmark = [pytest.mark.timeout(150), pytest.mark.usefixtures("own_audit_log")]
TRAFFIC_SEED = 8


def custom(box: Sandbox) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(config.new_client_from_config(str(box.kubeconfig_path), persist_config=False))


def split_rule(box: Sandbox) -> dict[str, int]:
    """The weights of cart's split rule by backend, read back from the API server."""
    route: Any = custom(box).get_namespaced_custom_object("gateway.networking.k8s.io", "v1", "storefront",
                                                          "httproutes", "cart")
    rule = next(r for r in route["spec"]["rules"] if len(r.get("backendRefs") or []) > 1)
    return {b["name"]: b.get("weight", 1) for b in rule["backendRefs"]}


def kubectl(box: Sandbox, *args: str) -> None:
    subprocess.run(["kubectl", "--kubeconfig", str(box.kubeconfig_path), *args], check=True, capture_output=True,
                   timeout=30)


def timeline(app: Any) -> str:
    """The timeline as read: a wrapped line's indented continuation rows joined back to it."""
    return re.sub(r"\n {4,}(?=\S)", " ", "\n".join(str(line) for line in app.screen.query_one("#canary-log").lines))


async def open_on_cart_v2(pilot: Any, app: Any) -> Any:
    """The HTTPRoute editor of storefront/cart with the cursor on cart-v2 of the split rule."""
    await wait_for(pilot, lambda: app.index is not None and app.index.get("HTTPRoute", "storefront", "cart"))
    await select_service(pilot, app, "storefront", "cart")
    await pilot.press("w")
    await wait_for(pilot, lambda: screen_name(app) == "HTTPRouteEditor")
    tree = app.screen.query_one(Tree)
    for _ in range(40):
        node = tree.cursor_node
        if node is not None and node.data is not None and node.data[0] == "backend" and \
                "cart-v2" in str(node.label) and any(len(r.backends) > 1 and r.index == node.data[1]
                                                     for r in app.screen.rows()):
            return app.screen
        await pilot.press("down")
    raise AssertionError("no cart-v2 backend in a split rule")


async def test_autopilot_from_the_httproute_editor_reaches_max(busy: Sandbox) -> None:
    before = split_rule(busy)
    assert before == {"cart-v1": 90, "cart-v2": 10}
    app = kube_app(busy)
    async with app.run_test(size=(160, 50)) as pilot:
        editor = await open_on_cart_v2(pilot, app)
        shown = await form(pilot, app, "A", False)
        assert shown.values()["to"] == "cart-v2"  # the selected backend
        for name, text in {"step": "20", "interval": "2s", "max": "30", "errors": "10", "min": "10",
                           "threshold": "5"}.items():
            await set_field(pilot, app, name, text)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "CanaryTimeline", timeout=10)
        screen = app.screen
        await wait_for(pilot, lambda: screen.report is not None, timeout=60)
        assert screen.report.exit_code == 0, screen.report.message
        text = timeline(app)
        assert "canary step 1/1: cart-v2=30" in text and "— passed" in text
        assert "reached cart-v2=30" in text
        assert split_rule(busy) == {"cart-v1": 70, "cart-v2": 30}
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is editor, timeout=10)
        # The editor follows the route the run wrote, without calling it someone else's change.
        await wait_for(pilot, lambda: any("30%" in line and "cart-v2" in line
                                          for line in (str(n.label) for n in editor.query_one(Tree).root.children
                                                       for n in n.children)))


async def test_a_failing_backend_is_rolled_back_to_where_the_run_started(busy: Sandbox) -> None:
    start = split_rule(busy)
    kubectl(busy, "annotate", "deploy", "cart-v2", "-n", "storefront", "--overwrite",
            "meshtui.io/simulate-error-rate=0.6", "meshtui.io/simulate-error-status=500")
    try:
        app = kube_app(busy)
        async with app.run_test(size=(160, 50)) as pilot:
            await open_on_cart_v2(pilot, app)
            await form(pilot, app, "A", step="20", interval="2s", max="90", errors="5", min="5", threshold="1")
            await wait_for(pilot, lambda: screen_name(app) == "CanaryTimeline", timeout=10)
            screen = app.screen
            await wait_for(pilot, lambda: screen.report is not None, timeout=60)
            assert screen.report.exit_code == 5, screen.report.message
            text = timeline(app)
            assert "error rate" in text and "rolled back to" in text
        assert split_rule(busy) == start
    finally:
        kubectl(busy, "annotate", "deploy", "cart-v2", "-n", "storefront", "--overwrite",
                "meshtui.io/simulate-error-rate-", "meshtui.io/simulate-error-status-")
