"""The files source: edits land in place, touching only the edited lines; conflicts refuse."""

from __future__ import annotations

import copy
import difflib
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from meshtui.sources.base import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ObjectKey,
    Snapshot,
    Source,
)
from meshtui.sources.files import FilesSource

# A file as people really write them: a license block before the first `---`, comments
# everywhere, every quoting style, flow maps and lists, a block scalar, `null` spelled three
# ways, 4-space mappings with lists indented by 2, and a second document after `...`.
ODD = """\
# Copyright the platform team
# SPDX-License-Identifier: Apache-2.0

---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
    name: reviews   # owned by team-reviews
    namespace: bookinfo
    annotations:
        note: |
            Shift traffic slowly.
            Watch the error rate.
        ticket: 'OPS-1234'
        empty: ~
        unset: null
        legacy: True
spec:
    hosts:
      - "reviews"
      - reviews.bookinfo.svc.cluster.local
    gateways: [mesh]
    http:
      # Jason sees v2.
      - name: jason
        match:
          - headers:
                end-user: {exact: 'jason'}
        route:
          - destination: {host: reviews, subset: v2}
      # Everyone else.
      - name: default
        route:
          - destination:
                host: "reviews"
                subset: 'v1'
            weight: 80   # stable
          # the canary
          - destination:
                host: reviews
                subset: v2
            weight: 20
        timeout: 10s
...
---
# the DestinationRule
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
    host: reviews
    subsets:
      - {name: v1, labels: {version: v1}}
      - name: v2
        labels:
            version: "v2"
"""

# kubectl's style: 2-space mappings, lists not indented, and the Service first.
KUBECTL = """\
apiVersion: v1
kind: Service
metadata:
  name: backend
  namespace: default
spec:
  ports:
  - name: http
    port: 80
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: backend
  namespace: default
spec:
  hosts:
  - backend
  http:
  - route:
    - destination:
        host: backend
        subset: v0
      weight: 90
    - destination:
        host: backend
        subset: v1
      weight: 10
"""


