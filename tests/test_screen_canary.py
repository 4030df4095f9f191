"""The canary autopilot from the route editor: `A` opens its form, the live timeline shows each
step and its gate; a healthy canary reaches the maximum, and `esc` mid-run stops, keeping the
last applied step."""

from __future__ import annotations

import re

from typing import Any

import pytest
from kubernetes import client, config
from test_screen_editor import kube_app, open_editor_at
from test_screen_editor_actions import form, screen_name, set_field
from ui_helpers import wait_for

from meshtui.sandbox.server import Sandbox

pytestmark = [pytest.mark.timeout(150), pytest.mark.usefixtures("own_audit_log")]
TRAFFIC_SEED = 6


def canary_weights(box: Sandbox) -> dict[str, int]:
    api = config.new_client_from_config(str(box.kubeconfig_path), persist_config=False)
    vs: Any = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "networking.istio.io", "v1", "istioinaction", "virtualservices", "catalog")
    rule = next(r for r in vs["spec"]["http"] if r.get("name") == "canary")
    return {d["destination"]["subset"]: d.get("weight", 0) for d in rule["route"]}


def timeline(app: Any) -> str:
    """The timeline as read: a wrapped line's indented continuation rows joined back to it."""
    return re.sub(r"\n {4,}(?=\S)", " ", "\n".join(str(line) for line in app.screen.query_one("#canary-log").lines))


async def test_autopilot_from_the_editor_reaches_max_then_esc_stops_a_second_run(busy: Sandbox) -> None:
    app = kube_app(busy)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_editor_at(pilot, app, "istioinaction", "catalog", ("dest", 1, 1))
        shown = await form(pilot, app, "A", False)
        assert shown.values()["to"] == "v2"  # the selected destination
        for name, text in {"interval": "1.5s", "max": "30", "errors": "10", "min": "10", "threshold": "5"}.items():
            await set_field(pilot, app, name, text)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "CanaryTimeline", timeout=10)
        screen = app.screen
        await wait_for(pilot, lambda: screen.report is not None, timeout=60)
        assert screen.report.exit_code == 0, screen.report.message
        text = timeline(app)
        assert "canary step 1/1: v2=30 (rule canary): applied" in text and "— passed" in text
        assert "reached v2=30" in text
        assert canary_weights(busy) == {"v1": 70, "v2": 30}
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor", timeout=10)

        await form(pilot, app, "A", interval="3s", max="70", errors="10", min="10")
        await wait_for(pilot, lambda: screen_name(app) == "CanaryTimeline", timeout=10)
        screen = app.screen
        await wait_for(pilot, lambda: "v2=50 (rule canary): applied" in timeline(app), timeout=30)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen.report is not None, timeout=30)
        assert screen.report.exit_code == 130
        assert "interrupted: the route stays at v2=50" in timeline(app)
        assert canary_weights(busy) == {"v1": 50, "v2": 50}
