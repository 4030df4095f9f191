"""Pod port-forward in the sandbox, driven by the official client's ``kubernetes.stream.portforward``.

Port 15000 of a pod with an ``istio-proxy`` container is a simulated Envoy admin; the expected
routes, clusters and endpoints come from the objects the test writes, never from the sandbox.
"""

from __future__ import annotations

import http.client
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.stream import portforward

from meshtui.sandbox.server import Sandbox

NS = "meshtui-pf-test"
HOST = f"echo.{NS}.svc.cluster.local"
V1_IP, V2_IP, PLAIN_IP = "10.244.90.11", "10.244.90.12", "10.244.90.13"
TYPES = "type.googleapis.com/envoy.admin.v3."


def pod_body(name: str, version: str, ip: str, sidecar: bool = True) -> dict[str, Any]:
    """A running, ready pod of the ``echo`` app, as the kubelet would have reported it."""
    containers = [{"name": "echo", "image": "echo:1", "ports": [{"containerPort": 8080}]}]
    if sidecar:
        containers.append({"name": "istio-proxy", "image": "proxyv2:1.24"})
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS,
                     "labels": {"app": "echo" if sidecar else "plain", "version": version}},
        "spec": {"nodeName": "node-1", "containers": containers},
        "status": {"phase": "Running", "podIP": ip,
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }


def vs_body(v1: int, v2: int) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "echo", "namespace": NS},
            "spec": {"hosts": ["echo"], "http": [{"route": [
                {"destination": {"host": "echo", "subset": "v1"}, "weight": v1},
                {"destination": {"host": "echo", "subset": "v2"}, "weight": v2}]}]}}


@pytest.fixture(scope="module")
def kubeconfig(sandbox: Sandbox) -> Path:
    """The session sandbox's kubeconfig (admin context current)."""
    assert sandbox.kubeconfig_path is not None
    return sandbox.kubeconfig_path


