"""Every route-editor action driven by keys as a user would: open the editor from the mesh
screen, press the action key, fill the form, preview, `y`.

Most tests run against the files source on a private copy of the shipped (commented) demo
manifests: they check the resulting spec against what Istio's semantics say it must be, that
only the intended lines of the manifest changed (``difflib``), and where it matters that
``meshtui.routing.trace`` then routes accordingly. A few run against the sandbox.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.app import MeshApp
from meshtui.model.index import MeshIndex
from meshtui.routing.request import TraceRequest
from meshtui.routing.result import TraceResult
from meshtui.routing.trace import trace
from test_screen_editor import DEMO, files_app, get_vs, kube_app, notes, open_editor_at, preview_state, seed_backend
from ui_helpers import tree_lines, wait_for

BACKEND = "default-backend-service.yaml"
BOOKINFO = "bookinfo-networking.yaml"
BACKEND_HOST = "backend-service.default.svc.cluster.local"
REVIEWS_HOST = "reviews.bookinfo.svc.cluster.local"


@pytest.fixture(autouse=True)
def audit_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test writes its own audit log."""
    state = tmp_path / "state"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(state))
    return state


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped (commented) demo manifests."""
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


# -- helpers -------------------------------------------------------------------------------------


def screen_name(app: MeshApp) -> str:
    return type(app.screen).__name__


async def type_text(pilot: Any, text: str) -> None:
    """Type ``text`` key by key into the focused input."""
    for ch in text:
        await pilot.press("space" if ch == " " else ch)


async def set_field(pilot: Any, app: MeshApp, name: str, text: str) -> None:
    """Tab to field ``name`` of the open form, clear it and type ``text``."""
    target = f"field-{name}"
    for _ in range(12):
        if app.focused is not None and app.focused.id == target:
            break
        await pilot.press("tab")
    else:
        raise AssertionError(f"form field {name} not reachable with tab")
    await pilot.press("home", "ctrl+k")
    await type_text(pilot, text)


async def form(pilot: Any, app: MeshApp, key: str, submit: bool = True, **values: str) -> Any:
    """Press ``key`` in the editor, fill the form that opens, and submit it with `enter`.
    Returns the form screen (still open when it shows an error)."""
    await pilot.press(key)
    await wait_for(pilot, lambda: screen_name(app) == "FormScreen")
    shown = app.screen
    for name, text in values.items():
        await set_field(pilot, app, name, text)
    if submit:
        await pilot.press("enter")
        await pilot.pause()
    return shown


def form_error(app: MeshApp) -> str:
    """The error line of the open form."""
    return str(app.screen.query_one("#form-error").render())


async def apply(pilot: Any, app: MeshApp) -> Any:
    """`enter` (preview), wait for the checks, `y`, wait for the write, back to the editor.
    Returns the preview screen."""
    await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
    await pilot.press("enter")
    await wait_for(pilot, lambda: preview_state(app) in ("ready", "failed"))
    preview = app.screen
    assert preview_state(app) == "ready", preview.propagation_line
    assert preview.preview.blocked is None, preview.preview.blocked.message
    await pilot.press("y")
    await wait_for(pilot, lambda: preview_state(app) in ("applied", "failed", "conflict"))
    assert preview_state(app) == "applied", preview.propagation_line
    await pilot.press("escape")
    await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
    assert not app.screen.session.dirty
    return preview


def preview_checks(app: MeshApp) -> str:
    """The warnings and errors the open change preview lists, as plain text."""
    return "\n".join(t.plain for t in app.screen._checks_text().renderables)


def diff(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added) between two versions of a manifest."""
    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


def assert_only_change(before: str, after: str, old: str, new: str) -> None:
    """``after`` is ``before`` with the one occurrence of ``old`` replaced by ``new`` and no other
    byte changed; on failure the message is the unified diff of what was written."""
    assert before.count(old) == 1, f"the expected old text occurs {before.count(old)} times"
    expected = before.replace(old, new)
    if after != expected:
        shown = "\n".join(difflib.unified_diff(expected.splitlines(), after.splitlines(), "expected", "written",
                                               lineterm=""))
        raise AssertionError("the manifest changed differently:\n" + shown)


