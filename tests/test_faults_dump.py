"""A malformed config dump: the CLI prints one line and exits 2; the Proxy config screen shows
the error in its tabs and keeps running.

The dumps are Istio's own (``shared/conformance/proxy-config``), broken the way files get
broken: cut short, a list where an object belongs, a number where a name belongs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_screen_proxy_config import DumpFileSource, Host, _settle

from meshtui.cli import main
from meshtui.screens.proxy_config import TABS, ProxyConfigScreen
from paths import CONFORMANCE_ROOT

ALL = CONFORMANCE_ROOT / "proxy-config" / "all" / "config_dump.json"
pytestmark = pytest.mark.skipif(not ALL.exists(), reason="conformance dumps not found")


def _real() -> dict[str, Any]:
    return json.loads(ALL.read_bytes())


def _section(doc: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in doc["configs"] if c["@type"].rsplit(".", 1)[-1] == kind)


def _names_are_numbers(doc: dict[str, Any]) -> dict[str, Any]:
    routes = _section(doc, "RoutesConfigDump")
    for entry in routes.get("dynamic_route_configs", []) + routes.get("static_route_configs", []):
        entry["route_config"]["name"] = 80
    clusters = _section(doc, "ClustersConfigDump")
    for entry in clusters.get("dynamic_active_clusters", []) + clusters.get("static_clusters", []):
        entry["cluster"]["name"] = ["not", "a", "name"]
    listeners = _section(doc, "ListenersConfigDump")
    for entry in listeners.get("dynamic_listeners", []):
        entry["active_state"]["listener"]["address"] = "0.0.0.0:80"
    for entry in listeners.get("static_listeners", []):
        entry["listener"]["address"] = "0.0.0.0:80"
    return doc


def _lists_are_objects(doc: dict[str, Any]) -> dict[str, Any]:
    for kind in ("RoutesConfigDump", "ClustersConfigDump", "ListenersConfigDump", "SecretsConfigDump",
                 "EndpointsConfigDump"):
        section = _section(doc, kind)
        for key, value in list(section.items()):
            if isinstance(value, list):
                section[key] = {"items": value}
    return doc


def _configs_not_a_list(doc: dict[str, Any]) -> dict[str, Any]:
    return {"configs": {"@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump"}}


BROKEN: dict[str, bytes] = {
    "cut short": ALL.read_bytes()[: len(ALL.read_bytes()) // 2] if ALL.exists() else b"",
    "names are numbers": json.dumps(_names_are_numbers(_real())).encode() if ALL.exists() else b"",
    "lists are objects": json.dumps(_lists_are_objects(_real())).encode() if ALL.exists() else b"",
    "configs is not a list": json.dumps(_configs_not_a_list({})).encode(),
    "binary": bytes(range(256)),
    "a JSON array": b"[1, 2, 3]",
}
KINDS = ["routes", "clusters", "listeners", "all", "secret", "bootstrap", "eds", "ecds"]


@pytest.mark.parametrize("what", sorted(BROKEN))
@pytest.mark.parametrize("kind", KINDS)
def test_cli_says_what_is_wrong_in_one_line_and_exits_2(
    what: str, kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(BROKEN[what])
    code = main(["proxy-config", kind, "-f", str(bad)])
    out, err = capsys.readouterr()
    if code == 0:
        # The broken part is not one this view reads (e.g. bootstrap of a dump whose routes
        # are broken): it shows what it can.
        assert what in ("names are numbers", "lists are objects") and out
        return
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"meshtui: {bad}") or lines[0].startswith("meshtui: ")
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("kind", ["routes", "clusters"])
def test_cli_names_the_malformed_part(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(BROKEN["names are numbers"])
    assert main(["proxy-config", kind, "-f", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"meshtui: {bad}: malformed Envoy dump")


@pytest.mark.parametrize("what", ["cut short", "names are numbers", "configs is not a list"])
async def test_the_screen_shows_the_error_and_keeps_running(what: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(BROKEN[what])
    app = Host(ProxyConfigScreen(DumpFileSource(bad), "default", "httpbin"))
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(app, pilot)
        assert isinstance(app.screen, ProxyConfigScreen)
        messages = {tab: str(app.screen.query_one(f"#{tab}-msg").render()) for tab in TABS}
        broken = [t for t in ("routes", "clusters", "listeners") if "malformed" in messages[t]
                  or "not valid JSON" in messages[t] or "not an Envoy config dump" in messages[t]
                  or "cannot read the Envoy config" in messages[t]]
        # A listener address given as text is tolerated (the table shows what it can).
        expected = ["routes", "clusters"] if what == "names are numbers" else ["routes", "clusters", "listeners"]
        assert broken == expected, messages
        assert all("\n" not in m for m in messages.values())
        await pilot.press("r")  # still responsive: fetching again shows the same error
        await _settle(app, pilot)
        assert isinstance(app.screen, ProxyConfigScreen)
