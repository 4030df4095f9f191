"""The metrics basis of the observed split (``ObservedSplit`` of ``meshtui.session.observed_split``):
Istio's ``istio_requests_total`` and request-duration histogram in Prometheus.

A window ``[since, until)`` is answered with ``increase()`` / ``histogram_quantile(rate())`` over
``until - since`` seconds, evaluated at ``until`` once Prometheus has had ``settle`` seconds to
scrape it. Per destination: the clients' view (``reporter="source"``, what the weights decide)
in ``destinations``, the destination pods' (``reporter="destination"``, what Flagger's analysis
reads) in ``served``. An ambient service behind a waypoint has neither: its requests are seen by
the waypoint only, which reports them as ``reporter="waypoint"``, used for both. Rows of the service's host are keyed by the subset whose ``version`` label
the destination carries (the DestinationRule's, else the version); rows of an HTTPRoute's
per-version Services by the Service's name, as the logs basis keys them.

What metrics cannot tell (said in ``basis``): which rule a request took (Istio's metrics carry no
route name: every rule of the service counts), and the Host a request carried (bypassing requests
are not seen).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from meshtui.accesslog.target import LogTarget, plan_follow
from meshtui.analysis.outcome import DestinationSample, Observation
from meshtui.metrics import promql
from meshtui.metrics.rows import Key, vector_values
from meshtui.model.hosts import fqdn
from meshtui.model.kube import Service
from meshtui.routing.ambient_path import served_by_waypoint
from meshtui.session.outcome_check import RuleTarget
from meshtui.session.split_basis import split_context
from meshtui.sources.prometheus import PrometheusClient, PrometheusError

#: Seconds after a window's end before it is asked for: a scrape or two of the sidecars.
DEFAULT_SETTLE_S = 5.0


class PrometheusObservedSplit:
    """The metrics basis for ``target``'s service (see the module docstring)."""

    def __init__(self, client: PrometheusClient, index: Any, target: RuleTarget, *,
                 settle: float = DEFAULT_SETTLE_S, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.settle = settle
        self.clock = clock
        self.sleep = sleep
        self.host = fqdn(target.service, target.namespace)
        log_target = LogTarget("Service", target.namespace, target.service)
        self.subsets: Mapping[str, str] = split_context(index, log_target).subsets
        # An HTTPRoute's per-version Services: their own destination_service, keyed by name.
        self.backends = dict(plan_follow(index, log_target, max_pods=1).backends)
        self.error: str | None = None
        service = index.get("Service", target.namespace, target.service)
        #: Who reports the requests: the waypoint for an ambient service behind one, else the sidecars.
        self.waypoint = isinstance(service, Service) and served_by_waypoint(index, service)
        self.basis = ("prometheus: istio_requests_total"
                      + (' (reporter="waypoint")' if self.waypoint else "")
                      + f" increase() to {self.host}"
                      + (f" and {', '.join(sorted(self.backends.values()))}" if self.backends else "")
                      + f" (every rule: metrics carry no route name, nor the Host), {client.description}")

    def pump(self, timeout: float) -> int:
        """Nothing arrives between queries: wait ``timeout`` seconds (bounded by the caller)."""
        self.sleep(max(0.0, timeout))
        return 0

    def _key(self, key: Key) -> str | None:
        host, version, _workload = key
        if host == self.host:
            return self.subsets.get(version, version if version != "unknown" else host.split(".")[0])
        return self.backends.get(host)

    def _per_destination(self, reporter: str, seconds: float, at: float) -> dict[str, DestinationSample]:
        requests: dict[str, float] = {}
        errors: dict[str, float] = {}
        p99: dict[str, float] = {}
        for host in (self.host, *self.backends):
            for key, value in vector_values(self.client.query(promql.requests_query(host, seconds, reporter), at)).items():
                dest = self._key(key)
                if dest is not None:
                    requests[dest] = requests.get(dest, 0.0) + value
            for key, value in vector_values(self.client.query(promql.errors_query(host, seconds, reporter), at)).items():
                dest = self._key(key)
                if dest is not None:
                    errors[dest] = errors.get(dest, 0.0) + value
            for key, value in vector_values(
                    self.client.query(promql.latency_query(host, seconds, 0.99, reporter), at)).items():
                dest = self._key(key)
                if dest is not None and not math.isinf(value):
                    p99[dest] = max(p99.get(dest, 0.0), value)  # several workloads: the worst
        return {d: DestinationSample(round(n), round(errors.get(d, 0.0)), p99.get(d))
                for d, n in requests.items() if round(n) > 0}

    def observation(self, since: float, until: float | None = None) -> Observation:
        """Counts per destination over ``[since, until)`` (default: until now) from Prometheus; on
        a failed query the observation is empty, ``healthy()`` is False and ``basis`` says why."""
        end = self.clock() if until is None else until
        wait = end + self.settle - self.clock()
        if wait > 0:  # the window's last scrapes are not in Prometheus yet
            self.sleep(wait)
        seconds = max(1.0, end - since)
        try:
            if self.waypoint:
                destinations = served = self._per_destination("waypoint", seconds, end)
            else:
                destinations = self._per_destination("source", seconds, end)
                served = self._per_destination("destination", seconds, end)
        except PrometheusError as exc:
            self.error = str(exc)
            return Observation({}, (), f"{self.basis}: {exc}", seconds)
        self.error = None
        return Observation(destinations, (), self.basis, seconds, served)

    def healthy(self) -> bool:
        """Whether the last query was answered."""
        return self.error is None

    def close(self) -> None:
        """Nothing to stop: every query is its own request."""


def observer_factory(client: PrometheusClient | None) -> Callable[[Any, Any, RuleTarget], Any]:
    """The ``observer_factory`` of a canary run or an outcome check: the metrics basis on
    ``client``, else (None) the logs basis (``open_observer``)."""
    from meshtui.session.outcome_check import open_observer

    if client is None:
        return open_observer
    return lambda _source, index, target: PrometheusObservedSplit(client, index, target)
