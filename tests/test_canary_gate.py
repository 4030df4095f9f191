"""The canary autopilot's step plan and gates (pure)."""

from __future__ import annotations

import pytest

from meshtui.analysis.canary_gate import (
    DONE,
    HOLD,
    ROLLBACK,
    STEP,
    GateLimits,
    PlanError,
    decide,
    evaluate_gate,
    step_weights,
)
from meshtui.analysis.outcome import DestinationSample


def test_steps_go_up_by_the_step_and_end_exactly_at_max() -> None:
    assert step_weights(0, 20, 60) == [20, 40, 60]
    assert step_weights(10, 20, 60) == [30, 50, 60]
    assert step_weights(55, 20, 60) == [60]


@pytest.mark.parametrize("start,step,maximum", [(0, 0, 50), (60, 10, 60), (0, 10, 101), (0, 10, 0)])
def test_an_impossible_plan_is_refused(start: int, step: int, maximum: int) -> None:
    with pytest.raises(PlanError):
        step_weights(start, step, maximum)


LIMITS = GateLimits(max_error_rate=1.0, max_p99_ms=500, min_requests=20, threshold=2)


def test_a_healthy_interval_passes() -> None:
    gate = evaluate_gate(DestinationSample(100, 0, 80), DestinationSample(300, 1, 60), LIMITS, ("v2", "v1"))
    assert gate.passed
    assert "v2: 100 req, 0.0% errors, p99 80 ms" in gate.summary("v2", "v1")


def test_errors_latency_and_too_little_traffic_fail_with_the_reason() -> None:
    errors = evaluate_gate(DestinationSample(100, 5, 80), None, LIMITS, ("v2", "v1"))
    slow = evaluate_gate(DestinationSample(100, 0, 900), None, LIMITS, ("v2", "v1"))
    quiet = evaluate_gate(DestinationSample(5, 0, 10), None, LIMITS, ("v2", "v1"))
    assert not errors.passed and "v2 error rate 5.0% > 1%" in errors.reasons
    assert not slow.passed and "v2 p99 900 ms > 500 ms" in slow.reasons
    assert not quiet.passed and "only 5 request(s) to v2 (need 20)" in quiet.reasons


def test_a_sick_baseline_fails_the_check_too() -> None:
    gate = evaluate_gate(DestinationSample(100, 0, 80), DestinationSample(100, 30, 60), LIMITS, ("v2", "v1"))
    assert not gate.passed and gate.reasons == ["v1 error rate 30.0% > 1%"]


def test_failed_checks_hold_then_roll_back_at_the_threshold() -> None:
    bad = evaluate_gate(DestinationSample(100, 50), None, LIMITS)
    good = evaluate_gate(DestinationSample(100, 0), None, LIMITS)
    assert decide(bad, 0, False, LIMITS) == (HOLD, 1)
    assert decide(good, 1, False, LIMITS) == (STEP, 1)
    assert decide(bad, 1, False, LIMITS) == (ROLLBACK, 2)
    assert decide(good, 1, True, LIMITS) == (DONE, 1)
