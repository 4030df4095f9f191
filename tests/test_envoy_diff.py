"""Diffs of two dumps: routes (weights, matches), clusters, endpoints; and `proxy-config diff`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from meshtui.cli import main
from meshtui.envoy.diff import diff_clusters, diff_dumps, diff_endpoints, diff_routes, diff_table
from meshtui.envoy.dump import ConfigDump
from meshtui.envoy.endpoints import ClustersDump
from meshtui.envoy.generate import generate_clusters, generate_config_dump
from meshtui.model.index import MeshIndex
from meshtui.sandbox.scenario import demo_documents
from paths import CONFORMANCE_ROOT

HOST = "catalog.istioinaction.svc.cluster.local"
PROXY_CONFIG = (CONFORMANCE_ROOT / "proxy-config")


def _objects() -> list[dict[str, Any]]:
    return [d for d in demo_documents() if d.get("kind") != "Deployment"]


def _pod(name: str, version: str, ip: str, ready: bool = True) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "istioinaction", "labels": {"app": "catalog", "version": version}},
            "status": {"phase": "Running", "podIP": ip,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _find(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def _dump(objs: list[dict[str, Any]]) -> ConfigDump:
    return ConfigDump.from_json(generate_config_dump(MeshIndex(objs), "istioinaction", "catalog-v1-a"))


@pytest.fixture()
def before() -> list[dict[str, Any]]:
    return [*_objects(), _pod("catalog-v1-a", "v1", "10.0.0.1"), _pod("catalog-v2-a", "v2", "10.0.0.2")]


def test_identical_dumps_have_no_differences(before: list[dict[str, Any]]) -> None:
    assert diff_dumps(_dump(before), _dump(copy.deepcopy(before))) == []


def test_a_weight_shift_is_one_changed_route_with_both_splits(before: list[dict[str, Any]]) -> None:
    after = copy.deepcopy(before)
    canary = _find(after, "VirtualService", "catalog")["spec"]["http"][-1]
    canary["route"][0]["weight"], canary["route"][1]["weight"] = 70, 30
    changes = diff_routes(_dump(before), _dump(after))
    assert [(c.what, c.change, c.name) for c in changes] == [("route", "changed", f"80/{HOST}:80/{canary['name']}")]
    assert f"outbound|80|v1|{HOST}:90" in changes[0].detail and f"outbound|80|v2|{HOST}:30" in changes[0].detail
    assert changes[0].detail.index(":90") < changes[0].detail.index(":70")  # before -> after


def test_a_changed_header_match_is_reported(before: list[dict[str, Any]]) -> None:
    after = copy.deepcopy(before)
    rule = _find(after, "VirtualService", "catalog")["spec"]["http"][0]
    rule["match"][0]["headers"]["x-istio-cohort"] = {"exact": "beta"}
    (change,) = diff_routes(_dump(before), _dump(after))
    assert change.name.endswith(f"/{rule['name']}")
    assert "x-istio-cohort=internal -> " in change.detail and change.detail.endswith("x-istio-cohort=beta")


def test_a_new_subset_adds_clusters_and_a_removed_one_removes_them(before: list[dict[str, Any]]) -> None:
    after = copy.deepcopy(before)
    dr = _find(after, "DestinationRule", "catalog")
    dr["spec"]["subsets"].append({"name": "v3", "labels": {"version": "v3"}})
    changes = diff_clusters(_dump(before), _dump(after))
    assert [(c.change, c.name) for c in changes] == [("added", f"outbound|80|v3|{HOST}")]
    back = diff_clusters(_dump(after), _dump(before))
    assert [(c.change, c.name) for c in back] == [("removed", f"outbound|80|v3|{HOST}")]


def test_endpoint_health_change_added_and_removed(before: list[dict[str, Any]]) -> None:
    after = [o for o in copy.deepcopy(before) if o["metadata"]["name"] != "catalog-v2-a"]
    _find(after, "Pod", "catalog-v1-a")["status"]["conditions"][0]["status"] = "False"
    after.append(_pod("catalog-v2-b", "v2", "10.0.0.3"))
    changes = diff_endpoints(_dump(before), _dump(after))
    got = {(c.change, c.name, c.detail) for c in changes}
    assert ("changed", f"10.0.0.1:3000 outbound|80|v1|{HOST}", "HEALTHY -> UNHEALTHY") in got
    assert ("removed", f"10.0.0.2:3000 outbound|80|v2|{HOST}", "HEALTHY") in got
    assert ("added", f"10.0.0.3:3000 outbound|80|v2|{HOST}", "HEALTHY") in got
    # The same story from two /clusters?format=json documents.
    a = ClustersDump(generate_clusters(MeshIndex(before), "istioinaction", "catalog-v1-a"))
    b = ClustersDump(generate_clusters(MeshIndex(after), "istioinaction", "catalog-v1-a"))
    assert {(c.change, c.name) for c in diff_endpoints(a, b)} == {(c.change, c.name) for c in changes}


def test_real_dumps_diff_without_error() -> None:
    a = ConfigDump.parse((PROXY_CONFIG / "all" / "config_dump.json").read_bytes())
    b = ConfigDump.parse((PROXY_CONFIG / "extra-dumps" / "sidecar-compare.config_dump.json").read_bytes())
    changes = diff_dumps(a, b)
    assert changes and {c.what for c in changes} <= {"route", "cluster", "listener", "endpoint"}
    assert diff_table(changes).render().startswith("KIND")


def _cli(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    monkeypatch.chdir(tmp_path)
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_diff_of_two_files(before: list[dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    after = copy.deepcopy(before)
    canary = _find(after, "VirtualService", "catalog")["spec"]["http"][-1]
    canary["route"][0]["weight"], canary["route"][1]["weight"] = 50, 50
    (tmp_path / "a.json").write_text(json.dumps(_dump(before).raw))
    (tmp_path / "b.json").write_text(json.dumps(_dump(after).raw))
    code, out, err = _cli(["proxy-config", "diff", "a.json", "b.json"], tmp_path, monkeypatch, capsys)
    assert code == 1, err
    header, row = out.splitlines()
    assert header.split() == ["KIND", "CHANGE", "NAME", "DETAIL"]
    assert row.startswith("ROUTE") and f"outbound|80|v2|{HOST}:50" in row
    code, out, _ = _cli(["proxy-config", "diff", "a.json", "a.json"], tmp_path, monkeypatch, capsys)
    assert (code, out) == (0, "no differences\n")
    code, out, _ = _cli(["proxy-config", "diff", "a.json", "b.json", "-o", "json"], tmp_path, monkeypatch, capsys)
    assert json.loads(out)[0]["change"] == "changed"


def test_cli_diff_needs_two_sides_and_one_line_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(["proxy-config", "diff", "a.json"], tmp_path, monkeypatch, capsys)
    assert code == 2 and err.startswith("meshtui: proxy-config diff requires A and B")
    (tmp_path / "bad.json").write_text("{}")
    code, _, err = _cli(["proxy-config", "diff", "bad.json", "bad.json"], tmp_path, monkeypatch, capsys)
    assert code == 2 and err.count("\n") == 1 and "not an Envoy config dump" in err
    code, _, err = _cli(["proxy-config", "routes", "a", "b"], tmp_path, monkeypatch, capsys)
    assert code == 2 and "takes one POD" in err


def test_cli_diff_live_pod_against_generated(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                             capsys: pytest.CaptureFixture[str]) -> None:
    pod = next(p for p in sandbox.store.list("pods", "bookinfo") if p["metadata"]["name"].startswith("reviews-v1"))
    argv = ["proxy-config", "diff", f"{pod['metadata']['name']}.bookinfo", "@generated",
            "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox"]
    code, out, err = _cli(argv, tmp_path, monkeypatch, capsys)
    assert code in (0, 1) and err == ""
    assert out == "no differences\n" or out.startswith("KIND")


def test_snapshot_diff_takes_endpoints_from_clusters_output(before: list[dict[str, Any]]) -> None:
    from meshtui.envoy.diff import diff_snapshots

    after = copy.deepcopy(before)
    canary = _find(after, "VirtualService", "catalog")["spec"]["http"][-1]
    canary["route"][0]["weight"], canary["route"][1]["weight"] = 50, 50
    # Outlier ejection is not in the dump (EDS) but in /clusters: only there can the diff see it.
    _find(after, "Pod", "catalog-v2-a")["metadata"]["annotations"] = {"meshtui.io/simulate-outlier-ejected": "true"}
    a_clusters = ClustersDump(generate_clusters(MeshIndex(before), "istioinaction", "catalog-v1-a"))
    b_clusters = ClustersDump(generate_clusters(MeshIndex(after), "istioinaction", "catalog-v1-a"))
    changes = diff_snapshots(_dump(before), _dump(after), a_clusters, b_clusters)
    assert [c.what for c in changes if c.what == "route"] == ["route"]
    endpoints = [(c.change, c.name, c.detail) for c in changes if c.what == "endpoint"]
    assert endpoints and all(name.startswith("10.0.0.2:") for _, name, _ in endpoints)
    assert all(change == "changed" and detail == "HEALTHY -> HEALTHY (outlier FAILED)" for change, _, detail in endpoints)
    # Without /clusters on one side, endpoints come from the EDS sections, which do not see ejection.
    eds_only = diff_snapshots(_dump(before), _dump(after), a_clusters, None)
    assert [c.what for c in eds_only] == ["route"]
