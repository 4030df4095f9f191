"""The sandbox's traffic simulator: access-log lines in Istio's default format that follow the
configured routing, read back through the official client and meshtui's access-log parser.

Istio semantics checked here: the outbound cluster name ``outbound|<port>|<subset>|<fqdn>`` and
the inbound ``inbound|<targetPort>||``; ``X-ENVOY-ORIGINAL-PATH`` keeping the path the client
sent when a rule rewrites it; fault flags ``FI`` / ``DI``; mirrored requests logged with the
authority ``<host>-shadow``; retries on 503 (Istio's default policy) with ``URX`` when exhausted.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.accesslog import Record, make_parser
from meshtui.cli import main
from meshtui.sandbox import podgen, scenario
from meshtui.sandbox.loghub import LogHub
from meshtui.sandbox.server import Sandbox
from meshtui.sandbox.store import Store, copy_obj
from meshtui.sandbox.access_lines import shadow_authority
from meshtui.sandbox.traffic import TrafficSimulator
from meshtui.sandbox.workloads import Flow, RequestKind

PARSER = make_parser()
BACKEND = "backend-service.default.svc.cluster.local"
WAIT_SECONDS = 60.0  # the longest any test waits for enough traffic (it normally takes seconds)


def parse_all(text: str) -> list[Record]:
    """Every line parsed; a line the default-format parser rejects fails the test."""
    records = []
    for line in text.splitlines():
        record = PARSER.parse(line)
        assert record is not None, f"not Istio's default format: {line}"
        records.append(record)
    return records


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    """Poll ``fetch`` until ``done`` holds (bounded by WAIT_SECONDS); returns the last value."""
    deadline = time.monotonic() + WAIT_SECONDS
    value = fetch()
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.2)
        value = fetch()
    return value


def within_binomial(hits: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Whether ``hits`` of ``n`` is within ``sigmas`` standard deviations of a share ``p``."""
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


# --- a sandbox of our own, with a higher request rate ---------------------------------------------

@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox sending 400 requests/s (this module changes its objects)."""
    sb = Sandbox(traffic_rps=400, traffic_seed=11).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("traffic") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def api(busy: Sandbox) -> client.ApiClient:
    """The official client on the busy sandbox."""
    assert busy.kubeconfig_path is not None
    return config.new_client_from_config(str(busy.kubeconfig_path), persist_config=False)


def pods(core: client.CoreV1Api, ns: str, selector: str) -> dict[str, str]:
    """Pod name -> pod IP for a label selector."""
    return {p.metadata.name: p.status.pod_ip for p in core.list_namespaced_pod(ns, label_selector=selector).items}


def proxy_log(core: client.CoreV1Api, ns: str, pod: str) -> list[Record]:
    """The pod's istio-proxy access log, parsed."""
    return parse_all(core.read_namespaced_pod_log(pod, ns, container="istio-proxy"))


def curl_log(core: client.CoreV1Api) -> list[Record]:
    """The access log of the demo's mesh client in ``default``."""
    (name,) = pods(core, "default", "app=curl")
    return proxy_log(core, "default", name)


def split(records: list[Record]) -> Counter[str]:
    """Requests per subset of the ``default`` rule of backend-service."""
    return Counter(r.cluster.subset or "" for r in records
                   if r.route_name == "default" and r.cluster.host == BACKEND)


def test_weight_change_moves_the_observed_split(api: client.ApiClient) -> None:
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    before = wait_for(lambda: curl_log(core), lambda rs: sum(split(rs).values()) >= 400)
    counts = split(before)
    n = counts["v0"] + counts["v1"]
    assert n >= 400 and set(counts) == {"v0", "v1"}
    assert within_binomial(counts["v1"], n, 0.10), counts

    vs = custom.get_namespaced_custom_object("networking.istio.io", "v1", "default", "virtualservices",
                                             "backend-service")
    default_rule = next(r for r in vs["spec"]["http"] if r.get("name") == "default")
    for dest in default_rule["route"]:
        dest["weight"] = 50
    custom.replace_namespaced_custom_object("networking.istio.io", "v1", "default", "virtualservices",
                                            "backend-service", vs)
    changed_at = time.time()  # every request that starts later was routed by the new weights

    def after_change() -> list[Record]:
        return [r for r in curl_log(core) if (r.start_epoch or 0) > changed_at]

    after = split(wait_for(after_change, lambda rs: sum(split(rs).values()) >= 300))
    n = after["v0"] + after["v1"]
    assert n >= 300
    assert within_binomial(after["v1"], n, 0.50), after


