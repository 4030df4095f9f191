"""The outcome verdict of a weight change (pure): a computed binomial bound, the Host trap as
evidence, and no verdict without traffic."""

from __future__ import annotations

import math

from meshtui.accesslog.bypass import BypassedHost
from meshtui.analysis.outcome import DestinationSample, Observation, judge_split, wilson_interval


def obs(**counts: int) -> Observation:
    return Observation({k: DestinationSample(v) for k, v in counts.items()})


def test_wilson_interval_narrows_with_more_requests_and_brackets_the_share() -> None:
    small = wilson_interval(10, 100)
    large = wilson_interval(1000, 10_000)
    assert small[0] < 0.10 < small[1] and large[0] < 0.10 < large[1]
    assert (large[1] - large[0]) < (small[1] - small[0]) / 5
    # At 3 sigma the half-width is close to 3·sqrt(p(1-p)/n) for a large n.
    assert math.isclose((large[1] - large[0]) / 2, 3 * math.sqrt(0.09 / 10_000), rel_tol=0.05)


def test_shares_within_sampling_error_converge_and_say_what_they_rest_on() -> None:
    verdict = judge_split({"v1": 90, "v2": 10}, obs(v1=182, v2=18))
    assert verdict.state == "converged" and verdict.requests == 200
    assert "converged over 200 request(s)" in verdict.summary()


def test_the_same_deviation_diverges_once_enough_requests_show_it() -> None:
    # 14 % for a weight of 10: noise over 100 requests, a real difference over 10,000.
    assert judge_split({"v1": 90, "v2": 10}, obs(v1=86, v2=14)).state == "converged"
    big = judge_split({"v1": 90, "v2": 10}, obs(v1=8600, v2=1400))
    assert big.state == "diverging" and "v2 14% for weight 10" in big.summary()


def test_bypassing_requests_diverge_with_the_host_named() -> None:
    trap = Observation({"v0": DestinationSample(180), "v1": DestinationSample(20)},
                       [BypassedHost("10.22.12.178:30785", 120, 0, "PassthroughCluster")])
    verdict = judge_split({"v0": 90, "v1": 10}, trap)
    assert verdict.state == "diverging"
    assert "10.22.12.178:30785" in verdict.summary() and "120 bypassing" in verdict.summary()


def test_a_few_bypassing_requests_within_the_noise_do_not_diverge() -> None:
    few = Observation({"v0": DestinationSample(900), "v1": DestinationSample(100)},
                      [BypassedHost("legacy:80", 2, 0, "PassthroughCluster")])
    assert judge_split({"v0": 90, "v1": 10}, few).state == "converged"


def test_no_request_is_no_traffic_not_converged() -> None:
    verdict = judge_split({"v1": 50, "v2": 50}, obs())
    assert verdict.state == "no traffic" and not verdict.diverging
    assert "no traffic" in verdict.summary()


def test_a_destination_whose_requests_reach_no_pod_diverges() -> None:
    dead = Observation({"v1": DestinationSample(140), "v2": DestinationSample(60, 60, 1, unserved=60)})
    verdict = judge_split({"v1": 70, "v2": 30}, dead)
    assert verdict.state == "diverging" and "60 of 60 request(s) routed to v2 reached no pod" in verdict.summary()


def test_every_request_to_the_promoted_destination_converges_at_any_count() -> None:
    # After a promote (weights 100/0) every request goes to v1: the bound of an all-or-nothing
    # share is exactly 1 / 0, so no count of requests makes it diverge.
    for n in (1, 20, 161, 164, 173, 1000, 12345):
        verdict = judge_split({"v1": 100, "v2": 0}, Observation({"v1": DestinationSample(n)}))
        assert verdict.state == "converged", (n, verdict.summary())
