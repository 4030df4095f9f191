"""The Proxy config screen, driven with Pilot: a live sandbox pod, saved istioctl dumps, the
generated fallback for manifests on disk, and errors shown in the screen."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.app import App

from meshtui.messages import ShowObject
from meshtui.model.index import MeshIndex
from meshtui.screens.proxy_config import GENERATED_LABEL, JsonScreen, ProxyConfigScreen
from meshtui.sources.base import NotFoundError, UnavailableError
from meshtui.widgets.big_table import BigTable
from paths import CONFORMANCE_ROOT
from ui_helpers import toasts, wait_for

PROXY_CONFIG = (CONFORMANCE_ROOT / "proxy-config")
STYLES = [str(files("meshtui.styles").joinpath(n)) for n in ("app.tcss", "proxy_config.tcss")]


class DumpFileSource:
    """A source whose only Envoy is a saved dump file (and, optionally, a saved /clusters)."""

    description = "saved dump"

    def __init__(self, dump: Path | None, error: Exception | None = None) -> None:
        self.dump, self.error, self.calls = dump, error, 0

    def envoy_admin(self, namespace: str, pod: str, path: str) -> bytes:
        self.calls += 1
        if self.error is not None:
            raise self.error
        if path.startswith("/config_dump") and self.dump is not None:
            return self.dump.read_bytes()
        raise NotFoundError(f"{path}: not saved")


class Host(App[None]):
    """Shows one ProxyConfigScreen and records the ShowObject messages it sends up."""

    CSS_PATH = STYLES

    def __init__(self, screen: ProxyConfigScreen) -> None:
        super().__init__()
        self._screen = screen
        self.shown: list[ShowObject] = []

    def on_mount(self) -> None:
        self.push_screen(self._screen)

    def on_show_object(self, message: ShowObject) -> None:
        self.shown.append(message)


async def _settle(app: Host, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def _table(app: Host, tab: str) -> BigTable:
    return app.screen.query_one(f"#{tab}-table", BigTable)


def _cells(app: Host, tab: str) -> list[tuple[str, ...]]:
    return [cells for _, cells in _table(app, tab).shown_rows]


def _golden_rows(golden: Path) -> list[list[str]]:
    """Rows of an istioctl golden table, split on its column gaps (two or more spaces)."""
    import re

    return [re.split(r"\s{2,}", line.rstrip()) for line in golden.read_text().splitlines()[1:] if line.strip()]


async def test_saved_dump_routes_match_istioctl_and_v_jumps_to_the_virtual_service() -> None:
    case = PROXY_CONFIG / "routes-istio-gateway-http-route-prefix"
    app = Host(ProxyConfigScreen(DumpFileSource(case / "config_dump.json"), "default", "gw"))
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(app, pilot)
        rows = _cells(app, "routes")
        golden = _golden_rows(case / "golden.routes.txt")
        # istioctl's rows in istioctl's order; MATCH may only add header/query conditions.
        assert len(rows) == len(golden)
        for r, g in zip(rows, golden):
            assert list(r[:3]) == g[:3] and r[3].startswith(g[3])
        vs_row = next(g for g in golden if len(g) == 5 and g[4])
        vs_name, vs_ns = vs_row[4].split(".", 1)
        index = next(i for i, r in enumerate(rows) if r[4] == vs_row[4])
        origin = str(app.screen.query_one("#pc-origin").content)  # a real dump: fetched, not generated
        assert "fetched from the pod's Envoy admin" in origin and "generated" not in origin
        _table(app, "routes").cursor_row = index
        await pilot.press("v")
        await pilot.pause()
        assert [(m.kind, m.object_namespace, m.name) for m in app.shown] == [("VirtualService", vs_ns, vs_name)]


async def test_enter_shows_the_raw_json_and_esc_closes_it() -> None:
    app = Host(ProxyConfigScreen(DumpFileSource(PROXY_CONFIG / "all" / "config_dump.json"), "default", "httpbin"))
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, JsonScreen)
        text = app.screen.text
        # The golden's only route configuration name is in the JSON of its route.
        golden_route = next(line for line in (PROXY_CONFIG / "all" / "golden.all.txt").read_text().splitlines()
                            if line.startswith("route/")).split()[0].removeprefix("route/")
        assert "inbound|http|8000" in text or golden_route in text
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ProxyConfigScreen)


async def test_tabs_show_the_istioctl_tables_of_a_saved_dump() -> None:
    app = Host(ProxyConfigScreen(DumpFileSource(PROXY_CONFIG / "all" / "config_dump.json"), "default", "httpbin"))
    golden = (PROXY_CONFIG / "all" / "golden.all.txt").read_text()
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(app, pilot)
        clusters = {r[0] for r in _cells(app, "clusters")}
        for line in golden.splitlines():
            if line.startswith("cluster/"):
                # `proxy-config all` prefixes the type; the clusters table does not.
                assert line.split()[1].removeprefix("cluster/") in clusters
        # /clusters was not saved: the endpoints tab falls back to the dump's EDS section.
        eds = {r[0] for r in _cells(app, "endpoints")}
        assert {line.split()[0].removeprefix("endpoint/") for line in golden.splitlines()
                if line.startswith("endpoint/")} == eds
        app.screen.query_one("#pc-tabs").active = "listeners"
        await pilot.pause()
        assert app.screen.focused is _table(app, "listeners")


async def test_filter_narrows_rows_and_r_refetches() -> None:
    source = DumpFileSource(PROXY_CONFIG / "routes-istio-gateway-http-route-prefix" / "config_dump.json")
    app = Host(ProxyConfigScreen(source, "default", "gw"))
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(app, pilot)
        total = _table(app, "routes").row_count
        await pilot.press("slash", *"prometheus")
        await pilot.pause()
        assert 0 < _table(app, "routes").row_count < total
        assert all("prometheus" in " ".join(r) for r in _cells(app, "routes"))
        await pilot.press("escape")
        await pilot.pause()
        assert _table(app, "routes").row_count == total
        calls = source.calls
        await pilot.press("r")
        await _settle(app, pilot)
        assert source.calls > calls and _table(app, "routes").row_count == total


@pytest.mark.parametrize("error", [UnavailableError("connection refused"), NotFoundError("pod gw not found")])
async def test_errors_are_shown_in_the_screen(error: Exception) -> None:
    app = Host(ProxyConfigScreen(DumpFileSource(None, error), "default", "gw"))
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(app, pilot)
        assert isinstance(app.screen, ProxyConfigScreen)
        assert str(error) in str(app.screen.query_one("#routes-msg").content)


async def test_not_a_dump_is_a_message_per_tab(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"hello": 1}')
    app = Host(ProxyConfigScreen(DumpFileSource(tmp_path / "x.json"), "default", "gw"))
    async with app.run_test(size=(120, 30)) as pilot:
        await _settle(app, pilot)
        assert "not an Envoy config dump" in str(app.screen.query_one("#clusters-msg").content)


async def test_manifests_without_envoy_fall_back_to_the_generated_config(tmp_path: Path) -> None:
    from meshtui.sources.files import FilesSource

    demo = Path(str(files("meshtui.demo")))
    source = FilesSource(str(demo), read_only=True)
    index = MeshIndex(source.snapshot().objects)
    app = Host(ProxyConfigScreen(source, "istioinaction", "catalog-v1", index=index))
    vs = next(d for d in yaml.safe_load_all((demo / "istioinaction-catalog.yaml").read_text())
              if d and d["kind"] == "VirtualService")
    split = [r for r in vs["spec"]["http"] if len(r["route"]) > 1][0]["route"]
    async with app.run_test(size=(200, 40)) as pilot:
        await _settle(app, pilot)
        origin = app.screen.query_one("#pc-origin")
        assert origin.display and GENERATED_LABEL in str(origin.content)
        weights = [r[-1] for r in _cells(app, "routes") if r[4] == "catalog.istioinaction"]
        expected = ", ".join(f"outbound|80|{d['destination']['subset']}|catalog.istioinaction.svc.cluster.local:"
                             f"{d['weight']}" for d in split)
        assert expected in weights


async def test_live_sandbox_pod(sandbox) -> None:  # type: ignore[no-untyped-def]
    from meshtui.sources.kube import KubeSource

    pod = next(p["metadata"]["name"] for p in sandbox.store.list("pods", "bookinfo")
               if p["metadata"]["name"].startswith("productpage"))
    vs = sandbox.store.get("virtualservices", "bookinfo", "reviews")
    split = [r for r in vs["spec"]["http"] if len(r["route"]) > 1][0]["route"]
    source = KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path), context="meshtui-sandbox")
    try:
        app = Host(ProxyConfigScreen(source, "bookinfo", pod))
        async with app.run_test(size=(200, 40)) as pilot:
            await _settle(app, pilot)
            weights = [r[-1] for r in _cells(app, "routes") if r[4] == "reviews.bookinfo"]
            expected = ", ".join(f"outbound|9080|{d['destination']['subset']}|reviews.bookinfo.svc.cluster.local:"
                                 f"{d['weight']}" for d in split)
            assert expected in weights
            assert _table(app, "endpoints").row_count > 0
            assert _table(app, "clusters").row_count > 0
    finally:
        source.close()


async def test_d_snapshots_then_diffs_and_nothing_fetched_cannot_be_snapshotted() -> None:
    from meshtui.screens.proxy_config_diff import ProxyDiffScreen

    source = DumpFileSource(PROXY_CONFIG / "all" / "config_dump.json")
    app = Host(ProxyConfigScreen(source, "default", "httpbin"))
    async with app.run_test(notifications=True, size=(160, 40)) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        await pilot.press("d")
        await pilot.pause()
        assert screen.snapshot is not None and app.screen is screen
        calls = source.calls
        await pilot.press("d")
        await _settle(app, pilot)
        # A fresh fetch of the same saved dump: nothing changed.
        assert source.calls > calls
        assert isinstance(app.screen, ProxyDiffScreen) and app.screen.changes == []
        assert "no differences" in str(app.screen.query_one("#pc-diff-msg").content)

    failing = Host(ProxyConfigScreen(DumpFileSource(None, UnavailableError("connection refused")), "default", "gw"))
    async with failing.run_test(notifications=True, size=(120, 30)) as pilot:
        await _settle(failing, pilot)
        await pilot.press("d")
        await pilot.pause()
        assert failing.screen.snapshot is None
        await wait_for(pilot, lambda: any("nothing fetched yet" in t for t in toasts(failing)))
