"""A gateway pod's Envoy config is what istiod gives a gateway proxy (a ``router``), not a sidecar's.

Istio (``pilot/pkg/networking/core/gateway.go``, ``pilot/pkg/model/gateway.go``): a router's
listeners come only from its Gateway servers, named ``0.0.0.0_<port>`` where the port is the
target port of the Service port the server names (``resolvePorts``; a selector Gateway keeps the
number when no Service port matches); plain HTTP servers take routes from ``http.<that port>``,
an HTTPS server terminating TLS from ``https.<number>.<port name>.<gateway>.<namespace>``;
virtual hosts are ``<host>:<server port>`` with the one domain ``<host>``; an empty route
config holds ``blackhole:<port>``; clusters are the outbound ones and ``BlackHoleCluster``
(``cluster.go``: no passthrough or inbound clusters). The sandbox's pods answer their admin
port with that config; the expectations are computed from the API objects read back through
the official client, and checked against the shape of Istio's gateway dumps in the conformance data.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.stream import portforward

from meshtui.cli import main
from meshtui.envoy.generate import generate_config_dump
from meshtui.model.index import MeshIndex
from paths import CONFORMANCE_ROOT

ADMIN = "type.googleapis.com/envoy.admin.v3."
SUFFIX = "cluster.local"
GOLDEN_GATEWAYS = ["routes-istio-gateway-http-route-prefix", "routes-k8s-gateway-http-route-path-prefix"]


@pytest.fixture(scope="module")
def api(sandbox: Any) -> Iterator[client.ApiClient]:
    """The official client on the session sandbox (read only here)."""
    a = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    yield a
    a.close()


def _pod(api: client.ApiClient, namespace: str, selector: str) -> Any:
    return client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=selector).items[0]


def _admin(api: client.ApiClient, namespace: str, pod: str, path: str) -> dict[str, Any]:
    """GET ``path`` (JSON) from the pod's Envoy admin, through the port-forward istioctl uses."""
    pf = portforward(client.CoreV1Api(api).connect_get_namespaced_pod_portforward, pod, namespace, ports="15000")
    try:
        sock = pf.socket(15000)
        sock.settimeout(30)
        conn = http.client.HTTPConnection("localhost", 15000)
        conn.sock = sock
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200
        return dict(json.loads(resp.read()))
    finally:
        pf.close()


def _dump(api: client.ApiClient, namespace: str, pod: str) -> dict[str, Any]:
    return _admin(api, namespace, pod, "/config_dump")


def _section(dump: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in dump["configs"] if c["@type"] == ADMIN + kind)


def _listeners(dump: dict[str, Any]) -> list[dict[str, Any]]:
    return [x["active_state"]["listener"] for x in _section(dump, "ListenersConfigDump").get("dynamic_listeners", [])]


def _route_configs(dump: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["route_config"]["name"]: r["route_config"]
            for r in _section(dump, "RoutesConfigDump").get("dynamic_route_configs", [])}


def _clusters(dump: dict[str, Any]) -> set[str]:
    return {c["cluster"]["name"] for c in _section(dump, "ClustersConfigDump").get("dynamic_active_clusters", [])}


def _rds(listener: dict[str, Any]) -> list[str]:
    return [f["typed_config"]["rds"]["route_config_name"] for chain in listener["filter_chains"]
            for f in chain["filters"] if "rds" in f.get("typed_config", {})]


def _target_port(service: Any, port: int) -> int | None:
    """The target port of ``service``'s port ``port`` (numbers only: the demo's gateways use them)."""
    for p in service.spec.ports:
        if p.port == port:
            return int(p.target_port) if p.target_port is not None else p.port
    return None


def _gateway_api_facts(api: client.ApiClient) -> tuple[Any, dict[str, Any], Any, dict[str, Any]]:
    """The storefront Gateway, its pod, its Service (``<name>-<class>``) and the HTTPRoute ``web``."""
    custom = client.CustomObjectsApi(api)
    gw = custom.get_namespaced_custom_object("gateway.networking.k8s.io", "v1", "storefront", "gateways",
                                             "storefront-gateway")
    pod = _pod(api, "storefront", "gateway.networking.k8s.io/gateway-name=storefront-gateway")
    svc = client.CoreV1Api(api).read_namespaced_service(f"storefront-gateway-{gw['spec']['gatewayClassName']}",
                                                        "storefront")
    route = custom.get_namespaced_custom_object("gateway.networking.k8s.io", "v1", "storefront", "httproutes", "web")
    return pod, gw, svc, route


