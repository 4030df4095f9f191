"""Ambient traffic in the demo's ``shop`` namespace: the sandbox's simulator writes the waypoint's
Envoy lines (the HTTPRoute's 90/10 applied) and ztunnel's connection logs (both ends), and the
logs of an ambient service are read from the right streams: the waypoint's lines feed the L7
split, ztunnel's the L4 section (``meshtui logs SVC.NS --split``, the Logs screen)."""

from __future__ import annotations

import copy
import json
import math
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from meshtui.accesslog.ingest import LogIngest
from meshtui.accesslog.parser import make_parser
from meshtui.accesslog.target import LogTarget, default_rule, plan_follow
from meshtui.accesslog.ztunnel import l4_split, parse_line
from meshtui.app import MeshApp
from meshtui.cli import main
from meshtui.model.index import MeshIndex
from meshtui.sandbox import podgen, scenario
from meshtui.sandbox.gateway_status import GatewayStatusController
from meshtui.sandbox.kinds import BY_PLURAL
from meshtui.sandbox.loghub import LogHub
from meshtui.sandbox.server import Sandbox
from meshtui.sandbox.store import Store
from meshtui.sandbox.traffic import TrafficSimulator
from meshtui.screens.logs import LogsScreen
from meshtui.sources.kube import KubeSource

BASKET = "basket.shop.svc.cluster.local"
STOCK = "stock.shop.svc.cluster.local"
# ztunnel's text format: TIME, level, target, message, then the fields, tab-separated.
ZTUNNEL_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\tinfo\taccess\tconnection complete\t"
                          r"src\.addr=[\d.]+:\d+ src\.workload=\"")
WAIT = 60.0