def load_dir(path: Path) -> list[dict[str, Any]]:
    """Every object of the manifests in ``path``, read independently of meshtui's source."""
    out = []
    for f in sorted(path.glob("*.yaml")):
        out.extend(d for d in yaml.safe_load_all(f.read_text()) if d)
    return out


def vs_spec(path: Path, ns: str, name: str) -> dict[str, Any]:
    """The spec of VirtualService ``ns/name`` as written on disk."""
    return next(o for o in load_dir(path) if o["kind"] == "VirtualService"
                and o["metadata"]["namespace"] == ns and o["metadata"]["name"] == name)["spec"]


def trace_dir(path: Path, host: str, uri: str = "/", **kwargs: Any) -> TraceResult:
    """Trace a request from the ``default`` namespace through the manifests on disk."""
    kwargs.setdefault("source_namespace", "default")
    return trace(MeshIndex(load_dir(path)), TraceRequest.build(host, uri, **kwargs))


def split(result: TraceResult) -> dict[str | None, float]:
    """subset → share of requests, as traced."""
    return {d.subset: round(d.probability, 4) for d in result.destinations}


async def cursor_to(pilot: Any, app: MeshApp, data: tuple) -> None:
    """Walk the editor's tree with `down` to the node whose data is ``data``."""
    tree = app.screen.query_one("#edit-tree")
    await pilot.press("home")
    for _ in range(60):
        if tree.cursor_node is not None and tree.cursor_node.data == data:
            return
        await pilot.press("down")
    raise AssertionError(f"editor node {data} not reachable")


async def open_backend(pilot: Any, app: MeshApp, node: tuple) -> None:
    await open_editor_at(pilot, app, "default", "backend-service", node)


# -- weights -------------------------------------------------------------------------------------


async def test_shift_arrows_move_by_one_and_plus_by_five(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("dest", 2, 1))
        await pilot.press("shift+right", "shift+right", "shift+right")
        assert "10% → 13%" in "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        await pilot.press("shift+left", "plus")
        await apply(pilot, app)
    assert diff(before, manifest.read_text()) == (
        ["            weight: 90", "            weight: 10"], ["            weight: 83", "            weight: 17"])


async def test_exact_weight_with_equals(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("dest", 2, 1))
        shown = await form(pilot, app, "equals_sign", submit=False)
        assert shown.values() == {"weight": "10"}
        await set_field(pilot, app, "weight", "135")
        await pilot.press("enter")
        assert "135" in form_error(app) and screen_name(app) == "FormScreen"
        await set_field(pilot, app, "weight", "35")
        await pilot.press("enter")
        await apply(pilot, app)
    assert diff(before, manifest.read_text()) == (
        ["            weight: 90", "            weight: 10"], ["            weight: 65", "            weight: 35"])
    assert split(trace_dir(demo_dir, BACKEND_HOST)) == {"v0": 0.65, "v1": 0.35}


async def test_drain_with_zero_sends_nothing_there(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("dest", 2, 1))
        await pilot.press("0")
        await apply(pilot, app)
    assert diff(before, manifest.read_text()) == (
        ["            weight: 90", "            weight: 10"], ["            weight: 100", "            weight: 0"])
    # Istio keeps a weight-0 destination configured but sends it no request.
    assert split(trace_dir(demo_dir, BACKEND_HOST)) == {"v0": 1.0, "v1": 0.0}


# -- destinations --------------------------------------------------------------------------------


