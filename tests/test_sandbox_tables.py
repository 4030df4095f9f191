"""Server-side printing: the sandbox answers ``Accept: ...;as=Table;g=meta.k8s.io`` with a
``meta.k8s.io`` Table for list, get and watch, so ``kubectl get`` shows the columns it shows
against a real cluster; clients that do not ask for a Table get plain objects as before.

Expected columns of custom resources come from the Istio CRDs in the conformance data; expected
cell values from the objects the sandbox serves (read as JSON, not through the table code)."""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from meshtui.sandbox.server import Sandbox
from meshtui.sandbox.tables import custom_resource_printer
from paths import CONFORMANCE_ROOT

TABLE_ACCEPT = ("application/json;as=Table;v=v1;g=meta.k8s.io,"
                "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")  # what kubectl get sends
VS_PATH = "/apis/networking.istio.io/v1/virtualservices"


def crd_columns(kind: str, version: str = "v1") -> list[dict[str, Any]]:
    """The additionalPrinterColumns of an Istio CRD version, from the conformance data."""
    with open(CONFORMANCE_ROOT / "crds" / "networking.istio.io.crds.yaml", encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if doc and doc.get("kind") == "CustomResourceDefinition" and doc["spec"]["names"]["kind"] == kind:
                return next(v for v in doc["spec"]["versions"] if v["name"] == version)["additionalPrinterColumns"]
    raise AssertionError(f"no CRD for {kind}")


def http(sb: Sandbox, path: str, accept: str | None = TABLE_ACCEPT, **query: str) -> tuple[int, Any]:
    """GET ``path`` with a raw HTTPS request; returns (status, decoded JSON body)."""
    url = sb.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    headers = {"Authorization": f"Bearer {sb.admin_token}"}
    if accept is not None:
        headers["Accept"] = accept
    ctx = ssl.create_default_context(cadata=sb.ca_pem.decode()) if sb.ca_pem else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), context=ctx, timeout=30) as r:
            body = r.read()
            status = r.status
    except urllib.error.HTTPError as err:
        body, status = err.read(), err.code
    if query.get("watch") == "true":
        return status, [json.loads(line) for line in body.splitlines() if line.strip()]
    return status, json.loads(body)


def plain(sb: Sandbox, path: str) -> dict[str, Any]:
    """An object or list as a client that does not ask for Tables gets it."""
    status, body = http(sb, path, accept="application/json")
    assert status == 200
    return body


def assert_valid_table(table: dict[str, Any], version: str = "v1") -> None:
    """The shape of a metav1.Table, with every row as wide as the column definitions."""
    assert table["kind"] == "Table" and table["apiVersion"] == f"meta.k8s.io/{version}"
    cols = table["columnDefinitions"]
    assert cols[0] == {**cols[0], "name": "Name", "format": "name", "type": "string"}
    assert all(set(c) == {"name", "type", "format", "description", "priority"} for c in cols)
    assert all(len(r["cells"]) == len(cols) for r in table["rows"])
    assert table["metadata"]["resourceVersion"]


# -- raw HTTP -------------------------------------------------------------------------------------
def test_list_with_table_accept_is_a_table_of_crd_columns(sandbox: Sandbox) -> None:
    status, table = http(sandbox, VS_PATH)
    assert status == 200
    assert_valid_table(table)
    expected = ["Name"] + [c["name"] for c in crd_columns("VirtualService")]
    assert [c["name"] for c in table["columnDefinitions"]] == expected
    items = plain(sandbox, VS_PATH)["items"]
    assert [r["cells"][0] for r in table["rows"]] == [o["metadata"]["name"] for o in items]
    by_name = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in items}
    for row in table["rows"]:
        obj = row["object"]
        assert obj["kind"] == "PartialObjectMetadata" and obj["apiVersion"] == "meta.k8s.io/v1"
        vs = by_name[(obj["metadata"]["namespace"], obj["metadata"]["name"])]
        assert obj["metadata"] == vs["metadata"]
        hosts = row["cells"][expected.index("Hosts")]
        assert json.loads(hosts) == vs["spec"]["hosts"]  # lists print as compact JSON, like client-go


def test_get_one_object_is_a_one_row_table(sandbox: Sandbox) -> None:
    status, table = http(sandbox, "/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules/reviews")
    assert status == 200
    assert_valid_table(table)
    dr = plain(sandbox, "/apis/networking.istio.io/v1/namespaces/bookinfo/destinationrules/reviews")
    assert [r["cells"][:2] for r in table["rows"]] == [["reviews", dr["spec"]["host"]]]
    assert table["metadata"]["resourceVersion"] == dr["metadata"]["resourceVersion"]


