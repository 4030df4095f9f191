"""Where requests of one rule went, per destination and per time window: the observed split that
the outcome check and the canary autopilot read.

``ObservedSplit`` is the seam: a basis follows the traffic (``pump``), and answers for any
window since it started (``observation(since, until)``) with an ``Observation`` (requests,
errors and p99 per destination, the requests that bypassed the service's routes). The logs
basis (``LogObservedSplit``) is the one built now: it follows the service's clients' sidecar
logs, as the Logs screen's client basis does, and counts the outbound lines of the rule
(``%ROUTE_NAME%``) by the subset of their upstream cluster; requests the clients sent to the
service's address that took the catch-all route are counted per Host with the access-log
``BypassTally``. A metrics basis (Prometheus, ``istio_requests_total`` by
``destination_version``) plugs in behind the same protocol.

Blocking (it reads log streams through the ``Source``): callers run it in a worker thread or a
command's main loop.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import Any, Protocol

from meshtui.accesslog.bypass import BypassTally, service_addresses
from meshtui.accesslog.cluster import INBOUND, OUTBOUND
from meshtui.accesslog.parser import FormatError, make_parser, parser_from_mesh_config
from meshtui.accesslog.record import Record
from meshtui.accesslog.target import LogTarget, plan_follow
from meshtui.analysis.outcome import DestinationSample, Observation
from meshtui.model.hosts import fqdn
from meshtui.sources.log_follow import LogFollower

#: Envoy response flags of a request that no upstream pod received.
_UNSERVED = frozenset({"UH", "NC"})
#: Requests kept for windows (the oldest are forgotten first).
MAX_EVENTS = 200_000


class ObservedSplit(Protocol):
    """A basis of the observed split (see the module docstring)."""

    basis: str

    def pump(self, timeout: float) -> int:
        """Take what arrived (waiting up to ``timeout`` seconds); how many requests were added."""

    def observation(self, since: float, until: float | None = None) -> Observation:
        """The rule's traffic of requests that started in ``[since, until)`` (epoch seconds)."""

    def healthy(self) -> bool:
        """Whether the basis is receiving data now (False: every stream is down)."""

    def close(self) -> None:
        """Stop following."""


def destination_key(host: str, subset: str) -> str:
    """How a destination is named in an observation: its subset, else its short host."""
    return subset or host.split(".")[0]


def _p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(0.99 * len(ordered) + 0.999999) - 1))]


def _samples(counts: dict[str, list[Any]]) -> dict[str, DestinationSample]:
    return {d: DestinationSample(c[0], c[1], _p99(c[2]), c[3] if len(c) > 3 else 0) for d, c in counts.items()}


class LogObservedSplit:
    """The logs basis: the service ``namespace/name``'s clients' outbound lines of rule
    ``rule_name`` (None: an unnamed rule, whose lines carry no route name)."""

    def __init__(self, source: Any, index: Any, namespace: str, name: str, rule_name: str | None,
                 *, max_pods: int = 64, clock: Any = time.time) -> None:
        self.target = LogTarget("Service", namespace, name)
        self.host = fqdn(name, namespace)
        self.rule_name = rule_name
        self.clock = clock
        self.plan = plan_follow(index, self.target, max_pods)
        mc = getattr(index, "mesh_config", None)
        try:
            self.parser = parser_from_mesh_config(mc.access_log_format, mc.access_log_encoding) if mc else make_parser()
        except FormatError:
            self.parser = make_parser()
        service = index.get("Service", namespace, name)
        self.addresses = service_addresses(service) if service is not None else frozenset()
        # (start, destination or None for a bypassing request, error, duration ms, record)
        self._events: deque[tuple[float, str | None, bool, float, Record | None]] = deque(maxlen=MAX_EVENTS)
        # (start, subset, error, duration ms) of the inbound lines of the service's own pods
        self._served: deque[tuple[float, str, bool, float]] = deque(maxlen=MAX_EVENTS)
        self.follower = LogFollower(source, tail_lines=None, since_seconds=1)
        self.follower.set_pods(self.plan.pods)
        self.basis = (f"logs: outbound lines of rule {rule_name or '(unnamed)'} to {self.host} "
                      f"from {len(self.plan.clients)} client pod(s)")

    def _ours(self, record: Record) -> bool:
        route = record.route_name
        if self.rule_name is None:
            return route in (None, "", "-")
        return route == self.rule_name

    def add(self, items: Iterable[tuple[tuple[str, str], str]]) -> int:
        """Count followed ``(pod, line)`` items; how many were requests of the rule (or bypassing)."""
        parse = self.parser.parse
        own = self.plan.own
        tally = BypassTally(self.addresses)
        added = 0
        for pod, line in items:
            if not line:
                continue
            record = parse(line)
            if record is None or record.start_epoch is None:
                continue
            if pod in own:  # the split is measured at the clients; the pods say how they answered
                if record.cluster.direction == INBOUND and not record.is_mirror:
                    self._served.append((record.start_epoch, own[pod] or self.target.name, record.is_error,
                                         float(record.duration or 0)))
                continue
            if tally.add(record):
                self._events.append((record.start_epoch, None, record.is_error, float(record.duration or 0), record))
                added += 1
                continue
            info = record.cluster
            if info.direction != OUTBOUND or record.is_mirror or not self._ours(record):
                continue
            if info.host == self.host:
                key = destination_key(info.host, info.subset)
            elif info.host in self.plan.backends:  # an HTTPRoute's per-version Service
                key = self.plan.backends[info.host]
            else:
                continue
            # A request no pod got keeps its record: the verdict says which destination had none.
            unserved = bool(_UNSERVED & set(record.flags))
            self._events.append((record.start_epoch, key, record.is_error,
                                 float(record.duration or 0), record if unserved else None))
            added += 1
        return added

    def pump(self, timeout: float) -> int:
        """Take the lines that arrived (waiting up to ``timeout``) and count them."""
        return self.add(self.follower.drain(20_000, timeout=timeout))

    def observation(self, since: float, until: float | None = None) -> Observation:
        """Counts per destination, and the bypassing Hosts, of requests started in the window."""
        end = until if until is not None else float("inf")
        counts: dict[str, list[Any]] = {}
        tally = BypassTally(self.addresses)
        detail: dict[str, tuple[set[int], set[str]]] = {}
        for start, dest, error, duration, record in self._events:
            if not since <= start < end:
                continue
            if dest is None:
                if record is not None and tally.add(record):
                    ports, routes = detail.setdefault(record.authority or "-", (set(), set()))
                    port = (record.upstream_host or record.downstream_local_address or "").rpartition(":")[2]
                    if port.isdigit():
                        ports.add(int(port))
                    routes.add(record.route_name or "-")
                continue
            entry = counts.setdefault(dest, [0, 0, [], 0])
            entry[0] += 1
            entry[1] += error
            entry[2].append(duration)
            entry[3] += record is not None
        served: dict[str, list[Any]] = {}
        for start, subset, error, duration in self._served:
            if since <= start < end:
                entry = served.setdefault(subset, [0, 0, []])
                entry[0] += 1
                entry[1] += error
                entry[2].append(duration)
        now = self.clock()
        return Observation(_samples(counts), tally.hosts(), self.basis, max(0.0, min(end, now) - since),
                           _samples(served), {a: (tuple(sorted(p)), tuple(sorted(r))) for a, (p, r) in detail.items()})

    def healthy(self) -> bool:
        """Whether at least one followed stream is connected."""
        states = self.follower.states()
        return not states or any(s.state == "following" for s in states.values())

    def close(self) -> None:
        """Stop every stream."""
        self.follower.close()