@pytest.fixture(scope="module")
def core(kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    """The official client (admin context), with the echo mesh written through it."""
    api = config.new_client_from_config(str(kubeconfig), persist_config=False)
    core = client.CoreV1Api(api)
    custom = client.CustomObjectsApi(api)
    core.create_namespace({"metadata": {"name": NS}})
    core.create_namespaced_service(NS, {"metadata": {"name": "echo"}, "spec": {
        "selector": {"app": "echo"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    core.create_namespaced_pod(NS, pod_body("echo-v1-a", "v1", V1_IP))
    core.create_namespaced_pod(NS, pod_body("echo-v2-a", "v2", V2_IP))
    core.create_namespaced_pod(NS, pod_body("plain-a", "v1", PLAIN_IP, sidecar=False))
    custom.create_namespaced_custom_object("networking.istio.io", "v1", NS, "destinationrules", {
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "echo", "namespace": NS},
        "spec": {"host": "echo", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                             {"name": "v2", "labels": {"version": "v2"}}]}})
    custom.create_namespaced_custom_object("networking.istio.io", "v1", NS, "virtualservices",
                                           vs_body(70, 30))
    yield core
    core.delete_namespace(NS)
    api.close()


def admin_get(core: client.CoreV1Api, path: str, pod: str = "echo-v1-a") -> tuple[int, bytes]:
    """GET ``path`` from the pod's Envoy admin through the port-forward, as istioctl does."""
    pf = portforward(core.connect_get_namespaced_pod_portforward, pod, NS, ports="15000")
    try:
        sock = pf.socket(15000)
        sock.settimeout(30)
        conn = http.client.HTTPConnection("localhost", 15000)
        conn.sock = sock
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        pf.close()


def config_of(dump: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((c for c in dump["configs"] if c["@type"] == TYPES + kind), None)


def echo_route_weights(dump: dict[str, Any]) -> dict[str, int]:
    routes = config_of(dump, "RoutesConfigDump")
    assert routes is not None
    for rc in routes.get("dynamic_route_configs", []):
        for vh in rc["route_config"].get("virtual_hosts", []):
            if HOST in vh["domains"]:
                wc = vh["routes"][0]["route"]["weighted_clusters"]["clusters"]
                return {c["name"]: c["weight"] for c in wc}
    raise AssertionError(f"no virtual host for {HOST}")


def test_config_dump_is_json_and_follows_the_virtual_service(core: client.CoreV1Api) -> None:
    status, body = admin_get(core, "/config_dump")
    assert status == 200
    dump = json.loads(body)
    for kind in ("BootstrapConfigDump", "ClustersConfigDump", "ListenersConfigDump",
                 "RoutesConfigDump"):
        assert config_of(dump, kind) is not None, kind
    assert config_of(dump, "EndpointsConfigDump") is None  # only with ?include_eds
    assert echo_route_weights(dump) == {f"outbound|80|v1|{HOST}": 70, f"outbound|80|v2|{HOST}": 30}
    clusters = {c["cluster"]["name"] for c in config_of(dump, "ClustersConfigDump")["dynamic_active_clusters"]}
    assert {f"outbound|80||{HOST}", f"outbound|80|v1|{HOST}", f"outbound|80|v2|{HOST}"} <= clusters

    client.CustomObjectsApi(core.api_client).patch_namespaced_custom_object(
        "networking.istio.io", "v1", NS, "virtualservices", "echo",
        {"spec": vs_body(20, 80)["spec"]})
    status, body = admin_get(core, "/config_dump")
    assert echo_route_weights(json.loads(body)) == {
        f"outbound|80|v1|{HOST}": 20, f"outbound|80|v2|{HOST}": 80}


def test_include_eds_adds_the_endpoints_of_each_subset(core: client.CoreV1Api) -> None:
    status, body = admin_get(core, "/config_dump?include_eds")
    assert status == 200
    eds = config_of(json.loads(body), "EndpointsConfigDump")
    assert eds is not None
    addresses = {}
    for cfg in eds["dynamic_endpoint_configs"]:
        la = cfg["endpoint_config"]
        addresses[la["cluster_name"]] = sorted(
            (lb["endpoint"]["address"]["socket_address"]["address"],
             lb["endpoint"]["address"]["socket_address"]["port_value"])
            for group in la.get("endpoints", []) for lb in group["lb_endpoints"])
    assert addresses[f"outbound|80|v1|{HOST}"] == [(V1_IP, 8080)]
    assert addresses[f"outbound|80|v2|{HOST}"] == [(V2_IP, 8080)]
    assert addresses[f"outbound|80||{HOST}"] == [(V1_IP, 8080), (V2_IP, 8080)]


def test_clusters_json_lists_hosts_per_cluster(core: client.CoreV1Api) -> None:
    status, body = admin_get(core, "/clusters?format=json")
    assert status == 200
    statuses = {c["name"]: c for c in json.loads(body)["cluster_statuses"]}
    hosts = [h["address"]["socket_address"] for h in statuses[f"outbound|80|v2|{HOST}"]["host_statuses"]]
    assert hosts == [{"address": V2_IP, "port_value": 8080}]


def test_ready_and_unknown_paths(core: client.CoreV1Api) -> None:
    assert admin_get(core, "/ready") == (200, b"LIVE\n")
    status, body = admin_get(core, "/no-such-endpoint")
    assert status == 404
    assert b"admin commands are" in body


def test_one_forwarded_connection_serves_several_requests(core: client.CoreV1Api) -> None:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "echo-v2-a", NS, ports="15000")
    try:
        sock = pf.socket(15000)
        sock.settimeout(30)
        conn = http.client.HTTPConnection("localhost", 15000)
        conn.sock = sock
        for path in ("/ready", "/clusters?format=json", "/ready"):
            conn.request("GET", path)
            resp = conn.getresponse()
            assert resp.status == 200
            resp.read()
    finally:
        pf.close()


def test_a_request_with_connection_close_is_answered_then_closed(core: client.CoreV1Api) -> None:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "echo-v1-a", NS, ports="15000")
    try:
        sock = pf.socket(15000)
        sock.settimeout(30)
        sock.sendall(b"GET /config_dump HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    finally:
        pf.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert config_of(json.loads(body), "ClustersConfigDump") is not None


def read_to_eof(pf: Any, port: int) -> bytes:
    sock = pf.socket(port)
    sock.settimeout(30)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_other_ports_are_refused_like_a_kubelet(core: client.CoreV1Api) -> None:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "echo-v1-a", NS, ports="15001")
    try:
        assert read_to_eof(pf, 15001) == b""
        assert "connect: connection refused" in pf.error(15001)
        assert "15001" in pf.error(15001)
    finally:
        pf.close()


def test_a_pod_without_sidecar_has_no_envoy_admin(core: client.CoreV1Api) -> None:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "plain-a", NS, ports="15000")
    try:
        assert read_to_eof(pf, 15000) == b""
        assert "connection refused" in pf.error(15000)
    finally:
        pf.close()


def test_two_ports_on_one_websocket(core: client.CoreV1Api) -> None:
    pf = portforward(core.connect_get_namespaced_pod_portforward, "echo-v1-a", NS,
                     ports="15001,15000")
    try:
        assert read_to_eof(pf, 15001) == b""
        assert "connection refused" in pf.error(15001)
        sock = pf.socket(15000)
        sock.settimeout(30)
        conn = http.client.HTTPConnection("localhost", 15000)
        conn.sock = sock
        conn.request("GET", "/ready")
        assert conn.getresponse().read() == b"LIVE\n"
        assert pf.error(15000) is None
    finally:
        pf.close()


def test_the_channel_protocol_is_v4_with_port_headers(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    cfg = core.api_client.configuration
    url = sandbox.url.replace("https://", "wss://").replace("http://", "ws://")
    ws = websocket.create_connection(
        f"{url}/api/v1/namespaces/{NS}/pods/echo-v1-a/portforward?ports=15000",
        header=[f"authorization: Bearer {sandbox.admin_token}"],
        subprotocols=["v5.channel.k8s.io", "v4.channel.k8s.io"],
        sslopt={"cert_reqs": ssl.CERT_REQUIRED, "ca_certs": cfg.ssl_ca_cert}, timeout=30)
    try:
        assert ws.subprotocol == "v4.channel.k8s.io"  # the kubelet has no v5 port-forward
        assert ws.recv() == b"\x00\x98\x3a"  # data channel, port 15000 little-endian
        assert ws.recv() == b"\x01\x98\x3a"  # error channel
        ws.send_binary(b"\x00GET /ready HTTP/1.1\r\nHost: x\r\n\r\n")
        frame = ws.recv()
        assert frame[:1] == b"\x00" and frame.endswith(b"LIVE\n")
    finally:
        ws.close()


def test_unknown_pod_and_missing_token_are_refused(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException, match="404"):
        portforward(core.connect_get_namespaced_pod_portforward, "ghost", NS, ports="15000")
    anonymous = client.Configuration()
    anonymous.host = core.api_client.configuration.host
    anonymous.ssl_ca_cert = core.api_client.configuration.ssl_ca_cert
    with client.ApiClient(anonymous) as api:
        with pytest.raises(ApiException, match="401"):
            portforward(client.CoreV1Api(api).connect_get_namespaced_pod_portforward,
                        "echo-v1-a", NS, ports="15000")


def test_deleting_the_pod_ends_its_port_forward(core: client.CoreV1Api) -> None:
    core.create_namespaced_pod(NS, pod_body("echo-v1-doomed", "v1", "10.244.90.20"))
    pf = portforward(core.connect_get_namespaced_pod_portforward, "echo-v1-doomed", NS,
                     ports="15000")
    try:
        sock = pf.socket(15000)
        sock.settimeout(30)
        conn = http.client.HTTPConnection("localhost", 15000)
        conn.sock = sock
        conn.request("GET", "/ready")
        assert conn.getresponse().read() == b"LIVE\n"  # the session is up
        core.delete_namespaced_pod("echo-v1-doomed", NS)
        assert sock.recv(4096) == b""
    finally:
        pf.close()