async def test_add_destination_from_the_destination_rule_subsets(demo_dir: Path) -> None:
    manifest = demo_dir / BOOKINFO
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "bookinfo", "reviews", ("rule", 1))
        shown = await form(pilot, app, "a", submit=False)
        # The subset offered is the DestinationRule's subset not yet in the rule.
        assert shown.values() == {"host": "reviews", "subset": "v3", "weight": "0"}
        await set_field(pilot, app, "subset", "v7")
        await pilot.press("enter")
        assert "v1, v2, v3" in form_error(app)  # a subset the DestinationRule does not define
        await set_field(pilot, app, "subset", "v3")
        await set_field(pilot, app, "weight", "20")
        await pilot.press("enter")
        assert "(new)" in "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        preview = await apply(pilot, app)
        assert not preview.extra_warnings  # v3 has a Deployment
    assert_only_change(before, manifest.read_text(), """\
        subset: v1
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: 20
""", """\
        subset: v1
      weight: 64
    - destination:
        host: reviews
        subset: v2
      weight: 16
    - destination:
        host: reviews
        subset: v3
      weight: 20
""")
    assert vs_spec(demo_dir, "bookinfo", "reviews")["http"][1]["route"][2] == {
        "destination": {"host": "reviews", "subset": "v3"}, "weight": 20}
    result = trace_dir(demo_dir, REVIEWS_HOST, source_namespace="bookinfo")
    assert split(result) == {"v1": 0.64, "v2": 0.16, "v3": 0.2}


async def test_add_destination_whose_subset_has_no_workload_warns(demo_dir: Path) -> None:
    manifest = demo_dir / BOOKINFO
    text = manifest.read_text()
    manifest.write_text(text.replace("  - name: v3\n    labels:\n      version: v3\n",
                                     "  - name: v3\n    labels:\n      version: v3\n"
                                     "  - name: v4\n    labels:\n      version: v4\n"))
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "bookinfo", "reviews", ("rule", 1))
        await form(pilot, app, "a", subset="v4", weight="10")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert "subset v4 of reviews selects no" in notes(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert "subset v4 of reviews selects no" in preview_checks(app)



async def test_remove_destination_gives_its_share_to_the_rest(demo_dir: Path) -> None:
    manifest = demo_dir / BOOKINFO
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "bookinfo", "reviews", ("dest", 1, 1))
        await pilot.press("x")
        assert "(removed)" in "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        await apply(pilot, app)
    removed, added = diff(before, manifest.read_text())
    assert removed == ["      weight: 80", "    - destination:", "        host: reviews", "        subset: v2",
                       "      weight: 20"]
    assert added == ["      weight: 100"]
    assert split(trace_dir(demo_dir, REVIEWS_HOST, source_namespace="bookinfo")) == {"v1": 1.0}


# -- match conditions ----------------------------------------------------------------------------


async def test_invalid_regex_shows_an_error_in_the_form_and_writes_nothing(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await form(pilot, app, "m", field="header", name="x-user", kind="regex", value="(?=x)dev")
        assert screen_name(app) == "FormScreen"
        assert "lookahead" in form_error(app) and "RE2" in form_error(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert not app.screen.session.dirty
        await pilot.press("enter")  # nothing to preview
        await pilot.pause()
        assert screen_name(app) == "RouteEditor"
    assert manifest.read_text() == before


async def test_add_header_regex_condition_narrows_the_rule(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        shown = await form(pilot, app, "m", False, field="header", name="x-user", kind="regex", value="dev-[0-9]+")
        assert shown.values()["block"] == "0"  # AND'ed with the rule's uri prefix by default
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
          - uri:
                prefix: /test/v1
""", """\
          - uri:
                prefix: /test/v1
            headers:
                x-user:
                    regex: dev-[0-9]+
""")
    # RE2 matches the whole value: dev-42 is taken by test-v1, dev-42x and no header are not.
    taken = trace_dir(demo_dir, BACKEND_HOST, "/test/v1/a", headers={"x-user": "dev-42"})
    assert taken.rule_name == "test-v1"
    assert trace_dir(demo_dir, BACKEND_HOST, "/test/v1/a", headers={"x-user": "dev-42x"}).rule_name == "default"
    assert trace_dir(demo_dir, BACKEND_HOST, "/test/v1/a").rule_name == "default"


async def test_edit_uri_condition_in_place_with_ignore_case(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await cursor_to(pilot, app, ("cond", 1, 0, "uri", None))
        shown = await form(pilot, app, "m", submit=False)
        assert shown.values() == {"field": "uri", "name": "", "kind": "prefix", "value": "/test/v1", "case": "no",
                                  "block": "0"}
        await set_field(pilot, app, "value", "/test/v2")
        await set_field(pilot, app, "case", "yes")
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
          - uri:
                prefix: /test/v1
""", """\
          - uri:
                prefix: /test/v2
            ignoreUriCase: true
""")
    assert trace_dir(demo_dir, BACKEND_HOST, "/TEST/V2/x").rule_name == "test-v1"
    assert trace_dir(demo_dir, BACKEND_HOST, "/test/v1/x").rule_name == "default"


async def test_edit_header_condition_in_place(demo_dir: Path) -> None:
    manifest = demo_dir / BOOKINFO
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "bookinfo", "reviews", ("rule", 0))
        await cursor_to(pilot, app, ("cond", 0, 0, "headers", "end-user"))
        shown = await form(pilot, app, "m", False)
        assert shown.values() == {"field": "header", "name": "end-user", "kind": "exact", "value": "jason",
                                  "case": "no", "block": "0"}
        await set_field(pilot, app, "kind", "regex")
        await set_field(pilot, app, "value", "jason|kim")
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), "          exact: jason\n", "          regex: jason|kim\n")
    for user in ("jason", "kim"):
        result = trace_dir(demo_dir, REVIEWS_HOST, headers={"end-user": user}, source_namespace="bookinfo")
        assert split(result) == {"v2": 1.0}, user
    assert trace_dir(demo_dir, REVIEWS_HOST, headers={"end-user": "jasonx"}, source_namespace="bookinfo").rule_index == 1


