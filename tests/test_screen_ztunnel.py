"""``:ztunnel``: the workloads and services of a ztunnel pod of the sandbox, read from its admin
``/config_dump`` (istioctl's columns), and ``n`` moving to the next node's ztunnel."""

from __future__ import annotations

import time
from typing import Any

from meshtui.app import MeshApp
from meshtui.sandbox.server import Sandbox
from meshtui.screens.ztunnel import ZtunnelScreen
from meshtui.session.commands import resolve
from meshtui.sources.kube import KubeSource
from ui_helpers import toasts

WAIT = 30.0


async def until(pilot: Any, cond: Any, what: str) -> None:
    """Let the app run until ``cond()`` (a hang guard of WAIT seconds)."""
    deadline = time.monotonic() + WAIT
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.1)


def test_ztunnel_is_a_colon_command() -> None:
    found = resolve(":zt ztunnel-abcde")
    assert found is not None and found[0].name == "ztunnel" and found[1] == "ztunnel-abcde"


async def test_ztunnel_view_shows_the_pods_workloads_and_services(sandbox: Sandbox) -> None:
    path = str(sandbox.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: app.index is not None and app.index.get("Service", "shop", "basket"), "the mesh")
        app.run_command("ztunnel")
        await until(pilot, lambda: isinstance(app.screen, ZtunnelScreen) and app.screen.tables is not None,
                    "the ztunnel tables")
        screen = app.screen
        assert isinstance(screen, ZtunnelScreen)
        tables = screen.tables
        assert tables is not None
        header = tables.workloads.splitlines()[0].split()
        assert header == ["NAMESPACE", "POD", "NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL"]
        basket = [line.split() for line in tables.workloads.splitlines() if line.startswith("shop ")
                  and "basket-v1-" in line]
        assert basket and basket[0][-1] == "HBONE"
        services = [line.split() for line in tables.services.splitlines()]
        assert services[0][:3] == ["NAMESPACE", "SERVICE", "NAME"]
        assert any(s[:2] == ["shop", "basket"] and "waypoint" in s for s in services), services
        first = screen.current
        await pilot.press("n")
        await until(pilot, lambda: screen.current != first, "the next node's ztunnel")
        assert screen.current.node != first.node


async def test_ztunnel_of_an_unknown_pod_is_an_error_notice(sandbox: Sandbox) -> None:
    path = str(sandbox.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(notifications=True, size=(160, 40)) as pilot:
        await until(pilot, lambda: app.index is not None, "the mesh")
        app.run_command("ztunnel nosuchpod")
        await until(pilot, lambda: any("no ztunnel pod nosuchpod" in t for t in toasts(app)), "the refusal")
        assert not isinstance(app.screen, ZtunnelScreen)