def test_include_object_and_table_version(sandbox: Sandbox) -> None:
    _, full = http(sandbox, VS_PATH, includeObject="Object")
    assert {r["object"]["kind"] for r in full["rows"]} == {"VirtualService"}
    assert {r["object"]["apiVersion"] for r in full["rows"]} == {"networking.istio.io/v1"}
    _, none = http(sandbox, VS_PATH, includeObject="None")
    assert {r["object"] is None for r in none["rows"]} == {True}
    _, beta = http(sandbox, VS_PATH, accept="application/json;as=Table;v=v1beta1;g=meta.k8s.io")
    assert_valid_table(beta, "v1beta1")
    status, err = http(sandbox, VS_PATH, includeObject="Everything")
    assert status == 400 and err["kind"] == "Status" and "includeObject" in err["message"]


def test_accept_without_a_servable_table_falls_back_to_json(sandbox: Sandbox) -> None:
    for accept in (None, "application/json", "application/yaml;as=Table;v=v1;g=meta.k8s.io,application/json",
                   "application/json;as=Table;v=v2;g=meta.k8s.io,application/json"):
        status, body = http(sandbox, VS_PATH, accept=accept)
        assert status == 200 and body["kind"] == "VirtualServiceList", accept
    # A protobuf Table is skipped in favour of the next clause the server can serve.
    _, body = http(sandbox, VS_PATH, accept="application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,"
                                            "application/json;as=Table;v=v1;g=meta.k8s.io")
    assert body["kind"] == "Table"


def test_paginated_table_carries_continue(sandbox: Sandbox) -> None:
    _, first = http(sandbox, "/api/v1/pods", limit="3")
    assert_valid_table(first)
    assert len(first["rows"]) == 3 and first["metadata"]["continue"]
    _, rest = http(sandbox, "/api/v1/pods", limit="500", **{"continue": first["metadata"]["continue"]})
    names = [r["cells"][0] for r in first["rows"] + rest["rows"]]
    assert names == [p["metadata"]["name"] for p in plain(sandbox, "/api/v1/pods")["items"]]


def test_watch_events_carry_tables_with_headers_once(sandbox: Sandbox, api: client.ApiClient) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    try:
        custom = client.CustomObjectsApi(api)
        rv = plain(sandbox, f"/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices")["metadata"]["resourceVersion"]
        for name in ("a", "b"):
            custom.create_namespaced_custom_object("networking.istio.io", "v1", ns, "virtualservices", {
                "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": name}, "spec": {"hosts": [name], "gateways": ["mesh"]}})
        status, events = http(sandbox, f"/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices",
                              watch="true", resourceVersion=rv, timeoutSeconds="1")
    finally:
        client.CoreV1Api(api).delete_namespace(ns)
    assert status == 200 and [e["type"] for e in events] == ["ADDED", "ADDED"]
    first, second = (e["object"] for e in events)
    assert first["kind"] == second["kind"] == "Table"
    assert [c["name"] for c in first["columnDefinitions"]][:3] == ["Name", "Gateways", "Hosts"]
    assert second["columnDefinitions"] is None
    assert [first["rows"][0]["cells"][:3], second["rows"][0]["cells"][:3]] == \
        [["a", '["mesh"]', '["a"]'], ["b", '["mesh"]', '["b"]']]


def test_core_kinds_have_kubectl_columns(sandbox: Sandbox) -> None:
    expected = {"/api/v1/namespaces/default/pods": ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                                   "Nominated Node", "Readiness Gates"],
                "/api/v1/namespaces/default/services": ["Name", "Type", "Cluster-IP", "External-IP", "Port(s)",
                                                       "Age", "Selector"],
                "/api/v1/namespaces/bookinfo/endpoints": ["Name", "Endpoints", "Age"],
                "/api/v1/namespaces": ["Name", "Status", "Age"],
                "/api/v1/namespaces/istio-system/configmaps": ["Name", "Data", "Age"],
                "/apis/apps/v1/namespaces/bookinfo/deployments": ["Name", "Ready", "Up-to-date", "Available", "Age",
                                                                  "Containers", "Images", "Selector"]}
    for path, names in expected.items():
        _, table = http(sandbox, path)
        assert_valid_table(table)
        assert [c["name"] for c in table["columnDefinitions"]] == names, path
        assert len(table["rows"]) == len(plain(sandbox, path)["items"]), path


def test_official_client_list_is_unchanged(api: client.ApiClient) -> None:
    listed = client.CustomObjectsApi(api).list_cluster_custom_object("networking.istio.io", "v1", "virtualservices")
    assert listed["kind"] == "VirtualServiceList" and listed["items"]
    assert all(o["kind"] == "VirtualService" and o["spec"]["hosts"] for o in listed["items"])
    pods = client.CoreV1Api(api).list_namespaced_pod("default")
    assert pods.items and all(p.status.pod_ip for p in pods.items)