def test_client_and_server_lines_describe_the_same_requests(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    v1 = pods(core, "default", "app=backend-service,version=v1")
    client_lines = wait_for(lambda: curl_log(core), lambda rs: len(rs) >= 200)
    (v1_name, v1_ip), = v1.items()
    server = {r.request_id: r for r in proxy_log(core, "default", v1_name)}
    to_v1 = [r for r in client_lines if r.cluster.subset == "v1" and r.request_id in server]
    assert to_v1
    for r in to_v1:
        assert r.upstream_cluster == f"outbound|80|v1|{BACKEND}"
        assert r.upstream_host == f"{v1_ip}:8080"  # the pod's container port behind Service port 80
        s = server[r.request_id]
        assert s.upstream_cluster == "inbound|8080||"
        assert s.downstream_local_address == f"{v1_ip}:8080"
        assert s.downstream_remote_address == r.upstream_local_address
        assert s.requested_server_name == f"outbound_.80_.v1_.{BACKEND}"
        assert (s.path, s.authority, s.user_agent) == (r.path, r.authority, r.user_agent)
        assert s.duration <= r.duration  # type: ignore[operator]


def test_canary_header_and_test_prefix_go_to_v1(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    v1_ips = set(pods(core, "default", "app=backend-service,version=v1").values())
    records = wait_for(lambda: curl_log(core),
                       lambda rs: sum(r.route_name in ("canary-header", "test-v1") for r in rs) >= 50)
    by_rule = defaultdict(list)
    for r in records:
        by_rule[r.route_name].append(r)
    assert by_rule["canary-header"] and by_rule["test-v1"]
    for r in by_rule["canary-header"] + by_rule["test-v1"]:
        assert r.cluster.subset == "v1"
        assert r.upstream_host.rsplit(":", 1)[0] in v1_ips  # type: ignore[union-attr]
    # The rewrite changes what the server is asked for, but the log keeps the path the client
    # sent (%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%), on both sides.
    assert all(r.path.startswith("/test/v1/") for r in by_rule["test-v1"])  # type: ignore[union-attr]


def test_a_pod_added_to_a_subset_starts_receiving_traffic(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    template = {"metadata": {"labels": {"app": "backend-service", "version": "v1"}},
                "spec": {"containers": [{"name": "backend", "image": "nicholasjackson/fake-service:v0.26.2",
                                         "ports": [{"containerPort": 8080}]}]}}
    pod = podgen.make_pod("default", "backend-service-v1", template, 7, "10.244.200.7")
    pod["metadata"]["name"] = "backend-service-v1-extra"
    core.create_namespaced_pod("default", pod)
    try:
        sni = f"outbound_.80_.v1_.{BACKEND}"
        records = wait_for(lambda: proxy_log(core, "default", "backend-service-v1-extra"),
                           lambda rs: sum(r.requested_server_name == sni for r in rs) >= 5)
        assert all(r.upstream_cluster == "inbound|8080||" for r in records)
        # Routed by the VirtualService: mTLS with the subset's SNI. The legacy gateway's
        # passthrough requests (a Host no VirtualService lists) arrive in plain text, no SNI.
        assert all(r.requested_server_name in (sni, None) for r in records)
        hosts = {r.upstream_host for r in curl_log(core)}
        assert "10.244.200.7:8080" in hosts
    finally:
        core.delete_namespaced_pod("backend-service-v1-extra", "default")


def test_gateway_logs_the_edge_request_and_catalog_goes_to_both_subsets(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    (gw,) = pods(core, "istio-system", "istio=ingressgateway")
    catalog = wait_for(lambda: [r for r in proxy_log(core, "istio-system", gw)
                                if r.authority == "catalog.istioinaction.io"],
                       lambda rs: {r.cluster.subset for r in rs} == {"v1", "v2"})
    assert catalog and all(r.cluster.host == "catalog.istioinaction.svc.cluster.local" for r in catalog)
    assert {r.cluster.subset for r in catalog} == {"v1", "v2"}


def test_productpage_errors_are_retried_by_the_gateway(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    (gw,) = pods(core, "istio-system", "istio=ingressgateway")
    edge = {r.request_id: r for r in proxy_log(core, "istio-system", gw)}
    attempts: dict[str, list[Record]] = defaultdict(list)

    def failed_at_productpage() -> list[str]:
        edge.update((r.request_id, r) for r in proxy_log(core, "istio-system", gw))
        attempts.clear()
        for name in pods(core, "bookinfo", "app=productpage"):
            for r in proxy_log(core, "bookinfo", name):
                if r.cluster is not None and r.cluster.direction == "inbound":
                    attempts[r.request_id].append(r)  # type: ignore[index]
        return [rid for rid, rs in attempts.items() if any(r.response_code == 503 for r in rs) and rid in edge]

    failed = wait_for(failed_at_productpage, lambda ids: len(ids) >= 3)
    assert failed, "productpage answers some 503s"
    for rid in failed:
        tries = sorted(attempts[rid], key=lambda r: r.start_epoch or 0)
        # Istio's default retry policy: up to 2 retries on 503; the edge sees the last answer.
        assert 1 <= len(tries) <= 3
        assert len(tries) > 1 or tries[0].response_code != 503
        assert edge[rid].response_code == tries[-1].response_code
        if len(tries) == 3 and tries[-1].response_code == 503:
            assert edge[rid].response_flags == "URX"


# --- the simulator on a store of its own (no server, deterministic) -------------------------------

MESH = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "lab"}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo", "namespace": "lab"},
     "spec": {"selector": {"app": "echo"}, "clusterIP": "10.96.7.7",
              "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}},
    {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
     "metadata": {"name": "echo", "namespace": "lab"},
     "spec": {"host": "echo", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                          {"name": "v2", "labels": {"version": "v2"}}]}},
    {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
     "metadata": {"name": "echo", "namespace": "lab"},
     "spec": {"hosts": ["echo"], "http": [
         {"name": "abort", "match": [{"headers": {"x-fault": {"exact": "abort"}}}],
          "fault": {"abort": {"httpStatus": 418, "percentage": {"value": 100}}},
          "route": [{"destination": {"host": "echo", "subset": "v1"}}]},
         {"name": "delay", "match": [{"headers": {"x-fault": {"exact": "delay"}}}],
          "fault": {"delay": {"fixedDelay": "700ms", "percentage": {"value": 100}}},
          "route": [{"destination": {"host": "echo", "subset": "v1"}}]},
         {"name": "main", "route": [{"destination": {"host": "echo", "subset": "v1"}}],
          "mirror": {"host": "echo", "subset": "v2"}, "mirrorPercentage": {"value": 100.0}}]}},
]


def lab() -> tuple[Store, LogHub, dict[str, dict[str, Any]]]:
    """A store with the ``lab`` mesh: echo v1 and v2 pods, a client pod."""
    store = Store()
    for obj in MESH:
        store.create(copy_obj(obj))
    made = {}
    for name, labels, ip in (("echo-v1", {"app": "echo", "version": "v1"}, "10.244.50.1"),
                             ("echo-v2", {"app": "echo", "version": "v2"}, "10.244.50.2"),
                             ("client", {"app": "client"}, "10.244.50.3")):
        template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "x"}]}}
        made[name] = store.create(podgen.make_pod("lab", name, template, 0, ip))
    return store, LogHub(), made


