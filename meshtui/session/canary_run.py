"""The supervised canary autopilot: step a destination's weight up to a maximum, gating every step
on the traffic it got (``meshtui.analysis.canary_gate``), rolling back to the starting weights
when the gates keep failing.

Every write goes through the one write path (``Writer``: diff, validation, dry run, the
resourceVersion of the object last written as precondition, audit). The base of each step is
the object the previous step stored, so anybody else's change in between makes the next write
a conflict: the run stops there and never overwrites it (nor rolls back over it). When the
source stops answering, or every log stream is down, the run stops without writing: the last
applied step stays in place and the report says so. A cancel (Ctrl-C, ``esc``) stops between
two checks, with the same guarantee.

Blocking: the CLI runs it in its main thread, the UI in a thread worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshtui.analysis.canary_gate import (
    HOLD,
    ROLLBACK,
    GateLimits,
    PlanError,
    decide,
    evaluate_gate,
    step_weights,
)
from meshtui.routing.rules import ReleaseError
from meshtui.session.observed_split import ObservedSplit
from meshtui.session.outcome_check import GATEWAY_ROUTE_KINDS, OutcomeError, open_observer, watch
from meshtui.session.route_split import RouteSplit, route_split
from meshtui.sources.base import ObjectKey, RawObject, SourceError
from meshtui.write.apply import Outcome, Writer
from meshtui.write.edit_api import Assignment
from meshtui.write.plan import ChangePlan, RebaseError, content, fingerprint

#: Other writers that drive a route's weights themselves: a canary run refuses their routes.
CONTROLLERS = frozenset({"flagger", "argo-rollouts", "argocd", "flux", "owner-reference"})

#: Writes retried on top of an object whose status alone changed since the last step.
STATUS_RETRIES = 3

#: Exit codes of ``meshtui canary`` by how the run ended.
EXIT_CODES = {"reached-max": 0, "invalid": 1, "usage": 2, "unavailable": 2, "conflict": 3, "read-only": 4,
              "rolled-back": 5, "unknown": 8, "interrupted": 130}


def parse_interval(text: str) -> float:
    """``30s``, ``2m``, ``500ms`` or plain seconds -> seconds (``ValueError`` outside 0 < s <= 24 h)."""
    from meshtui.routing.simulate import parse_duration_ms

    value = text.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = parse_duration_ms(value) / 1000
    if not 0 < seconds <= 86400:
        raise ValueError(f"{text!r}: expected a duration such as 30s, 2m or 500ms (up to 24h)")
    return seconds


@dataclass(frozen=True, slots=True)
class CanaryConfig:
    """What to run: the route (``kind``: ``VirtualService``, ``HTTPRoute``, ``GRPCRoute``, or None:
    whichever of them has the name), the destination to move (``to``: a subset or host of a
    VirtualService, a backendRef of an HTTPRoute), the step, interval (seconds) and maximum, the
    gate limits, the rule (None: as ``meshtui shift`` picks it) and whether a route another
    controller owns may be driven anyway."""

    name: str
    namespace: str
    to: str
    step: int
    interval: float
    max_weight: int
    limits: GateLimits = GateLimits()
    rule: str | None = None
    ignore_owner: bool = False
    kind: str | None = None


@dataclass
class CanaryReport:
    """How the run ended (``result``, one of ``EXIT_CODES``), in one line, and the weights it
    left the rule at."""

    result: str
    message: str
    steps_applied: int = 0
    weight: int | None = None
    details: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The command's exit code."""
        return EXIT_CODES.get(self.result, 2)


