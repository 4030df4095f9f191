"""View-models (``meshtui.views``): the rows and labels the widgets draw, as pure functions."""

from __future__ import annotations

from typing import Any

from meshtui.analysis.finding import Finding
from meshtui.model.index import MeshIndex
from meshtui.views.findings_rows import finding_rows, level_counts
from meshtui.views.kind_rows import VIEWS, age, rows_for
from meshtui.views.mesh_labels import ServiceLabels


def _svc(name: str, ns: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"ports": [{"name": "http", "port": 80}], "selector": {"app": name}}}


VS = {
    "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
    "metadata": {"name": "backend", "namespace": "default"},
    "spec": {"hosts": ["backend"], "http": [{"route": [
        {"destination": {"host": "backend", "subset": "v1"}, "weight": 10},
        {"destination": {"host": "backend", "subset": "v0"}, "weight": 90},
    ]}]},
}
DR = {
    "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
    "metadata": {"name": "backend", "namespace": "default"},
    "spec": {"host": "backend", "subsets": [{"name": "v0", "labels": {"version": "v0"}},
                                            {"name": "v1", "labels": {"version": "v1"}}]},
}


def _finding(level: str, code: str, name: str = "backend", message: str = "m") -> Finding:
    return Finding(code, "Name", level, message, "VirtualService", "default", name)


def test_vs_rows_have_kubectl_like_columns_and_respect_the_scope() -> None:
    index = MeshIndex([_svc("backend"), _svc("web", "shop"), VS, DR])
    rows = rows_for(VIEWS["vs"], index, None)
    assert rows == [(("VirtualService", "default", "backend"), ("default", "backend", "backend", "mesh", "1", "v0,v1", "-"))]
    assert [k for k, _ in rows_for(VIEWS["svc"], index, "shop")] == [("Service", "shop", "web")]
    assert [c.title for c in VIEWS["dr"].columns] == ["NAMESPACE", "NAME", "HOST", "SUBSETS", "LB", "AGE"]


def test_age_reads_like_kubectl() -> None:
    now = 1_700_000_000.0
    stamp = "2023-11-14T22:13:20Z"  # the same instant as ``now``
    assert age(stamp, now) == "0s"
    assert age(stamp, now + 90) == "1m"
    assert age(stamp, now + 3 * 86400 + 4 * 3600) == "3d4h"
    assert age(None, now) == "-" and age("not a time", now) == "-"


def test_findings_rows_show_one_row_per_distinct_finding_errors_first_by_level_glyph() -> None:
    findings = [_finding("Warning", "IST0101"), _finding("Warning", "IST0101"), _finding("Error", "IST0104", "b")]
    rows, by_key = finding_rows(findings)
    assert len(rows) == 2 and len(by_key) == 2
    assert [cells[0] for _key, cells in rows] == ["⚠ Warning", "✖ Error"]
    # Sorted by the LEVEL cell, reversed (the table's default), errors come first.
    assert sorted((cells[0] for _k, cells in rows), reverse=True)[0] == "✖ Error"
    assert level_counts(findings) == {"Error": 1, "Warning": 1, "Info": 0}


def test_mesh_labels_mark_routed_services_and_follow_a_deleted_virtual_service() -> None:
    index = MeshIndex([_svc("backend"), _svc("other"), VS, DR])
    labels = ServiceLabels(index)
    assert labels.labels[("Service", "default", "backend")].plain == "VS DR backend"
    assert labels.labels[("Service", "default", "other")].plain == "other"
    assert labels.members["default"] == [("Service", "default", "backend"), ("Service", "default", "other")]
    index.delete("VirtualService", "default", "backend")
    changed = labels.apply([("DELETED", VS)])
    assert ("Service", "default", "backend") in changed
    assert labels.labels[("Service", "default", "backend")].plain == "DR backend"
