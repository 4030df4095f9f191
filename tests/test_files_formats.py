"""Files mode keeps what the file looks like: YAML aliases shared between rules, JSON
manifests, flow-style lists over several lines with their comments, and mixed line endings.
Each test edits a real file through ``meshtui shift`` (or the files source) and reads the bytes."""

from __future__ import annotations

import copy
import difflib
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshtui.cli import main
from meshtui.sources.files import FilesSource

pytestmark = pytest.mark.timeout(120)

DR = """\
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: catalog
  namespace: default
spec:
  host: catalog
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
"""

ALIASED = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: catalog
  namespace: default
spec:
  hosts:
  - catalog
  http:
  - name: canary
    match:
    - headers:
        x-canary:
          exact: "1"
    route: &routes   # both rules route alike, for now
    - destination:
        host: catalog
        subset: v1
      weight: 90
    - destination:
        host: catalog
        subset: v2
      weight: 10
  - name: default
    route: *routes
"""


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private audit log."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))


def manifests(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """A directory holding the VirtualService file ``name`` and the catalog DestinationRule."""
    root = tmp_path / "manifests"
    root.mkdir()
    (root / "dr.yaml").write_text(DR)
    target = root / name
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content)
    return target


def weights(doc: dict, rule: str) -> dict[str, int]:
    """subset -> weight of one named rule."""
    found = next(r for r in doc["spec"]["http"] if r.get("name") == rule)
    return {r["destination"]["subset"]: r["weight"] for r in found["route"]}


def changed_lines(before: str, after: str) -> list[str]:
    """The lines a line diff shows as removed or added."""
    return [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def shift(target: Path, *args: str) -> int:
    """``meshtui shift catalog.default … --files DIR --yes``."""
    return main(["shift", "catalog.default", *args, "--files", str(target.parent), "--yes"])


# ---- YAML anchors and aliases ------------------------------------------------------------------


def test_a_rule_reached_through_an_alias_is_shifted_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = manifests(tmp_path, "vs.yaml", ALIASED)
    assert shift(target, "v2=50", "--rule", "default") == 0
    out = capsys.readouterr().out
    assert "(rule default)" in out
    assert len([ln for ln in out.splitlines() if ln.startswith("-") and "weight" in ln]) == 2  # one rule's two
    after = target.read_text()
    doc = yaml.safe_load(after)
    assert weights(doc, "canary") == {"v1": 90, "v2": 10}
    assert weights(doc, "default") == {"v1": 50, "v2": 50}
    head = ALIASED[: ALIASED.index("  - name: default")]
    assert after.startswith(head)  # the anchor and the rule that holds it: byte for byte


def test_the_rule_holding_the_anchor_is_shifted_alone(tmp_path: Path) -> None:
    target = manifests(tmp_path, "vs.yaml", ALIASED)
    assert shift(target, "v2=50", "--rule", "canary") == 0
    doc = yaml.safe_load(target.read_text())
    assert weights(doc, "canary") == {"v1": 50, "v2": 50}
    assert weights(doc, "default") == {"v1": 90, "v2": 10}
    # The anchor stays where it is and its values change there; the alias is expanded.
    head = ALIASED[: ALIASED.index("  - name: default")]
    assert target.read_text().startswith(head.replace("weight: 90", "weight: 50").replace("weight: 10", "weight: 50"))
    assert "*routes" not in target.read_text()


def test_aliases_that_expand_without_end_are_reported_not_expanded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "Billion laughs": nine levels of ten aliases each would be 10^9 values once expanded.
    levels = ["    l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"    l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: laughs\ndata:\n  nested:\n" + "\n".join(levels) + "\n"
    target = manifests(tmp_path, "vs.yaml", ALIASED)
    (target.parent / "laughs.yaml").write_text(bomb)
    (target.parent / "itself.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: me\ndata: &x {b: *x}\n")
    assert main(["analyze", "--files", str(target.parent)]) in (0, 1)
    err = capsys.readouterr().err.splitlines()
    assert any(ln.startswith("meshtui: ") and "laughs.yaml" in ln and "aliases expand" in ln for ln in err), err
    assert any(ln.startswith("meshtui: ") and "itself.yaml" in ln and "contains it" in ln for ln in err), err
    assert shift(target, "v2=20", "--rule", "default") == 0  # the other files still load and edit


# ---- JSON --------------------------------------------------------------------------------------

JSON_VS = (
    '{\n'
    '\t"apiVersion": "networking.istio.io/v1",\n'
    '\t"kind": "VirtualService",\n'
    '\t"metadata": {"name": "catalog", "namespace": "default", "annotations": {"docs": "https:\\/\\/wiki\\/catalog"}},\n'
    '\t"spec": {\n'
    '\t\t"hosts": ["catalog"],\n'
    '\t\t"http": [{"name": "default", "route": [\n'
    '\t\t\t{"destination": {"host": "catalog", "subset": "v1"}, "weight": 90},\n'
    '\t\t\t{"destination": {"host": "catalog", "subset": "v2"}, "weight": 10}\n'
    '\t\t]}]\n'
    '\t}\n'
    '}\n'
)


def test_a_json_manifest_stays_json_and_keeps_its_layout(tmp_path: Path) -> None:
    # Tab indentation and an escaped slash: JSON that YAML readers do not read.
    target = manifests(tmp_path, "catalog.json", JSON_VS)
    assert shift(target, "v2=30") == 0
    after = target.read_text()
    assert weights(json.loads(after), "default") == {"v1": 70, "v2": 30}
    assert changed_lines(JSON_VS, after) == [
        '-\t\t\t{"destination": {"host": "catalog", "subset": "v1"}, "weight": 90},',
        '-\t\t\t{"destination": {"host": "catalog", "subset": "v2"}, "weight": 10}',
        '+\t\t\t{"destination": {"host": "catalog", "subset": "v1"}, "weight": 70},',
        '+\t\t\t{"destination": {"host": "catalog", "subset": "v2"}, "weight": 30}',
    ]


def test_a_json_document_in_a_yaml_file_stays_json(tmp_path: Path) -> None:
    text = json.dumps(yaml.safe_load(ALIASED.replace("route: *routes", "route: []").replace(" &routes", "")), indent=4)
    text = text.replace('"route": []', '"route": [{"destination": {"host": "catalog", "subset": "v1"}}]')
    target = manifests(tmp_path, "vs.yaml", text + "\n")
    assert shift(target, "v2=25", "--rule", "canary") == 0
    after = target.read_text()
    assert weights(json.loads(after), "canary") == {"v1": 75, "v2": 25}
    changed = changed_lines(text, after)
    assert len(changed) == 4 and all('"weight"' in ln for ln in changed), changed


def test_a_structural_edit_of_a_json_manifest_is_json_and_keeps_the_rest(tmp_path: Path) -> None:
    target = manifests(tmp_path, "catalog.json", JSON_VS)
    source = FilesSource(str(target.parent))
    vs = next(o for o in source.snapshot().objects if o["kind"] == "VirtualService")
    new = copy.deepcopy(vs)
    new["spec"]["http"][0]["match"] = [{"headers": {"end-user": {"exact": "jason"}}}]
    new["metadata"]["annotations"]["owner"] = "team-catalog"
    source.apply(new, base=vs)
    after = target.read_text()
    assert json.loads(after) == new
    kept = [ln for ln in JSON_VS.splitlines() if "weight" in ln or "apiVersion" in ln or ln.startswith("\t\t\"hosts")]
    assert all(ln in after.splitlines() for ln in kept)
    assert after.splitlines()[0] == "{" and after.endswith("}\n")


# ---- flow style and line endings ---------------------------------------------------------------

FLOW = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: catalog
  namespace: default
spec:
  hosts: [catalog]
  http:
  - name: default
    route: [
      {destination: {host: catalog, subset: v1}, weight: 90},  # stable
      {destination: {host: catalog, subset: v2}, weight: 10}   # canary
    ]
"""


