"""The change preview's outcome verdict after an applied weight change, and its one key to revert:
on the demo's Host-header trap (``default/backend-service``) the verdict diverges naming the
Host; ``u`` reverts through the undo preview."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client, config
from test_screen_editor import kube_app, open_editor_at, preview_state
from ui_helpers import wait_for

from meshtui.sandbox.server import Sandbox

pytestmark = [pytest.mark.timeout(150), pytest.mark.usefixtures("own_audit_log")]
TRAFFIC_SEED = 4


def backend_weights(box: Sandbox) -> list[int]:
    api = config.new_client_from_config(str(box.kubeconfig_path), persist_config=False)
    vs: Any = client.CustomObjectsApi(api).get_namespaced_custom_object(
        "networking.istio.io", "v1", "default", "virtualservices", "backend-service")
    return [d.get("weight") for d in vs["spec"]["http"][-1]["route"]]


async def test_the_verdict_names_the_host_trap_and_u_reverts(busy: Sandbox) -> None:
    app = kube_app(busy)
    async with app.run_test(size=(160, 50)) as pilot:
        await open_editor_at(pilot, app, "default", "backend-service", ("dest", 2, 0))
        await pilot.press(*["left"] * 8)  # v0 90 → 50
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready", timeout=30)
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied", timeout=30)
        assert backend_weights(busy) == [50, 50]
        preview = app.screen
        await wait_for(pilot, lambda: preview.outcome_line.startswith("outcome: diverging"), timeout=90)
        assert "Host 10.22.12.178:30785" in preview.outcome_line
        assert "request(s)" in preview.outcome_line

        await pilot.press("u")  # revert: the undo goes through its own preview
        await wait_for(pilot, lambda: preview_state(app) == "ready" and app.screen is not preview, timeout=30)
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied", timeout=30)
        assert backend_weights(busy) == [90, 10]