class CanaryRun:
    """One run (see the module docstring); ``emit`` gets a line per event (step applied, gate
    result, hold, rollback), ``cancelled`` is polled between checks."""

    def __init__(self, source: Any, writer: Writer, config: CanaryConfig, *,
                 emit: Callable[[str], None] = lambda _line: None,
                 cancelled: Callable[[], bool] = lambda: False,
                 observer_factory: Callable[[Any, Any, Any], ObservedSplit] = open_observer) -> None:
        self.source = source
        self.writer = writer
        self.config = config
        self.emit = emit
        self.cancelled = cancelled
        self.observer_factory = observer_factory
        self.current: RawObject | None = None
        self.weight: int | None = None
        self.start_weight: int | None = None
        self.steps_applied = 0

    # -- setting up ------------------------------------------------------------------------------

    def _read(self) -> tuple[RawObject, list[RawObject], Any]:
        from meshtui.model.index import MeshIndex

        cfg = self.config
        snapshot = self.source.snapshot()
        kinds = (cfg.kind,) if cfg.kind else ("VirtualService", *GATEWAY_ROUTE_KINDS)
        found = [o for o in snapshot.objects
                 if ObjectKey.of(o) in {ObjectKey(k, cfg.namespace, cfg.name) for k in kinds}]
        if len({o.get("kind") for o in found}) > 1:
            both = " and ".join(sorted(f"{o.get('kind')} {cfg.namespace}/{cfg.name}" for o in found))
            forms = " or ".join(sorted(f"{str(o.get('kind')).lower()}/{cfg.name}" for o in found))
            raise LookupError(f"{cfg.name!r} is ambiguous: {both}; say {forms}")
        if not found:
            if snapshot.errors:
                raise SourceError(f"cannot read {kinds[0]} {cfg.namespace}/{cfg.name}: {snapshot.errors[0]}")
            raise LookupError(f"{kinds[0] if cfg.kind else 'route'} {cfg.namespace}/{cfg.name} not found")
        return found[0], snapshot.objects, MeshIndex(snapshot.objects)

    def run(self) -> CanaryReport:
        """Run to the end; never raises for what the source or the traffic does."""
        cfg = self.config
        try:
            vs, objects, index = self._read()
        except LookupError as exc:
            return CanaryReport("usage", str(exc))
        except SourceError as exc:
            return CanaryReport("unavailable", f"{exc}; nothing was written")
        reason = self.source.read_only_reason()
        if reason:
            return CanaryReport("read-only", f"{reason}; nothing was written")
        if not self.source.capabilities.logs:
            return CanaryReport("usage", f"{self.source.description} has no traffic to gate on (no pod logs): "
                                "a canary needs a live cluster; nothing was written")
        from meshtui.write.ownership import owners

        driven = [o for o in owners(vs, objects) if o.kind in CONTROLLERS]
        if driven and not cfg.ignore_owner:
            return CanaryReport("usage", f"refused: {driven[0].explanation} (--ignore-owner runs the canary anyway); "
                                "nothing was written")
        try:
            split = route_split(vs, cfg.rule, cfg.to)
            plan = step_weights(split.start[split.pos], cfg.step, cfg.max_weight)
        except (ReleaseError, PlanError, OutcomeError) as exc:
            return CanaryReport("usage", str(exc))
        start = split.start
        self.current, self.weight, self.start_weight = vs, start[split.pos], start[split.pos]
        starting = " ".join(f"{n}={w}" for n, w in zip(split.names, start))
        what = "" if split.kind == "VirtualService" else f"{split.kind} "
        self.emit(f"canary {cfg.to} on rule {split.ref} of {what}{cfg.namespace}/{cfg.name}: from {starting}, "
                  f"steps {', '.join(map(str, plan))}, {cfg.interval:g} s each")
        observer = self.observer_factory(self.source, index, split.target)
        self.emit(f"  measured {observer.basis}")
        try:
            return self._steps(split, plan, observer, objects)
        finally:
            observer.close()

    # -- the loop --------------------------------------------------------------------------------

    def _steps(self, split: RouteSplit, plan: list[int], observer: ObservedSplit,
               objects: list[RawObject]) -> CanaryReport:
        cfg = self.config
        ref = split.ref
        keys = (split.keys[split.pos], split.keys[split.baseline])
        failed = 0
        for n, weight in enumerate(plan, 1):
            if self.cancelled():  # asked to stop before this step was written
                return self._interrupted()
            action = split.assign([Assignment(cfg.to, weight, False)])
            stop = self._write(action.edit, f"canary step {n}/{len(plan)}: {cfg.to}={weight} (rule {ref})", objects)
            if stop is not None:
                return stop
            self.weight = weight
            self.steps_applied = n
            verdict, failed = self._gate(observer, keys, failed, at_max=n == len(plan))
            if isinstance(verdict, CanaryReport):
                return verdict
            if verdict == ROLLBACK:
                return self._rollback(split, failed, objects)
        route = f"{split.kind.lower()}/" if split.kind != "VirtualService" else ""
        return self._report("reached-max", f"reached {cfg.to}={self.weight} (--max {cfg.max_weight}) with every gate "
                            f"passed; promote with `meshtui promote {route}{cfg.name}.{cfg.namespace} {cfg.to}` "
                            "when ready")

    def _gate(self, observer: ObservedSplit, keys: tuple[str, str], failed: int,
              at_max: bool) -> tuple[str | CanaryReport, int]:
        """Check the current step every interval until it passes (``STEP`` / ``DONE``), the
        failed checks reach the threshold (``ROLLBACK``) or the run must stop (a report)."""
        cfg, limits = self.config, self.config.limits
        while True:
            observation = watch(observer, time.time(), cfg.interval, cancelled=self.cancelled)
            if self.cancelled():
                return self._interrupted(), failed
            # Health as the destination's pods answered (every attempt, as Flagger reads it with
            # reporter="destination"); the clients' view when the pods' lines are not followed.
            canary, baseline = (observation.served.get(k) or observation.destinations.get(k) for k in keys)
            if not observer.healthy() and (canary is None or canary.requests < limits.min_requests):
                return self._report("unavailable", "stopped: no log stream is connected (the source stopped "
                                    f"answering?): the route stays at {cfg.to}={self.weight}, the last applied "
                                    "step; nothing was written without seeing its traffic"), failed
            gate = evaluate_gate(canary, baseline, limits, names=keys)
            verdict, failed = decide(gate, failed, at_max, limits)
            # Each gate says its basis (``logs`` / ``prometheus``): the numbers mean different things.
            basis = observer.basis.partition(":")[0]
            self.emit(f"  gate after {observation.seconds:.0f} s at {cfg.to}={self.weight} ({basis}): "
                      f"{gate.summary(*keys)}")
            if verdict != HOLD:
                return verdict, failed
            self.emit(f"  holding at {cfg.to}={self.weight}: failed check {failed} of {limits.threshold}")

    def _rollback(self, split: RouteSplit, failed: int, objects: list[RawObject]) -> CanaryReport:
        action = split.assign([Assignment(n, w, False) for n, w in zip(split.names, split.start)])
        starting = " ".join(f"{n}={w}" for n, w in zip(split.names, split.start))
        stop = self._write(action.edit, f"canary rollback to {starting} (rule {split.ref})", objects)
        if stop is not None:
            stop.message = f"rollback after {failed} failed check(s) not written: {stop.message}"
            return stop
        self.weight = self.start_weight
        return self._report("rolled-back", f"aborted after {failed} failed check(s): rolled back to {starting}")

    def _write(self, edit: Callable[[RawObject], RawObject], description: str,
               objects: list[RawObject]) -> CanaryReport | None:
        """One write through the write path on top of the last stored object; a report when the
        run must stop."""
        from meshtui.model.index import MeshIndex
        from meshtui.write.scope import affected_objects

        assert self.current is not None
        try:
            plan = ChangePlan.build(self.source, self.current, edit, description, [])
            plan.context = affected_objects(MeshIndex(objects), [plan.base, plan.new])
        except ReleaseError as exc:
            return self._report("invalid", str(exc))
        for _attempt in range(STATUS_RETRIES + 1):
            preview = self.writer.check(plan)
            outcome = self.writer.commit(preview)
            if outcome.audit_error:
                self.emit(f"warning: {outcome.audit_error}")
            current = outcome.conflict.current if outcome.conflict is not None else None
            if outcome.result != "conflict" or current is None \
                    or fingerprint(content(current)) != fingerprint(content(self.current)):
                break
            # Only the status (or metadata) moved: a route controller reporting on the last step
            # (a Gateway API route's observedGeneration). Nobody else's weights: the same step on top.
            try:
                plan = outcome.conflict.rebase() if outcome.conflict is not None else plan
            except RebaseError as exc:
                return self._report("invalid", str(exc))
            self.current = current
        if outcome.result == "applied":
            self.current = outcome.stored or plan.new
            self.emit(f"{description}: applied")
            return None
        if outcome.result == "unchanged":
            return None
        return self._failed(outcome)

    def _failed(self, outcome: Outcome) -> CanaryReport:
        left = f"the route stays at {self.config.to}={self.weight}"
        if outcome.result == "conflict":
            report = self._report("conflict", f"conflict: someone else changed {outcome.plan.label} during the run; "
                                  "nothing was written over it: the route is as they left it (the last step "
                                  f"applied here was {self.config.to}={self.weight})")
            if outcome.conflict is not None and outcome.conflict.their_changes():
                report.details.append(outcome.conflict.their_changes())
            return report
        result = {"forbidden": "read-only", "invalid": "invalid", "unknown": "unknown"}.get(outcome.result, "unavailable")
        return self._report(result, f"stopped: {outcome.message}; {left} (the last applied step)")

    def _interrupted(self) -> CanaryReport:
        where = "the last applied step" if self.steps_applied else "where it started: no step was written"
        return self._report("interrupted", f"interrupted: the route stays at {self.config.to}={self.weight} "
                            f"({where}); nothing was rolled back")

    def _report(self, result: str, message: str) -> CanaryReport:
        return CanaryReport(result, message, self.steps_applied, self.weight)
