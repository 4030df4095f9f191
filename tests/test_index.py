"""MeshIndex answers "what applies to this host" the way Istio decides it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from meshtui.model import Pod
from meshtui.model.index import MeshIndex, gateway_ref

SAMPLES = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance" / "samples"
REVIEWS = "reviews.default.svc.cluster.local"


def _docs(*rels: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rel in rels:
        out += [d for d in YAML(typ="safe").load_all((SAMPLES / rel).read_text()) if isinstance(d, dict)]
    return out


def _pods_from_deployments(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One running pod per Deployment, labelled from its template, as the ReplicaSet would."""
    pods = []
    for d in docs:
        if d.get("kind") != "Deployment":
            continue
        template = d["spec"]["template"]
        pods.append({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"{d['metadata']['name']}-0", "namespace": "default",
                         "labels": dict(template["metadata"]["labels"])},
            "spec": {"containers": template["spec"]["containers"]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
        })
    return pods


@pytest.fixture
def bookinfo() -> MeshIndex:
    docs = _docs("bookinfo/platform/kube/bookinfo.yaml", "bookinfo/networking/destination-rule-all.yaml",
                 "bookinfo/networking/virtual-service-reviews-80-20.yaml",
                 "bookinfo/networking/bookinfo-gateway.yaml")
    return MeshIndex(docs + _pods_from_deployments(docs))


def test_kinds_are_iterable(bookinfo: MeshIndex) -> None:
    assert sorted(s.name for s in bookinfo.services) == ["details", "productpage", "ratings", "reviews"]
    assert len(bookinfo.destination_rules) == 4
    assert {v.name for v in bookinfo.virtual_services} == {"reviews", "bookinfo"}
    assert [g.name for g in bookinfo.gateways] == ["bookinfo-gateway"]
    assert len(bookinfo.pods) == len(bookinfo.deployments) == 6


def test_services_for_host(bookinfo: MeshIndex) -> None:
    [svc] = bookinfo.services_for_host(REVIEWS)
    # The sample has no namespace: the index files it under "default"; the view stays as written.
    assert (svc.kind, svc.name, svc.namespace) == ("Service", "reviews", "")
    assert bookinfo.get("Service", "default", "reviews") is svc
    assert bookinfo.services_for_host("reviews.other.svc.cluster.local") == []


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_reviews_subsets_select_their_version(bookinfo: MeshIndex, version: str) -> None:
    pods = bookinfo.pods_for_subset("reviews", version, "default")
    assert [p.name for p in pods] == [f"reviews-{version}-0"]
    assert all(isinstance(p, Pod) and p.labels["version"] == version for p in pods)
    deps = bookinfo.deployments_for_subset(REVIEWS, version, "default")
    assert [d.name for d in deps] == [f"reviews-{version}"]


def test_unknown_subset_selects_nothing(bookinfo: MeshIndex) -> None:
    assert bookinfo.pods_for_subset("reviews", "v9", "default") == []


def test_pods_for_service(bookinfo: MeshIndex) -> None:
    [svc] = [s for s in bookinfo.services if s.name == "reviews"]
    assert [p.name for p in bookinfo.pods_for_service(svc)] == ["reviews-v1-0", "reviews-v2-0", "reviews-v3-0"]


def test_mesh_virtual_service_for_reviews(bookinfo: MeshIndex) -> None:
    [vs] = bookinfo.virtual_services_for_host("reviews", from_namespace="default")
    assert vs.name == "reviews"
    assert [r.weight for r in vs.http[0].route] == [80, 20]
    # The gateway-bound "*" VirtualService does not apply to sidecars.
    assert [v.name for v in bookinfo.virtual_services_for_host(REVIEWS)] == ["reviews"]


def test_gateway_bound_virtual_service(bookinfo: MeshIndex) -> None:
    [vs] = bookinfo.virtual_services_for_host("bookinfo.example.com", gateway="default/bookinfo-gateway")
    assert vs.name == "bookinfo"
    assert bookinfo.virtual_services_for_host("bookinfo.example.com", gateway="bookinfo-gateway") == [vs]
    assert bookinfo.virtual_services_for_host("bookinfo.example.com") == []
    assert bookinfo.virtual_services_for_host("x", gateway="istio-system/bookinfo-gateway") == []


def test_gateway_reference_forms() -> None:
    assert gateway_ref("mesh", "ns") == "mesh"
    assert gateway_ref("gw", "ns") == "ns/gw"
    assert gateway_ref("other/gw", "ns") == "other/gw"
    assert gateway_ref("gw.other.svc.cluster.local", "ns") == "other/gw"


def test_destination_rule_for_bookinfo(bookinfo: MeshIndex) -> None:
    dr = bookinfo.destination_rule_for("reviews", "default")
    assert dr is not None and dr.name == "reviews"
    assert [s.name for s in dr.subsets] == ["v1", "v2", "v3"]


def _svc(name: str, ns: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "name": "http"}]}}


