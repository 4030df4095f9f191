"""Patch formats and selectors of the sandbox, on the examples of the RFCs and Kubernetes docs."""

from __future__ import annotations

import pytest

from meshtui.sandbox.patch import PatchError, json_patch, merge_patch, strategic_merge
from meshtui.sandbox.selectors import SelectorError, parse_field_selector, parse_label_selector


def test_merge_patch_rfc7386_example() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}}
    assert merge_patch(target, {"a": "z", "c": {"f": None}}) == {"a": "z", "c": {"d": "e"}}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}}


def test_json_patch_rfc6902_ops_and_failed_test() -> None:
    doc = {"foo": ["bar", "baz"]}
    assert json_patch(doc, [{"op": "add", "path": "/foo/1", "value": "qux"}]) == {"foo": ["bar", "qux", "baz"]}
    assert json_patch(doc, [{"op": "remove", "path": "/foo/0"}]) == {"foo": ["baz"]}
    assert json_patch(doc, [{"op": "move", "from": "/foo/0", "path": "/bar"}]) == {"foo": ["baz"], "bar": "bar"}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "test", "path": "/foo/0", "value": "nope"}])


def test_strategic_merge_merges_containers_by_name_and_deletes_by_directive() -> None:
    pod = {"spec": {"containers": [{"name": "app", "image": "a:1"}, {"name": "istio-proxy", "image": "p"}]}}
    out = strategic_merge(pod, {"spec": {"containers": [{"name": "app", "image": "a:2"}]}})
    assert out["spec"]["containers"] == [{"name": "app", "image": "a:2"}, {"name": "istio-proxy", "image": "p"}]
    out = strategic_merge(pod, {"spec": {"containers": [{"name": "app", "$patch": "delete"}]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["istio-proxy"]


def test_label_selector_grammar() -> None:
    sel = parse_label_selector("app=reviews,version in (v1, v2),!canary,tier")
    assert sel is not None
    ok = {"metadata": {"labels": {"app": "reviews", "version": "v2", "tier": "x"}}}
    assert sel(ok)
    assert not sel({"metadata": {"labels": {**ok["metadata"]["labels"], "canary": "1"}}})
    notin = parse_label_selector("version notin (v1)")
    assert notin is not None and notin({"metadata": {"labels": {}}})
    with pytest.raises(SelectorError):
        parse_label_selector("version in (v1")


def test_field_selector_rejects_unsupported_fields() -> None:
    sel = parse_field_selector("metadata.namespace=a,metadata.name!=b")
    assert sel is not None and sel({"metadata": {"namespace": "a", "name": "c"}})
    with pytest.raises(SelectorError, match="field label not supported: spec.foo"):
        parse_field_selector("spec.foo=x")