def test_crd_columns_with_filters_and_types() -> None:
    """Printer columns the way CRDs commonly write them (condition filters, typed columns)."""
    defs, row = custom_resource_printer([
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas", "priority": 1},
        {"name": "Paused", "type": "boolean", "jsonPath": ".spec.paused"},
        {"name": "Missing", "type": "string", "jsonPath": ".status.nothing"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}])
    assert [(d["name"], d["priority"]) for d in defs] == [("Name", 0), ("Ready", 0), ("Replicas", 1),
                                                          ("Paused", 0), ("Missing", 0), ("Age", 0)]
    obj = {"metadata": {"name": "x", "creationTimestamp": "2020-01-01T00:00:00Z"},
           "spec": {"replicas": 3.0, "paused": False},
           "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}}
    cells, _ = row(obj, datetime(2020, 1, 1, 0, 5, tzinfo=timezone.utc))
    assert cells == ["x", "True", 3, False, None, "5m"]


# -- kubectl --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    yield c
    c.close()


@pytest.fixture(scope="module")
def kubectl(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("kubectl-home")

    def run(*args: str, input: str | None = None) -> str:
        env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path), "HOME": str(home)}
        done = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True, env=env,
                              timeout=60, check=False)
        assert done.returncode == 0, f"kubectl {' '.join(args)} failed: {done.stderr}"
        return done.stdout

    return run


def table_lines(out: str) -> tuple[list[str], list[list[str]]]:
    """kubectl's table: the header cells (split on 2+ spaces) and each row's cells."""
    import re

    lines = [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]
    return lines[0], lines[1:]


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_get_vs_all_namespaces_shows_hosts_and_gateways(kubectl, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    header, rows = table_lines(kubectl("get", "vs", "-A"))
    assert header == ["NAMESPACE", "NAME"] + [c["name"].upper() for c in crd_columns("VirtualService")]
    seen = {(r[0], r[1]): r for r in rows}
    for vs in plain(sandbox, VS_PATH)["items"]:
        row = seen[(vs["metadata"]["namespace"], vs["metadata"]["name"])]
        assert json.dumps(vs["spec"]["hosts"], separators=(",", ":")) in row
        if vs["spec"].get("gateways"):
            assert json.dumps(vs["spec"]["gateways"], separators=(",", ":")) in row


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_get_pods_wide_shows_ip_and_node(kubectl, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    header, rows = table_lines(kubectl("get", "pods", "-n", "default", "-o", "wide"))
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    pods = {p["metadata"]["name"]: p for p in plain(sandbox, "/api/v1/namespaces/default/pods")["items"]}
    assert {r[0] for r in rows} == set(pods)
    for r in rows:
        pod = pods[r[0]]
        containers = pod["status"]["containerStatuses"]
        assert r[1] == f"{sum(1 for c in containers if c['ready'])}/{len(pod['spec']['containers'])}"
        assert r[5:7] == [pod["status"]["podIP"], pod["spec"]["nodeName"]]
    header, _ = table_lines(kubectl("get", "pods", "-n", "default"))
    assert header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_get_svc_shows_cluster_ip_and_ports(kubectl, sandbox: Sandbox) -> None:  # type: ignore[no-untyped-def]
    header, rows = table_lines(kubectl("get", "svc", "-n", "bookinfo"))
    assert header == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    svcs = {s["metadata"]["name"]: s for s in plain(sandbox, "/api/v1/namespaces/bookinfo/services")["items"]}
    assert {r[0] for r in rows} == set(svcs)
    for r in rows:
        spec = svcs[r[0]]["spec"]
        ports = ",".join(f"{p['port']}/{p['protocol']}" for p in spec["ports"])
        assert r[1:5] == [spec["type"], spec["clusterIP"], "<none>", ports]


@pytest.mark.kubectl
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_kubectl_get_se_and_dr_of_a_sample(kubectl) -> None:  # type: ignore[no-untyped-def]
    ns = f"k-{uuid.uuid4().hex[:8]}"
    sample = CONFORMANCE_ROOT / "samples" / "bookinfo" / "networking" / "egress-rule-google-apis.yaml"
    docs = {d["kind"]: d for d in yaml.safe_load_all(sample.read_text(encoding="utf-8")) if d}
    kubectl("create", "namespace", ns)
    try:
        kubectl("apply", "-n", ns, "-f", str(sample))
        header, rows = table_lines(kubectl("get", "se", "-n", ns))
        assert header == ["NAME"] + [c["name"].upper() for c in crd_columns("ServiceEntry")]
        se = docs["ServiceEntry"]
        assert rows[0][:2] == [se["metadata"]["name"], json.dumps(se["spec"]["hosts"], separators=(",", ":"))]
        assert se["spec"]["resolution"] in rows[0]
        header, rows = table_lines(kubectl("get", "dr", "-n", ns))
        assert header == ["NAME"] + [c["name"].upper() for c in crd_columns("DestinationRule")]
        assert rows[0][:2] == [docs["DestinationRule"]["metadata"]["name"], docs["DestinationRule"]["spec"]["host"]]
    finally:
        kubectl("delete", "namespace", ns, "--wait=false")
