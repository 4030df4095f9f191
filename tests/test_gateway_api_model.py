"""Gateway API views and the index: defaults of the spec, parent attachment kept current by
upsert/delete, ReferenceGrants, the two Gateway kinds side by side, and the uniform rule view."""

from __future__ import annotations

from typing import Any

from meshtui.model.index import K8S_GATEWAY, MeshIndex
from meshtui.model.parse import parse_object
from meshtui.model.route_view import rule_views

G = "gateway.networking.k8s.io"


def route(name: str, ns: str = "shop", parents: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{G}/v1", "kind": "HTTPRoute", "metadata": {"name": name, "namespace": ns},
            "spec": {"parentRefs": parents if parents is not None else [{"name": "edge"}], **spec}}


def test_spec_defaults_are_applied_by_the_view() -> None:
    r = parse_object(route("r", rules=[{"backendRefs": [{"name": "a", "port": 80}, {"name": "b", "port": 80,
                                                                                   "weight": 0}]}]))
    ref = r.parent_refs[0]
    assert (ref.group, ref.kind, ref.namespace, ref.is_gateway) == (G, "Gateway", "shop", True)
    a, b = r.rules[0].backend_refs
    assert (a.kind, a.namespace, a.weight, b.weight) == ("Service", "shop", 1, 0)
    assert r.raw["spec"]["rules"][0]["backendRefs"][0] == {"name": "a", "port": 80}  # raw kept as written


def test_mirror_fraction_and_percent() -> None:
    r = parse_object(route("r", rules=[{"filters": [
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "m", "port": 80},
                                                    "fraction": {"numerator": 1, "denominator": 4}}},
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "n", "port": 80}, "percent": 10}},
        {"type": "ExtensionRef", "extensionRef": {"group": "x.io", "kind": "Lua", "name": "f"}}]}]))
    mirrors = [f.mirror.percent for f in r.rules[0].filters if f.mirror]
    assert mirrors == [25.0, 10.0]
    assert r.rules[0].filters[2].extension_ref.kind == "Lua"


def test_index_attaches_routes_to_gateways_and_services_incrementally() -> None:
    index = MeshIndex([route("north"), route("east", parents=[{"group": "", "kind": "Service", "name": "cart"}])])
    assert [r.name for r in index.routes_for_gateway("shop", "edge")] == ["north"]
    assert [r.name for r in index.routes_for_service("shop", "cart")] == ["east"]
    # The route moves to another parent: the old attachment goes.
    index.upsert(route("north", parents=[{"name": "other-gw"}]))
    assert index.routes_for_gateway("shop", "edge") == []
    assert [r.name for r in index.routes_for_gateway("shop", "other-gw")] == ["north"]
    index.delete("HTTPRoute", "shop", "east")
    assert index.routes_for_service("shop", "cart") == []


def test_istio_and_gateway_api_gateways_of_one_name_coexist() -> None:
    istio = {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "edge", "namespace": "shop"},
             "spec": {"servers": []}}
    k8s = {"apiVersion": f"{G}/v1", "kind": "Gateway", "metadata": {"name": "edge", "namespace": "shop"},
           "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}
    index = MeshIndex([istio, k8s])
    assert index.get("Gateway", "shop", "edge").group == "networking.istio.io"
    assert index.get("Gateway", "shop", "edge", group=G).listeners[0].port == 80
    assert [g.name for g in index.k8s_gateways] == ["edge"] and len(index.gateways) == 1
    index.delete("Gateway", "shop", "edge", group=G)
    assert index.k8s_gateways == [] and index.get(K8S_GATEWAY, "shop", "edge") is None
    assert index.get("Gateway", "shop", "edge") is not None


def test_reference_grant_lookup() -> None:
    grant = {"apiVersion": f"{G}/v1beta1", "kind": "ReferenceGrant", "metadata": {"name": "g", "namespace": "pay"},
             "spec": {"from": [{"group": G, "kind": "HTTPRoute", "namespace": "shop"}],
                      "to": [{"group": "", "kind": "Service", "name": "api"}]}}
    index = MeshIndex([grant])
    assert index.reference_granted("HTTPRoute", "shop", "", "Service", "pay", "api")
    assert not index.reference_granted("HTTPRoute", "shop", "", "Service", "pay", "other")
    assert not index.reference_granted("GRPCRoute", "shop", "", "Service", "pay", "api")
    index.delete("ReferenceGrant", "pay", "g")
    assert not index.reference_granted("HTTPRoute", "shop", "", "Service", "pay", "api")


def test_uniform_rule_view_for_both_apis() -> None:
    vs = parse_object({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                       "metadata": {"name": "cart", "namespace": "shop"},
                       "spec": {"hosts": ["cart"], "http": [{"route": [
                           {"destination": {"host": "cart", "subset": "v1"}, "weight": 90},
                           {"destination": {"host": "cart", "subset": "v2"}, "weight": 10}]}]}})
    hr = parse_object(route("cart", rules=[{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                                            "backendRefs": [{"name": "cart-v1", "port": 80, "weight": 3},
                                                            {"name": "cart-v2", "port": 80}]}]))
    (v,) = rule_views(vs)
    (h,) = rule_views(hr)
    assert [(b.host, b.subset, b.weight, b.share) for b in v.backends] == [
        ("cart.shop.svc.cluster.local", "v1", 90, 0.9), ("cart.shop.svc.cluster.local", "v2", 10, 0.1)]
    assert [(b.host, b.weight, b.share, b.weight_path) for b in h.backends] == [
        ("cart-v1.shop.svc.cluster.local", 3, 0.75, "spec.rules[0].backendRefs[0].weight"),
        ("cart-v2.shop.svc.cluster.local", 1, 0.25, "spec.rules[0].backendRefs[1].weight")]
    assert (h.kind, h.route, h.matches) == ("HTTPRoute", "shop/cart", ["PathPrefix /api"])
    assert v.backends[1].weight_path == "spec.http[0].route[1].weight"


def test_routes_are_found_by_every_service_their_rules_send_to() -> None:
    """The index files a route under each Service its backendRefs name (written or defaulted
    namespace, core group spelled "" or "core"), and under nothing a rule does not send to."""
    r = route("split", rules=[
        {"backendRefs": [{"name": "cart-v1", "port": 80}, {"name": "cart-v2", "namespace": "canary", "port": 80}]},
        {"backendRefs": [{"name": "cart-v3", "group": "core", "kind": "Service", "port": 80},
                         {"name": "bucket", "group": "storage.example.com", "kind": "Bucket"}, "not a mapping"]},
        "not a rule",
    ])
    index = MeshIndex([r])
    for ns, name in [("shop", "cart-v1"), ("canary", "cart-v2"), ("shop", "cart-v3")]:
        assert [x.name for x in index.routes_to_service(ns, name)] == ["split"], (ns, name)
    assert index.routes_to_service("shop", "bucket") == []
    assert index.routes_to_service("shop", "cart-v2") == []
    # The rules, read when first asked for, say the same.
    view = index.get("HTTPRoute", "shop", "split")
    assert [[(b.namespace, b.name, b.is_service) for b in rule.backend_refs] for rule in view.rules] == [
        [("shop", "cart-v1", True), ("canary", "cart-v2", True)],
        [("shop", "cart-v3", True), ("shop", "bucket", False), ("shop", "", True)],
        [],
    ]
    index.delete("HTTPRoute", "shop", "split")
    assert index.routes_to_service("shop", "cart-v1") == []
