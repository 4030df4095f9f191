"""choose_destination draws outcomes with the configured odds; RE2 screening of patterns."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from test_routing_common import bookinfo, run

from meshtui.routing import edit
from meshtui.routing.regex import full_match, re2_problem
from meshtui.routing.simulate import choose_destination, parse_duration_ms


def test_draws_follow_the_weights() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-reviews-90-10.yaml")
    result = run(index, "reviews", source_namespace="default")
    rng = random.Random(7)
    counts = Counter(choose_destination(result, rng).destination.subset for _ in range(5000))
    assert set(counts) == {"v1", "v2"}
    # 10 % of 5000 = 500; a seeded generator keeps this deterministic.
    assert 400 < counts["v2"] < 600
    choice = choose_destination(result, random.Random(1))
    assert choice.status is None and choice.response_flags == "-"
    assert choice.pod in ("default/reviews-v1-abc", "default/reviews-v2-abc")


def test_fault_abort_and_no_route() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-ratings-test-abort.yaml")
    aborted = choose_destination(run(index, "ratings", headers={"end-user": "jason"}, source_namespace="default"),
                                 random.Random(0))
    assert (aborted.status, aborted.response_flags, aborted.pod) == (500, "FI", None)
    gw = bookinfo("bookinfo-gateway.yaml")
    miss = choose_destination(run(gw, "x", "/nothing", gateway="default/bookinfo-gateway"), random.Random(0))
    assert (miss.status, miss.response_flags) == (404, "NR")


def test_undefined_subset_is_no_cluster() -> None:
    index = bookinfo("virtual-service-reviews-90-10.yaml")  # no DestinationRule: subsets undefined
    result = run(index, "reviews", source_namespace="default")
    assert any("not defined" in n for n in result.destinations[0].notes)
    choice = choose_destination(result, random.Random(0))
    assert (choice.status, choice.response_flags) == (503, "NC")


def test_delay_is_reported_in_ms() -> None:
    assert parse_duration_ms("5s") == 5000 and parse_duration_ms("250ms") == 250
    index = bookinfo("destination-rule-all.yaml", "virtual-service-ratings-test-delay.yaml")
    result = run(index, "ratings", headers={"end-user": "jason"}, source_namespace="default")
    choice = choose_destination(result, random.Random(0))
    assert choice.response_flags == "DI" and choice.delay_ms == 7000
    assert choice.destination is not None and choice.destination.subset == "v1"


def test_fault_written_by_edit_is_drawn_with_its_percentage() -> None:
    index = bookinfo("destination-rule-all.yaml", "virtual-service-ratings-test-delay.yaml")
    vs = next(v.raw for v in index.virtual_services)
    index.upsert(edit.set_fault(vs, abort_status=503, abort_percent=20, rule=1))
    result = run(index, "ratings", source_namespace="default")
    rng = random.Random(3)
    aborted = sum(choose_destination(result, rng).status == 503 for _ in range(2000))
    assert 300 < aborted < 500  # 20 % of 2000 = 400


@pytest.mark.parametrize(
    "pattern",
    ["(?=a)b", "(?!a)b", "(?<=a)b", "(?<!a)b", r"(a)\1", "(?P<x>a)(?P=x)", "(?>a)", "a++", "(?(1)a|b)"],
)
def test_re2_rejects_backtracking_constructs(pattern: str) -> None:
    assert re2_problem(pattern) is not None


@pytest.mark.parametrize("pattern", [r"/api/v[0-9]+/.*", r"\d+", "[+*]x", r"\(?=literal", "(?i)abc", "a{2,3}"])
def test_re2_accepts_ordinary_patterns(pattern: str) -> None:
    assert re2_problem(pattern) is None


def test_full_match_semantics() -> None:
    assert full_match("b.*", "bar")
    assert not full_match("b", "bar")  # partial matches do not count
    assert not full_match(r"\d", "٣")  # RE2 classes are ASCII
