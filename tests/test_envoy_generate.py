"""The generated config dump reads through the istioctl tables and shows what the manifests say.

Expectations come from the demo manifests themselves (``meshtui/demo/*.yaml``: weights,
subsets, rule order), never from the generator's own output.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from meshtui.envoy.clusters import cluster_table
from meshtui.envoy.dump import ConfigDump
from meshtui.envoy.endpoints import ClustersDump, eds_table, endpoint_table
from meshtui.envoy.generate import GENERATED_LABEL, generate_clusters, generate_config_dump, generated_note
from meshtui.envoy.listeners import listener_table
from meshtui.envoy.routes import RouteFilter, route_table
from meshtui.model.index import MeshIndex
from meshtui.sandbox.scenario import demo_documents
from meshtui.sandbox.server import Sandbox
from paths import CONFORMANCE_ROOT

KINDS = ("namespaces", "configmaps", "services", "pods", "endpoints", "virtualservices",
         "destinationrules", "serviceentries", "gateways")


@pytest.fixture(scope="module")
def index(sandbox: Sandbox) -> MeshIndex:
    """The sandbox's demo mesh (with the pods its Deployments run), as the UI indexes it."""
    return MeshIndex([o for kind in KINDS for o in sandbox.store.list(kind)])


def manifest(kind: str, namespace: str, name: str) -> dict[str, Any]:
    for doc in demo_documents():
        meta = doc.get("metadata") or {}
        if doc.get("kind") == kind and meta.get("namespace") == namespace and meta.get("name") == name:
            return doc
    raise AssertionError(f"{kind} {namespace}/{name} not in the demo manifests")


def expected_split(namespace: str, vs_name: str, port: int) -> list[str]:
    """``cluster:weight`` cells of the last (weighted) rule of a demo VirtualService."""
    vs = manifest("VirtualService", namespace, vs_name)
    rule = [r for r in vs["spec"]["http"] if len(r["route"]) > 1][-1]
    cells = []
    for d in rule["route"]:
        host = d["destination"]["host"]
        fq = host if "." in host else f"{host}.{namespace}.svc.cluster.local"
        cells.append(f"outbound|{port}|{d['destination']['subset']}|{fq}:{d['weight']}")
    return cells


def first_pod(index: MeshIndex, namespace: str, app: str) -> str:
    return next(p.name for p in index.pods if p.namespace == namespace and p.labels.get("app") == app)


def dump_for(index: MeshIndex, namespace: str, pod: str) -> ConfigDump:
    # Through bytes, as the UI and CLI read it: the generated document is plain JSON.
    return ConfigDump.parse(orjson.dumps(generate_config_dump(index, namespace, pod)), "generated")


@pytest.mark.parametrize(("namespace", "vs", "port"), [
    ("default", "backend-service", 80),
    ("istioinaction", "catalog", 80),
    ("bookinfo", "reviews", 9080),
])
def test_route_table_shows_the_configured_split(index: MeshIndex, namespace: str, vs: str, port: int) -> None:
    dump = dump_for(index, "bookinfo", first_pod(index, "bookinfo", "productpage"))
    table = route_table(dump, RouteFilter(name=str(port)), wide=True)
    weights = table.columns.index("WEIGHT")
    vs_col = table.columns.index("VIRTUAL SERVICE")
    rows = [r for r in table.rows if r[vs_col] == f"{vs}.{namespace}"]
    assert rows, f"no route from VirtualService {vs}.{namespace}"
    assert rows[-1][weights] == ", ".join(expected_split(namespace, vs, port))


def test_routes_follow_the_rule_order_and_matches_of_the_manifest(index: MeshIndex) -> None:
    vs = manifest("VirtualService", "default", "backend-service")
    dump = dump_for(index, "default", first_pod(index, "default", "backend-service"))
    vhost = next(vh for rc in dump.route_configs() if rc["name"] == "80" for vh in rc["virtual_hosts"]
                 if vh["name"] == "backend-service.default.svc.cluster.local:80")
    assert [r.get("name") for r in vhost["routes"]] == [rule["name"] for rule in vs["spec"]["http"]]
    header_rule, prefix_rule, _ = vs["spec"]["http"]
    (hname, hmatch), = header_rule["match"][0]["headers"].items()
    assert vhost["routes"][0]["match"]["headers"] == [{"name": hname, "string_match": hmatch}]
    assert vhost["routes"][1]["match"]["prefix"] == prefix_rule["match"][0]["uri"]["prefix"]
    assert vhost["routes"][1]["route"]["prefix_rewrite"] == prefix_rule["rewrite"]["uri"]
    assert vhost["routes"][1]["route"]["timeout"] == prefix_rule["timeout"]
    retries = vs["spec"]["http"][2]["retries"]
    assert vhost["routes"][2]["route"]["retry_policy"]["num_retries"] == retries["attempts"]
    assert vhost["routes"][2]["route"]["retry_policy"]["per_try_timeout"] == retries["perTryTimeout"]
    # Istio's domains for a same-namespace caller: FQDN, short name, name.ns.svc, name.ns, cluster IP.
    svc = index.get("Service", "default", "backend-service")
    for d in ("backend-service.default.svc.cluster.local", "backend-service", "backend-service.default.svc",
              "backend-service.default", svc.cluster_ip, f"backend-service:{80}"):
        assert d in vhost["domains"]


