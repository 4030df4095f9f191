"""Listener, cluster and endpoint tables on real dumps (conformance extra-dumps) and small
hand-written ones, checked against what the input says and istioctl's documented rules."""

from __future__ import annotations

import json

import orjson
import pytest

from meshtui.envoy.bench import parse_and_tabulate, synthetic_dump
from meshtui.envoy.clusters import ClusterFilter, cluster_table, parse_subset_key
from meshtui.envoy.dump import ConfigDump, DumpError
from meshtui.envoy.endpoints import ClustersDump, EndpointFilter, eds_table, endpoint_table
from meshtui.envoy.listeners import ListenerFilter, listener_table, listener_type
from meshtui.envoy.protojson import message_json, to_proto_json
from paths import CONFORMANCE_ROOT

CONFORMANCE = CONFORMANCE_ROOT
PC = CONFORMANCE / "proxy-config"
ADMIN = "type.googleapis.com/envoy.admin.v3."


@pytest.fixture(scope="module")
def authz() -> ConfigDump:
    return ConfigDump.parse((PC / "extra-dumps" / "authz-listeners.config_dump.json").read_bytes())


def _listeners_in(dump: ConfigDump) -> list[dict]:
    sec = dump.section("ListenersConfigDump")
    return [d["active_state"]["listener"] for d in sec.get("dynamic_listeners", []) if d.get("active_state")] + [
        s["listener"] for s in sec.get("static_listeners", [])
    ]


def test_listener_summary_has_one_row_per_listener_sorted_by_port(authz: ConfigDump) -> None:
    listeners = _listeners_in(authz)
    table = listener_table(authz, ListenerFilter(verbose=False))
    assert table.columns == ["ADDRESSES", "PORT", "TYPE"]
    assert len(table.rows) == len(listeners)
    ports = [int(r[1]) for r in table.rows]
    assert ports == sorted(ports)
    assert sorted(ports) == sorted(x.get("address", {}).get("socket_address", {}).get("port_value", 0) for x in listeners)


def test_verbose_listener_rows_are_filter_chains(authz: ConfigDump) -> None:
    listeners = _listeners_in(authz)
    table = listener_table(authz)
    chains = sum(len(x.get("filter_chains", [])) + (1 if x.get("default_filter_chain") else 0) for x in listeners)
    assert len(table.rows) == chains
    # An HTTP chain that uses RDS names its route configuration.
    for x in listeners:
        for chain in x.get("filter_chains", []):
            for f in chain.get("filters", []):
                rds = f.get("typed_config", {}).get("rds", {}).get("route_config_name")
                if f["name"] == "envoy.filters.network.http_connection_manager" and rds:
                    assert [str(x["address"]["socket_address"]["port_value"]), f"Route: {rds}"] in [[r[1], r[3]] for r in table.rows]


def test_listener_filters(authz: ConfigDump) -> None:
    rows = listener_table(authz, ListenerFilter(port=9080)).rows
    assert rows and all(r[1] == "9080" for r in rows)
    for kind in ("TCP", "HTTP", "http+tcp"):
        kept = [x for x in _listeners_in(authz) if listener_type(x).lower() == kind.lower()]
        assert len(listener_table(authz, ListenerFilter(type=kind, verbose=False)).rows) == len(kept)
    rows = listener_table(authz, ListenerFilter(address="0.0.0.0", verbose=False)).rows
    assert rows and all(r[0] == "0.0.0.0" for r in rows)


