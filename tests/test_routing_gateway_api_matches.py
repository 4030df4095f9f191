"""Match edits on HTTPRoutes and GRPCRoutes: path, method, query parameters, gRPC service/method,
adding and removing a match; every result valid against the shipped CRD (schema and CEL), and a
value the CRD refuses refused by the edit API with the CRD's own message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meshtui.model.schema import validate
from meshtui.routing import gateway_api_matches as gam
from meshtui.routing.rules import ReleaseError
from meshtui.write import edit_api_gateway as api


def http_route(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "shop", "namespace": "gw"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "shop", "port": 80}], "rules": rules}}


def grpc_route(rules: list[dict[str, Any]]) -> dict[str, Any]:
    obj = http_route(rules)
    obj["kind"] = "GRPCRoute"
    return obj


def valid(obj: dict[str, Any]) -> dict[str, Any]:
    assert validate(obj, strict=True) == [], validate(obj, strict=True)
    return obj


def matches(obj: dict[str, Any], rule: int = 0) -> Any:
    return obj["spec"]["rules"][rule].get("matches")


BACKEND = [{"name": "shop-v1", "port": 80}]


def test_path_is_set_on_every_match_or_one_and_dropped() -> None:
    r = http_route([{"name": "api", "matches": [{"path": {"type": "PathPrefix", "value": "/api"}},
                                                 {"headers": [{"name": "x-beta", "value": "1"}]}],
                     "backendRefs": BACKEND}])
    kept = copy.deepcopy(r)
    one = valid(gam.set_path(r, "api", "Exact", "/api/v2", match=1))
    assert matches(one) == [{"path": {"type": "PathPrefix", "value": "/api"}},
                            {"headers": [{"name": "x-beta", "value": "1"}], "path": {"type": "Exact", "value": "/api/v2"}}]
    every = valid(gam.set_path(r, 0, "RegularExpression", "^/api/v[0-9]+"))
    assert [m["path"] for m in matches(every)] == [{"type": "RegularExpression", "value": "^/api/v[0-9]+"}] * 2
    dropped = valid(gam.set_path(r, 0, "PathPrefix", "", match=0))
    assert matches(dropped) == [{"headers": [{"name": "x-beta", "value": "1"}]}]  # the emptied match went
    assert r == kept  # the object read is never changed
    with pytest.raises(ReleaseError, match="must be one of Exact, PathPrefix, RegularExpression"):
        gam.set_path(r, 0, "Prefix", "/api")
    with pytest.raises(ReleaseError, match="has no match #2"):
        gam.set_path(r, 0, "Exact", "/a", match=2)


def test_a_new_matches_key_goes_after_the_rule_name() -> None:
    r = http_route([{"name": "site", "backendRefs": BACKEND}])
    after = valid(gam.set_method(r, "site", "post"))
    assert list(after["spec"]["rules"][0]) == ["name", "matches", "backendRefs"]
    assert matches(after) == [{"method": "POST"}]
    assert "matches" not in gam.set_method(after, "site", "")["spec"]["rules"][0]


def test_query_parameters_exact_and_regex_are_replaced_and_removed() -> None:
    r = http_route([{"backendRefs": BACKEND}])
    one = valid(gam.set_query_match(r, 0, "version", "2"))
    assert matches(one) == [{"queryParams": [{"name": "version", "value": "2"}]}]
    # Query parameter names are case-sensitive: "Version" is another condition.
    two = valid(gam.set_query_match(one, 0, "Version", "^v[0-9]$", regex=True))
    assert len(matches(two)[0]["queryParams"]) == 2
    replaced = valid(gam.set_query_match(two, 0, "version", "3"))
    assert matches(replaced)[0]["queryParams"][-1] == {"name": "version", "value": "3"}
    cleared = gam.remove_query_match(gam.remove_query_match(replaced, 0, "version"), 0, "Version")
    assert "matches" not in valid(cleared)["spec"]["rules"][0]
    with pytest.raises(ReleaseError, match="no match on query parameter 'version'"):
        gam.remove_query_match(cleared, 0, "version")


def test_matches_are_added_and_removed() -> None:
    r = http_route([{"matches": [{"path": {"type": "PathPrefix", "value": "/a"}}], "backendRefs": BACKEND}])
    added = valid(gam.add_match(r, 0, gam.parse_match("HTTPRoute", "Exact /b, method GET, header x-u~^b, query q=1")))
    assert matches(added)[1] == {"path": {"type": "Exact", "value": "/b"}, "method": "GET",
                                 "headers": [{"name": "x-u", "value": "^b", "type": "RegularExpression"}],
                                 "queryParams": [{"name": "q", "value": "1"}]}
    removed = valid(gam.remove_match(added, 0, 0))
    assert matches(removed) == [matches(added)[1]]
    assert "matches" not in valid(gam.remove_match(removed, 0, 0))["spec"]["rules"][0]
    with pytest.raises(ReleaseError, match="expected one of"):
        gam.parse_match("HTTPRoute", "Prefix /a")
    with pytest.raises(ReleaseError, match="expected NAME=VALUE"):
        gam.parse_match("HTTPRoute", "header x-only")


def test_an_empty_match_written_by_the_user_is_kept() -> None:
    # [{}, {path}] takes every request; dropping the condition of the second must not narrow it.
    r = http_route([{"matches": [{}, {"method": "GET"}], "backendRefs": BACKEND}])
    assert matches(gam.set_method(r, 0, "", match=1)) == [{}]


def test_grpc_service_and_method_and_what_grpc_cannot_match() -> None:
    r = grpc_route([{"backendRefs": BACKEND}])
    exact = valid(gam.set_grpc_method(r, 0, "helloworld.Greeter", "SayHello"))
    assert matches(exact) == [{"method": {"service": "helloworld.Greeter", "method": "SayHello"}}]
    regex = valid(gam.set_grpc_method(exact, 0, "hello.*", "", regex=True))
    assert matches(regex) == [{"method": {"type": "RegularExpression", "service": "hello.*"}}]
    parsed = gam.parse_match("GRPCRoute", "grpc RegularExpression foo.*/Get, header a=b")
    assert parsed == {"method": {"type": "RegularExpression", "service": "foo.*", "method": "Get"},
                      "headers": [{"name": "a", "value": "b"}]}
    with pytest.raises(ReleaseError, match="not a path"):
        gam.set_path(r, 0, "PathPrefix", "/a")
    with pytest.raises(ReleaseError, match="no query parameter matches"):
        gam.set_query_match(r, 0, "q", "1")
    with pytest.raises(ReleaseError, match="only a GRPCRoute"):
        gam.set_grpc_method(http_route([{"backendRefs": BACKEND}]), 0, "svc", "")


@pytest.mark.parametrize("action, message", [
    (lambda: api.path_match(0, "PathPrefix", "cart"),
     "spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute path and start with '/'"),
    (lambda: api.path_match(0, "Exact", "/a//b"), "must not contain '//' when type one of ['Exact', 'PathPrefix']"),
    (lambda: api.path_match(0, "PathPrefix", "/a/./b"), "must not contain '/./'"),
    (lambda: api.method_match(0, "FETCH"), 'spec.rules[0].matches[0].method: Unsupported value: "FETCH"'),
    (lambda: api.query_match(0, "a b", "1"), "spec.rules[0].matches[0].queryParams[0].name"),
])
def test_a_value_the_crd_refuses_is_refused_with_the_crds_message(action: Any, message: str) -> None:
    r = http_route([{"backendRefs": BACKEND}])
    with pytest.raises(ReleaseError) as refused:
        action().edit(r)
    assert message in str(refused.value)


def test_a_cel_rule_across_the_rule_refuses_a_path_type_a_rewrite_cannot_take() -> None:
    rewrite = {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}
    r = http_route([{"matches": [{"path": {"type": "PathPrefix", "value": "/cart"}}], "filters": [rewrite],
                     "backendRefs": BACKEND}])
    with pytest.raises(ReleaseError, match="exactly one PathPrefix match must be specified"):
        api.path_match(0, "Exact", "/cart").edit(r)
    assert api.path_match(0, "PathPrefix", "/basket").edit(r)["spec"]["rules"][0]["matches"] == [
        {"path": {"type": "PathPrefix", "value": "/basket"}}]