def test_the_gateway_api_gateways_pod_listens_on_its_listener_ports_only(
        sandbox: Any, api: client.ApiClient, capsys: pytest.CaptureFixture[str]) -> None:
    pod, gw, svc, _route = _gateway_api_facts(api)
    ports = sorted({_target_port(svc, x["port"]) for x in gw["spec"]["listeners"]} - {None})
    assert ports
    listeners = _listeners(_dump(api, "storefront", pod.metadata.name))
    # No virtualOutbound/virtualInbound, no per-service outbound listeners: one per Gateway port.
    assert sorted(x["name"] for x in listeners) == sorted(f"0.0.0.0_{p}" for p in ports)
    assert all(x["traffic_direction"] == "OUTBOUND" for x in listeners)
    assert sorted(r for x in listeners for r in _rds(x)) == sorted(f"http.{p}" for p in ports)
    # istioctl's table for a gateway: one row per listener, its routes by RDS name.
    assert main(["proxy-config", "listeners", f"{pod.metadata.name}.storefront",
                 "--kubeconfig", str(sandbox.kubeconfig_path)]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["ADDRESSES", "PORT", "MATCH", "DESTINATION"]
    assert [r.split() for r in rows] == [["0.0.0.0", str(p), "ALL", "Route:", f"http.{p}"] for p in ports]


def test_the_gateway_api_gateways_routes_are_its_listeners_with_the_httproute_split(api: client.ApiClient) -> None:
    pod, gw, svc, route = _gateway_api_facts(api)
    listener = next(x for x in gw["spec"]["listeners"] if x["name"] == route["spec"]["parentRefs"][0]["sectionName"])
    configs = _route_configs(_dump(api, "storefront", pod.metadata.name))
    name = f"http.{_target_port(svc, listener['port'])}"
    assert list(configs) == [name]
    vhosts = configs[name]["virtual_hosts"]
    assert [(v["name"], v["domains"]) for v in vhosts] == [(f"{h}:{listener['port']}", [h])
                                                           for h in sorted(route["spec"]["hostnames"])]
    split = next(r for r in route["spec"]["rules"] if len(r["backendRefs"]) > 1)
    expected = {f"outbound|{b['port']}||{b['name']}.storefront.svc.{SUFFIX}": b["weight"] for b in split["backendRefs"]}
    weighted = [{c["name"]: c["weight"] for c in r["route"]["weighted_clusters"]["clusters"]}
                for r in vhosts[0]["routes"] if "weighted_clusters" in r.get("route", {})]
    assert weighted == [expected]


def test_a_gateway_has_outbound_clusters_for_every_service_and_no_inbound_ones(api: client.ApiClient) -> None:
    pod, *_ = _gateway_api_facts(api)
    clusters = _clusters(_dump(api, "storefront", pod.metadata.name))
    assert "BlackHoleCluster" in clusters
    assert not {"PassthroughCluster", "InboundPassthroughCluster"} & clusters
    assert not [c for c in clusters if c.startswith("inbound|")]
    # Envoy's /clusters (what `proxy-config endpoints` reads) lists the same clusters.
    statuses = _admin(api, "storefront", pod.metadata.name, "/clusters?format=json")["cluster_statuses"]
    assert {c["name"] for c in statuses} == clusters
    for svc in client.CoreV1Api(api).list_service_for_all_namespaces().items:
        if svc.spec.type == "ExternalName":
            continue
        for p in svc.spec.ports:
            assert f"outbound|{p.port}||{svc.metadata.name}.{svc.metadata.namespace}.svc.{SUFFIX}" in clusters


def test_the_istio_ingress_gateway_listens_on_the_target_ports_of_its_servers(api: client.ApiClient) -> None:
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    pod = _pod(api, "istio-system", "istio=ingressgateway")
    labels = pod.metadata.labels
    services = [s for s in core.list_namespaced_service("istio-system").items
                if s.spec.selector and all(labels.get(k) == v for k, v in s.spec.selector.items())]
    gateways = [g for g in custom.list_cluster_custom_object("networking.istio.io", "v1", "gateways")["items"]
                if all(labels.get(k) == v for k, v in (g["spec"].get("selector") or {}).items())]
    assert gateways and services

    def listen(number: int) -> int:  # resolvePorts with a selector: the first Service port's target, else itself
        return next((t for s in services if (t := _target_port(s, number)) is not None), number)

    servers = [(g, s) for g in gateways for s in g["spec"]["servers"]]
    ports = sorted({listen(s["port"]["number"]) for _g, s in servers})
    dump = _dump(api, "istio-system", pod.metadata.name)
    assert sorted(x["name"] for x in _listeners(dump)) == [f"0.0.0.0_{p}" for p in ports]
    configs = _route_configs(dump)
    assert sorted(configs) == sorted(f"http.{p}" for p in ports)
    # catalog-gateway's server port 80 is the Service's 80 -> 8080: its host on http.8080, named by port 80.
    catalog = next(s for g, s in servers if g["metadata"]["name"] == "catalog-gateway")
    host = catalog["hosts"][0]
    vhost = next(v for v in configs[f"http.{listen(catalog['port']['number'])}"]["virtual_hosts"]
                 if v["name"] == f"{host}:{catalog['port']['number']}")
    assert vhost["domains"] == [host]
    assert listen(catalog["port"]["number"]) != catalog["port"]["number"]


def test_gateway_route_configs_have_the_shape_of_istios_gateway_dumps(api: client.ApiClient) -> None:
    def shape(rc: dict[str, Any]) -> list[tuple[bool, bool, bool]]:
        return [(rc["name"].startswith("http."), rc.get("ignore_port_in_host_matching") is True,
                 v["domains"] == [v["name"].rpartition(":")[0]]) for v in rc["virtual_hosts"]]

    golden = [shape(rc) for case in GOLDEN_GATEWAYS for rc in _route_configs(
        json.loads((CONFORMANCE_ROOT / "proxy-config" / case / "config_dump.json").read_text())).values()]
    assert golden and all(s == [(True, True, True)] * len(s) for s in golden)
    for ns, selector in (("storefront", "gateway.networking.k8s.io/gateway-name=storefront-gateway"),
                         ("istio-system", "istio=ingressgateway")):
        dump = _dump(api, ns, _pod(api, ns, selector).metadata.name)
        for rc in _route_configs(dump).values():
            assert shape(rc) == [(True, True, True)] * len(rc["virtual_hosts"])


def test_a_sidecar_keeps_its_outbound_and_inbound_listeners(api: client.ApiClient) -> None:
    pod = _pod(api, "storefront", "app=web")
    names = {x["name"] for x in _listeners(_dump(api, "storefront", pod.metadata.name))}
    assert {"virtualOutbound", "virtualInbound"} <= names


# -- generated from hand-written mesh config: servers the demo does not have -------------------------


def _gateway_pod(labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gw-0", "namespace": "edge", "labels": labels},
            "spec": {"containers": [{"name": "istio-proxy", "image": "proxyv2", "args": ["proxy", "router"]}]},
            "status": {"phase": "Running", "podIP": "10.1.0.5", "conditions": [{"type": "Ready", "status": "True"}]}}


def _service(name: str, selector: dict[str, str], ports: list[tuple[int, int]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "edge"},
            "spec": {"selector": selector, "clusterIP": "10.96.9.9",
                     "ports": [{"name": f"p{p}", "port": p, "targetPort": t} for p, t in ports]}}


def _istio_gateway(servers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "edge", "namespace": "edge"},
            "spec": {"selector": {"app": "gw"}, "servers": servers}}


