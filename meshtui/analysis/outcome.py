"""Did traffic take the split that was asked for? The verdict on an observed split (pure).

After a weight change is applied and has reached the proxies, meshtui watches which destination
each request of the changed rule went to (``Observation``: counts per destination over a
window, from the access logs or, later, from metrics) and compares the shares with the intent:

- ``converged``: every destination's observed share is within sampling error of its weight;
- ``diverging``: some share is not, or requests to the service bypassed its routes altogether
  (the Host-header trap: a Host no VirtualService lists takes the catch-all route) in a number
  the sampling error cannot hide, or most requests routed to a destination reached no pod
  (a subset that selects none); the verdict carries the evidence;
- ``no traffic``: no request was seen, so nothing can be said.

The sampling error is computed from the counts, not a fixed tolerance: for ``k`` requests of
``n`` to a destination, the Wilson score interval of ``k/n`` at ``Z`` standard deviations
(``Z = 3``: a true split falls outside it about 3 times in 1,000 per destination). A weight
outside the interval diverges. Bypassing requests are a share ``b`` of everything sent to the
service that the rule's weights never applied to; they make the split diverge when ``b`` is
larger than the interval's half-width, i.e. when they can move a share by more than sampling
noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from meshtui.accesslog.bypass import BypassedHost

#: Standard deviations of the sampling bound (two-sided: ~99.7 %).
Z = 3.0

CONVERGED = "converged"
DIVERGING = "diverging"
NO_TRAFFIC = "no traffic"


@dataclass(frozen=True, slots=True)
class DestinationSample:
    """What one destination of a rule answered in a window: requests, errors (5xx or a
    failure flag, as Flagger's success rate counts them), the 99th percentile latency, and
    ``unserved``: requests the client's proxy could not send to any pod of it (``UH`` no
    healthy upstream, ``NC`` no cluster: a subset selecting no ready pod, or no subset at all)."""

    requests: int
    errors: int = 0
    p99_ms: float | None = None
    unserved: int = 0

    @property
    def error_rate(self) -> float:
        """Errors per request (0 without requests)."""
        return self.errors / self.requests if self.requests else 0.0


@dataclass(frozen=True, slots=True)
class Observation:
    """Traffic of one rule over a window: per destination (its subset, or its host when it has
    none) as the clients routed it, the requests that bypassed the service's routes, where the
    numbers come from, and ``served``: per subset, what the service's own pods answered (every
    attempt, from every rule and caller: the destination's view of its health, which is what
    Flagger's analysis reads with ``reporter="destination"``)."""

    destinations: Mapping[str, DestinationSample]
    bypassed: Sequence[BypassedHost] = ()
    basis: str = ""
    seconds: float = 0.0
    served: Mapping[str, DestinationSample] = field(default_factory=dict)
    #: Per bypassing Host: the service ports its requests were dialled on, and the route names
    #: Envoy logged for them (``allow_any``: the catch-all).
    bypass_detail: Mapping[str, tuple[tuple[int, ...], tuple[str, ...]]] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        """Requests the rule routed (bypassing ones not included)."""
        return sum(d.requests for d in self.destinations.values())

    @property
    def bypassing(self) -> int:
        """Requests to the service that its routes never saw."""
        return sum(h.requests for h in self.bypassed)


def wilson_interval(hits: int, n: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval of the share ``hits / n`` at ``z`` standard deviations."""
    if n <= 0:
        return 0.0, 1.0
    p = hits / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At 0 and n hits the bound is exactly 0 / 1; rounding must not put a weight of 0 or 100 outside.
    return (0.0 if hits == 0 else max(0.0, centre - half)), (1.0 if hits == n else min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class ShareCheck:
    """One destination: its weight (percent), its observed share and interval (fractions)."""

    destination: str
    intent: float
    requests: int
    share: float
    low: float
    high: float

    @property
    def within(self) -> bool:
        """Whether the weight lies in the interval of the observed share."""
        return self.low <= self.intent / 100 <= self.high

    def __str__(self) -> str:
        return (f"{self.destination} {100 * self.share:.1f}% (weight {self.intent:g}, "
                f"{100 * self.low:.1f}–{100 * self.high:.1f}%)")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of a weight change: ``state`` (converged / diverging / no traffic), the
    number of requests it rests on, the per-destination checks and the evidence when it
    diverges (one sentence per cause)."""

    state: str
    requests: int
    checks: list[ShareCheck] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    bypassing: int = 0
    basis: str = ""

    @property
    def diverging(self) -> bool:
        """Whether traffic does not follow the intent."""
        return self.state == DIVERGING

    def summary(self) -> str:
        """One line: the verdict, what it rests on and, when diverging, why."""
        if self.state == NO_TRAFFIC:
            return "outcome: no traffic — no request of this rule was seen, so the split could not be checked"
        shares = ", ".join(str(c) for c in self.checks)
        rests = f"{self.requests} request(s)" + (f" + {self.bypassing} bypassing" if self.bypassing else "")
        line = f"outcome: {self.state} over {rests}: {shares} (bound: {Z:g} sigma)"
        if self.evidence:
            line += " — " + "; ".join(self.evidence)
        return line


def judge_split(intent: Mapping[str, float], observation: Observation,
                bypass_causes: Sequence[str] = ()) -> Verdict:
    """The verdict on ``observation`` against ``intent`` (percent per destination, as the rule's
    weights). ``bypass_causes``: one sentence per bypassing Host, naming what the tracer finds
    for it (used as the evidence when the bypass is what diverges)."""
    n = observation.requests
    bypassing = observation.bypassing
    if n + bypassing == 0:
        return Verdict(NO_TRAFFIC, 0, basis=observation.basis)
    total = sum(intent.values()) or 100.0
    checks = []
    for dest in sorted(set(intent) | set(observation.destinations)):
        sample = observation.destinations.get(dest)
        hits = sample.requests if sample is not None else 0
        weight = 100 * intent.get(dest, 0.0) / total
        low, high = wilson_interval(hits, n)
        checks.append(ShareCheck(dest, weight, hits, hits / n if n else 0.0, low, high))
    evidence: list[str] = []
    off = [c for c in checks if n and not c.within]
    if off:
        shown = ", ".join(f"{c.destination} {100 * c.share:.0f}% for weight {c.intent:g}" for c in off)
        evidence.append(f"the rule's own requests do not follow its weights ({shown})")
    for dest, sample in sorted(observation.destinations.items()):
        if sample.unserved >= max(5, sample.requests / 2):
            evidence.append(f"{sample.unserved} of {sample.requests} request(s) routed to {dest} reached no pod "
                            "(UH/NC: its subset selects no ready pod, or its cluster is missing)")
    if bypassing:
        share = bypassing / (n + bypassing)
        worst = max((c.high - c.low) / 2 for c in checks) if n else 0.0
        if share > worst:
            evidence.extend(bypass_causes or [
                f"{bypassing} request(s) ({100 * share:.0f}%) bypassed the route: Host "
                + ", ".join(h.authority for h in observation.bypassed[:3]) + " matches no VirtualService host"])
    state = DIVERGING if evidence or n == 0 else CONVERGED
    return Verdict(state, n, checks, evidence, bypassing, observation.basis)