def lab_sim(store: Store, hub: LogHub, headers: tuple[tuple[str, str], ...] = ()) -> TrafficSimulator:
    """A simulator whose only caller is the lab client calling echo."""
    flow = Flow("lab", "lab", {"app": "client"}, 1.0, (RequestKind(1.0, "echo", ("/hello",), headers),),
                ("curl/8.16.0",))
    return TrafficSimulator(store, hub, rps=10, seed=5, flows=[flow])


def lines(hub: LogHub, pod: dict[str, Any]) -> list[Record]:
    """The parsed istio-proxy log of a pod in the lab."""
    return parse_all("\n".join(line for _ts, line in hub.read("lab", pod["metadata"]["name"], "istio-proxy")))


def test_fault_abort_answers_at_the_client_and_never_reaches_the_server() -> None:
    store, hub, made = lab()
    assert lab_sim(store, hub, (("x-fault", "abort"),)).step(20) == 20
    client_lines = lines(hub, made["client"])
    assert len(client_lines) == 20
    assert {(r.response_code, r.response_flags, r.upstream_host) for r in client_lines} == {(418, "FI", None)}
    assert lines(hub, made["echo-v1"]) == [] and lines(hub, made["echo-v2"]) == []


def test_fault_delay_is_flagged_and_lengthens_the_client_duration() -> None:
    store, hub, made = lab()
    lab_sim(store, hub, (("x-fault", "delay"),)).step(10)
    client_lines = lines(hub, made["client"])
    assert {r.response_flags for r in client_lines} == {"DI"}
    assert all(r.duration >= 700 for r in client_lines)  # type: ignore[operator]
    server = {r.request_id: r for r in lines(hub, made["echo-v1"])}
    assert all(server[r.request_id].duration < 700 for r in client_lines)  # type: ignore[operator]