def _write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _get(snap: Snapshot, kind: str, namespace: str, name: str) -> dict[str, Any]:
    for obj in snap.objects:
        if ObjectKey.of(obj) == ObjectKey(kind, namespace, name):
            return obj
    raise AssertionError(f"{kind} {namespace}/{name} not loaded; errors: {snap.errors}")


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(removed, added) lines of a line diff."""
    removed, added = [], []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")):
            continue
        (removed if line.startswith("-") else added).append(line[1:])
    return removed, added


@pytest.fixture
def odd(tmp_path: Path) -> FilesSource:
    _write(tmp_path, {"reviews.yaml": ODD, "apps/backend.yml": KUBECTL})
    return FilesSource(str(tmp_path))


def test_is_a_source(odd: FilesSource) -> None:
    assert isinstance(odd, Source)
    assert odd.read_only_reason() is None


def test_snapshot_reads_every_document(odd: FilesSource) -> None:
    snap = odd.snapshot()
    assert snap.errors == []
    keys = {ObjectKey.of(o) for o in snap.objects}
    assert keys == {
        ObjectKey("VirtualService", "bookinfo", "reviews"),
        ObjectKey("DestinationRule", "bookinfo", "reviews"),
        ObjectKey("Service", "default", "backend"),
        ObjectKey("VirtualService", "default", "backend"),
    }
    vs = _get(snap, "VirtualService", "bookinfo", "reviews")
    assert vs["metadata"]["annotations"]["note"] == "Shift traffic slowly.\nWatch the error rate.\n"
    assert vs["spec"]["http"][1]["route"][1]["weight"] == 20


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


@pytest.mark.parametrize(
    ("file", "key", "path"),
    [
        ("reviews.yaml", ObjectKey("VirtualService", "bookinfo", "reviews"), ("spec", "http", 1, "route", 0, "weight")),
        ("reviews.yaml", ObjectKey("VirtualService", "bookinfo", "reviews"), ("spec", "http", 1, "timeout")),
        ("reviews.yaml", ObjectKey("DestinationRule", "bookinfo", "reviews"), ("spec", "subsets", 1, "labels", "version")),
        ("reviews.yaml", ObjectKey("DestinationRule", "bookinfo", "reviews"), ("spec", "subsets", 0, "labels", "version")),
        ("apps/backend.yml", ObjectKey("VirtualService", "default", "backend"), ("spec", "http", 0, "route", 1, "weight")),
        ("apps/backend.yml", ObjectKey("Service", "default", "backend"), ("spec", "ports", 0, "port")),
    ],
)
def test_changing_one_value_changes_exactly_that_line(
    odd: FilesSource, tmp_path: Path, file: str, key: ObjectKey, path: tuple[Any, ...]
) -> None:
    before = (tmp_path / file).read_text()
    base = _get(odd.snapshot(), key.kind, key.namespace, key.name)
    old = _at(base, path)
    new = {int: 35, str: "v3" if str(old).startswith("v") else "15s"}[type(old)]
    edited = copy.deepcopy(base)
    _at(edited, path[:-1])[path[-1]] = new

    result = odd.apply(edited, base=base)

    after = (tmp_path / file).read_text()
    removed, added = _changed_lines(before, after)
    assert len(removed) == len(added) == 1, (removed, added)
    line, o = removed[0], str(old)
    spots = [i for i in range(len(line)) if line.startswith(o, i)]
    assert added[0] in {line[:i] + str(new) + line[i + len(o) :] for i in spots}
    assert result.object == edited and result.dry_run is False
    # The rest of the file, and the other file, are byte for byte what they were.
    assert after.replace(added[0], removed[0], 1) == before


def test_adding_a_header_match_changes_only_the_new_lines(odd: FilesSource, tmp_path: Path) -> None:
    before = (tmp_path / "apps/backend.yml").read_text()
    base = _get(odd.snapshot(), "VirtualService", "default", "backend")
    edited = copy.deepcopy(base)
    edited["spec"]["http"].insert(
        0, {"match": [{"headers": {"x-canary": {"exact": "true"}}}], "route": [{"destination": {"host": "backend", "subset": "v1"}}]}
    )

    odd.apply(edited, base=base)

    after = (tmp_path / "apps/backend.yml").read_text()
    removed, added = _changed_lines(before, after)
    assert removed == []
    assert [a.strip() for a in added] == [
        "- match:",
        "- headers:",
        "x-canary:",
        'exact: "true"',  # quoted, or it would read back as a boolean
        "route:",
        "- destination:",
        "host: backend",
        "subset: v1",
    ]
    assert _get(odd.snapshot(), "VirtualService", "default", "backend") == edited


def test_adding_a_header_to_an_existing_match(odd: FilesSource, tmp_path: Path) -> None:
    before = (tmp_path / "reviews.yaml").read_text()
    base = _get(odd.snapshot(), "VirtualService", "bookinfo", "reviews")
    edited = copy.deepcopy(base)
    edited["spec"]["http"][1]["match"] = [{"uri": {"prefix": "/test/v1"}}]

    odd.apply(edited, base=base)

    removed, added = _changed_lines(before, (tmp_path / "reviews.yaml").read_text())
    assert removed == []
    assert added == ["        match:", "          - uri:", "                prefix: /test/v1"]


def test_removing_a_route_removes_only_its_lines(odd: FilesSource, tmp_path: Path) -> None:
    before = (tmp_path / "reviews.yaml").read_text()
    base = _get(odd.snapshot(), "VirtualService", "bookinfo", "reviews")
    edited = copy.deepcopy(base)
    del edited["spec"]["http"][1]["route"][0]
    edited["spec"]["http"][1]["route"][0]["weight"] = 100

    odd.apply(edited, base=base)

    after = (tmp_path / "reviews.yaml").read_text()
    removed, added = _changed_lines(before, after)
    assert [r.strip() for r in removed] == [
        "- destination:",
        'host: "reviews"',
        "subset: 'v1'",
        "weight: 80   # stable",
        "weight: 20",
    ]
    assert added == ["            weight: 100"]
    assert "          # the canary\n" in after  # the comment introducing the next route stays


def test_removing_a_whole_rule(odd: FilesSource, tmp_path: Path) -> None:
    before = (tmp_path / "reviews.yaml").read_text()
    base = _get(odd.snapshot(), "VirtualService", "bookinfo", "reviews")
    edited = copy.deepcopy(base)
    del edited["spec"]["http"][0]

    odd.apply(edited, base=base)

    removed, added = _changed_lines(before, (tmp_path / "reviews.yaml").read_text())
    assert added == []
    assert [r.strip() for r in removed] == [
        "# Jason sees v2.",
        "- name: jason",
        "match:",
        "- headers:",
        "end-user: {exact: 'jason'}",
        "route:",
        "- destination: {host: reviews, subset: v2}",
    ]


def test_dry_run_returns_the_object_and_writes_nothing(odd: FilesSource, tmp_path: Path) -> None:
    before = (tmp_path / "reviews.yaml").read_bytes()
    base = _get(odd.snapshot(), "VirtualService", "bookinfo", "reviews")
    edited = copy.deepcopy(base)
    edited["spec"]["http"][1]["route"][0]["weight"] = 50
    edited["spec"]["http"][1]["route"][1]["weight"] = 50

    result = odd.apply(edited, base=base, dry_run=True)

    assert result.dry_run and result.object == edited
    assert (tmp_path / "reviews.yaml").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["apps", "reviews.yaml"]  # no temp files left


def test_refuses_when_the_file_changed_on_disk(odd: FilesSource, tmp_path: Path) -> None:
    base = _get(odd.snapshot(), "VirtualService", "default", "backend")
    theirs = KUBECTL.replace("weight: 90", "weight: 60").replace("weight: 10", "weight: 40")
    (tmp_path / "apps/backend.yml").write_text(theirs)  # another writer, e.g. `git pull`
    edited = copy.deepcopy(base)
    edited["spec"]["http"][0]["route"][0]["weight"] = 80
    edited["spec"]["http"][0]["route"][1]["weight"] = 20

    with pytest.raises(ConflictError, match="changed on disk") as info:
        odd.apply(edited, base=base)

    assert (tmp_path / "apps/backend.yml").read_text() == theirs
    current = info.value.current
    assert current is not None
    assert [d["weight"] for d in current["spec"]["http"][0]["route"]] == [60, 40]


def test_refuses_a_stale_base(odd: FilesSource) -> None:
    old = copy.deepcopy(_get(odd.snapshot(), "VirtualService", "default", "backend"))
    first = copy.deepcopy(old)
    first["spec"]["http"][0]["route"][0]["weight"] = 85
    first["spec"]["http"][0]["route"][1]["weight"] = 15
    odd.apply(first, base=old)

    with pytest.raises(ConflictError, match="changed since it was read") as info:
        odd.apply(old, base=old)  # someone else still holds the version before

    assert info.value.current == first


def test_read_only_refuses_every_write(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": KUBECTL})
    source = FilesSource(str(tmp_path), read_only=True)
    base = _get(source.snapshot(), "Service", "default", "backend")

    assert source.read_only_reason() == "read-only: started with --read-only"
    with pytest.raises(ForbiddenError, match="read-only: started with --read-only"):
        source.apply(copy.deepcopy(base), base=base)
    assert (tmp_path / "a.yaml").read_text() == KUBECTL


def test_a_broken_file_is_reported_with_its_line_and_the_rest_load(tmp_path: Path) -> None:
    broken = "apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  ports: [80, 443\n  selector: {}\n"
    _write(tmp_path, {"good.yaml": KUBECTL, "sub/broken.yaml": broken})

    snap = FilesSource(str(tmp_path)).snapshot()

    assert {ObjectKey.of(o).name for o in snap.objects} == {"backend"}
    assert len(snap.errors) == 1
    error = snap.errors[0]
    assert error.path == str(tmp_path / "sub/broken.yaml")
    assert (error.line, error.column) == (7, 11)
    assert "\n" not in error.message and "flow sequence" in error.message
    assert str(error).startswith(f"{tmp_path / 'sub/broken.yaml'}:7:11: ")


def test_an_object_defined_twice_names_both_places(tmp_path: Path) -> None:
    _write(tmp_path, {"a.yaml": KUBECTL, "b.yaml": "# again\n" + KUBECTL.split("---\n")[1]})

    snap = FilesSource(str(tmp_path)).snapshot()

    assert len(snap.objects) == 2
    (error,) = snap.errors
    assert "VirtualService default/backend is defined twice" in error.message
    assert "a.yaml document 2" in error.message and "b.yaml document 1" in error.message
    assert error.path == str(tmp_path / "b.yaml") and error.line == 2


def test_documents_that_are_not_objects(tmp_path: Path) -> None:
    listing = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: one, namespace: x}
- apiVersion: v1
  kind: Service
  metadata: {name: two}
"""
    _write(
        tmp_path,
        {
            "list.yaml": listing,
            "values.yaml": "replicaCount: 3\nimage: {tag: latest}\n",  # Helm values: not a manifest
            "empty.yaml": "---\n# nothing here\n---\n",
            "noname.yaml": "apiVersion: v1\nkind: Service\nmetadata: {}\n",
            "nokind.yaml": "apiVersion: v1\nmetadata: {name: x}\n",
            ".github/workflow.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: hidden}\n",
            "notes.txt": "apiVersion: v1\nkind: Service\nmetadata: {name: text}\n",
        },
    )

    snap = FilesSource(str(tmp_path)).snapshot()

    assert sorted(str(ObjectKey.of(o)) for o in snap.objects) == ["Service default/two", "Service x/one"]
    problems = sorted((os.path.basename(e.path or ""), e.message) for e in snap.errors)
    assert problems == [
        ("nokind.yaml", "document 1: apiVersion v1 has no kind"),
        ("noname.yaml", "document 1: Service has no metadata.name"),
    ]


