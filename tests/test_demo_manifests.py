"""The demo manifests: valid Istio config, the promised scenarios, and safe to edit in place."""

from __future__ import annotations

import copy
import difflib
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.model.schema import validate
from meshtui.sources.base import ObjectKey
from meshtui.sources.files import FilesSource
from paths import CONFORMANCE_ROOT

DEMO = Path(str(resources.files("meshtui.demo")))
CONFORMANCE = CONFORMANCE_ROOT
SAMPLES = CONFORMANCE / "samples" / "bookinfo"


@pytest.fixture(scope="module")
def objects() -> dict[ObjectKey, dict[str, Any]]:
    snap = FilesSource(str(DEMO), read_only=True).snapshot()
    assert snap.errors == []
    return {ObjectKey.of(o): o for o in snap.objects}


def _istio(objects: dict[ObjectKey, dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects.values() if o["apiVersion"].startswith("networking.istio.io/")]


def test_every_istio_object_is_valid_against_the_crd_schema(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    istio = _istio(objects)
    assert len(istio) >= 15
    for obj in istio:
        assert validate(obj, strict=True) == [], ObjectKey.of(obj)


def test_every_object_names_its_namespace_in_the_file() -> None:
    for path in sorted(DEMO.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and doc["kind"] != "Namespace":
                assert doc["metadata"].get("namespace"), (path.name, doc["metadata"]["name"])


def _route(vs: dict[str, Any], name: str | None = None, index: int | None = None) -> dict[str, Any]:
    http = vs["spec"]["http"]
    return http[index] if index is not None else next(r for r in http if r.get("name") == name)


def _split(rule: dict[str, Any]) -> list[tuple[str, int | None]]:
    return [(d["destination"].get("subset"), d.get("weight")) for d in rule["route"]]


def test_catalog_canary(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    svc = objects[ObjectKey("Service", "istioinaction", "catalog")]
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 3000}]
    for version in ("v1", "v2"):
        dep = objects[ObjectKey("Deployment", "istioinaction", f"catalog-{version}")]
        assert dep["spec"]["replicas"] == 2
        assert dep["spec"]["template"]["metadata"]["labels"] == {"app": "catalog", "version": version}
    gw = objects[ObjectKey("Gateway", "istioinaction", "catalog-gateway")]
    assert gw["spec"]["selector"] == {"istio": "ingressgateway"}
    assert gw["spec"]["servers"][0]["port"] == {"number": 80, "name": "http", "protocol": "HTTP"}
    assert gw["spec"]["servers"][0]["hosts"] == ["catalog.istioinaction.io"]
    vs = objects[ObjectKey("VirtualService", "istioinaction", "catalog")]
    assert vs["spec"]["gateways"] == ["catalog-gateway", "mesh"]
    internal = _route(vs, index=0)
    assert internal["match"] == [{"headers": {"x-istio-cohort": {"exact": "internal"}}}]
    assert _split(internal) == [("v2", None)]
    assert _split(_route(vs, index=1)) == [("v1", 90), ("v2", 10)]
    dr = objects[ObjectKey("DestinationRule", "istioinaction", "catalog")]
    assert [s["name"] for s in dr["spec"]["subsets"]] == ["v1", "v2"]


def test_backend_service_rules(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    vs = objects[ObjectKey("VirtualService", "default", "backend-service")]
    header, prefix, default = vs["spec"]["http"]
    assert header["match"] == [{"headers": {"x-canary": {"exact": "true"}}}]
    assert _split(header) == [("v1", None)]
    assert prefix["match"] == [{"uri": {"prefix": "/test/v1"}}] and prefix["rewrite"] == {"uri": "/"}
    assert _split(prefix) == [("v1", None)]
    assert "match" not in default and _split(default) == [("v0", 90), ("v1", 10)]
    dr = objects[ObjectKey("DestinationRule", "default", "backend-service")]
    assert dr["spec"]["trafficPolicy"]["loadBalancer"] == {"simple": "LEAST_REQUEST"}
    assert "outlierDetection" in dr["spec"]["trafficPolicy"]
    assert [s["labels"] for s in dr["spec"]["subsets"]] == [{"version": "v0"}, {"version": "v1"}]


def test_mesh_config_and_ingress_gateway(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    mesh = yaml.safe_load(objects[ObjectKey("ConfigMap", "istio-system", "istio")]["data"]["mesh"])
    assert mesh["accessLogFile"] == "/dev/stdout"
    assert mesh["outboundTrafficPolicy"] == {"mode": "ALLOW_ANY"}
    assert isinstance(mesh["defaultConfig"], dict)
    svc = objects[ObjectKey("Service", "istio-system", "istio-ingressgateway")]
    dep = objects[ObjectKey("Deployment", "istio-system", "istio-ingressgateway")]
    assert svc["spec"]["selector"]["istio"] == "ingressgateway"
    assert dep["spec"]["template"]["metadata"]["labels"]["istio"] == "ingressgateway"


def _without_namespace(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    out["metadata"].pop("namespace", None)
    return out


def test_bookinfo_workloads_are_istios_sample(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    upstream = [d for d in yaml.safe_load_all((SAMPLES / "platform/kube/bookinfo.yaml").read_text()) if d]
    assert len(upstream) == 14
    for doc in upstream:
        ours = objects[ObjectKey(doc["kind"], "bookinfo", doc["metadata"]["name"])]
        assert _without_namespace(ours) == doc


def test_bookinfo_routes_come_from_istios_samples(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    for name in ("bookinfo-gateway.yaml",):
        for doc in yaml.safe_load_all((SAMPLES / "networking" / name).read_text()):
            ours = objects[ObjectKey(doc["kind"], "bookinfo", doc["metadata"]["name"])]
            assert _without_namespace(ours) == doc
    reviews = objects[ObjectKey("VirtualService", "bookinfo", "reviews")]
    assert reviews["spec"]["http"][0]["match"] == [{"headers": {"end-user": {"exact": "jason"}}}]
    assert _split(reviews["spec"]["http"][1]) == [("v1", 80), ("v2", 20)]


def test_every_subset_selects_a_deployment(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    for dr in (o for o in _istio(objects) if o["kind"] == "DestinationRule"):
        ns = dr["metadata"]["namespace"]
        service = objects[ObjectKey("Service", ns, dr["spec"]["host"].split(".")[0])]
        for subset in dr["spec"].get("subsets", []):
            wanted = {**service["spec"]["selector"], **subset["labels"]}
            assert any(
                key.kind == "Deployment"
                and key.namespace == ns
                and wanted.items() <= dep["spec"]["template"]["metadata"]["labels"].items()
                for key, dep in objects.items()
            ), (dr["metadata"]["name"], subset["name"])


def test_every_route_destination_is_a_service(objects: dict[ObjectKey, dict[str, Any]]) -> None:
    for vs in (o for o in _istio(objects) if o["kind"] == "VirtualService"):
        for rule in vs["spec"]["http"]:
            for dest in rule["route"]:
                host = dest["destination"]["host"]
                assert ObjectKey("Service", vs["metadata"]["namespace"], host) in objects, (vs["metadata"]["name"], host)


def test_shifting_any_split_changes_only_the_two_weights(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    source = FilesSource(str(tmp_path / "demo"))
    splits = 0
    for base in source.snapshot().objects:
        if base["kind"] != "VirtualService":
            continue
        for i, rule in enumerate(base["spec"]["http"]):
            if len(rule["route"]) < 2:
                continue
            where = source.location(ObjectKey.of(base))
            assert where is not None
            before = Path(where.path).read_text()
            edited = copy.deepcopy(base)
            edited["spec"]["http"][i]["route"][0]["weight"] -= 5
            edited["spec"]["http"][i]["route"][1]["weight"] += 5

            source.apply(edited, base=base)

            after = Path(where.path).read_text()
            diff = [ln for ln in difflib.ndiff(before.splitlines(), after.splitlines()) if ln[:1] in "+-"]
            assert len(diff) == 4 and all("weight:" in ln for ln in diff), diff
            splits += 1
            base = next(o for o in source.snapshot().objects if ObjectKey.of(o) == ObjectKey.of(base))
    assert splits == 5  # catalog, backend, reviews, checkout (Argo), payments (Flagger)


def test_an_unchanged_apply_leaves_every_file_byte_identical(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = {p.name: p.read_bytes() for p in (tmp_path / "demo").glob("*.yaml")}
    source = FilesSource(str(tmp_path / "demo"))
    for obj in source.snapshot().objects:
        source.apply(copy.deepcopy(obj), base=obj)
    assert {p.name: p.read_bytes() for p in (tmp_path / "demo").glob("*.yaml")} == before