def test_a_caller_in_another_namespace_gets_no_bare_short_name(index: MeshIndex) -> None:
    dump = dump_for(index, "bookinfo", first_pod(index, "bookinfo", "productpage"))
    vhost = next(vh for rc in dump.route_configs() for vh in rc["virtual_hosts"]
                 if vh["name"] == "catalog.istioinaction.svc.cluster.local:80")
    assert "catalog" not in vhost["domains"]
    assert "catalog.istioinaction" in vhost["domains"]


def test_cluster_table_has_a_cluster_per_destination_rule_subset(index: MeshIndex) -> None:
    dr = manifest("DestinationRule", "bookinfo", "reviews")
    dump = dump_for(index, "bookinfo", first_pod(index, "bookinfo", "productpage"))
    table = cluster_table(dump)
    reviews = [r for r in table.rows if r[0] == "reviews.bookinfo.svc.cluster.local"]
    assert sorted(r[2] for r in reviews) == sorted(["-", *(s["name"] for s in dr["spec"]["subsets"])])
    assert all(r[5] == "reviews.bookinfo" for r in reviews)


def test_destination_rule_policy_reaches_the_cluster(index: MeshIndex) -> None:
    policy = manifest("DestinationRule", "default", "backend-service")["spec"]["trafficPolicy"]
    dump = dump_for(index, "default", first_pod(index, "default", "backend-service"))
    c = next(c for c in dump.clusters() if c["name"] == "outbound|80|v1|backend-service.default.svc.cluster.local")
    assert c["lb_policy"] == policy["loadBalancer"]["simple"]
    od = policy["outlierDetection"]
    assert c["outlier_detection"]["consecutive_5xx"] == od["consecutive5xxErrors"]
    assert c["outlier_detection"]["max_ejection_percent"] == od["maxEjectionPercent"]
    pending = policy["connectionPool"]["http"]["http1MaxPendingRequests"]
    assert c["circuit_breakers"]["thresholds"][0]["max_pending_requests"] == pending


def test_listeners_route_each_http_port_through_rds(index: MeshIndex) -> None:
    pod = first_pod(index, "bookinfo", "reviews")
    rows = listener_table(dump_for(index, "bookinfo", pod)).rows
    assert ["0.0.0.0", "9080", "ALL", "Route: 9080"] in rows
    assert ["0.0.0.0", "15001", "ALL", "PassthroughCluster"] in rows
    # The pod's own port is served by an inbound cluster on virtualInbound.
    assert ["0.0.0.0", "15006", "Addr: *:9080", "Cluster: inbound|9080||"] in rows


def test_eds_lists_the_ready_pods_of_each_subset(index: MeshIndex) -> None:
    dump = dump_for(index, "bookinfo", first_pod(index, "bookinfo", "productpage"))
    table = eds_table(dump)
    for version in ("v1", "v2"):
        cluster = f"outbound|80|{version}|catalog.istioinaction.svc.cluster.local"
        ips = sorted(p.ip for p in index.pods if p.namespace == "istioinaction"
                     and p.labels.get("app") == "catalog" and p.labels.get("version") == version)
        target = manifest("Service", "istioinaction", "catalog")["spec"]["ports"][0]["targetPort"]
        assert sorted(r[0] for r in table.rows if r[3] == cluster) == [f"{ip}:{target}" for ip in ips]
        assert {r[1] for r in table.rows if r[3] == cluster} == {"HEALTHY"}