def test_an_item_of_a_list_is_edited_in_place(tmp_path: Path) -> None:
    listing = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: one, namespace: x}\n  spec:\n    ports:\n    - port: 80\n"
    _write(tmp_path, {"list.yaml": listing})
    source = FilesSource(str(tmp_path))
    base = _get(source.snapshot(), "Service", "x", "one")
    edited = copy.deepcopy(base)
    edited["spec"]["ports"][0]["port"] = 8080

    source.apply(edited, base=base)

    assert (tmp_path / "list.yaml").read_text() == listing.replace("port: 80", "port: 8080")


def test_namespace_defaults_without_touching_the_file(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: plain\nspec:\n  ports:\n  - port: 80\n"
    _write(tmp_path, {"svc.yaml": text})
    source = FilesSource(str(tmp_path))
    base = _get(source.snapshot(), "Service", "default", "plain")
    edited = copy.deepcopy(base)
    edited["spec"]["ports"][0]["port"] = 81

    source.apply(edited, base=base)

    assert (tmp_path / "svc.yaml").read_text() == text.replace("port: 80", "port: 81")


def test_creating_an_object_appends_a_document(tmp_path: Path) -> None:
    _write(tmp_path, {"apps/backend.yml": KUBECTL})
    source = FilesSource(str(tmp_path))
    source.snapshot()
    dr = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "DestinationRule",
        "metadata": {"name": "backend", "namespace": "default"},
        "spec": {"host": "backend", "subsets": [{"name": "v0", "labels": {"version": "v0"}}]},
    }

    source.apply(dr, base=None, path="apps/backend.yml")
    source.apply({**dr, "metadata": {"name": "other", "namespace": "default"}}, base=None)

    text = (tmp_path / "apps/backend.yml").read_text()
    assert text.startswith(KUBECTL + "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\n")
    assert text.endswith("  subsets:\n  - name: v0\n    labels:\n      version: v0\n")  # the file's list style
    assert _get(source.snapshot(), "DestinationRule", "default", "backend") == dr
    assert (tmp_path / "destinationrule-other.yaml").exists()
    with pytest.raises(ConflictError, match="already exists"):
        source.apply(dr, base=None)