async def test_escape_asks_before_it_discards_pending_edits(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("dest", 2, 0))
        await pilot.press("0")
        await form(pilot, app, "f", abort="500", abort_pct="100")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        lines = "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        assert "90% → 0%" in lines and "10% → 100%" in lines and "(new)" in lines
        assert "pending (2)" in str(app.screen.query_one("#editor-pending").render())
        # esc asks; "n" (or esc again) keeps every pending edit.
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "Confirm")
        assert "Discard 2 pending edits" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        lines = "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        assert "90% → 0%" in lines and "(new)" in lines and "pending (2)" in str(
            app.screen.query_one("#editor-pending").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "Confirm")
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert app.screen.session.dirty
        # "y" discards them and leaves the editor; nothing was written.
        await pilot.press("escape")
        await wait_for(pilot, lambda: screen_name(app) == "Confirm")
        await pilot.press("y")
        await wait_for(pilot, lambda: screen_name(app) == "MeshScreen")
        assert "discarded 2 pending edits" in notes(app)
    assert manifest.read_text() == before


async def test_uri_exact_and_regex_method_query_and_without_headers(demo_dir: Path) -> None:
    """Each condition kind the form offers, in a new match block (OR'ed with the first)."""
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await form(pilot, app, "m", field="uri", kind="regex", value="/beta/[a-z]+", block="new")
        await form(pilot, app, "m", field="method", kind="exact", value="GET", block="1")
        await form(pilot, app, "m", field="queryParams", name="debug", kind="exact", value="1", block="1")
        await form(pilot, app, "m", field="withoutHeaders", name="x-skip", kind="present", value="", block="1")
        await form(pilot, app, "m", field="uri", kind="exact", value="/v1-only", block="new")
        assert screen_name(app) == "RouteEditor"
        await apply(pilot, app)
    match = vs_spec(demo_dir, "default", "backend-service")["http"][1]["match"]
    assert match == [
        {"uri": {"prefix": "/test/v1"}},
        {"uri": {"regex": "/beta/[a-z]+"}, "method": {"exact": "GET"}, "queryParams": {"debug": {"exact": "1"}},
         "withoutHeaders": {"x-skip": {}}},
        {"uri": {"exact": "/v1-only"}},
    ]
    assert trace_dir(demo_dir, BACKEND_HOST, "/beta/abc?debug=1").rule_name == "test-v1"
    assert trace_dir(demo_dir, BACKEND_HOST, "/beta/abc?debug=1", method="POST").rule_name == "default"
    assert trace_dir(demo_dir, BACKEND_HOST, "/beta/abc?debug=1", headers={"x-skip": "1"}).rule_name == "default"
    assert trace_dir(demo_dir, BACKEND_HOST, "/beta/abc").rule_name == "default"
    assert trace_dir(demo_dir, BACKEND_HOST, "/v1-only").rule_name == "test-v1"
    assert trace_dir(demo_dir, BACKEND_HOST, "/v1-only/x").rule_name == "default"


