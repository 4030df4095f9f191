"""The tracer routes requests as Istio does, and says why each rule did or did not match."""

from __future__ import annotations

import pytest
from test_routing_common import bookinfo, docs, pod, run, sample, service, subsets

from meshtui.model.index import MeshIndex
from meshtui.routing.request import RequestError, TraceRequest, parse_header
from meshtui.routing.trace import trace


# ---- bookinfo samples ------------------------------------------------------------------------


def test_exact_header_match_routes_jason_to_v2() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-reviews-jason-v2-v3.yaml")
    jason = run(index, "reviews", "/reviews/0", headers={"end-user": "jason"}, source_namespace="default")
    assert jason.virtual_service == "default/reviews"
    assert jason.rule_index == 0
    assert subsets(jason) == {"v2": 100}
    assert jason.destinations[0].host == "reviews.default.svc.cluster.local"
    assert jason.destinations[0].pods == ["default/reviews-v2-abc"]
    assert jason.destinations[0].destination_rule == "default/reviews"


def test_header_names_are_case_insensitive_and_values_exact() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-reviews-jason-v2-v3.yaml")
    upper = run(index, "reviews", headers={"End-User": "jason"}, source_namespace="default")
    assert upper.rule_index == 0
    other = run(index, "reviews", headers={"end-user": "Jason"}, source_namespace="default")
    assert other.rule_index == 1 and subsets(other) == {"v3": 100}
    assert "header end-user exact jason ≠ Jason" in "\n".join(other.explanation)


def test_failed_rule_says_header_absent() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-reviews-jason-v2-v3.yaml")
    result = run(index, "reviews", source_namespace="default")
    assert result.rule_index == 1
    assert "header end-user: absent" in result.rules[0].line()
    assert result.rules[1].matched


def test_weighted_split_gives_probabilities() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-reviews-90-10.yaml")
    result = run(index, "reviews", source_namespace="default")
    assert subsets(result) == {"v1": 90, "v2": 10}
    assert [round(d.probability, 2) for d in result.destinations] == [0.9, 0.1]


def test_gateway_match_blocks_are_ored() -> None:
    index = bookinfo("destination-rule-all.yaml", "bookinfo-gateway.yaml")
    for path in ("/productpage", "/static/css/x.css", "/login", "/api/v1/products/1"):
        result = run(index, "bookinfo.example.com", path, gateway="default/bookinfo-gateway")
        assert result.virtual_service == "default/bookinfo", path
        assert result.destinations[0].host == "productpage.default.svc.cluster.local"
        assert result.destinations[0].port == 9080
    # Exact match is exact: a trailing slash or a longer path does not match.
    miss = run(index, "bookinfo.example.com", "/productpage/x", gateway="bookinfo-gateway")
    assert miss.rule_index is None and miss.outcome == "no_route"
    assert miss.virtual_service == "default/bookinfo"
    assert "uri exact /productpage ≠ /productpage/x" in miss.rules[0].line()


def test_gateway_virtual_service_does_not_apply_to_mesh_traffic() -> None:
    index = bookinfo("destination-rule-all.yaml", "bookinfo-gateway.yaml")
    result = run(index, "productpage", "/productpage", source_namespace="default")
    assert result.virtual_service is None
    assert result.outcome == "default"
    assert [d.host for d in result.destinations] == ["productpage.default.svc.cluster.local"]
    assert result.destinations[0].weight == 100


def test_mesh_virtual_service_does_not_apply_at_a_gateway() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-reviews-90-10.yaml")
    index.upsert(sample("bookinfo", "networking", "bookinfo-gateway.yaml")[0])  # the Gateway only
    result = run(index, "reviews.default.svc.cluster.local", gateway="default/bookinfo-gateway")
    assert result.virtual_service is None
    assert result.outcome == "no_vhost" and result.destinations == []