def test_keeps_file_mode_and_crlf_line_ends(tmp_path: Path) -> None:
    (tmp_path / "crlf.yaml").write_bytes(KUBECTL.replace("\n", "\r\n").encode())
    os.chmod(tmp_path / "crlf.yaml", 0o640)
    source = FilesSource(str(tmp_path))
    base = _get(source.snapshot(), "VirtualService", "default", "backend")
    edited = copy.deepcopy(base)
    edited["spec"]["http"][0]["route"][0]["weight"] = 70
    edited["spec"]["http"][0]["route"][1]["weight"] = 30

    source.apply(edited, base=base)

    expected = KUBECTL.replace("weight: 90", "weight: 70").replace("weight: 10", "weight: 30")
    assert (tmp_path / "crlf.yaml").read_bytes() == expected.replace("\n", "\r\n").encode()
    assert stat.S_IMODE(os.stat(tmp_path / "crlf.yaml").st_mode) == 0o640


def test_a_file_without_a_final_newline(tmp_path: Path) -> None:
    text = KUBECTL.rstrip("\n")
    _write(tmp_path, {"a.yaml": text})
    source = FilesSource(str(tmp_path))
    base = _get(source.snapshot(), "Service", "default", "backend")
    edited = copy.deepcopy(base)
    edited["spec"]["ports"][0]["port"] = 81

    source.apply(edited, base=base)

    assert (tmp_path / "a.yaml").read_text() == text.replace("port: 80", "port: 81")