async def test_remove_one_uri_alternative(demo_dir: Path) -> None:
    manifest = demo_dir / BOOKINFO
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        # The gateway's VirtualService bookinfo/bookinfo routes to productpage: it is listed there.
        await open_editor_at(pilot, app, "bookinfo", "productpage", ("rule", 0))
        assert app.screen.key == ("VirtualService", "bookinfo", "bookinfo")
        await cursor_to(pilot, app, ("cond", 0, 2, "uri", None))
        await pilot.press("x")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
    - uri:
        exact: /login
""", "")
    gateway = "bookinfo/bookinfo-gateway"
    assert trace_dir(demo_dir, "bookinfo.example.com", "/login", gateway=gateway).outcome == "no_route"
    assert trace_dir(demo_dir, "bookinfo.example.com", "/logout", gateway=gateway).rule_index == 0


async def test_removing_the_only_condition_warns_that_later_rules_become_unreachable(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 0))
        await cursor_to(pilot, app, ("cond", 0, 0, "headers", "x-canary"))
        await pilot.press("x")
        assert "http[1] 'test-v1' is unreachable" in notes(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert "http[2] 'default' is unreachable" in preview_checks(app)


# -- rule order and rewrite ----------------------------------------------------------------------


async def test_move_rule_up_with_ctrl_up(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await pilot.press("ctrl+up")
        assert "(moved from #1)" in "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        assert "unreachable" not in notes(app)
        await apply(pilot, app)
    rules = vs_spec(demo_dir, "default", "backend-service")["http"]
    assert [r["name"] for r in rules] == ["test-v1", "canary-header", "default"]
    # Both header and prefix now: the prefix rule is tried first.
    both = trace_dir(demo_dir, BACKEND_HOST, "/test/v1/x", headers={"x-canary": "true"})
    assert both.rule_name == "test-v1"


async def test_moving_the_catch_all_first_warns_and_shadows_the_rest(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 2))
        await pilot.press("K", "K")
        said = notes(app)
        assert "http[1] 'canary-header' is unreachable: http[0] before it matches every request" in said
        assert "http[2] 'test-v1' is unreachable" in said
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert "'canary-header' is unreachable" in preview_checks(app)
        assert "apply anyway" in app.screen._status_text().plain
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
    rules = vs_spec(demo_dir, "default", "backend-service")["http"]
    assert [r["name"] for r in rules] == ["default", "canary-header", "test-v1"]
    assert trace_dir(demo_dir, BACKEND_HOST, "/", headers={"x-canary": "true"}).rule_name == "default"


async def test_add_a_uri_rewrite(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 0))
        await form(pilot, app, "w", uri="v1")
        assert "must start with '/'" in form_error(app)
        await set_field(pilot, app, "uri", "/v1/")
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
                subset: v1
      - name: test-v1
""", """\
                subset: v1
        rewrite:
            uri: /v1/
      - name: test-v1
""")
    # Without a uri condition the matched prefix is "/": /reviews/1 goes upstream as /v1/reviews/1.
    result = trace_dir(demo_dir, BACKEND_HOST, "/reviews/1", headers={"x-canary": "true"})
    assert result.rule_name == "canary-header" and result.rewrite["uri"] == "/v1/reviews/1"