def test_no_virtual_service_balances_over_every_pod() -> None:
    index = bookinfo("destination-rule-all.yaml")
    result = run(index, "reviews", source_namespace="default")
    assert result.virtual_service is None and result.rule_index is None
    assert result.outcome == "default"
    assert result.destinations[0].subset is None
    assert result.destinations[0].pods == ["default/reviews-v1-abc", "default/reviews-v2-abc", "default/reviews-v3-abc"]


def test_fault_and_subset_from_sample() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-ratings-test-abort.yaml")
    jason = run(index, "ratings", headers={"end-user": "jason"}, source_namespace="default")
    assert jason.fault == {"abort": {"http_status": 500, "grpc_status": None, "percentage": 100.0}}
    assert subsets(jason) == {"v1": 100}
    other = run(index, "ratings", source_namespace="default")
    assert other.fault is None


# ---- inline meshes -------------------------------------------------------------------------

BACKEND = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: backend, namespace: shop}
spec:
  hosts: [backend]
  http:
  - name: exact-api
    match:
    - uri: {exact: /api}
    route: [{destination: {host: backend, subset: v0}}]
  - name: test-prefix
    match:
    - uri: {prefix: /test/v1}
      ignoreUriCase: true
    rewrite: {uri: /v1}
    route: [{destination: {host: backend, subset: v1}}]
  - name: regex
    match:
    - uri: {regex: '/items/[0-9]+'}
    route: [{destination: {host: backend, subset: v1}}]
  - name: canary-header
    match:
    - headers: {x-canary: {exact: "true"}}
      method: {exact: POST}
    - queryParams: {canary: {exact: "1"}}
    route: [{destination: {host: backend, subset: v1}}]
  - name: default
    route:
    - {destination: {host: backend, subset: v0}, weight: 90}
    - {destination: {host: backend, subset: v1}, weight: 10}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: shop}
spec:
  host: backend
  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
  subsets:
  - {name: v0, labels: {version: v0}}
  - name: v1
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
"""


def backend() -> MeshIndex:
    objs = docs(BACKEND) + [
        service("backend", "shop", {"app": "backend"}),
        pod("backend-v0-1", "shop", {"app": "backend", "version": "v0"}),
        pod("backend-v0-2", "shop", {"app": "backend", "version": "v0"}),
        pod("backend-v1-1", "shop", {"app": "backend", "version": "v1"}),
    ]
    return MeshIndex(objs)


def shop(path: str, **kw: object) -> object:
    return run(backend(), "backend", path, source_namespace="shop", **kw)


def test_exact_prefix_and_regex_uri() -> None:
    assert shop("/api").rule_name == "exact-api"
    assert shop("/api/").rule_name == "default"  # exact is not prefix
    assert shop("/test/v1/users").rule_name == "test-prefix"
    assert shop("/items/42").rule_name == "regex"
    # RE2 full match: a longer path does not match the regex.
    longer = shop("/items/42/reviews")
    assert longer.rule_name == "default"
    assert "uri regex /items/[0-9]+ ≠ /items/42/reviews" in longer.rules[2].line()


def test_uri_prefix_failure_reason() -> None:
    result = shop("/api/x")
    assert "uri prefix /test/v1 ≠ /api/x" in result.rules[1].line()


def test_ignore_uri_case_and_prefix_rewrite() -> None:
    result = shop("/TEST/v1/users?id=3")
    assert result.rule_name == "test-prefix"
    assert result.rewrite == {"uri": "/v1/users?id=3", "authority": None}


def test_conditions_in_a_block_are_anded_and_blocks_ored() -> None:
    # Header without the method: the first block fails on the method only.
    get = shop("/x", headers={"x-canary": "true"})
    assert get.rule_name == "default"
    line = get.rules[3].line()
    assert "method exact POST ≠ GET" in line and "x-canary" not in line.split("|")[0]
    post = shop("/x", method="POST", headers={"x-canary": "true"})
    assert post.rule_name == "canary-header" and subsets(post) == {"v1": 100}
    # The second block alone (a query parameter) is enough.
    query = shop("/x?a=b&canary=1")
    assert query.rule_name == "canary-header"


def test_rule_order_first_match_wins_and_default_route() -> None:
    result = shop("/api")
    assert [r.index for r in result.rules] == [0]  # later rules are not considered
    default = shop("/other")
    assert default.rule_index == 4 and subsets(default) == {"v0": 90, "v1": 10}
    v1 = next(d for d in default.destinations if d.subset == "v1")
    assert v1.pods == ["shop/backend-v1-1"]
    assert v1.traffic_policy == {"loadBalancer": {"simple": "LEAST_REQUEST"}}


def test_short_host_names_resolve_in_the_callers_namespace() -> None:
    index = backend()
    # From another namespace, "backend" is backend.web..., which does not exist.
    other = run(index, "backend", "/api", source_namespace="web")
    assert other.virtual_service is None and other.host == "backend.web.svc.cluster.local"
    qualified = run(index, "backend.shop", "/api", source_namespace="web")
    assert qualified.virtual_service == "shop/backend" and qualified.rule_name == "exact-api"
    assert qualified.destinations[0].host == "backend.shop.svc.cluster.local"
    full = run(index, "backend.shop.svc.cluster.local:80", "/api", source_namespace="web")
    assert full.rule_name == "exact-api"


SOURCES = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api]
  gateways: [mesh, edge]
  http:
  - name: from-gateway
    match: [{gateways: [edge], uri: {prefix: /}}]
    route: [{destination: {host: api, subset: public}}]
  - name: from-frontend
    match: [{sourceLabels: {app: frontend}, sourceNamespace: shop}]
    route: [{destination: {host: api, subset: internal}}]
  - name: port-8080
    match: [{port: 8080}]
    route: [{destination: {host: api, subset: debug}}]
  - name: not-legacy
    match: [{withoutHeaders: {x-legacy: {}}}]
    route: [{destination: {host: api, subset: modern}}]
  - route: [{destination: {host: api, subset: legacy}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
"""