def test_strings_that_look_like_other_types_stay_strings(odd: FilesSource) -> None:
    base = _get(odd.snapshot(), "VirtualService", "default", "backend")
    edited = copy.deepcopy(base)
    edited["spec"]["http"][0]["match"] = [{"headers": {"x-debug": {"exact": "yes"}}}]
    edited["metadata"]["labels"] = {"on": "on", "octal": "0777", "date": "2024-01-01"}

    result = odd.apply(edited, base=base)

    assert result.object == edited
    assert _get(odd.snapshot(), "VirtualService", "default", "backend") == edited


def test_a_directory_has_no_pods(odd: FilesSource) -> None:
    with pytest.raises(NotFoundError, match="no pods"):
        odd.logs("default", "backend-1")
    with pytest.raises(NotFoundError, match="no pods"):
        odd.envoy_admin("default", "backend-1", "/config_dump")
    assert odd.description.endswith(os.path.basename(odd.root))
    odd.close()


def test_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not a directory"):
        FilesSource(str(tmp_path / "nope")).snapshot()


def test_keeps_a_byte_order_mark(tmp_path: Path) -> None:
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + KUBECTL.encode())
    source = FilesSource(str(tmp_path))
    base = _get(source.snapshot(), "Service", "default", "backend")
    edited = copy.deepcopy(base)
    edited["spec"]["ports"][0]["port"] = 81

    source.apply(edited, base=base)

    assert (tmp_path / "bom.yaml").read_bytes() == b"\xef\xbb\xbf" + KUBECTL.replace("port: 80", "port: 81").encode()


def test_a_new_file_gets_the_usual_mode(tmp_path: Path) -> None:
    source = FilesSource(str(tmp_path))
    source.snapshot()
    umask = os.umask(0o022)
    os.umask(umask)

    source.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x", "namespace": "y"}}, base=None)

    assert stat.S_IMODE(os.stat(tmp_path / "service-x.yaml").st_mode) == 0o666 & ~umask
