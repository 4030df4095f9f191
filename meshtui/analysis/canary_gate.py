"""The supervised canary's plan and gates (pure): which weights to step through, whether an
interval's traffic lets the next step go, and when failed checks end in a rollback.

Like Flagger's analysis: every ``interval`` the canary's (and the baseline's) error rate and
p99 latency over that interval are checked against the limits, on at least ``min_requests``
requests to the canary; a failed check holds the weight where it is (the next interval checks
again), and after ``threshold`` failed checks the run rolls back to the weights it started
from. A passed check moves the canary one step, and the check after the step to ``max``
ends the run (promotion stays a separate, explicit action).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshtui.analysis.outcome import DestinationSample

#: What ``decide`` says to do next.
STEP = "step"
HOLD = "hold"
DONE = "done"
ROLLBACK = "rollback"


class PlanError(ValueError):
    """Step, maximum or starting weight that make no plan (a usage error)."""


def step_weights(start: int, step: int, maximum: int) -> list[int]:
    """The canary weights to apply in turn: ``start + step``, ``start + 2·step``… capped at
    ``maximum`` (whose step is always the last)."""
    if step <= 0:
        raise PlanError(f"--step {step}: must be a positive number of points")
    if not 0 < maximum <= 100:
        raise PlanError(f"--max {maximum}: must be from 1 to 100")
    if start >= maximum:
        raise PlanError(f"the canary is at {start}% already, not below --max {maximum}")
    out = []
    weight = start
    while weight < maximum:
        weight = min(maximum, weight + step)
        out.append(weight)
    return out


@dataclass(frozen=True, slots=True)
class GateLimits:
    """Flagger-like thresholds: the highest error rate (percent) and p99 (ms, None: not
    checked), the fewest canary requests a check rests on, and failed checks before rollback."""

    max_error_rate: float = 1.0
    max_p99_ms: float | None = None
    min_requests: int = 20
    threshold: int = 2


@dataclass(frozen=True, slots=True)
class GateResult:
    """One check: passed or not, why (one line per problem), and the traffic it rested on."""

    passed: bool
    reasons: list[str]
    canary: DestinationSample
    baseline: DestinationSample | None

    def summary(self, canary: str, baseline: str) -> str:
        """``v2: 212 req, 0.5% errors, p99 48 ms; v1: …`` then the verdict."""
        def one(name: str, s: DestinationSample | None) -> str:
            if s is None:
                return f"{name}: no traffic"
            p99 = f", p99 {s.p99_ms:.0f} ms" if s.p99_ms is not None else ""
            return f"{name}: {s.requests} req, {100 * s.error_rate:.1f}% errors{p99}"

        head = f"{one(canary, self.canary)}; {one(baseline, self.baseline)}"
        return f"{head} — {'passed' if self.passed else 'failed: ' + '; '.join(self.reasons)}"


def _problems(name: str, sample: DestinationSample, limits: GateLimits) -> list[str]:
    out = []
    rate = 100 * sample.error_rate
    if rate > limits.max_error_rate:
        out.append(f"{name} error rate {rate:.1f}% > {limits.max_error_rate:g}%")
    if limits.max_p99_ms is not None and sample.p99_ms is not None and sample.p99_ms > limits.max_p99_ms:
        out.append(f"{name} p99 {sample.p99_ms:.0f} ms > {limits.max_p99_ms:g} ms")
    return out


def evaluate_gate(canary: DestinationSample | None, baseline: DestinationSample | None,
                  limits: GateLimits, names: tuple[str, str] = ("canary", "baseline")) -> GateResult:
    """Check one interval's traffic. The canary needs ``min_requests`` (fewer is a failed
    check, as Flagger counts a check without data); the baseline is checked when it has that
    many too (a sick baseline means the service, not the step, is in trouble: the run holds)."""
    canary_name, baseline_name = names
    sample = canary or DestinationSample(0)
    reasons: list[str] = []
    if sample.requests < limits.min_requests:
        reasons.append(f"only {sample.requests} request(s) to {canary_name} (need {limits.min_requests})")
    else:
        reasons.extend(_problems(canary_name, sample, limits))
    if baseline is not None and baseline.requests >= limits.min_requests:
        reasons.extend(_problems(baseline_name, baseline, limits))
    return GateResult(not reasons, reasons, sample, baseline)


def decide(result: GateResult, failed_before: int, at_max: bool, limits: GateLimits) -> tuple[str, int]:
    """What to do after a check, and the failed checks counted so far."""
    if result.passed:
        return (DONE if at_max else STEP), failed_before
    failed = failed_before + 1
    return (ROLLBACK if failed >= limits.threshold else HOLD), failed