def sources_index() -> MeshIndex:
    svc = service("api", "shop", {"app": "api"})
    svc["spec"]["ports"].append({"name": "http-debug", "port": 8080})
    return MeshIndex(docs(SOURCES) + [svc])


def test_match_level_gateways_source_labels_namespace_port_and_without_headers() -> None:
    index = sources_index()
    gw = run(index, "api.shop.svc.cluster.local", gateway="shop/edge")
    assert gw.rule_name == "from-gateway"
    mesh = run(index, "api", source_namespace="shop", source_labels={"app": "frontend"}, port=80)
    assert mesh.rule_name == "from-frontend"
    assert "gateways shop/edge exclude mesh" in mesh.rules[0].line()
    wrong_ns = run(index, "api.shop", source_namespace="web", source_labels={"app": "frontend"}, port=80)
    assert "sourceNamespace shop ≠ web" in wrong_ns.rules[1].line()
    debug = run(index, "api", source_namespace="shop", port=8080)
    assert debug.rule_name == "port-8080"
    modern = run(index, "api", source_namespace="shop", port=80)
    assert modern.rule_name == "not-legacy"
    legacy = run(index, "api", source_namespace="shop", port=80, headers={"x-legacy": "1"})
    assert legacy.rule_index == 4 and subsets(legacy) == {"legacy": 100}