def test_mirrored_copies_reach_the_mirror_with_a_shadow_authority() -> None:
    store, hub, made = lab()
    lab_sim(store, hub).step(10)
    client_lines = lines(hub, made["client"])
    assert {r.upstream_cluster for r in client_lines} == {"outbound|80|v1|echo.lab.svc.cluster.local"}
    shadows = lines(hub, made["echo-v2"])
    assert len(shadows) == 10
    assert all(r.is_mirror and r.authority == "echo-shadow" for r in shadows)
    assert {r.request_id for r in shadows} == {r.request_id for r in client_lines}
    assert shadow_authority("reviews:9080") == "reviews-shadow:9080"


def test_a_deleted_pod_gets_no_more_traffic_and_no_pods_means_503_uh() -> None:
    store, hub, made = lab()
    sim = lab_sim(store, hub)
    store.delete("pods", "lab", made["echo-v1"]["metadata"]["name"])
    sim.step(5)
    assert lines(hub, made["echo-v1"]) == []
    client_lines = lines(hub, made["client"])
    assert {(r.response_code, r.response_flags) for r in client_lines} == {(503, "UH")}
    assert {r.upstream_cluster for r in client_lines} == {"outbound|80|v1|echo.lab.svc.cluster.local"}


def test_demo_lines_parse_and_every_demo_caller_sends() -> None:
    store = Store()
    scenario.load_demo(store)
    from meshtui.sandbox.workloads import ensure_clients

    ensure_clients(store)
    hub = LogHub()
    sim = TrafficSimulator(store, hub, seed=1)
    assert sim.step(600) == 600 and sim.failures == 0
    outbound_senders = set()
    for pod in store.list("pods"):
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if (pod["metadata"].get("labels") or {}).get("app") == "ztunnel":
            continue  # ztunnel's own format (tests/test_ambient_traffic.py)
        for r in parse_all("\n".join(line for _ts, line in hub.read(ns, name, "istio-proxy"))):
            if r.cluster.direction == "outbound":
                labels = pod["metadata"]["labels"]
                # A Gateway API gateway's pods carry the Gateway's name, not an app label.
                outbound_senders.add(labels.get("app") or labels.get("gateway.networking.k8s.io/gateway-name"))
    assert outbound_senders == {"istio-ingressgateway", "curl", "productpage", "reviews", "web", "storefront-gateway"}


# --- lifecycle and CLI -------------------------------------------------------------------------

def test_stop_leaves_no_simulator_task_or_thread() -> None:
    before = set(threading.enumerate())
    sb = Sandbox(traffic_rps=50).start()
    sim = sb.traffic
    assert sim is not None
    wait_for(lambda: sim.sent, lambda n: n > 0)
    assert sim.running
    sb.stop()
    assert not sim.running and sb.traffic is None
    assert set(threading.enumerate()) <= before
    sent = sim.sent
    assert sim.step(0) == 0 and sim.sent == sent


def test_traffic_is_off_for_scale_benchmarks_unless_asked() -> None:
    with Sandbox(scale=1) as sb:
        assert sb.traffic is None
    with Sandbox(scale=1, traffic=True, traffic_rps=5) as sb:
        assert sb.traffic is not None and sb.traffic.rps == 5


@pytest.mark.parametrize("argv", [["sandbox", "--rps", "0"], ["sandbox", "--rps", "100000"],
                                  ["sandbox", "--rps", "5", "--no-traffic"]])
def test_bad_rate_flags_are_one_line_errors(argv: list[str], capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    assert main([*argv, "--kubeconfig-out", str(tmp_path / "kc")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("meshtui: ") and err.count("\n") == 1


def test_the_legacy_gateway_host_bypasses_the_virtual_service(api: client.ApiClient) -> None:
    """The demo's Host-header trap: the proxy's requests carry a Host no VirtualService lists,
    and take the catch-all route to PassthroughCluster at the dialled ClusterIP: no subset, no
    weight applies."""
    core = client.CoreV1Api(api)
    (proxy,) = pods(core, "default", "app=legacy-gateway")
    cluster_ip = core.read_namespaced_service("backend-service", "default").spec.cluster_ip
    records = wait_for(lambda: proxy_log(core, "default", proxy), lambda rs: len(rs) >= 10)
    for r in records:
        assert r.authority == "10.22.12.178:30785"
        assert r.upstream_cluster == "PassthroughCluster" and r.route_name == "allow_any"
        assert r.upstream_host == f"{cluster_ip}:80"
