"""The Analyze screen and the problem markers of the browser, driven with Pilot on manifests."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from meshtui.app import MeshApp
from meshtui.widgets.findings_table import FindingsTable
from meshtui.widgets.mesh_tree import MeshTree
from ui_helpers import wait_for

DEMO = Path(str(files("meshtui.demo")))

# A route to a subset that backend-service's DestinationRule does not define (it has v0, v1):
# istioctl analyze reports IST0101 ReferencedResourceNotFound on the VirtualService.
BROKEN_ROUTE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: backend-broken
  namespace: default
spec:
  hosts:
  - backend-broken.example.com
  http:
  - name: nine
    route:
    - destination:
        host: backend-service
        subset: {subset}
"""


@pytest.fixture()
def broken_dir(tmp_path: Path) -> Path:
    """A copy of the demo manifests with a route to the undefined subset v9."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (target / "broken-route.yaml").write_text(BROKEN_ROUTE.format(subset="v9"))
    return target


def files_app(path: Path) -> MeshApp:
    from meshtui.sources.files import FilesSource

    return MeshApp(lambda: FilesSource(str(path)))


def table_rows(app: MeshApp) -> list[tuple[str, ...]]:
    """The rows of the findings table as shown (after filter and sort)."""
    return [cells for _, cells in app.screen.query_one(FindingsTable)._rows]


def broken_row(rows: list[tuple[str, ...]]) -> tuple[str, ...] | None:
    return next((r for r in rows if r[1] == "IST0101" and r[2] == "VirtualService default/backend-broken"), None)


async def test_broken_subset_listed_marked_and_jumped_to(broken_dir: Path) -> None:
    app = files_app(broken_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.findings.latest is not None)

        # The browser marks the service the broken route sends traffic to, and its namespace
        # (drawn when the screen handles the findings, just after they are published).
        tree = app.screen.query_one(MeshTree)
        leaf = tree.node_for(("Service", "default", "backend-service"))
        await wait_for(pilot, lambda: leaf.label.plain.startswith("! "))
        assert any("red" in str(span.style) for span in leaf.label.spans if leaf.label.plain[span.start:span.end].strip() == "!")
        ns_node = next(n for n in tree.root.children if n.data == ("ns", "default"))
        assert ns_node.label.plain.startswith("! ")
        # A service nothing is wrong with has no marker.
        assert not tree.node_for(("Service", "bookinfo", "details")).label.plain.startswith("! ")

        await pilot.press("a")
        await pilot.pause()
        assert type(app.screen).__name__ == "AnalyzeScreen"
        rows = table_rows(app)
        row = broken_row(rows)
        assert row is not None, rows
        assert "Error" in row[0]
        assert "v9" in row[3]
        assert row[4] == "spec.http[0].route[0].destination.subset"
        # Errors come before warnings.
        levels = [r[0] for r in rows]
        assert levels == sorted(levels, key=lambda c: 0 if "Error" in c else 1 if "Warning" in c else 2)
        title = app.screen.query_one("#analyze-title").render()
        assert "error" in str(title)

        # Filter down to the broken route, then enter: the browser shows backend-service with
        # the VirtualService's YAML on top, the offending field highlighted.
        await pilot.press("slash", *"backend-broken", "enter")
        assert [r[2] for r in table_rows(app)] == ["VirtualService default/backend-broken"]
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "YamlScreen"
        yaml_screen: Any = app.screen
        line = yaml_screen.highlight_line
        assert line is not None
        assert yaml_screen._text.splitlines()[line - 1].strip() == "subset: v9"
        under = app.screen_stack[-2]
        assert type(under).__name__ == "MeshScreen"
        assert under._selected == ("Service", "default", "backend-service")
        await pilot.press("escape")
        await pilot.pause()
        assert type(app.screen).__name__ == "MeshScreen"


async def test_findings_follow_the_files_live(broken_dir: Path) -> None:
    app = files_app(broken_dir)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.findings.latest is not None)
        await pilot.press("colon", *"an", "enter")
        await pilot.pause()
        assert broken_row(table_rows(app)) is not None
        # Fix the route on disk: the watch reloads it, the analysis re-runs, the row goes.
        (broken_dir / "broken-route.yaml").write_text(BROKEN_ROUTE.format(subset="v1"))
        await wait_for(pilot, lambda: broken_row(table_rows(app)) is None, timeout=20)
        tree = app.screen_stack[1].query_one(MeshTree)
        assert not tree.node_for(("Service", "default", "backend-service")).label.plain.startswith("! ")


async def test_clean_mesh_shows_empty_state(tmp_path: Path) -> None:
    for name in ("00-namespaces.yaml", "default-backend-service.yaml"):
        shutil.copy(DEMO / name, tmp_path / name)
    app = files_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.findings.latest is not None)
        await pilot.press("colon", *"analyze", "enter")
        await pilot.pause()
        empty = app.screen.query_one("#analyze-empty")
        assert empty.display
        assert "No validation issues found" in str(empty.render())
        assert not app.screen.query_one(FindingsTable).display
        tree = app.screen_stack[1].query_one(MeshTree)
        assert not tree.node_for(("Service", "default", "backend-service")).label.plain.startswith("! ")


def test_path_line_finds_the_field() -> None:
    from meshtui.screens.yaml_view import path_line

    text = "spec:\n  hosts:\n  - a\n  http:\n  - name: x\n    route:\n    - destination:\n        host: b\n"
    assert path_line(text, "spec.http[0].route[0].destination.host") == 8
    assert path_line(text, "spec.hosts[0]") == 3
    # A path that leaves the object stops at its deepest existing ancestor.
    assert path_line(text, "spec.http[0].timeout") == 5
    assert path_line(text, "status.x") is None
