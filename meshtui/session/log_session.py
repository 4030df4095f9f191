"""One way to follow a service's sidecar logs, shared by the Logs screen and ``meshtui logs``.

A ``LogSession`` holds what to follow (``FollowPlan``: the target's pods and its clients), the
rule whose weights the observed split is compared with, the parser the mesh config asks for, the
ingest (parse, classify, count) and the follower (one stream per pod).

Two sides, two threads at most:

- the *owner* of the mesh index (the event loop, or a command's main loop) re-plans when the mesh
  changes (``mesh_changed``) and changes settings (``set_basis``, ``set_window``,
  ``set_all_rules``): each is queued as a command, never written into an attribute the reader
  reads;
- the *reader* (a worker thread, or the same main loop) takes line batches (``take``), counts
  them (``process``) and computes the split panel (``panel``), applying the queued commands
  between batches.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from meshtui.accesslog.ingest import LogIngest, PanelData
from meshtui.accesslog.parser import FormatError, make_parser, parser_from_mesh_config
from meshtui.accesslog.target import FollowPlan, LogTarget, default_rule, plan_follow
from meshtui.model.index import MeshIndex
from meshtui.sources.base import Source
from meshtui.sources.log_follow import Item, LogFollower

#: Mesh kinds whose change can move the followed pods, the weights or the log format.
REPLAN_KINDS = frozenset({"Pod", "Service", "Gateway", "VirtualService", "DestinationRule", "Deployment",
                          "ConfigMap", "HTTPRoute", "GRPCRoute"})


class DefaultRoute:
    """The route choice "the default rule, whatever it is named after the next change"."""

    def __repr__(self) -> str:
        return "DEFAULT_ROUTE"


#: Count the lines of the default rule only (it follows re-plans).
DEFAULT_ROUTE = DefaultRoute()
#: A route choice: ``DEFAULT_ROUTE``, a rule name, or None for every rule.
RouteChoice = DefaultRoute | str | None


@dataclass(frozen=True, slots=True)
class LogPlan:
    """What to follow and compare with, for one state of the mesh."""

    plan: FollowPlan
    #: The rule the split is counted for (None: every rule).
    route: str | None
    #: The configured percent per subset the split is compared with ({} when the counted
    #: lines are not the default rule's).
    weights: dict[str, float]
    parser: Any
    #: The mesh-bound VirtualServices routing the service (what a bypassing Host skips).
    routed_by: tuple[str, ...] = ()


class LogSession:
    """Follow ``target``'s sidecar logs on ``source`` (see the module docstring)."""

    def __init__(
        self,
        source: Source,
        index: MeshIndex,
        target: LogTarget,
        *,
        tail_lines: int | None = 1000,
        since_seconds: int | None = 60,
        max_pods: int = 64,
        window: float = 60.0,
        route: RouteChoice = DEFAULT_ROUTE,
        parser: Any | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.target = target
        self._max_pods = max_pods
        self._route_choice = route
        self._fixed_parser = parser
        self._notify = notify or (lambda _line: None)
        self._parser: Any = parser if parser is not None else make_parser()
        self._parser_key: tuple[str | None, str | None] | None = None
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._basis = "auto"
        self._all_rules = False
        #: The current plan, on the owner's side (what the title shows).
        self.current = self._plan(index)
        self._weights = self.current.weights
        #: When the configured weights last changed while following (None: not since the
        #: window started): the window then mixes traffic from before and after.
        self.config_changed_at: float | None = None
        self.ingest = LogIngest(self.current.parser, self.current.plan, window, route=self.current.route)
        self.ingest.routed_by = self.current.routed_by
        self.follower = LogFollower(source, tail_lines=tail_lines, since_seconds=since_seconds)
        self.follower.set_pods(self.current.plan.pods)

    # -- the owner's side -----------------------------------------------------------------------

    def _plan(self, index: MeshIndex) -> LogPlan:
        plan = plan_follow(index, self.target, self._max_pods)
        rule = default_rule(index, self.target)
        if self._fixed_parser is None:
            mc = index.mesh_config
            key = (mc.access_log_format, mc.access_log_encoding)
            if key != self._parser_key:
                self._parser_key = key
                try:
                    self._parser = parser_from_mesh_config(*key)
                except FormatError as exc:
                    self._notify(f"mesh accessLogFormat: {exc}; using Istio's default")
                    self._parser = make_parser()
        choice = self._route_choice
        route = rule.name if isinstance(choice, DefaultRoute) else choice
        weights = dict(rule.weights) if route in (None, rule.name) else {}
        if plan.missing:
            self._notify(plan.missing)
        return LogPlan(plan, route, weights, self._parser, rule.virtual_services)

    def mesh_changed(self, index: MeshIndex, kinds: set[str] | None = None) -> bool:
        """The mesh changed (``kinds``: of the changed objects; None: all of it): re-plan when
        that can move the pods, weights or log format. True when it re-planned."""
        if kinds is not None and not kinds & REPLAN_KINDS:
            return False
        new = self._plan(index)
        if new.plan.missing and not self.current.plan.missing:
            return False  # the service went away: keep following what was there
        if new.weights != self.current.weights or new.route != self.current.route:
            self.config_changed_at = time.time()
        self.current = new
        self.follower.set_pods(new.plan.pods)
        self._commands.put(lambda: self._take_plan(new))
        return True

    def set_basis(self, mode: str) -> None:
        """Where the split is measured: ``auto``, at the clients, or at the server pods."""

        def apply() -> None:
            self._basis = mode

        self._commands.put(apply)

    def set_all_rules(self, all_rules: bool) -> None:
        """Count every rule's lines (True) or the counted route's only."""

        def apply() -> None:
            self._all_rules = all_rules

        self._commands.put(apply)

    def set_window(self, seconds: float) -> None:
        """The sliding window of the split statistics (a longer one fills as lines arrive)."""
        self.ingest.request_window(seconds)

    def reset_window(self) -> None:
        """Start the split window again: what was counted before (an old weight) is forgotten."""
        self.ingest.request_reset()
        self.config_changed_at = None

    def notices(self) -> list[str]:
        """The followers' notices since the last call (a stream that restarted, a pod gone)."""
        return self.follower.take_notices()

    def close(self) -> None:
        """Stop every stream (without waiting: they end within ~0.1 s)."""
        self.follower.close()

    # -- the reader's side ------------------------------------------------------------------------

    def _take_plan(self, new: LogPlan) -> None:
        self.ingest.set_plan(new.plan, new.parser, new.route, new.routed_by)
        self._weights = new.weights

    def _apply_commands(self) -> bool:
        applied = False
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return applied
            command()
            applied = True

    def take(self, max_lines: int, timeout: float) -> tuple[list[Item], bool]:
        """The next lines (``(pod, line)``), waiting up to ``timeout``; and whether a setting or
        plan changed since the last call (the panel is then out of date)."""
        batch = self.follower.drain(max_lines, timeout=timeout)
        return batch, self._apply_commands()

    def process(self, batch: list[Item]) -> list[tuple[Any, ...]]:
        """Count ``batch`` in the split and return its ring rows (the lines about the target)."""
        return self.ingest.process(batch)

    def panel(self) -> PanelData:
        """The split panel's data now, with the configured weights."""
        return self.ingest.panel(self._basis, self.weights, self._all_rules)

    @property
    def weights(self) -> dict[str, float]:
        """The configured weights the reader compares with (the latest plan it took)."""
        return self._weights
