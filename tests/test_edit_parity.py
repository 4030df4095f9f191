"""The route editor and ``meshtui promote|rollback|shift`` run one edit API: the same request
gives the same result on both paths (issue 13 point 3), and a destination name that fits two
destinations is refused instead of guessed (issue 16 point 4)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_screen_editor import DEMO, files_app, open_editor_at
from test_screen_editor_actions import apply, form, form_error, open_backend, screen_name, set_field
from ui_helpers import wait_for

from meshtui.cli import main

BACKEND = "default-backend-service.yaml"


@pytest.fixture(autouse=True)
def audit_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(state))
    return state


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


# Rule ``canary-header`` of default/backend-service routes only to v1; v0 is a subset of its
# DestinationRule that this rule does not route to.
@pytest.mark.parametrize("verb", ["promote", "rollback"])
async def test_unrouted_subset_is_refused_by_the_editor_and_by_the_cli(
        demo_dir: Path, capsys: pytest.CaptureFixture[str], verb: str) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 0))
        shown_form = await form(pilot, app, "p" if verb == "promote" else "b", False)
        assert shown_form.values() == {"subset": "v1"}  # offered: the subset the rule routes to
        await set_field(pilot, app, "subset", "v0")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "v0" in form_error(app))
        shown = form_error(app)
        assert screen_name(app) == "FormScreen"
    assert "no destination 'v0' in rule canary-header" in shown
    assert main([verb, "backend-service.default", "v0", "--rule", "canary-header", "--files", str(demo_dir),
                 "--yes"]) == 1
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said.startswith("meshtui: ") and "no destination 'v0' in rule canary-header" in said
    assert manifest.read_text() == before


async def test_a_weight_key_and_meshtui_shift_write_the_same_split(demo_dir: Path, tmp_path: Path) -> None:
    """``←`` on v0 of rule ``default`` in the editor, and ``meshtui shift … v0=-5``."""
    cli_dir = tmp_path / "cli"
    shutil.copytree(demo_dir, cli_dir)
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("dest", 2, 0))
        await pilot.press("left")
        await apply(pilot, app)
    assert main(["shift", "backend-service.default", "v0=-5", "--files", str(cli_dir), "--yes"]) == 0
    editor, cli = (_route(d / BACKEND, "backend-service", 2) for d in (demo_dir, cli_dir))
    assert editor == cli == [{"destination": {"host": "backend-service", "subset": "v0"}, "weight": 85},
                             {"destination": {"host": "backend-service", "subset": "v1"}, "weight": 15}]


def _route(path: Path, name: str, rule: int) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    vs = next(d for d in docs if d["kind"] == "VirtualService" and d["metadata"]["name"] == name)
    return vs["spec"]["http"][rule]["route"]


TWO_HOSTS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: front, namespace: shop}
spec:
  hosts: [front]
  http:
  - route:
    - {destination: {host: catalog, subset: v1}, weight: 60}
    - {destination: {host: catalog, subset: v2}, weight: 20}
    - {destination: {host: reviews.shop.svc.cluster.local, subset: v1}, weight: 20}
"""


def test_shift_refuses_a_subset_two_hosts_share(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "front.yaml").write_text(TWO_HOSTS)
    assert main(["shift", "front.shop", "v1=70", "v2=30", "--files", str(tmp_path), "--yes"]) == 1
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said.startswith("meshtui: ") and "'v1' is ambiguous" in said and "HOST/SUBSET" in said
    assert (tmp_path / "front.yaml").read_text() == TWO_HOSTS


def test_shift_takes_host_slash_subset(tmp_path: Path) -> None:
    (tmp_path / "front.yaml").write_text(TWO_HOSTS)
    assert main(["shift", "front.shop", "catalog/v1=50", "reviews/v1=30", "--files", str(tmp_path), "--yes"]) == 0
    assert [d["weight"] for d in _route(tmp_path / "front.yaml", "front", 0)] == [50, 20, 30]
    assert main(["promote", "front.shop", "reviews.shop.svc.cluster.local/v1", "--files", str(tmp_path),
                 "--yes"]) == 0
    assert [d["weight"] for d in _route(tmp_path / "front.yaml", "front", 0)] == [0, 0, 100]


TWO_HOSTS_MESH = TWO_HOSTS + """\
---
apiVersion: v1
kind: Service
metadata: {name: front, namespace: shop}
spec: {selector: {app: front}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec: {selector: {app: catalog}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 80}]}
"""


async def test_the_editor_moves_the_destination_it_shows_when_two_hosts_share_a_subset(tmp_path: Path) -> None:
    """``←`` on reviews' v1 moves that one (not catalog's v1), as ``shift front reviews/v1=-5``."""
    ui_dir, cli_dir = tmp_path / "ui", tmp_path / "cli"
    for d in (ui_dir, cli_dir):
        d.mkdir()
        (d / "front.yaml").write_text(TWO_HOSTS_MESH)
    app = files_app(ui_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "shop", "front", ("dest", 0, 2))
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        await pilot.press("left")
        await apply(pilot, app)
    assert main(["shift", "front.shop", "reviews/v1=-5", "--files", str(cli_dir), "--yes"]) == 0
    editor, cli = (_route(d / "front.yaml", "front", 0) for d in (ui_dir, cli_dir))
    assert editor == cli
    assert [d["weight"] for d in editor] == [64, 21, 15]  # 85 shared 60:20 by the other two