def _generated(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return generate_config_dump(MeshIndex(objects), "edge", "gw-0")


def test_an_https_server_gets_an_sni_chain_and_its_own_route_config() -> None:
    dump = _generated([
        _gateway_pod({"app": "gw"}), _service("gw", {"app": "gw"}, [(443, 8443)]),
        _istio_gateway([{"port": {"number": 443, "name": "https-a", "protocol": "HTTPS"}, "hosts": ["a.example.com"],
                         "tls": {"mode": "SIMPLE", "credentialName": "a-cert"}}]),
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "a", "namespace": "edge"},
         "spec": {"hosts": ["a.example.com"], "gateways": ["edge"],
                  "http": [{"route": [{"destination": {"host": "gw", "port": {"number": 443}}}]}]}},
    ])
    (listener,) = _listeners(dump)
    assert listener["name"] == "0.0.0.0_8443"
    (chain,) = listener["filter_chains"]
    assert chain["filter_chain_match"]["server_names"] == ["a.example.com"]
    # gatewayRDSRouteName: https.<server port>.<port name>.<gateway name>.<gateway namespace>
    assert _rds(listener) == ["https.443.https-a.edge.edge"]
    rc = _route_configs(dump)["https.443.https-a.edge.edge"]
    assert [(v["name"], v["domains"]) for v in rc["virtual_hosts"]] == [("a.example.com:443", ["a.example.com"])]