async def test_change_the_rewrite_and_authority(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        shown = await form(pilot, app, "w", False)
        assert shown.values() == {"uri": "/", "authority": ""}
        await set_field(pilot, app, "uri", "/api/")
        await set_field(pilot, app, "authority", "backend.internal")
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
        rewrite:
            uri: /
""", """\
        rewrite:
            uri: /api/
            authority: backend.internal
""")
    result = trace_dir(demo_dir, BACKEND_HOST, "/test/v1/x")
    assert result.rewrite == {"uri": "/api//x", "authority": "backend.internal"}  # Envoy's prefix_rewrite


async def test_move_rule_keeps_the_manifest_comments(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await pilot.press("ctrl+up")
        await apply(pilot, app)
    after = manifest.read_text()
    # A move is a move: every line is still there, only the order of the rules changed.
    assert sorted(after.splitlines()) == sorted(before.splitlines())
    assert "# Rules are evaluated in order; the first match wins." in after
    assert 'exact: "true"     # a string: header values are always strings' in after


# -- release workflows ---------------------------------------------------------------------------


async def test_canary_steps_then_promote(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("dest", 2, 1))
        shown = await form(pilot, app, "c", False)
        assert shown.values() == {"stable": "v0", "canary": "v1", "step": "10", "max": "100"}
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert "10% → 20%" in "\n".join(tree_lines(app.screen.query_one("#edit-tree")))
        await form(pilot, app, "c", max="25")  # the second step stops at the cap
        await apply(pilot, app)
        assert_only_change(before, manifest.read_text(), """\
            weight: 90
          - destination: {host: backend-service, subset: v1}
            weight: 10
""", """\
            weight: 75
          - destination: {host: backend-service, subset: v1}
            weight: 25
""")
        before = manifest.read_text()
        assert split(trace_dir(demo_dir, BACKEND_HOST)) == {"v0": 0.75, "v1": 0.25}
        shown = await form(pilot, app, "p", False)
        assert shown.values() == {"subset": "v1"}
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
            weight: 75
          - destination: {host: backend-service, subset: v1}
            weight: 25
""", """\
            weight: 0
          - destination: {host: backend-service, subset: v1}
            weight: 100
""")
    assert split(trace_dir(demo_dir, BACKEND_HOST)) == {"v0": 0.0, "v1": 1.0}


async def test_rollback_sends_everything_to_the_stable_subset(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 2))
        shown = await form(pilot, app, "b", False)
        assert shown.values() == {"subset": "v0"}
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
            weight: 90
          - destination: {host: backend-service, subset: v1}
            weight: 10
""", """\
            weight: 100
          - destination: {host: backend-service, subset: v1}
            weight: 0
""")
    assert vs_spec(demo_dir, "default", "backend-service")["http"][2]["route"] == [
        {"destination": {"host": "backend-service", "subset": "v0"}, "weight": 100},
        {"destination": {"host": "backend-service", "subset": "v1"}, "weight": 0}]


async def test_blue_green_switch_of_a_single_destination_rule(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 0))
        shown = await form(pilot, app, "g", False)
        assert shown.values() == {"subset": "v0"}
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
                    exact: "true"     # a string: header values are always strings
        route:
          - destination:
                host: backend-service
                subset: v1
""", """\
                    exact: "true"     # a string: header values are always strings
        route:
          - destination:
                host: backend-service
                subset: v0
""")
    assert split(trace_dir(demo_dir, BACKEND_HOST, headers={"x-canary": "true"})) == {"v0": 1.0}


async def test_ab_split_adds_the_missing_subset_and_zeroes_the_unnamed(demo_dir: Path) -> None:
    manifest = demo_dir / BOOKINFO
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "bookinfo", "reviews", ("rule", 1))
        shown = await form(pilot, app, "s", False)
        assert shown.values() == {"split": "v1=34 v2=33 v3=33"}
        await set_field(pilot, app, "split", "v1=50 v3=40")
        await pilot.press("enter")
        assert "sum to 100" in form_error(app)
        await set_field(pilot, app, "split", "v1=50 v3=50")
        await pilot.press("enter")
        await apply(pilot, app)
    assert_only_change(before, manifest.read_text(), """\
      weight: 80
    - destination:
        host: reviews
        subset: v2
      weight: 20
""", """\
      weight: 50
    - destination:
        host: reviews
        subset: v2
      weight: 0
    - destination:
        host: reviews
        subset: v3
      weight: 50
""")
    assert split(trace_dir(demo_dir, REVIEWS_HOST, source_namespace="bookinfo")) == {"v1": 0.5, "v2": 0.0, "v3": 0.5}
    # The jason rule in front is untouched.
    jason = trace_dir(demo_dir, REVIEWS_HOST, headers={"end-user": "jason"}, source_namespace="bookinfo")
    assert split(jason) == {"v2": 1.0}