def _dr(name: str, ns: str, host: str, export_to: list[str] | None = None, ts: str = "2024-01-01T00:00:00Z"):
    spec: dict[str, Any] = {"host": host, "subsets": [{"name": name, "labels": {"v": name}}]}
    if export_to is not None:
        spec["exportTo"] = export_to
    return {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": ts}, "spec": spec}


def test_destination_rule_precedence_client_then_service_then_root() -> None:
    host = "web.shop.svc.cluster.local"
    index = MeshIndex([_svc("web", "shop"),
                       _dr("root", "istio-system", "*.cluster.local"),
                       _dr("owner", "shop", "web"),
                       _dr("client", "frontend", host)])
    assert index.destination_rule_for(host, "frontend").name == "client"
    assert index.destination_rule_for(host, "shop").name == "owner"
    assert index.destination_rule_for(host, "batch").name == "owner"
    index.delete("DestinationRule", "shop", "owner")
    assert index.destination_rule_for(host, "batch").name == "root"
    assert index.destination_rule_for(host, "frontend").name == "client"


def test_destination_rule_export_to() -> None:
    host = "web.shop.svc.cluster.local"
    index = MeshIndex([_svc("web", "shop"), _dr("private", "shop", "web", ["."]),
                       _dr("root", "istio-system", "*.local")])
    assert index.destination_rule_for(host, "shop").name == "private"
    # Not exported: other namespaces fall through to the root namespace's rule.
    assert index.destination_rule_for(host, "frontend").name == "root"
    index.upsert(_dr("private", "shop", "web", [".", "frontend"]))
    assert index.destination_rule_for(host, "frontend").name == "private"
    assert index.destination_rule_for(host, "batch").name == "root"


def test_root_namespace_private_rule_applies_only_inside_it() -> None:
    host = "web.shop.svc.cluster.local"
    index = MeshIndex([_svc("web", "shop"), _dr("rootlocal", "istio-system", host, ["."])])
    assert index.destination_rule_for(host, "istio-system").name == "rootlocal"
    assert index.destination_rule_for(host, "shop") is None


def test_most_specific_destination_rule_host_wins() -> None:
    host = "web.shop.svc.cluster.local"
    index = MeshIndex([_svc("web", "shop"), _dr("wide", "shop", "*.svc.cluster.local"),
                       _dr("narrow", "shop", "*.shop.svc.cluster.local")])
    assert index.destination_rule_for(host, "shop").name == "narrow"
    index.upsert(_dr("exact", "shop", host, ts="2025-01-01T00:00:00Z"))
    assert index.destination_rule_for(host, "shop").name == "exact"


def _vs(name: str, ns: str, hosts: list[str], export_to: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"hosts": hosts, "http": [{"route": [{"destination": {"host": hosts[0]}}]}]}
    if export_to is not None:
        spec["exportTo"] = export_to
    return {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def test_virtual_service_export_to_and_mesh_default() -> None:
    index = MeshIndex([_vs("a", "shop", ["web"], ["."]), _vs("b", "shop", ["web.shop.svc.cluster.local"])])
    host = "web.shop.svc.cluster.local"
    assert [v.name for v in index.virtual_services_for_host(host, from_namespace="shop")] == ["a", "b"]
    assert [v.name for v in index.virtual_services_for_host(host, from_namespace="frontend")] == ["b"]
    index.upsert({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "istio", "namespace": "istio-system"},
                  "data": {"mesh": "defaultVirtualServiceExportTo: ['.']\n"}})
    assert index.mesh_config.default_virtual_service_export_to == ["."]
    assert index.virtual_services_for_host(host, from_namespace="frontend") == []


def test_exact_host_virtual_service_before_wildcard() -> None:
    index = MeshIndex([_vs("wild", "ext", ["*.example.com"]), _vs("exact", "ext", ["api.example.com"])])
    assert [v.name for v in index.virtual_services_for_host("api.example.com")] == ["exact", "wild"]
    assert [v.name for v in index.virtual_services_for_host("www.example.com")] == ["wild"]


def test_upsert_and_delete_keep_the_index_current() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop",
                                                           "labels": {"app": "web", "v": "1"}}}
    index = MeshIndex([_svc("web", "shop"), pod])
    [svc] = index.services
    assert [p.name for p in index.pods_for_service(svc)] == ["p"]
    moved = copy.deepcopy(pod)
    moved["metadata"]["labels"]["app"] = "db"
    index.upsert(moved)
    assert index.pods_for_service(svc) == []
    assert [p.name for p in index.pods_matching("shop", {"app": "db"})] == ["p"]
    index.delete("Pod", "shop", "p")
    assert index.pods_matching("shop", {}) == [] and index.pods == []
    vs = _vs("a", "shop", ["web"])
    index.upsert(vs)
    vs2 = copy.deepcopy(vs)
    vs2["spec"]["hosts"] = ["db"]
    index.upsert(vs2)
    assert index.virtual_services_for_host("web", from_namespace="shop") == []
    assert [v.name for v in index.virtual_services_for_host("db", from_namespace="shop")] == ["a"]
    assert index.delete("VirtualService", "shop", "a") is not None
    assert index.virtual_services == [] and index.delete("VirtualService", "shop", "a") is None


def test_index_does_not_modify_objects() -> None:
    docs = _docs("bookinfo/platform/kube/bookinfo.yaml", "bookinfo/networking/destination-rule-all.yaml")
    before = copy.deepcopy(docs)
    index = MeshIndex(docs)
    index.destination_rule_for("reviews", "default")
    assert docs == before
    assert index.get("DestinationRule", "default", "reviews").raw is next(
        d for d in docs if d["kind"] == "DestinationRule" and d["metadata"]["name"] == "reviews")