def test_a_server_without_virtual_services_answers_from_a_blackhole_virtual_host() -> None:
    dump = _generated([_gateway_pod({"app": "gw"}), _service("gw", {"app": "gw"}, [(80, 8080)]),
                       _istio_gateway([{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}])])
    assert [x["name"] for x in _listeners(dump)] == ["0.0.0.0_8080"]
    assert _route_configs(dump)["http.8080"]["virtual_hosts"] == [{"name": "blackhole:80", "domains": ["*"],
                                                                  "routes": []}]


def test_a_tcp_server_without_a_tcp_route_has_no_listener() -> None:
    dump = _generated([_gateway_pod({"app": "gw"}), _service("gw", {"app": "gw"}, [(31400, 31400)]),
                       _istio_gateway([{"port": {"number": 31400, "name": "tcp", "protocol": "TCP"}, "hosts": ["*"]}])])
    assert _listeners(dump) == [] and _route_configs(dump) == {}


def _k8s_gateway(objects: list[dict[str, Any]]) -> dict[str, Any]:
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "edge", "namespace": "edge"},
          "spec": {"gatewayClassName": "istio", "listeners": [{"name": "web", "port": 80, "protocol": "HTTP"}]}}
    pod = _gateway_pod({"gateway.networking.k8s.io/gateway-name": "edge"})
    pod["spec"]["containers"][0].pop("args")  # istiod's deployment template is recognised by its label
    return _generated([gw, pod, *objects])


def test_a_gateway_api_listener_port_follows_its_services_target_port() -> None:
    dump = _k8s_gateway([_service("edge-istio", {"gateway.networking.k8s.io/gateway-name": "edge"}, [(80, 8080)])])
    assert [x["name"] for x in _listeners(dump)] == ["0.0.0.0_8080"]
    assert list(_route_configs(dump)) == ["http.8080"]
    assert "virtualInbound" not in {x["name"] for x in _listeners(dump)}


def test_without_its_service_a_gateway_api_gateway_listens_where_istiods_service_would_send() -> None:
    # istiod's deployment controller gives the Service each listener's port, targeting itself.
    assert [x["name"] for x in _listeners(_k8s_gateway([]))] == ["0.0.0.0_80"]


