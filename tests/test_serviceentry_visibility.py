"""A ServiceEntry of NAMESPACE visibility (mesh config ``serviceEntryVisibility``) may not bind to a
waypoint in another namespace: istiod's ``CrossNamespaceWaypointForbidden``, shown by the binding,
the browser's data-plane line and ``meshtui analyze``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.cli import main
from meshtui.model.index import MeshIndex
from meshtui.routing.waypoint_binding import service_binding
from meshtui.views.dataplane_line import dataplane_line

# istiod's message (pilot/pkg/serviceregistry/ambient/status.go, ReportWaypointCrossNamespaceForbidden).
FORBIDDEN = ('cannot bind to waypoint "infra/wp" in another namespace: cross-namespace waypoint binding is '
             "not permitted for a ServiceEntry with NAMESPACE visibility")


def _mesh(visibility: dict[str, Any] | None) -> dict[str, Any]:
    mesh = {"rootNamespace": "istio-system"}
    if visibility is not None:
        mesh["serviceEntryVisibility"] = visibility  # type: ignore[assignment]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
            "data": {"mesh": yaml.safe_dump(mesh)}}


def _objects(visibility: dict[str, Any] | None, *, se_labels: dict[str, str] | None = None,
             ns_labels: dict[str, str] | None = None, waypoint_ns: str = "infra") -> list[dict[str, Any]]:
    use = {"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-namespace": waypoint_ns}
    return [
        _mesh(visibility),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps", "labels": {
            "istio.io/dataplane-mode": "ambient", **(ns_labels or {})}}},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": waypoint_ns}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "wp", "namespace": waypoint_ns},
         "spec": {"gatewayClassName": "istio-waypoint", "listeners": [
             {"name": "mesh", "port": 15008, "protocol": "HBONE", "allowedRoutes": {"namespaces": {"from": "All"}}}]},
         "status": {"addresses": [{"type": "Hostname", "value": f"wp.{waypoint_ns}.svc.cluster.local"}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry",
         "metadata": {"name": "payments", "namespace": "apps", "labels": use if se_labels is None else se_labels},
         "spec": {"hosts": ["payments.example.com"], "ports": [{"number": 443, "name": "tls", "protocol": "TLS"}],
                  "resolution": "DNS", "location": "MESH_EXTERNAL"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "apps", "labels": use},
         "spec": {"ports": [{"name": "http", "port": 80}]}},
    ]


NAMESPACE_DEFAULT = {"defaultVisibility": "NAMESPACE"}


def _binding(objs: list[dict[str, Any]], kind: str = "ServiceEntry", name: str = "payments") -> Any:
    index = MeshIndex(objs)
    obj = index.get(kind, "apps", name)
    assert obj is not None
    return service_binding(index, obj)


def test_namespace_visibility_refuses_a_waypoint_in_another_namespace() -> None:
    binding = _binding(_objects(NAMESPACE_DEFAULT))
    assert binding.waypoint is None
    assert (binding.error.reason, binding.error.message) == ("CrossNamespaceWaypointForbidden", FORBIDDEN)
    # A Kubernetes Service is not governed by serviceEntryVisibility: the same labels bind.
    assert _binding(_objects(NAMESPACE_DEFAULT), "Service", "web").waypoint.resource_name == "infra/wp"


@pytest.mark.parametrize("visibility", [
    None,  # not configured: every ServiceEntry is PUBLIC
    {"defaultVisibility": "PUBLIC"},
    # The first policy whose rules all match wins over the default.
    {"defaultVisibility": "NAMESPACE", "policies": [
        {"visibility": "PUBLIC", "matchingRules": [{"namespaceSelector": {"matchLabels": {"team": "pay"}}}]}]},
])
def test_public_visibility_binds_across_namespaces(visibility: dict[str, Any] | None) -> None:
    binding = _binding(_objects(visibility, ns_labels={"team": "pay"}))
    assert binding.error is None and binding.waypoint.resource_name == "infra/wp"


def test_a_policy_that_does_not_match_or_cannot_compile_leaves_the_default() -> None:
    for rule in ({"namespaceSelector": {"matchLabels": {"team": "other"}}},
                 {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "BadOperator"}]}}):
        vis = {"defaultVisibility": "NAMESPACE", "policies": [{"visibility": "PUBLIC", "matchingRules": [rule]}]}
        assert _binding(_objects(vis, ns_labels={"team": "pay"})).error.reason == "CrossNamespaceWaypointForbidden"
    # A policy may also make one namespace NAMESPACE under a PUBLIC default.
    vis = {"policies": [{"visibility": "NAMESPACE", "matchingRules": [
        {"namespaceSelector": {"matchExpressions": [{"key": "team", "operator": "In", "values": ["pay"]}]}}]}]}
    assert _binding(_objects(vis, ns_labels={"team": "pay"})).error.reason == "CrossNamespaceWaypointForbidden"


def test_a_waypoint_in_the_entrys_own_namespace_is_allowed() -> None:
    binding = _binding(_objects(NAMESPACE_DEFAULT, waypoint_ns="apps"))
    assert binding.error is None and binding.waypoint.resource_name == "apps/wp"


def test_the_browser_line_of_the_entry_says_why_it_has_no_waypoint() -> None:
    index = MeshIndex(_objects(NAMESPACE_DEFAULT))
    entry = index.get("ServiceEntry", "apps", "payments")
    assert entry is not None
    assert dataplane_line(index, entry) == f"ambient, L4 only (ztunnel), no waypoint ({FORBIDDEN})"
    bound = MeshIndex(_objects(None))
    entry = bound.get("ServiceEntry", "apps", "payments")
    assert entry is not None
    assert dataplane_line(bound, entry).startswith("ambient via waypoint infra/wp")


@pytest.mark.parametrize("inherited", [False, True])
def test_analyze_reports_the_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str], inherited: bool) -> None:
    use = {"istio.io/use-waypoint": "wp", "istio.io/use-waypoint-namespace": "infra"}
    # inherited: the label is on the namespace, the ServiceEntry has none of its own.
    objs = _objects(NAMESPACE_DEFAULT, se_labels={} if inherited else None, ns_labels=use if inherited else None)
    (tmp_path / "mesh.yaml").write_text(yaml.safe_dump_all(objs))
    code = main(["analyze", "--files", str(tmp_path)])
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "ServiceEntry" in line and "MT0204" in line]
    assert code == 1
    assert len(lines) == 1 and "(ServiceEntry apps/payments)" in lines[0] and "CrossNamespaceWaypointForbidden" in lines[0]
    assert FORBIDDEN in lines[0]


def test_waypoint_use_refuses_to_write_the_label_istiod_would_refuse(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    manifest = tmp_path / "mesh.yaml"
    manifest.write_text(yaml.safe_dump_all(_objects(NAMESPACE_DEFAULT, se_labels={})))
    before = manifest.read_bytes()
    code = main(["waypoint", "use", "serviceentry/payments.apps", "wp.infra", "--files", str(tmp_path), "--yes"])
    err = capsys.readouterr().err
    assert code == 1
    assert "CrossNamespaceWaypointForbidden" in err and "nothing was written" in err
    assert manifest.read_bytes() == before
    # The same label to a waypoint of its own namespace is written.
    objs = _objects(NAMESPACE_DEFAULT, se_labels={}, waypoint_ns="apps")
    manifest.write_text(yaml.safe_dump_all(objs))
    assert main(["waypoint", "use", "serviceentry/payments.apps", "wp", "--files", str(tmp_path), "--yes"]) == 0
    assert "istio.io/use-waypoint: wp" in manifest.read_text()
