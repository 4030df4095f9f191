"""Release operations produce the spec Istio semantics call for, and traffic follows it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_routing_common import bookinfo_pods, docs, run, sample, subsets

from meshtui.model.index import MeshIndex
from meshtui.routing import edit, release
from meshtui.write import edit_api
from meshtui.routing.rules import ReleaseError


def reviews_vs(name: str) -> dict[str, Any]:
    """The reviews VirtualService of a bookinfo sample, with an unknown field to carry along."""
    vs = next(o for o in sample("bookinfo", "networking", name) if o["metadata"]["name"] == "reviews")
    vs["spec"]["x-unknown"] = {"keep": True}
    return vs


def mesh_with(vs: dict[str, Any]) -> MeshIndex:
    objs = [o for o in sample("bookinfo", "platform", "kube", "bookinfo.yaml") if o["kind"] != "Deployment"]
    objs += bookinfo_pods() + sample("bookinfo", "networking", "destination-rule-all.yaml") + [vs]
    return MeshIndex(objs)


def route_of(vs: dict[str, Any], rule: int = 0) -> list[tuple[str, int | None]]:
    return [(d["destination"]["subset"], d.get("weight")) for d in vs["spec"]["http"][rule]["route"]]


def test_canary_step_moves_ten_points_and_keeps_everything_else() -> None:
    vs = reviews_vs("virtual-service-reviews-90-10.yaml")
    before = copy.deepcopy(vs)
    new = release.canary_step(vs, stable="v1", canary="v2")
    assert vs == before  # input untouched
    assert route_of(new) == [("v1", 80), ("v2", 20)]
    assert new["spec"]["x-unknown"] == {"keep": True}
    assert new["metadata"] == vs["metadata"] and new["spec"]["hosts"] == ["reviews"]
    assert subsets(run(mesh_with(new), "reviews", source_namespace="default")) == {"v1": 80, "v2": 20}


def test_canary_step_respects_max_weight_and_adds_the_canary() -> None:
    vs = reviews_vs("virtual-service-reviews-90-10.yaml")
    assert route_of(release.canary_step(vs, "v1", "v2", step=30, max_weight=25)) == [("v1", 75), ("v2", 25)]
    all_v1 = reviews_vs("virtual-service-all-v1.yaml")
    new = release.canary_step(all_v1, "v1", "v3", step=5)
    assert new["spec"]["http"][0]["route"] == [
        {"destination": {"host": "reviews", "subset": "v1"}, "weight": 95},
        {"destination": {"host": "reviews", "subset": "v3"}, "weight": 5},
    ]


def test_promote_rollback_and_blue_green() -> None:
    vs = reviews_vs("virtual-service-reviews-90-10.yaml")
    promoted = release.promote(vs, "v2")
    assert route_of(promoted) == [("v1", 0), ("v2", 100)]
    traced = run(mesh_with(promoted), "reviews", source_namespace="default")
    assert [(d.subset, d.probability) for d in traced.destinations] == [("v1", 0.0), ("v2", 1.0)]
    assert route_of(release.rollback(promoted, "v1")) == [("v1", 100), ("v2", 0)]
    single = reviews_vs("virtual-service-reviews-v3.yaml")
    switched = release.blue_green_switch(single, "v2")
    assert route_of(switched) == [("v2", None)]
    assert subsets(run(mesh_with(switched), "reviews", source_namespace="default")) == {"v2": 100}


def test_set_and_shift_weight_rebalance_to_100() -> None:
    vs = reviews_vs("virtual-service-reviews-80-20.yaml")
    assert route_of(edit_api.shift(0, "v2", 5).edit(vs)) == [("v1", 75), ("v2", 25)]
    assert route_of(edit_api.set_weight(0, "v1", 33).edit(vs)) == [("v1", 33), ("v2", 67)]
    assert route_of(edit_api.drain(0, "v1").edit(vs)) == [("v1", 0), ("v2", 100)]
    three = release.add_destination(vs, "v3", 10)
    assert route_of(three) == [("v1", 72), ("v2", 18), ("v3", 10)]
    assert route_of(release.remove_destination(three, "v2")) == [("v1", 88), ("v3", 12)]


def test_ab_split_adds_and_zeroes() -> None:
    vs = reviews_vs("virtual-service-reviews-80-20.yaml")
    new = release.ab_split(vs, {"v1": 50, "v3": 50})
    assert route_of(new) == [("v1", 50), ("v2", 0), ("v3", 50)]
    with pytest.raises(ReleaseError, match="sum to 100"):
        release.ab_split(vs, {"v1": 50, "v3": 40})


def test_dark_launch_inserts_a_header_rule_before_the_default_route() -> None:
    vs = reviews_vs("virtual-service-all-v1.yaml")
    new = release.dark_launch(vs, "v3")
    assert new["spec"]["http"][0] == {
        "name": "dark-launch-v3",
        "match": [{"headers": {"x-istio-cohort": {"exact": "internal"}}}],
        "route": [{"destination": {"host": "reviews", "subset": "v3"}}],
    }
    assert new["spec"]["http"][1] == vs["spec"]["http"][0]
    index = mesh_with(new)
    internal = run(index, "reviews", headers={"x-istio-cohort": "internal"}, source_namespace="default")
    assert subsets(internal) == {"v3": 100} and internal.rule_name == "dark-launch-v3"
    assert subsets(run(index, "reviews", source_namespace="default")) == {"v1": 100}
    with pytest.raises(ReleaseError, match="already has a rule"):
        release.dark_launch(new, "v3")


def test_mirror_with_percentage() -> None:
    vs = reviews_vs("virtual-service-all-v1.yaml")
    new = release.set_mirror(vs, "v2", 25)
    rule = new["spec"]["http"][0]
    assert rule["mirror"] == {"host": "reviews", "subset": "v2"}
    assert rule["mirrorPercentage"] == {"value": 25.0}
    traced = run(mesh_with(new), "reviews", source_namespace="default")
    assert traced.to_dict()["mirror"] == {
        "host": "reviews.default.svc.cluster.local", "subset": "v2", "percentage": 25.0
    }
    assert release.remove_mirror(new)["spec"]["http"][0] == vs["spec"]["http"][0]


def test_fault_injection_and_removal() -> None:
    vs = reviews_vs("virtual-service-all-v1.yaml")
    new = edit.set_fault(vs, delay="5s", delay_percent=10, abort_status=503, abort_percent=5)
    assert new["spec"]["http"][0]["fault"] == {
        "delay": {"fixedDelay": "5s", "percentage": {"value": 10.0}},
        "abort": {"httpStatus": 503, "percentage": {"value": 5.0}},
    }
    traced = run(mesh_with(new), "reviews", source_namespace="default")
    assert traced.fault["abort"]["http_status"] == 503
    only_delay = edit.remove_fault(new, "abort")
    assert list(only_delay["spec"]["http"][0]["fault"]) == ["delay"]
    assert "fault" not in edit.remove_fault(new)["spec"]["http"][0]
    with pytest.raises(ReleaseError, match="duration"):
        edit.set_fault(vs, delay="5 seconds")


def test_match_conditions_set_edit_remove() -> None:
    vs = reviews_vs("virtual-service-reviews-jason-v2-v3.yaml")
    new = edit.set_condition(vs, "uri", "prefix", "/API", rule=0, ignore_uri_case=True)
    new = edit.set_condition(new, "method", "exact", "GET", rule=0)
    new = edit.set_condition(new, "queryParams", "regex", "[0-9]+", name="id", rule=0)
    new = edit.set_condition(new, "withoutHeaders", "present", name="X-Debug", rule=0)
    assert new["spec"]["http"][0]["match"] == [{
        "headers": {"end-user": {"exact": "jason"}},
        "uri": {"prefix": "/API"},
        "ignoreUriCase": True,
        "method": {"exact": "GET"},
        "queryParams": {"id": {"regex": "[0-9]+"}},
        "withoutHeaders": {"x-debug": {}},
    }]
    index = mesh_with(new)
    hit = run(index, "reviews", "/api/x?id=7", headers={"end-user": "jason"}, source_namespace="default")
    assert hit.rule_index == 0
    debug = run(index, "reviews", "/api/x?id=7", headers={"end-user": "jason", "x-debug": "1"},
                source_namespace="default")
    assert debug.rule_index == 1
    # Editing the header's value, then removing conditions down to a catch-all.
    edited = edit.set_condition(vs, "headers", "prefix", "ja", name="end-user", rule=0)
    assert edited["spec"]["http"][0]["match"][0]["headers"] == {"end-user": {"prefix": "ja"}}
    removed = edit.remove_condition(vs, "headers", name="End-User", rule=0)
    assert "match" not in removed["spec"]["http"][0]
    with pytest.raises(ReleaseError, match="lookahead"):
        edit.set_condition(vs, "headers", "regex", "(?=x)y", name="x", rule=0)
    with pytest.raises(ReleaseError, match="backreference"):
        edit.set_condition(vs, "uri", "regex", r"(a)\1", rule=0)


def test_second_match_block_is_an_alternative() -> None:
    vs = reviews_vs("virtual-service-reviews-jason-v2-v3.yaml")
    new = edit.set_condition(vs, "headers", "exact", "alice", name="end-user", rule=0, block=1)
    index = mesh_with(new)
    assert run(index, "reviews", headers={"end-user": "alice"}, source_namespace="default").rule_index == 0
    assert run(index, "reviews", headers={"end-user": "jason"}, source_namespace="default").rule_index == 0


def test_reorder_reports_rules_behind_a_catch_all() -> None:
    vs = reviews_vs("virtual-service-reviews-jason-v2-v3.yaml")
    assert edit.unreachable_rules(vs) == []
    moved = edit.move_rule(vs, 1, 0)
    assert [r.get("match") is None for r in moved["spec"]["http"]] == [True, False]
    lost = edit.newly_unreachable(vs, moved)
    assert [(u.index, u.shadowed_by) for u in lost] == [(1, 0)]
    assert "unreachable" in str(lost[0])
    index = mesh_with(moved)
    assert subsets(run(index, "reviews", headers={"end-user": "jason"}, source_namespace="default")) == {"v3": 100}


def test_uri_rewrite_applies_to_the_traced_path() -> None:
    vs = reviews_vs("virtual-service-reviews-jason-v2-v3.yaml")
    prefixed = edit.set_condition(vs, "uri", "prefix", "/legacy", rule=0)
    new = edit.set_rewrite(prefixed, uri="/v2", rule=0)
    assert new["spec"]["http"][0]["rewrite"] == {"uri": "/v2"}
    traced = run(mesh_with(new), "reviews", "/legacy/items?q=1", headers={"end-user": "jason"},
                 source_namespace="default")
    assert traced.rewrite == {"uri": "/v2/items?q=1", "authority": None}
    regex = edit.set_rewrite(prefixed, uri_regex=(r"^/legacy/(.*)$", r"/new/\1"), rule=0)
    traced = run(mesh_with(regex), "reviews", "/legacy/a/b", headers={"end-user": "jason"},
                 source_namespace="default")
    assert traced.rewrite["uri"] == "/new/a/b"
    assert "rewrite" not in edit.remove_rewrite(new, rule=0)["spec"]["http"][0]


def test_rules_are_addressed_by_index_or_name() -> None:
    vs = docs("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: backend, namespace: shop}
spec:
  hosts: [backend]
  http:
  - name: api
    match: [{uri: {prefix: /api}}]
    route:
    - {destination: {host: backend, subset: v0}, weight: 50}
    - {destination: {host: backend, subset: v1}, weight: 50}
  - name: default
    route:
    - {destination: {host: backend, subset: v0}, weight: 90}
    - {destination: {host: backend, subset: v1}, weight: 10}
""")[0]
    by_name = release.canary_step(vs, "v0", "v1", rule="default")
    assert route_of(by_name, 1) == [("v0", 80), ("v1", 20)] and route_of(by_name, 0) == route_of(vs, 0)
    assert route_of(release.canary_step(vs, "v0", "v1", rule=0), 0) == [("v0", 40), ("v1", 60)]
    # Without a rule, the default route is the one both subsets share.
    assert route_of(release.canary_step(vs, "v0", "v1"), 1) == [("v0", 80), ("v1", 20)]
    with pytest.raises(ReleaseError, match="no http rule named 'nope'"):
        release.promote(vs, "v1", rule="nope")
    with pytest.raises(ReleaseError, match="rule 5 does not exist"):
        release.promote(vs, "v1", rule=5)
    with pytest.raises(ReleaseError, match="no destination 'v9'"):
        edit_api.shift(0, "v9", 5).edit(vs)