async def test_mirror_a_percentage_then_stop_mirroring(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 2))
        shown = await form(pilot, app, "i", False)
        assert shown.values() == {"subset": "", "percent": "10"}  # both subsets already take traffic
        await set_field(pilot, app, "subset", "v1")
        await set_field(pilot, app, "percent", "250")
        await pilot.press("enter")
        assert "outside 0..100" in form_error(app)
        await set_field(pilot, app, "percent", "25")
        await pilot.press("enter")
        await apply(pilot, app)
        assert_only_change(before, manifest.read_text(), """\
            retryOn: 'connect-failure,refused-stream,503'
""", """\
            retryOn: 'connect-failure,refused-stream,503'
        mirror:
            host: backend-service
            subset: v1
        mirrorPercentage:
            value: 25.0
""")
        mirrors = trace_dir(demo_dir, BACKEND_HOST).mirrors
        assert [(m.host, m.subset, m.percentage) for m in mirrors] == [(BACKEND_HOST, "v1", 25.0)]
        await cursor_to(pilot, app, ("action", 2, "mirror"))
        await pilot.press("I")
        await apply(pilot, app)
    assert manifest.read_text() == before
    assert trace_dir(demo_dir, BACKEND_HOST).mirrors == []


async def test_fault_injection_delay_and_abort_then_removed(demo_dir: Path) -> None:
    manifest = demo_dir / BACKEND
    before = manifest.read_text()
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await form(pilot, app, "f", delay="5", delay_pct="10")
        assert "not a duration" in form_error(app)
        await set_field(pilot, app, "delay", "5s")
        await set_field(pilot, app, "abort", "503")
        await set_field(pilot, app, "abort_pct", "20.5")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert "fault delay 5s for 10.0%, abort 503 for 20.5%" in "\n".join(
            tree_lines(app.screen.query_one("#edit-tree")))
        await apply(pilot, app)
        assert_only_change(before, manifest.read_text(), """\
        timeout: 5s
""", """\
        timeout: 5s
        fault:
            delay:
                fixedDelay: 5s
                percentage:
                    value: 10.0
            abort:
                httpStatus: 503
                percentage:
                    value: 20.5
""")
        fault = trace_dir(demo_dir, BACKEND_HOST, "/test/v1/x").fault
        assert fault["delay"]["fixed_delay"] == "5s" and fault["delay"]["percentage"] == 10.0
        assert fault["abort"]["http_status"] == 503 and fault["abort"]["percentage"] == 20.5
        await pilot.press("F")
        await apply(pilot, app)
    assert manifest.read_text() == before
    assert trace_dir(demo_dir, BACKEND_HOST, "/test/v1/x").fault is None


# -- against the sandbox (written through the API server, read back with the official client) ----


def add_subsets_and_pods(api: Any, ns: str) -> None:
    """Subsets v2 (its one pod not ready) and v3 (its pod ready) for the seeded backend."""
    from kubernetes import client

    custom, core = client.CustomObjectsApi(api), client.CoreV1Api(api)
    dr = custom.get_namespaced_custom_object(*ISTIO, ns, "destinationrules", "backend-service")
    dr["spec"]["subsets"] += [{"name": "v2", "labels": {"version": "v2"}},
                              {"name": "v3", "labels": {"version": "v3"}}]
    custom.replace_namespaced_custom_object(*ISTIO, ns, "destinationrules", "backend-service", dr)
    for version, ready in (("v2", "False"), ("v3", "True")):
        core.create_namespaced_pod(ns, {
            "metadata": {"name": f"backend-service-{version}-0", "labels": {"app": "backend-service",
                                                                           "version": version}},
            "spec": {"containers": [{"name": "backend", "image": "fake-service"}]},
            "status": {"phase": "Running", "podIP": "10.9.9.9" if ready == "True" else "10.9.9.8",
                       "conditions": [{"type": "Ready", "status": ready}]},
        })


ISTIO = ("networking.istio.io", "v1")