def test_gateway_api_tls_passthrough_and_tcp_listeners_proxy_to_their_routes_backends() -> None:
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "edge", "namespace": "edge"},
          "spec": {"gatewayClassName": "istio", "listeners": [
              {"name": "tls", "port": 443, "protocol": "TLS", "hostname": "db.example.com", "tls": {"mode": "Passthrough"}},
              {"name": "tcp", "port": 5432, "protocol": "TCP"}]}}
    pod = _gateway_pod({"gateway.networking.k8s.io/gateway-name": "edge"})

    def route(kind: str, section: str) -> dict[str, Any]:
        return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": kind,
                "metadata": {"name": section, "namespace": "edge"},
                "spec": {"parentRefs": [{"name": "edge", "sectionName": section}],
                         "rules": [{"backendRefs": [{"name": "db", "port": 5432}]}]}}

    dump = _generated([gw, pod, _service("db", {"app": "db"}, [(5432, 5432)]),
                       route("TLSRoute", "tls"), route("TCPRoute", "tcp")])
    by_name = {x["name"]: x for x in _listeners(dump)}
    assert sorted(by_name) == ["0.0.0.0_443", "0.0.0.0_5432"]
    cluster = f"outbound|5432||db.edge.svc.{SUFFIX}"
    (tls,) = by_name["0.0.0.0_443"]["filter_chains"]
    # Passthrough: matched by SNI (the listener's hostname), proxied as TCP without terminating.
    assert tls["filter_chain_match"]["server_names"] == ["db.example.com"] and "transport_socket" not in tls
    assert tls["filters"][0]["typed_config"]["cluster"] == cluster
    (tcp,) = by_name["0.0.0.0_5432"]["filter_chains"]
    assert tcp["filters"][0]["typed_config"]["cluster"] == cluster
    assert _route_configs(dump) == {}


def test_an_istio_tls_server_without_a_mode_passes_tls_through_by_sni() -> None:
    # ServerTLSSettings' mode defaults to PASSTHROUGH: the gateway routes by SNI, never terminates.
    dump = _generated([
        _gateway_pod({"app": "gw"}), _service("gw", {"app": "gw"}, [(443, 8443)]), _service("db", {"app": "db"},
                                                                                          [(5432, 5432)]),
        _istio_gateway([{"port": {"number": 443, "name": "tls", "protocol": "TLS"}, "hosts": ["*.example.com"],
                         "tls": {}}]),
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "db", "namespace": "edge"},
         "spec": {"hosts": ["db.example.com"], "gateways": ["edge"],
                  "tls": [{"match": [{"sniHosts": ["db.example.com"]}],
                           "route": [{"destination": {"host": "db", "port": {"number": 5432}}}]}]}},
    ])
    (listener,) = _listeners(dump)
    (chain,) = listener["filter_chains"]
    assert listener["name"] == "0.0.0.0_8443" and "transport_socket" not in chain
    assert chain["filter_chain_match"]["server_names"] == ["db.example.com"]
    assert chain["filters"][0]["typed_config"]["cluster"] == f"outbound|5432||db.edge.svc.{SUFFIX}"


def test_route_decorators_are_istios_operation_names_in_every_conformance_dump() -> None:
    from meshtui.envoy.gen_routes import route_operation

    checked = 0
    for path in sorted((CONFORMANCE_ROOT / "proxy-config").rglob("*config_dump.json")):
        for section in json.loads(path.read_text()).get("configs", []):
            for rc in section.get("dynamic_route_configs", []):
                for vh in rc["route_config"].get("virtual_hosts", []):
                    port = vh["name"].rpartition(":")[2]
                    for r in vh.get("routes", []):
                        config = r.get("metadata", {}).get("filter_metadata", {}).get("istio", {}).get("config", "")
                        if "operation" not in r.get("decorator", {}) or not (config or "cluster" in r.get("route", {})):
                            continue
                        if not port.isdigit():
                            continue
                        assert route_operation(r, config.rpartition("/")[2], int(port)) == r["decorator"]["operation"], path
                        checked += 1
    assert checked > 10


def test_an_unmanaged_gateway_api_gateway_is_served_by_the_pods_behind_the_service_it_names() -> None:
    # extractGatewayServices: a Hostname address names the Service; mergeGateways: its pods serve it.
    gw = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "byo", "namespace": "edge"},
          "spec": {"gatewayClassName": "istio", "addresses": [{"type": "Hostname", "value": "gw"}],
                   "listeners": [{"name": "web", "port": 80, "protocol": "HTTP"}]}}
    dump = _generated([gw, _gateway_pod({"app": "gw"}), _service("gw", {"app": "gw"}, [(80, 8080)])])
    assert [x["name"] for x in _listeners(dump)] == ["0.0.0.0_8080"]
    assert list(_route_configs(dump)) == ["http.8080"]
