"""Release operations on HTTPRoutes: shares written on the route's own scale, the Gateway API
forms of canary step, blue-green, A/B, dark launch and mirror (each result valid against the
shipped CRD schema and CEL rules), and the refusals of what the API cannot express."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meshtui.model.schema import validate
from meshtui.routing import gateway_api_matches as gam
from meshtui.routing import gateway_api_release as gar
from meshtui.routing.gateway_api_release import Scale
from meshtui.routing.rules import ReleaseError


def route(weights: list[int | None], names: tuple[str, ...] = ("shop-v1", "shop-v2")) -> dict[str, Any]:
    refs = []
    for name, w in zip(names, weights):
        ref: dict[str, Any] = {"name": name, "port": 80}
        if w is not None:
            ref["weight"] = w
        refs.append(ref)
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "shop", "namespace": "gw"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "shop", "port": 80}],
                     "rules": [{"backendRefs": refs}]}}


def weights(obj: dict[str, Any], rule: int = 0) -> list[int | None]:
    return [b.get("weight") for b in obj["spec"]["rules"][rule]["backendRefs"]]


def valid(obj: dict[str, Any]) -> dict[str, Any]:
    assert validate(obj, strict=True) == [], validate(obj, strict=True)
    return obj


@pytest.mark.parametrize("written, pin, scale, expected", [
    ([90, 10], ("shop-v2", (20, False)), Scale.AUTO, [80, 20]),
    ([9, 1], ("shop-v2", (20, False)), Scale.AUTO, [8, 2]),
    ([9, 1], ("shop-v2", (35, False)), Scale.AUTO, [65, 35]),
    ([9, 1], ("shop-v2", (20, False)), Scale.PERCENT, [80, 20]),
    ([None, None], ("shop-v2", (25, True)), Scale.AUTO, [25, 75]),  # default weight 1 each: 50/50
    ([3, 1], ("shop-v1", (-25, True)), Scale.AUTO, [2, 2]),
])
def test_shares_are_written_on_the_routes_own_scale(written: list[int | None], pin: tuple[str, tuple[int, bool]],
                                                    scale: Scale, expected: list[int]) -> None:
    before = route(written)
    kept = copy.deepcopy(before)
    after = gar.set_shares(before, 0, dict([pin]), scale)
    assert weights(valid(after)) == expected
    assert before == kept  # the object read is never changed


def test_an_inexact_split_on_the_files_scale_is_refused_with_the_reason() -> None:
    with pytest.raises(ReleaseError, match="cannot be written on the rule's own scale of 10"):
        gar.set_shares(route([9, 1]), 0, {"shop-v2": (35, False)}, Scale.FILE)


def test_promote_rollback_blue_green_and_ab() -> None:
    r = route([90, 10])
    assert weights(valid(gar.all_to(r, "shop-v2", 0))) == [0, 100]
    assert weights(valid(gar.all_to(route([9, 1]), "shop-v1", 0))) == [10, 0]
    green = valid(gar.blue_green(r, "shop-v3", 0))
    assert [b["name"] for b in green["spec"]["rules"][0]["backendRefs"]] == ["shop-v1", "shop-v2", "shop-v3"]
    assert weights(green) == [0, 0, 100] and green["spec"]["rules"][0]["backendRefs"][2]["port"] == 80
    assert weights(valid(gar.ab_split(r, {"shop-v1": 50, "shop-v2": 50}, 0))) == [50, 50]
    with pytest.raises(ReleaseError, match="add up to 100"):
        gar.ab_split(r, {"shop-v1": 60, "shop-v2": 50}, 0)
    with pytest.raises(ReleaseError, match="no backendRef 'shop-v9'"):
        gar.all_to(r, "shop-v9", 0)


def test_canary_step_adds_the_canary_and_caps_it() -> None:
    one = route([1], ("shop-v1",))
    stepped = valid(gar.canary_step(one, "shop-v1", "shop-v2", 10, 30, 0))
    assert [(b["name"], b.get("weight")) for b in stepped["spec"]["rules"][0]["backendRefs"]] == [
        ("shop-v1", 90), ("shop-v2", 10)]
    capped = gar.canary_step(route([75, 25]), "shop-v1", "shop-v2", 10, 30, 0)
    assert weights(capped) == [70, 30]


def test_dark_launch_and_mirror_are_valid_gateway_api() -> None:
    dark = valid(gar.dark_launch(route([90, 10]), "shop-v2", "x-canary", "true", 0))
    first = dark["spec"]["rules"][0]
    assert first["matches"] == [{"headers": [{"name": "x-canary", "value": "true"}]}]
    assert first["backendRefs"] == [{"name": "shop-v2", "port": 80}]
    assert weights(dark, 1) == [90, 10]
    mirrored = valid(gar.set_mirror(route([100, 0]), "shop-v2", 25, 0))
    assert mirrored["spec"]["rules"][0]["filters"] == [
        {"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "shop-v2", "port": 80}, "percent": 25}}]


def test_what_the_gateway_api_cannot_express_is_refused_with_the_reason() -> None:
    assert "no fault-injection filter" in gar.refusal("fault", route([1, 1]))
    assert "per-version Services" in gar.refusal("subset")
    with pytest.raises(ReleaseError, match="not an HTTPRoute"):
        gar.copy_route({"kind": "VirtualService"})


def test_header_matches_are_added_replaced_and_removed() -> None:
    r = route([90, 10])
    matched = valid(gam.add_header_match(r, 0, "x-user", "beta"))
    assert matched["spec"]["rules"][0]["matches"] == [{"headers": [{"name": "x-user", "value": "beta"}]}]
    again = valid(gam.add_header_match(matched, 0, "X-User", "^b.*", regex=True))
    assert again["spec"]["rules"][0]["matches"] == [
        {"headers": [{"name": "X-User", "value": "^b.*", "type": "RegularExpression"}]}]
    cleared = valid(gam.remove_header_match(again, 0, "x-user"))
    assert "matches" not in cleared["spec"]["rules"][0]
    with pytest.raises(ReleaseError, match="no match on header 'x-user'"):
        gam.remove_header_match(cleared, 0, "x-user")