async def test_sandbox_add_destinations_warns_for_the_subset_without_ready_pod(sandbox: Any) -> None:
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "act-add")
    add_subsets_and_pods(api, ns)
    app = kube_app(sandbox)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("rule", 2))
        await wait_for(pilot, lambda: app.index.get("Pod", ns, "backend-service-v3-0") is not None)
        await form(pilot, app, "a", subset="v3", weight="10")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert "selects no ready pod" not in notes(app)
        await form(pilot, app, "a", subset="v2", weight="0")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert "subset v2 of backend-service selects no ready pod (1 pod, none ready)" in notes(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert "subset v2 of backend-service selects no ready pod" in preview_checks(app)
        assert "subset v3" not in preview_checks(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: preview_state(app) == "applied")
    route = get_vs(api, ns)["spec"]["http"][2]["route"]
    assert [(d["destination"]["subset"], d["weight"]) for d in route] == [("v0", 81), ("v1", 9), ("v3", 10), ("v2", 0)]


async def test_sandbox_undoing_the_edit_drops_its_warning(sandbox: Any) -> None:
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "act-undo-warn")
    add_subsets_and_pods(api, ns)
    app = kube_app(sandbox)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("rule", 2))
        await form(pilot, app, "a", subset="v2", weight="5")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert "subset v2 of backend-service selects no ready pod" in notes(app)
        await pilot.press("backspace")
        pending = app.screen.query_one("#editor-pending")
        await wait_for(pilot, lambda: str(pending.render()).startswith("nothing pending"))
        # Another edit: its preview no longer carries the dropped edit's warning.
        await form(pilot, app, "s", split="v0=80 v1=20")
        await pilot.press("enter")
        await wait_for(pilot, lambda: preview_state(app) == "ready")
        assert "selects no ready pod" not in preview_checks(app)


async def test_sandbox_ab_split_fault_and_mirror_in_one_change(sandbox: Any) -> None:
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "act-release")
    before = get_vs(api, ns)["spec"]
    app = kube_app(sandbox)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("rule", 2))
        await form(pilot, app, "s", split="v0=60 v1=40")
        await form(pilot, app, "f", abort="503", abort_pct="5")
        await form(pilot, app, "i", subset="v1", percent="50")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")
        assert len(app.screen.session.edits) == 3
        await apply(pilot, app)
    spec = get_vs(api, ns)["spec"]
    assert spec["http"][:2] == before["http"][:2]
    default = spec["http"][2]
    assert [d["weight"] for d in default["route"]] == [60, 40]
    assert default["fault"] == {"abort": {"httpStatus": 503, "percentage": {"value": 5.0}}}
    assert default["mirror"] == {"host": "backend-service", "subset": "v1"}
    assert default["mirrorPercentage"] == {"value": 50.0}
    assert default["retries"] == before["http"][2]["retries"]


# -- keys ----------------------------------------------------------------------------------------


#: Every action of issue 5 (items 1-3) and the key the user presses for it.
EDITOR_KEYS = {
    "left": "-5%", "minus": "-5%", "right": "+5%", "plus": "+5%", "shift+left": "-1%", "shift+right": "+1%",
    "equals_sign": "Set %", "0": "Drain", "a": "Add dest", "x": "Remove", "m": "Match", "K": "Rule up",
    "J": "Rule down", "ctrl+up": "Rule up", "ctrl+down": "Rule down", "w": "Rewrite", "c": "Canary",
    "p": "Promote", "b": "Rollback", "g": "Blue-green", "d": "Dark launch", "s": "A/B split", "i": "Mirror",
    "I": "Stop mirror", "f": "Fault", "F": "Remove fault", "enter": "Preview", "backspace": "Undo edit",
    "u": "Undo applied", "escape": "Back", "r": "Retries", "t": "Timeout",
}


async def test_help_lists_every_editor_key_with_its_description(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_backend(pilot, app, ("dest", 2, 0))
        active = {key: b.binding for key, b in app.screen.active_bindings.items()}
        for key, description in EDITOR_KEYS.items():
            assert key in active, f"{key} is not bound in the route editor"
            assert active[key].description == description, key
        footer = {b.description for b in active.values() if b.show}
        assert {"-5%", "+5%", "Set %", "Drain", "Add dest", "Remove", "Match", "Preview"} <= footer
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        shown = app.screen.query_one("#help-text").source  # the Markdown shown
        for description in set(EDITOR_KEYS.values()):
            assert f"| {description}" in shown, f"{description} missing from the ? help"