def _cluster_dump(*names: str) -> ConfigDump:
    clusters = [{"cluster": {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": n, "type": "EDS"}} for n in names]
    return ConfigDump.from_json({"configs": [{"@type": ADMIN + "ClustersConfigDump", "dynamic_active_clusters": clusters}]})


def test_cluster_rows_and_filters() -> None:
    dump = _cluster_dump(
        "outbound|9080|v2|reviews.default.svc.cluster.local",
        "outbound|9080|v1|reviews.default.svc.cluster.local",
        "inbound|9080||",
        "BlackHoleCluster",
        "outbound|80||details.default.svc.cluster.local",
    )
    rows = cluster_table(dump).rows
    # Sorted by FQDN, then subset, port, direction; non-subset-key names sort by their name.
    assert [r[0] for r in rows] == [
        "",
        "BlackHoleCluster",
        "details.default.svc.cluster.local",
        "reviews.default.svc.cluster.local",
        "reviews.default.svc.cluster.local",
    ]
    assert rows[0][1:4] == ["9080", "-", "inbound"]
    assert [r[2] for r in rows[3:]] == ["v1", "v2"]
    assert rows[1][1:] == ["-", "-", "-", "EDS", ""]
    assert [r[2] for r in cluster_table(dump, ClusterFilter(subset="v2")).rows] == ["v2"]
    assert len(cluster_table(dump, ClusterFilter(port=9080)).rows) == 3
    assert len(cluster_table(dump, ClusterFilter(direction="outbound", fqdn="reviews")).rows) == 2


def test_parse_subset_key_forms() -> None:
    assert parse_subset_key("outbound|9080|v1|reviews.default.svc.cluster.local") == ("outbound", "v1", "reviews.default.svc.cluster.local", 9080)
    assert parse_subset_key("outbound_.9080_.v1_.reviews.default.svc.cluster.local") == ("outbound", "v1", "reviews.default.svc.cluster.local", 9080)


# /clusters?format=json in the mixed field-name style istioctl's own test data uses.
CLUSTERS_JSON = {
    "cluster_statuses": [
        {"name": "outbound|9080||reviews.default.svc.cluster.local", "addedViaApi": True, "hostStatuses": [
            {"address": {"socketAddress": {"address": "172.17.0.4", "portValue": 9080}}, "healthStatus": {"edsHealthStatus": "HEALTHY"}},
            {"address": {"socketAddress": {"address": "172.17.0.27", "portValue": 9080}}, "healthStatus": {"failedOutlierCheck": True, "edsHealthStatus": "HEALTHY"}},
        ]},
        {"name": "outbound|15014||istio-policy.istio-system.svc.cluster.local", "hostStatuses": [
            {"address": {"socketAddress": {"address": "172.17.0.14", "portValue": 15014}}, "healthStatus": {"edsHealthStatus": "UNHEALTHY"}},
        ]},
        {"name": "inbound_9092", "host_statuses": [
            {"address": {"pipe": {"path": "/sock/mixer.socket"}}, "health_status": {"eds_health_status": "HEALTHY"}},
        ]},
    ]
}


def test_endpoints_from_clusters_output() -> None:
    clusters = ClustersDump.parse(json.dumps(CLUSTERS_JSON))
    table = endpoint_table(clusters)
    assert table.columns == ["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"]
    # Sorted by address as a string, then port and cluster; pipes get unix:// and no port.
    assert table.rows == [
        ["172.17.0.14:15014", "UNHEALTHY", "OK", "outbound|15014||istio-policy.istio-system.svc.cluster.local"],
        ["172.17.0.27:9080", "HEALTHY", "FAILED", "outbound|9080||reviews.default.svc.cluster.local"],
        ["172.17.0.4:9080", "HEALTHY", "OK", "outbound|9080||reviews.default.svc.cluster.local"],
        ["unix:///sock/mixer.socket", "HEALTHY", "OK", "inbound_9092"],
    ]
    assert [r[0] for r in endpoint_table(clusters, EndpointFilter(status="unhealthy")).rows] == ["172.17.0.14:15014"]
    assert len(endpoint_table(clusters, EndpointFilter(port=9080)).rows) == 2
    assert endpoint_table(clusters, EndpointFilter(address="172.17.0.4")).rows[0][0] == "172.17.0.4:9080"


def test_eds_filters_by_cluster_and_status() -> None:
    dump = ConfigDump.parse((PC / "eds" / "config_dump.json").read_bytes())
    rows = eds_table(dump, EndpointFilter(cluster="OUTBOUND|9080||reviews.default.svc.cluster.local")).rows
    assert len(rows) == 3 and {r[3] for r in rows} == {"outbound|9080||reviews.default.svc.cluster.local"}
    assert eds_table(dump, EndpointFilter(status="unhealthy")).rows == []


def test_proto_json_names_keep_struct_keys_and_sort_maps() -> None:
    obj = {
        "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
        "cluster_name": "c",
        "endpoints": [{"lb_endpoints": [{"metadata": {"filter_metadata": {"istio": {"work_load": 1}, "envoy.lb": {"a_b": 2}}}}]}],
    }
    out = message_json(obj)
    assert "@type" not in out and out["clusterName"] == "c"
    md = out["endpoints"][0]["lbEndpoints"][0]["metadata"]["filterMetadata"]
    assert list(md) == ["envoy.lb", "istio"] and md["istio"] == {"work_load": 1}
    typed = to_proto_json({"typed_config": {"@type": "type.googleapis.com/udpa.type.v1.TypedStruct", "type_url": "x", "value": {"snake_key": 1}}})
    assert typed == {"typedConfig": {"@type": "type.googleapis.com/udpa.type.v1.TypedStruct", "typeUrl": "x", "value": {"snake_key": 1}}}


@pytest.mark.parametrize("doc", [b"{}", b'{"configs": 3}', b"null", b'"text"'])
def test_not_a_dump(doc: bytes) -> None:
    with pytest.raises(DumpError, match='not an Envoy config dump \\(no "configs" list\\)'):
        ConfigDump.parse(doc, "x.json")


def test_synthetic_benchmark_dump_tabulates() -> None:
    data = synthetic_dump(0.3)
    assert orjson.loads(data)["configs"]
    _, rows = parse_and_tabulate(data)
    assert rows > 100


# -- one service's endpoints across its clients (meshtui.envoy.service_endpoints) ------------

SVC_HOST = "web.shop.svc.cluster.local"


def _host(ip: str, health: str = "HEALTHY", ejected: bool = False) -> dict:
    hs: dict = {"eds_health_status": health}
    if ejected:
        hs["failed_outlier_check"] = True
    return {"address": {"socket_address": {"address": ip, "port_value": 8080}}, "health_status": hs}


def _clusters_doc(*clusters: tuple[str, list[dict]]) -> bytes:
    return json.dumps({"cluster_statuses": [{"name": n, "host_statuses": h} for n, h in clusters]}).encode()


def test_service_endpoints_summarise_health_and_ejection_over_clients() -> None:
    from meshtui.envoy.service_endpoints import (
        ClientPod, fetch_clients, service_endpoints, service_endpoints_json, service_endpoints_table,
    )

    default, v1 = f"outbound|80||{SVC_HOST}", f"outbound|80|v1|{SVC_HOST}"
    answers = {
        # a: ejected .2 in the subset cluster only; b: sees .2 unhealthy; c: has no cluster of web.
        "a": _clusters_doc((default, [_host("10.0.0.1"), _host("10.0.0.2")]), (v1, [_host("10.0.0.2", ejected=True)]),
                           ("outbound|80||other.shop.svc.cluster.local", [_host("10.9.9.9")])),
        "b": _clusters_doc((default, [_host("10.0.0.2", "UNHEALTHY"), _host("10.0.0.1")]), (v1, [_host("10.0.0.2", "UNHEALTHY")])),
        "c": _clusters_doc(("outbound|80||other.shop.svc.cluster.local", [_host("10.0.0.1")])),
        "d": b"not json",
    }

    def fetch(client: ClientPod) -> bytes:
        if client.name == "e":
            raise OSError("connection refused")
        return answers[client.name]

    clients = [ClientPod("shop", n) for n in "abcde"]
    seen: list[str] = []
    results = fetch_clients(clients, fetch, workers=2, on_result=lambda r: seen.append(r.client.name))
    assert [r.client.name for r in results] == list("abcde") and sorted(seen) == list("abcde")
    report = service_endpoints(SVC_HOST, results, not_queried=3)
    assert [c.name for c in report.clients] == ["a", "b"]
    assert [c.name for c in report.not_clients] == ["c"]
    errors = dict((c.name, e) for c, e in report.errors)
    assert list(errors) == ["d", "e"]
    assert errors["d"].startswith("d.shop: not valid JSON") and errors["e"] == "connection refused"
    summary = {s.endpoint: s for s in report.summaries}
    assert list(summary) == ["10.0.0.1:8080", "10.0.0.2:8080"]
    assert summary["10.0.0.2:8080"].outlier_text() == "ejected by 1/2 clients"
    assert summary["10.0.0.2:8080"].status_text() == "UNHEALTHY 1/2, HEALTHY 1/2"
    assert summary["10.0.0.1:8080"].outlier_text() == "ejected by 0/2 clients"

    table = service_endpoints_table(report)
    assert table.columns == ["ENDPOINT", "CLIENT", "STATUS", "OUTLIER CHECK", "CLUSTER"]
    assert [r[:4] for r in table.rows if r[0] == "10.0.0.2:8080"] == [
        ["10.0.0.2:8080", "*", "UNHEALTHY 1/2, HEALTHY 1/2", "ejected by 1/2 clients"],
        ["10.0.0.2:8080", "a.shop", "HEALTHY", "OK"],       # default cluster first
        ["10.0.0.2:8080", "a.shop", "HEALTHY", "FAILED"],   # then the v1 subset
        ["10.0.0.2:8080", "b.shop", "UNHEALTHY", "OK"],
        ["10.0.0.2:8080", "b.shop", "UNHEALTHY", "OK"],
    ]
    assert "10.9.9.9:8080" not in {r[0] for r in table.rows}  # another service's endpoint
    doc = service_endpoints_json(report)
    assert doc["not_clients"] == ["c.shop"] and doc["not_queried"] == 3
    assert any("3 more client sidecar(s) not asked" in n for n in report.notes())
    # istioctl's endpoint filter narrows the rows (and the summaries) too.
    only_unhealthy = service_endpoints(SVC_HOST, results, EndpointFilter(status="unhealthy"))
    assert {(r.endpoint, r.client.name) for r in only_unhealthy.rows} == {("10.0.0.2:8080", "b")}


def test_fetch_clients_stops_when_cancelled() -> None:
    import threading

    from meshtui.envoy.service_endpoints import ClientPod, fetch_clients

    gate = threading.Event()

    def fetch(client: ClientPod) -> bytes:
        if client.name != "p0":
            gate.wait(5)  # the others are still in flight when the caller cancels
        return _clusters_doc()

    results = fetch_clients([ClientPod("ns", f"p{i}") for i in range(8)], fetch, workers=2,
                            cancelled=lambda: True)
    gate.set()
    assert len(results) < 8


def test_plan_clients_picks_running_sidecars_that_can_see_the_service() -> None:
    from meshtui.envoy.service_endpoints import plan_clients
    from meshtui.model.index import MeshIndex

    def pod(ns: str, name: str, *, sidecar: bool = True, ip: str | None = "10.0.0.9", phase: str = "Running") -> dict:
        containers = [{"name": "app"}] + ([{"name": "istio-proxy"}] if sidecar else [])
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                "spec": {"containers": containers}, "status": {"phase": phase, "podIP": ip}}

    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop",
           "annotations": {"networking.istio.io/exportTo": "shop,front"}},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}
    objs = [svc, pod("shop", "z"), pod("front", "a"), pod("other", "b"), pod("shop", "plain", sidecar=False),
            pod("shop", "pending", ip=None, phase="Pending"), pod("shop", "done", phase="Succeeded"), pod("shop", "y")]
    plan = plan_clients(MeshIndex(objs), "shop", "web")
    assert plan.host == SVC_HOST
    assert [c.label for c in plan.clients] == ["y.shop", "z.shop", "a.front"]  # own namespace first
    capped = plan_clients(MeshIndex(objs), "shop", "web", cap=2)
    assert len(capped.clients) == 2 and capped.not_queried == 1
    with pytest.raises(LookupError, match="no Service nope in namespace shop"):
        plan_clients(MeshIndex(objs), "shop", "nope")