WILDCARDS = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: wild, namespace: edge}
spec:
  hosts: ["*.example.com"]
  gateways: [public]
  http: [{route: [{destination: {host: web.edge.svc.cluster.local}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: edge}
spec:
  hosts: [api.example.com]
  gateways: [edge/public]
  http: [{route: [{destination: {host: api.edge.svc.cluster.local}}]}]
"""


def test_wildcard_hosts_most_specific_wins() -> None:
    index = MeshIndex(docs(WILDCARDS))
    api = run(index, "api.example.com", gateway="edge/public")
    assert api.virtual_service == "edge/api"
    www = run(index, "www.example.com", gateway="public")
    assert www.virtual_service == "edge/wild"
    assert www.destinations[0].host == "web.edge.svc.cluster.local"
    other = run(index, "example.org", gateway="edge/public")
    assert other.virtual_service is None and other.outcome == "no_vhost"


CATALOG = """
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: catalog-gateway, namespace: istioinaction}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [catalog.istioinaction.io]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog-vs-from-gw, namespace: istioinaction}
spec:
  hosts: [catalog.istioinaction.io]
  gateways: [catalog-gateway]
  http:
  - route:
    - {destination: {host: catalog, subset: version-v1}, weight: 90}
    - {destination: {host: catalog, subset: version-v2}, weight: 10}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: catalog, namespace: istioinaction}
spec:
  host: catalog
  subsets:
  - {name: version-v1, labels: {version: v1}}
  - {name: version-v2, labels: {version: v2}}
"""


def catalog() -> MeshIndex:
    return MeshIndex(docs(CATALOG) + [
        service("catalog", "istioinaction", {"app": "catalog"}),
        pod("catalog-v1", "istioinaction", {"app": "catalog", "version": "v1"}),
        pod("catalog-v2", "istioinaction", {"app": "catalog", "version": "v2"}),
    ])


def test_host_header_trap_split_is_ignored_in_the_mesh() -> None:
    index = catalog()
    via_gw = run(index, "catalog.istioinaction.io", gateway="istioinaction/catalog-gateway")
    assert subsets(via_gw) == {"version-v1": 90, "version-v2": 10}
    # Inside the mesh the same Host header meets no VirtualService: plain Kubernetes balancing.
    mesh = run(index, "catalog.istioinaction.io", source_namespace="istioinaction")
    assert mesh.virtual_service is None and mesh.rule_index is None
    assert mesh.outcome == "passthrough"
    assert [(d.host, d.subset, d.weight) for d in mesh.destinations] == [
        ("catalog.istioinaction.svc.cluster.local", None, 100)
    ]
    assert mesh.destinations[0].pods == ["istioinaction/catalog-v1", "istioinaction/catalog-v2"]
    text = "\n".join(mesh.explanation)
    assert "bound to istioinaction/catalog-gateway, not mesh" in text
    # Calling the Service by name does not use the gateway's VirtualService either.
    by_name = run(index, "catalog", source_namespace="istioinaction")
    assert by_name.virtual_service is None and by_name.outcome == "default"


def test_registry_only_blackholes_unknown_hosts() -> None:
    mesh_cm = {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
        "data": {"mesh": "outboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"},
    }
    index = MeshIndex(docs(CATALOG) + [mesh_cm])
    result = run(index, "example.com", source_namespace="istioinaction")
    assert result.outcome == "blackhole" and result.destinations == []


def test_request_parsing_errors_are_one_line() -> None:
    assert parse_header("x-canary: true") == ("x-canary", "true")
    assert parse_header(":authority: a.b") == (":authority", "a.b")
    with pytest.raises(RequestError, match="no ':'"):
        parse_header("x-canary")
    with pytest.raises(RequestError, match="must start with '/'"):
        TraceRequest.build("a", "api")
    with pytest.raises(RequestError, match="not found"):
        trace(catalog(), TraceRequest.build("a", gateway="nope"))


def test_redirect_from_pilot_test_config() -> None:
    index = MeshIndex(sample("pilot-test-configs", "rule-redirect-injection.yaml"))
    result = run(index, "redirect.test.istio.io:8080", "/old", headers={"testredirect": "enabled"},
                 source_namespace="testns")
    assert result.virtual_service == "testns/redirect" and result.outcome == "redirect"
    assert result.redirect is not None and result.redirect["status"] == 301  # Istio's default code
    assert result.redirect["location"].startswith("http://redirect2.test.istio.io")
    assert result.redirect["location"].endswith("/new/path")
    assert result.destinations == []
    # Without the header the only rule does not match: 404 from the VirtualService.
    plain = run(index, "redirect.test.istio.io", "/old", source_namespace="testns")
    assert plain.outcome == "no_route" and plain.rule_index is None


DELEGATE = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: root, namespace: front}
spec:
  hosts: [shop.example.com]
  gateways: [front/gw]
  http:
  - match: [{uri: {prefix: /cart}}]
    delegate: {name: cart, namespace: cart}
  - directResponse: {status: 418, body: {string: teapot}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: cart}
spec:
  http:
  - match: [{uri: {prefix: /cart/v2}}]
    route: [{destination: {host: cart, subset: v2}}]
  - route: [{destination: {host: cart, subset: v1}}]
"""