def within_binomial(hits: int, n: int, p: float, sigmas: float = 4.0) -> bool:
    """Whether ``hits`` of ``n`` is within ``sigmas`` standard deviations of a share ``p``."""
    return abs(hits - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


def demo_store() -> Store:
    """The demo as the sandbox serves it, with Istio's Gateway status (the waypoint programmed)."""
    store = Store()
    scenario.load_demo(store)
    GatewayStatusController.attach(store)
    return store


def pods(store: Store, namespace: str, prefix: str) -> list[str]:
    """Names of the pods of ``namespace`` starting with ``prefix``."""
    return [p["metadata"]["name"] for p in store.list("pods", namespace)
            if p["metadata"]["name"].startswith(prefix)]


def ztunnel_lines(store: Store, hub: LogHub) -> list[str]:
    """Every line the ztunnel pods wrote."""
    return [line for name in pods(store, "istio-system", "ztunnel-")
            for _ts, line in hub.read("istio-system", name, "istio-proxy")]


@pytest.fixture(scope="module")
def traffic() -> tuple[Store, LogHub]:
    """The demo after 6000 simulated requests."""
    store = demo_store()
    hub = LogHub()
    sim = TrafficSimulator(store, hub, seed=5)
    assert sim.step(6000) == 6000 and sim.failures == 0, sim.last_failure
    return store, hub


def test_the_waypoint_writes_envoy_lines_split_90_10_by_the_httproute(traffic: tuple[Store, LogHub]) -> None:
    store, hub = traffic
    (waypoint,) = pods(store, "shop", "waypoint-")
    parser = make_parser()
    counts: dict[str, int] = {}
    for _ts, line in hub.read("shop", waypoint, "istio-proxy"):
        record = parser.parse(line)
        assert record is not None, line
        assert record.upstream_host.startswith("envoy://connect_originate/")
        counts[record.upstream_cluster or ""] = counts.get(record.upstream_cluster or "", 0) + 1
    v1 = counts.pop("inbound-vip|9080|http|basket-v1.shop.svc.cluster.local")
    v2 = counts.pop("inbound-vip|9080|http|basket-v2.shop.svc.cluster.local")
    assert counts == {}  # the waypoint only serves basket
    assert v1 + v2 >= 300 and within_binomial(v2, v1 + v2, 0.10), (v1, v2)
    # No sidecar in an ambient namespace: the apps themselves write no access line.
    for prefix in ("storefront-", "basket-", "stock-"):
        for name in pods(store, "shop", prefix):
            assert hub.read("shop", name, "istio-proxy") == []


def test_ztunnel_logs_both_ends_in_its_text_format(traffic: tuple[Store, LogHub]) -> None:
    store, hub = traffic
    lines = ztunnel_lines(store, hub)
    assert lines and all(ZTUNNEL_LINE.match(line) for line in lines), lines[:2]
    records = [r for r in map(parse_line, lines) if r is not None]
    assert len(records) == len(lines)
    stock = [r for r in records if r.fields.get("dst.service") == STOCK]
    outbound = [r for r in stock if r.direction == "outbound"]
    inbound = [r for r in stock if r.direction == "inbound"]
    assert outbound and len(outbound) == len(inbound)  # one line at each end of each connection
    first = outbound[0]
    assert first.fields["src.workload"].startswith("storefront-v1-")
    assert first.fields["dst.addr"].endswith(":15008")  # HBONE to the destination's ztunnel
    assert first.fields["dst.identity"] == "spiffe://cluster.local/ns/shop/sa/shop-stock"
    assert first.quoted and "bytes_sent" not in first.quoted and first.duration_ms is not None
    # basket: the caller's ztunnel sends every connection to the waypoint.
    to_basket = {r.fields["dst.workload"] for r in records
                 if r.fields.get("dst.service") == BASKET and r.direction == "outbound"}
    assert to_basket == set(pods(store, "shop", "waypoint-"))


def test_without_a_waypoint_the_httproute_weights_are_ignored() -> None:
    store = demo_store()
    found = store.get("httproutes", "shop", "stock-split")
    assert found is not None
    route = copy.deepcopy(found)
    route["spec"]["rules"][0]["backendRefs"][0]["weight"] = 100  # stock-v1 100, stock-v2 0
    route["spec"]["rules"][0]["backendRefs"][1]["weight"] = 0
    store.update(route)
    hub = LogHub()
    assert TrafficSimulator(store, hub, seed=9).step(6000) == 6000
    split = l4_split(ztunnel_lines(store, hub), STOCK)
    assert split.direction == "outbound"
    shares = {r.workload.rsplit("-", 2)[0]: r.share for r in split.rows}
    # ztunnel balances connections over the Service's endpoints: stock-v2 still gets about half.
    assert set(shares) == {"stock-v1", "stock-v2"} and 0.35 < shares["stock-v2"] < 0.65, shares


def test_an_ambient_service_follows_its_waypoint_and_the_ztunnels(traffic: tuple[Store, LogHub]) -> None:
    store, hub = traffic
    index = MeshIndex(o for t in BY_PLURAL.values() for o in store.list(t.key))
    target = LogTarget("Service", "shop", "basket")
    plan = plan_follow(index, target)
    assert {name for _ns, name in plan.ztunnels} == set(pods(store, "istio-system", "ztunnel-"))
    assert {name for _ns, name in plan.clients} == set(pods(store, "shop", "waypoint-"))
    rule = default_rule(index, target)
    ingest = LogIngest(make_parser(), plan, window=3600, route=rule.name)
    ingest.process([(pod, line) for pod in plan.pods for _ts, line in hub.read(pod[0], pod[1], "istio-proxy")])
    data = ingest.panel("auto", rule.weights)
    rows = {r.subset: r for r in data.rows}
    assert set(rows) == {"basket-v1", "basket-v2"} and data.unparsed == 0  # ztunnel lines are not Envoy's
    assert rows["basket-v1"].weight == pytest.approx(0.9)
    assert f"outbound lines to {BASKET} from 1 followed pod(s)" in data.label  # the waypoint's Envoy
    assert data.l4 is not None and [r.workload for r in data.l4.rows] == pods(store, "shop", "waypoint-")
    assert data.l4.connections == rows["basket-v1"].requests + rows["basket-v2"].requests


def test_a_sidecar_service_has_no_l4_section(traffic: tuple[Store, LogHub]) -> None:
    store, _hub = traffic
    index = MeshIndex(o for t in BY_PLURAL.values() for o in store.list(t.key))
    plan = plan_follow(index, LogTarget("Service", "default", "backend-service"))
    assert plan.ztunnels == set()
    assert LogIngest(make_parser(), plan).panel("auto", {}).l4 is None


# --- live, against a sandbox with traffic ----------------------------------------------------


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox with traffic (about 60 requests/s to shop)."""
    sb = Sandbox(traffic_rps=400, traffic_seed=31).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("ambient-logs") / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


def live_split(busy: Sandbox, service: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """The last JSON object of ``meshtui logs SERVICE --split -o json`` over a few seconds."""
    assert main(["logs", service, "--kubeconfig", str(busy.kubeconfig_path), "--split", "-o", "json",
                 "--basis", "logs", "--duration", "5", "--interval", "2"]) == 0
    return json.loads(capsys.readouterr().out.splitlines()[-1])


def test_logs_split_of_a_waypoint_service_has_l7_rows_and_an_l4_section(
        busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    obj = live_split(busy, "basket.shop", capsys)
    l7 = {r["subset"]: r for r in obj["rows"]}
    assert set(l7) == {"basket-v1", "basket-v2"} and l7["basket-v1"]["weight"] == 0.9
    l4 = obj["l4"]
    assert l4["direction"] == "outbound" and len(l4["rows"]) == 1
    row = l4["rows"][0]
    assert row["workload"].startswith("waypoint-") and row["share"] == 1.0
    assert {"connections", "failures", "bytes_sent", "bytes_recv"} <= set(row) and row["bytes_recv"] > 0


def test_logs_split_of_a_service_without_waypoint_is_l4_only(
        busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    obj = live_split(busy, "stock.shop", capsys)
    assert obj["rows"] == []  # nothing applies the HTTPRoute: no L7 line about stock
    workloads = {r["workload"].rsplit("-", 2)[0] for r in obj["l4"]["rows"]}
    assert workloads == {"stock-v1", "stock-v2"}
    assert sum(r["connections"] for r in obj["l4"]["rows"]) == obj["l4"]["connections"] > 0


def test_logs_split_text_prints_the_l4_table(busy: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["logs", "stock.shop", "--kubeconfig", str(busy.kubeconfig_path), "--split", "--basis", "logs",
                 "--duration", "3", "--interval", "2"]) == 0
    out = capsys.readouterr().out
    assert f"L4 (ztunnel, outbound connections to {STOCK})" in out
    assert re.search(r"^  stock-v1-\S+\s+\d+\s+\d+\.\d%", out, re.M), out


async def test_the_logs_screen_shows_the_l4_section_of_an_ambient_service(busy: Sandbox) -> None:
    path = str(busy.kubeconfig_path)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(path))
    async with app.run_test(size=(160, 50)) as pilot:
        deadline = time.monotonic() + WAIT
        while app.index is None or app.index.get("Service", "shop", "basket") is None:
            assert time.monotonic() < deadline, "the mesh did not load"
            await pilot.pause(0.1)
        screen = LogsScreen(LogTarget("Service", "shop", "basket"), tail_lines=0)
        await app.push_screen(screen)
        while "waypoint-" not in screen.split_text() or not screen.split_rows():
            assert time.monotonic() < deadline, screen.split_text()
            await pilot.pause(0.2)
        text = screen.split_text()
        assert f"L4 (ztunnel, outbound connections to {BASKET})" in text
        assert {r.subset for r in screen.split_rows()} <= {"basket-v1", "basket-v2"}


def test_a_waypoint_canary_takes_its_weight_of_the_connections() -> None:
    store = demo_store()
    gateway = copy.deepcopy(store.get("gateways.gateway.networking.k8s.io", "shop", "waypoint"))
    assert gateway is not None
    gateway["metadata"] = {"name": "waypoint-v2", "namespace": "shop", "labels": gateway["metadata"]["labels"]}
    gateway.pop("status", None)
    store.create(gateway)
    (old_pod,) = [p for p in store.list("pods", "shop") if p["metadata"]["name"].startswith("waypoint-")]
    template = {"metadata": {"labels": {**old_pod["metadata"]["labels"],
                                        "gateway.networking.k8s.io/gateway-name": "waypoint-v2"}},
                "spec": {"containers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.31.0"}]}}
    store.create(podgen.make_pod("shop", "waypoint-v2", template, 0, "10.244.9.9", ambient=True))
    basket = copy.deepcopy(store.get("services", "shop", "basket"))
    assert basket is not None
    basket["metadata"]["labels"]["istio.io/use-waypoint-canary"] = "waypoint-v2"
    basket["metadata"].setdefault("annotations", {})["istio.io/use-waypoint-canary-weight"] = "30"
    store.update(basket)
    hub = LogHub()
    assert TrafficSimulator(store, hub, seed=13).step(8000) == 8000
    counts = {name: len(hub.read("shop", name, "istio-proxy")) for name in pods(store, "shop", "waypoint")}
    canary = sum(n for name, n in counts.items() if name.startswith("waypoint-v2-"))
    total = sum(counts.values())
    assert total >= 400 and within_binomial(canary, total, 0.30), counts