def test_a_pod_that_is_not_ready_is_unhealthy(index: MeshIndex) -> None:
    pods = [p for p in index.pods if p.namespace == "default" and p.labels.get("version") == "v0"]
    raw = orjson.loads(orjson.dumps(pods[0].raw))
    raw["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    ix = MeshIndex([*(o.raw for kind in ("Service", "Pod", "VirtualService", "DestinationRule")
                      for o in index.objects(kind) if o.raw is not pods[0].raw), raw])
    clusters = ClustersDump(orjson.loads(orjson.dumps(generate_clusters(ix, "default", pods[1].name))))
    rows = endpoint_table(clusters).rows
    status = {(r[0], r[3]): r[1] for r in rows}
    assert status[(f"{pods[0].ip}:8080", "outbound|80|v0|backend-service.default.svc.cluster.local")] == "UNHEALTHY"
    assert status[(f"{pods[1].ip}:8080", "outbound|80|v0|backend-service.default.svc.cluster.local")] == "HEALTHY"


def test_generated_dumps_are_labelled(index: MeshIndex) -> None:
    doc = generate_config_dump(index, "bookinfo", first_pod(index, "bookinfo", "ratings"))
    assert generated_note(doc) and "not fetched from Envoy" in generated_note(doc)
    assert ConfigDump.from_json(doc).section("BootstrapConfigDump")["bootstrap"]["node"]["metadata"][GENERATED_LABEL] == "true"
    assert generated_note(generate_clusters(index, "bookinfo", "x")) is not None
    real = orjson.loads(open(CONFORMANCE_ROOT / "proxy-config/eds/config_dump.json", "rb").read())
    assert generated_note(real) is None


def test_manifests_without_pods_still_give_routes_and_clusters() -> None:
    """``--files`` mode: Deployments but no pods; the routes are there, EDS is empty."""
    ix = MeshIndex(demo_documents())
    doc = generate_config_dump(ix, "default", "backend-service-v0")
    dump = ConfigDump.from_json(doc)
    table = route_table(dump, RouteFilter(name="80"), wide=True)
    assert ", ".join(expected_split("default", "backend-service", 80)) in [r[-1] for r in table.rows]
    assert eds_table(dump).rows == []
    # The Deployment's template labels stand in for the pod's: its service gets an inbound cluster.
    assert "inbound|8080||" in [c["name"] for c in dump.clusters()]


def test_unknown_pod_and_empty_mesh_do_not_fail() -> None:
    doc = generate_config_dump(MeshIndex([]), "nowhere", "nobody", include_eds=False)
    dump = ConfigDump.from_json(doc)
    assert not dump.has("EndpointsConfigDump")
    assert [r[3] for r in listener_table(dump).rows] == ["PassthroughCluster", "InboundPassthroughCluster"]


def _outlier_mesh(annotation: str) -> MeshIndex:
    """backend-service's manifests with two ready pods, the first annotated to be ejected."""
    docs = [d for d in demo_documents() if (d.get("metadata") or {}).get("namespace") == "default"
            and d.get("kind") in ("Service", "DestinationRule", "VirtualService")]
    pods = []
    for name, version, ip in (("b-v0", "v0", "10.1.0.1"), ("b-v1", "v1", "10.1.0.2"), ("c1", "", "10.1.0.3"),
                              ("c2", "", "10.1.0.4")):
        labels = {"app": "backend-service", "version": version} if version else {"app": "curl"}
        ann = {"meshtui.io/simulate-outlier-ejected": annotation} if name == "b-v0" else {}
        pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                     "labels": labels, "annotations": ann},
                     "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]}})
    return MeshIndex(docs + pods)


@pytest.mark.parametrize(("annotation", "ejected_for"), [("true", {"c1", "c2"}), ("c2", {"c2"}),
                                                         ("c1.default, other", {"c1"}), ("", set())])
def test_simulated_outlier_ejection_is_reported_by_the_named_clients(annotation: str, ejected_for: set[str]) -> None:
    index = _outlier_mesh(annotation)
    for client in ("c1", "c2"):
        rows = endpoint_table(ClustersDump(generate_clusters(index, "default", client))).rows
        v0 = [r for r in rows if r[0].startswith("10.1.0.1:")]
        v1 = [r for r in rows if r[0].startswith("10.1.0.2:")]
        assert v0 and v1
        assert {r[2] for r in v0} == {"FAILED" if client in ejected_for else "OK"}
        assert {r[1] for r in v0} == {"HEALTHY"}  # ejection is not EDS health
        assert {r[2] for r in v1} == {"OK"}
    # The config dump does not change: ejection is Envoy's decision, not configuration.
    assert generate_config_dump(index, "default", "c1") == generate_config_dump(_outlier_mesh(""), "default", "c1")
