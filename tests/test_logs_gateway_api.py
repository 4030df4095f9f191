"""The observed split of a service shifted with a GAMMA HTTPRoute over per-version Services:
split rows per version Service with the route's configured shares, counted only for the lines
of the rule (Envoy's %ROUTE_NAME% as istiod names it), and the sandbox's simulated traffic
logging that route name."""

from __future__ import annotations

import time
import pytest

from meshtui.accesslog.ingest import LogIngest
from meshtui.accesslog.parser import make_parser
from meshtui.accesslog.synth import istio_line
from meshtui.accesslog.target import LogTarget, default_rule, plan_follow
from meshtui.model.index import MeshIndex

V1 = "outbound|8080||cart-v1.storefront.svc.cluster.local"
V2 = "outbound|8080||cart-v2.storefront.svc.cluster.local"


@pytest.fixture(scope="module")
def index() -> MeshIndex:
    """The demo mesh as the sandbox serves it (pods included)."""
    from meshtui.sandbox import scenario
    from meshtui.sandbox.kinds import BY_PLURAL
    from meshtui.sandbox.store import Store

    store = Store()
    scenario.load_demo(store)
    return MeshIndex(o for t in BY_PLURAL.values() for o in store.list(t.key))


def test_configured_shares_and_rule_of_the_gamma_route(index: MeshIndex) -> None:
    rule = default_rule(index, LogTarget("Service", "storefront", "cart"))
    assert rule.name == "split"
    assert rule.weights == {"cart-v1": 90.0, "cart-v2": 10.0}


def test_per_version_rows_compare_with_the_route_weights(index: MeshIndex) -> None:
    target = LogTarget("Service", "storefront", "cart")
    plan = plan_follow(index, target)
    client = next(p for p in plan.clients if p[1].startswith("web"))
    rule = default_rule(index, target)
    ingest = LogIngest(make_parser(), plan, window=3600, route=rule.name)
    now = time.time()
    lines = [istio_line(start=now, cluster=V1, route="split", path=f"/cart/{i}") for i in range(80)]
    lines += [istio_line(start=now, cluster=V2, route="split", path=f"/cart/{i}") for i in range(20)]
    # The header rule sends its requests to v2 too: they are not part of the 90/10 rule.
    lines += [istio_line(start=now, cluster=V2, route="canary-header", path="/cart") for _ in range(50)]
    ingest.process([(client, line) for line in lines])
    data = ingest.panel("auto", rule.weights)
    rows = {r.subset: r for r in data.rows}
    assert set(rows) == {"cart-v1", "cart-v2"}
    assert rows["cart-v1"].requests == 80 and rows["cart-v2"].requests == 20
    assert rows["cart-v1"].host_share == pytest.approx(0.8) and rows["cart-v2"].host_share == pytest.approx(0.2)
    assert rows["cart-v1"].weight == pytest.approx(0.9) and rows["cart-v2"].weight == pytest.approx(0.1)
    assert "rule 'split' only" in data.label


def test_simulated_traffic_logs_istios_route_names_for_httproute_rules() -> None:
    from meshtui.sandbox import scenario
    from meshtui.sandbox.loghub import LogHub
    from meshtui.sandbox.store import Store
    from meshtui.sandbox.traffic import TrafficSimulator
    from meshtui.sandbox.workloads import ensure_clients

    store = Store()
    scenario.load_demo(store)
    ensure_clients(store)
    hub = LogHub()
    sim = TrafficSimulator(store, hub, seed=7)
    assert sim.step(2000) == 2000 and sim.failures == 0
    parser = make_parser()
    routes: dict[str, set[str]] = {}
    for pod in store.list("pods", "storefront"):
        if (pod["metadata"].get("labels") or {}).get("app") != "web":
            continue
        for _ts, line in hub.read("storefront", pod["metadata"]["name"], "istio-proxy"):
            r = parser.parse(line)
            if r is not None and r.upstream_cluster and "cart-v" in r.upstream_cluster:
                routes.setdefault(r.route_name or "", set()).add(r.upstream_cluster)
    # istiod names a Gateway API rule's Envoy route by the rule's name: the 90/10 rule reaches
    # both versions, the x-canary rule only v2.
    assert routes == {"split": {V1, V2}, "canary-header": {V2}}


def test_north_south_traffic_through_the_gateway_api_gateway_follows_the_httproute() -> None:
    from meshtui.sandbox import scenario
    from meshtui.sandbox.loghub import LogHub
    from meshtui.sandbox.store import Store
    from meshtui.sandbox.traffic import TrafficSimulator
    from meshtui.sandbox.workloads import ensure_clients

    store = Store()
    scenario.load_demo(store)
    ensure_clients(store)
    hub = LogHub()
    sim = TrafficSimulator(store, hub, seed=11)
    assert sim.step(3000) == 3000 and sim.failures == 0
    parser = make_parser()
    by_route: dict[tuple[str, str], int] = {}
    gateway_pods = [p for p in store.list("pods", "storefront")
                    if (p["metadata"].get("labels") or {}).get("gateway.networking.k8s.io/gateway-name")
                    == "storefront-gateway"]
    assert gateway_pods
    for pod in gateway_pods:
        for _ts, line in hub.read("storefront", pod["metadata"]["name"], "istio-proxy"):
            r = parser.parse(line)
            if r is not None:
                key = (r.route_name or "", r.upstream_cluster or "")
                by_route[key] = by_route.get(key, 0) + 1
    assert set(by_route) == {("cart", V1), ("cart", V2), ("site", "outbound|80||web.storefront.svc.cluster.local")}
    v1, v2 = by_route[("cart", V1)], by_route[("cart", V2)]
    assert v1 > 4 * v2  # written 9/1