def test_delegate_and_direct_response() -> None:
    index = MeshIndex(docs(DELEGATE))
    v2 = run(index, "shop.example.com", "/cart/v2/items", gateway="front/gw")
    assert v2.virtual_service == "front/root" and v2.rule_index == 0
    assert v2.rules[0].delegate == "cart/cart"
    assert [(d.host, d.subset) for d in v2.destinations] == [("cart.cart.svc.cluster.local", "v2")]
    tea = run(index, "shop.example.com", "/", gateway="front/gw")
    assert tea.outcome == "direct" and tea.direct_response == {"status": 418, "body": "teapot"}
    assert tea.rule_index == 1


MERGED = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a-site, namespace: web, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  hosts: [site.example.com]
  gateways: [web/gw]
  http:
  - route: [{destination: {host: site}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b-blog, namespace: web, creationTimestamp: "2024-02-01T00:00:00Z"}
spec:
  hosts: [site.example.com]
  gateways: [web/gw]
  http:
  - match: [{uri: {prefix: /blog}}]
    route: [{destination: {host: blog}}]
"""


def test_gateway_merges_virtual_services_with_catch_all_last() -> None:
    index = MeshIndex(docs(MERGED))
    blog = run(index, "site.example.com", "/blog/post", gateway="web/gw")
    assert blog.virtual_service == "web/b-blog"
    assert blog.destinations[0].host == "blog.web.svc.cluster.local"
    home = run(index, "site.example.com", "/", gateway="web/gw")
    assert home.virtual_service == "web/a-site"


def test_mesh_uses_only_the_oldest_virtual_service_for_a_host() -> None:
    objs = docs(MERGED.replace("gateways: [web/gw]", "gateways: [mesh]"))
    mesh = run(MeshIndex(objs), "site.example.com", "/blog/post", source_namespace="web")
    assert mesh.virtual_service == "web/a-site"  # b-blog is ignored for mesh traffic
    assert any("IST0109" in n for n in mesh.notes)


def test_host_header_given_like_curl_names_the_dialled_service() -> None:
    # curl -H 'Host: catalog.istioinaction.io' http://catalog
    request = TraceRequest.build("catalog", headers={"Host": "catalog.istioinaction.io"},
                                 source_namespace="istioinaction")
    assert request.host == "catalog.istioinaction.io" and request.service == "catalog"
    result = trace(catalog(), request)
    assert result.virtual_service is None and result.service == "istioinaction/catalog"
    assert not any("assuming" in n for n in result.notes)


INVALID_REGEX = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bad, namespace: default}
spec:
  hosts: [bad]
  http:
  - match: [{headers: {x-user: {regex: "(?!admin).*"}}}]
    route: [{destination: {host: bad, subset: a}}]
  - route: [{destination: {host: bad, subset: b}}]
"""


def test_non_re2_regex_is_reported_and_never_matches() -> None:
    result = run(MeshIndex(docs(INVALID_REGEX)), "bad", headers={"x-user": "bob"}, source_namespace="default")
    assert result.rule_index == 1
    assert "invalid RE2" in result.rules[0].line() and "negative lookahead" in result.rules[0].line()
