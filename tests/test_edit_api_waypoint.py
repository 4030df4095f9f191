"""The waypoint edit actions on raw objects: the labels Istio reads, the input left untouched."""

from __future__ import annotations

import copy

import pytest

from meshtui.routing.rules import ReleaseError
from meshtui.write import edit_api_waypoint as wp

SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "reviews", "namespace": "default"},
           "spec": {"ports": [{"port": 9080}]}}


def labels(obj: dict) -> dict:
    """The object's labels."""
    return obj["metadata"].get("labels", {})


def test_a_waypoint_in_another_namespace_gets_the_namespace_label_and_the_input_is_kept() -> None:
    before = copy.deepcopy(SERVICE)
    new = wp.use("shared", "infra").edit(SERVICE)
    assert labels(new) == {"istio.io/use-waypoint": "shared", "istio.io/use-waypoint-namespace": "infra"}
    assert SERVICE == before
    # Back to a waypoint of its own namespace: the -namespace label must go, or istiod keeps "infra".
    again = wp.use("local", "default").edit(new)
    assert labels(again) == {"istio.io/use-waypoint": "local"}


def test_none_opts_out_and_remove_drops_the_labels() -> None:
    out = wp.use("none").edit(wp.use("shared", "infra").edit(SERVICE))
    assert labels(out) == {"istio.io/use-waypoint": "none"}
    assert "labels" not in wp.remove().edit(SERVICE)["metadata"]  # nothing added to an object without labels


def test_canary_then_promote_moves_the_canary_namespace_too() -> None:
    primary = wp.use("reviews-wp").edit(SERVICE)
    with_canary = wp.canary(5, "reviews-wp-v2", "infra").edit(primary)
    assert labels(with_canary) == {"istio.io/use-waypoint": "reviews-wp", "istio.io/use-waypoint-canary": "reviews-wp-v2",
                                   "istio.io/use-waypoint-canary-namespace": "infra"}
    assert with_canary["metadata"]["annotations"] == {"istio.io/use-waypoint-canary-weight": "5"}
    promoted = wp.promote().edit(with_canary)
    assert labels(promoted) == {"istio.io/use-waypoint": "reviews-wp-v2", "istio.io/use-waypoint-namespace": "infra"}
    assert "annotations" not in promoted["metadata"] or promoted["metadata"]["annotations"] == {}
    assert labels(wp.rollback().edit(with_canary)) == {"istio.io/use-waypoint": "reviews-wp"}


@pytest.mark.parametrize("make, message", [
    (lambda: wp.canary(101, "x"), "canary weight 101 must be an integer from 0 to 100"),
    (lambda: wp.canary(10, "reviews-wp").edit(wp.use("reviews-wp").edit(SERVICE)),
     "canary waypoint reviews-wp must differ from the primary waypoint"),
    (lambda: wp.canary(10).edit(wp.use("reviews-wp").edit(SERVICE)),
     "no canary waypoint yet: name one (--waypoint NAME[.NS])"),
    (lambda: wp.promote().edit(SERVICE), "no canary waypoint to promote (istio.io/use-waypoint-canary is not set)"),
])
def test_impossible_edits_say_why(make, message: str) -> None:
    with pytest.raises(ReleaseError) as exc:
        make()
    assert str(exc.value) == message