def test_a_flow_list_over_several_lines_keeps_its_lines_and_comments(tmp_path: Path) -> None:
    target = manifests(tmp_path, "vs.yaml", FLOW)
    assert shift(target, "v2=40") == 0
    assert target.read_text() == FLOW.replace("weight: 90}", "weight: 60}").replace("weight: 10}", "weight: 40}")


BLOCK = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: catalog
  namespace: default
spec:
  hosts:
  - catalog
  http:
  - name: default
    route:
    - destination:
        host: catalog
        subset: v1
      weight: 90
    - destination:
        host: catalog
        subset: v2
      weight: 10
"""


def test_one_crlf_line_does_not_turn_the_others_into_crlf(tmp_path: Path) -> None:
    original = BLOCK.replace("kind: VirtualService\n", "kind: VirtualService\r\n").encode()
    target = manifests(tmp_path, "vs.yaml", original)
    assert shift(target, "v2=40") == 0
    assert target.read_bytes() == original.replace(b"weight: 90", b"weight: 60").replace(b"weight: 10", b"weight: 40")


def test_a_structural_edit_keeps_each_lines_own_ending(tmp_path: Path) -> None:
    lines = BLOCK.splitlines(keepends=True)
    crlf_at = {1, 11, 14}  # kind, the route key, the first weight
    original = "".join(ln.replace("\n", "\r\n") if i in crlf_at else ln for i, ln in enumerate(lines)).encode()
    target = manifests(tmp_path, "vs.yaml", original)
    source = FilesSource(str(target.parent))
    vs = next(o for o in source.snapshot().objects if o["kind"] == "VirtualService")
    new = copy.deepcopy(vs)
    new["spec"]["http"][0]["match"] = [{"uri": {"prefix": "/v2"}}]  # new lines above the route
    source.apply(new, base=vs)
    after = target.read_bytes()
    assert yaml.safe_load(after)["spec"]["http"][0]["match"] == [{"uri": {"prefix": "/v2"}}]
    kept = [ln for i, ln in enumerate(original.splitlines(keepends=True)) if i != 9]
    assert all(ln in after.splitlines(keepends=True) for ln in kept)
    assert after.count(b"\r\n") == len(crlf_at)


def test_a_new_object_written_to_a_json_path_is_json(tmp_path: Path) -> None:
    target = manifests(tmp_path, "vs.yaml", BLOCK)
    source = FilesSource(str(target.parent))
    vs = next(o for o in source.snapshot().objects if o["kind"] == "VirtualService")
    other = copy.deepcopy(vs)
    other["metadata"]["name"] = "catalog-copy"
    source.apply(other, path="copy.json")
    written = json.loads((target.parent / "copy.json").read_text())
    assert written["metadata"]["name"] == "catalog-copy" and weights(written, "default") == {"v1": 90, "v2": 10}
    names = {o["metadata"]["name"] for o in FilesSource(str(target.parent)).snapshot().objects}
    assert {"catalog", "catalog-copy"} <= names


ROUTE_LAYOUTS = [
    # (text of the route list with {w1} / {w2} where the weights go)
    "    route:\n    - destination:\n        host: catalog\n        subset: v1\n      weight: {w1}\n"
    "    - destination:\n        host: catalog\n        subset: v2\n      weight: {w2}\n",
    "    route:\n      - destination: {{host: catalog, subset: v1}}  # stable\n        weight: {w1}\n"
    "      - destination: {{host: catalog, subset: v2}}\n        weight: {w2}   # canary\n",
    "    route: [\n      {{destination: {{host: catalog, subset: v1}}, weight: {w1}}},  # stable\n"
    "      # the canary\n      {{destination: {{host: catalog, subset: v2}},\n       weight: {w2}}}\n    ]\n",
    "    route: [{{destination: {{host: catalog, subset: v1}}, weight: {w1}}}, "
    "{{destination: {{host: catalog, subset: v2}}, weight: {w2}}}]  # one line\n",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=st.sampled_from(ROUTE_LAYOUTS), start=st.integers(0, 100), to=st.integers(0, 100),
       endings=st.lists(st.booleans(), min_size=40, max_size=40))
def test_a_shift_changes_exactly_the_weight_values_whatever_the_layout(
    tmp_path_factory: pytest.TempPathFactory, layout: str, start: int, to: int, endings: list[bool]
) -> None:
    head = BLOCK[: BLOCK.index("    route:")]
    template = head + layout
    lines = template.splitlines(keepends=True)
    template = "".join(ln.replace("\n", "\r\n") if crlf else ln for ln, crlf in zip(lines, endings))
    root = tmp_path_factory.mktemp("layout")
    (root / "dr.yaml").write_text(DR)
    target = root / "vs.yaml"
    target.write_bytes(template.format(w1=100 - start, w2=start).encode())
    assert main(["shift", "catalog.default", f"v2={to}", "--files", str(root), "--yes"]) == 0
    assert target.read_bytes() == template.format(w1=100 - to, w2=to).encode()
