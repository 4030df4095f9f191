"""The outcome check after an applied weight change: watch the observed split of the changed rule
for a window and give the verdict (``meshtui.analysis.outcome``), with the tracer's cause for
requests that bypassed the rule (the Host-header trap names the Host, the port it was dialled
on and what the tracer finds for it).

Used by ``--verify`` of ``meshtui shift|promote|rollback`` and by the route editor after an
apply. Blocking: the UI runs it in a thread worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from meshtui.accesslog.bypass import BypassedHost
from meshtui.analysis.outcome import Observation, Verdict, judge_split
from meshtui.model.hosts import fqdn
from meshtui.routing.rules import current_weights
from meshtui.session.observed_split import LogObservedSplit, ObservedSplit, destination_key
from meshtui.sources.base import RawObject

class OutcomeError(Exception):
    """The change cannot be checked against traffic (no weighted rule, no service)."""


@dataclass(frozen=True, slots=True)
class RuleTarget:
    """The rule whose split is checked: its index and name, the service its destinations go to
    (``namespace``, ``name``) and its weights per destination (``destination_key``)."""

    index: int
    name: str | None
    namespace: str
    service: str
    intent: dict[str, float]


#: Gateway API route kinds whose backendRef weights split a rule's traffic.
GATEWAY_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")


def is_gateway_route(obj: RawObject | None) -> bool:
    """Whether ``obj`` is an HTTPRoute/GRPCRoute (rules in ``spec.rules``, ``backendRefs``)."""
    return (obj or {}).get("kind") in GATEWAY_ROUTE_KINDS


def _rules(obj: RawObject | None) -> list[dict[str, Any]]:
    rules = ((obj or {}).get("spec") or {}).get("rules" if is_gateway_route(obj) else "http")
    return [r if isinstance(r, dict) else {} for r in rules] if isinstance(rules, list) else []


def changed_rule(before: RawObject | None, after: RawObject) -> int | None:
    """The first rule of ``after`` (a VirtualService's http rule, or an HTTPRoute's rule) whose
    destinations or weights differ from ``before``'s."""
    field = "backendRefs" if is_gateway_route(after) else "route"
    old = _rules(before)
    for i, rule in enumerate(_rules(after)):
        if i >= len(old) or (old[i].get(field) or []) != (rule.get(field) or []):
            return i
    return None


def _gateway_rule_target(route: RawObject, index: int) -> RuleTarget:
    """The ``RuleTarget`` of rule ``index`` of a GAMMA HTTPRoute: the Service it is attached to
    (its callers are the clients whose lines count), the Envoy route name istiod gives the rule,
    and each backend's share keyed by its Service's name (as the split rows of per-version
    Services are)."""
    from meshtui.routing import gateway_api_release as gar
    from meshtui.routing.gateway_api_names import envoy_route_name

    rules = _rules(route)
    meta = route.get("metadata") or {}
    namespace, name = str(meta.get("namespace") or "default"), str(meta.get("name") or "")
    if not 0 <= index < len(rules):
        raise OutcomeError(f"{route.get('kind')} {namespace}/{name} has no rule #{index}")
    parents = [p for p in (route.get("spec") or {}).get("parentRefs") or []
               if isinstance(p, dict) and p.get("kind") == "Service" and p.get("group") in ("", "core", None)]
    if not parents:
        raise OutcomeError(f"{route.get('kind')} {namespace}/{name} is attached to no Service (not a GAMMA "
                           "route): the traffic of routes through a Gateway is not measured")
    rule = rules[index]
    refs = [b for b in rule.get("backendRefs") or [] if isinstance(b, dict)]
    if not refs:
        raise OutcomeError("the rule routes to no backend, so there is no split to check")
    intent: dict[str, float] = {}
    for ref, share in zip(refs, gar.shares(rule)):
        key = str(ref.get("name") or "")
        intent[key] = intent.get(key, 0.0) + float(share)
    rule_name = str(rule["name"]) if rule.get("name") else None
    return RuleTarget(index, envoy_route_name(namespace, name, index, rule_name),
                      str(parents[0].get("namespace") or namespace), str(parents[0].get("name")), intent)


def rule_target(vs: RawObject, index: int, service_host: str | None = None) -> RuleTarget:
    """The ``RuleTarget`` of rule ``index`` of ``vs``: the service of ``service_host`` (default:
    its first destination's host); destinations on other hosts are left out of the intent. An
    HTTPRoute/GRPCRoute (``vs`` of that kind) is a GAMMA route: its parent Service."""
    if is_gateway_route(vs):
        return _gateway_rule_target(vs, index)
    rules = _rules(vs)
    if not 0 <= index < len(rules):
        raise OutcomeError(f"the VirtualService has no http rule #{index}")
    rule = rules[index]
    namespace = str((vs.get("metadata") or {}).get("namespace") or "default")
    route = [d for d in rule.get("route") or [] if isinstance(d, dict)]
    if not route:
        raise OutcomeError("the rule routes to no destination, so there is no split to check")
    hosts = [fqdn(str((d.get("destination") or {}).get("host") or ""), namespace) for d in route]
    host = fqdn(service_host, namespace) if service_host else hosts[0]
    name, _, rest = host.partition(".")
    svc_ns = rest.split(".")[0] if ".svc." in host else namespace
    intent: dict[str, float] = {}
    for d, h, w in zip(route, hosts, current_weights(rule)):
        if h == host:
            key = destination_key(h, str((d.get("destination") or {}).get("subset") or ""))
            intent[key] = intent.get(key, 0.0) + float(w)
    return RuleTarget(index, str(rule.get("name")) if rule.get("name") else None, svc_ns, name, intent)


def bypass_causes(index: Any, target: RuleTarget, hosts: list[BypassedHost], routed: int,
                  detail: Mapping[str, tuple[tuple[int, ...], tuple[str, ...]]] | None = None) -> list[str]:
    """One sentence per Host that bypassed the rule: how many requests, the port they were
    dialled on and the route Envoy logged, and what the tracer finds for a request to the
    service carrying that Host (the rule it meets, or none)."""
    from meshtui.routing.request import RequestError, TraceRequest
    from meshtui.routing.trace import trace
    from meshtui.views.trace_lines import bypassed_virtual_services

    service = index.get("Service", target.namespace, target.service) if index is not None else None
    default_port = next((p.port for p in (service.ports if service is not None else []) if p.port), None)
    dialled = f"{target.service}.{target.namespace}"
    total = sum(h.requests for h in hosts) + routed
    out = []
    for h in hosts[:3]:
        ports, routes = (detail or {}).get(h.authority, ((), ()))
        port = ports[0] if ports else default_port
        share = f"{100 * h.requests / total:.0f}%" if total else "all"
        logged = f" (Envoy route {', '.join(routes)})" if routes else ""
        line = (f"{h.requests} request(s) ({share}) to {dialled}{f':{port}' if port else ''} carried "
                f"Host {h.authority}{logged}, which matches no VirtualService host")
        try:
            result = trace(index, TraceRequest.build(dialled, "/", headers=[("host", h.authority)],
                                                     source_namespace=target.namespace, port=port))
        except (RequestError, AttributeError, TypeError, ValueError):
            result = None
        if result is not None:
            skipped = [name for name, _hosts in bypassed_virtual_services(index, result)]
            where = f"rule {result.rule_name or result.rule_index} of {result.virtual_service}" \
                if result.virtual_service else f"no rule ({result.outcome}, {h.cluster})"
            line += (f": the tracer takes it to {where}"
                     + (f", skipping {', '.join(skipped)}" if skipped else "")
                     + ", so the weights do not apply to it")
        line += f" — see `meshtui trace --host {dialled} -H 'Host: {h.authority}'`"
        out.append(line)
    return out


def judge(index: Any, target: RuleTarget, observation: Observation) -> Verdict:
    """The verdict of ``observation`` on ``target``'s weights, with the tracer's causes."""
    causes = bypass_causes(index, target, list(observation.bypassed), observation.requests,
                           observation.bypass_detail) \
        if observation.bypassed else []
    return judge_split(target.intent, observation, causes)


def open_observer(source: Any, index: Any, target: RuleTarget) -> ObservedSplit:
    """The logs basis of the target's service (the metrics basis is
    ``meshtui.session.observed_split_prometheus``)."""
    return LogObservedSplit(source, index, target.namespace, target.service, target.name)


def watch(observer: ObservedSplit, since: float, seconds: float, *,
          cancelled: Callable[[], bool] = lambda: False,
          clock: Callable[[], float] = time.time) -> Observation:
    """Pump ``observer`` for ``seconds`` from now (or until ``cancelled``), then the observation
    of the requests that started since ``since``."""
    deadline = clock() + seconds
    while not cancelled():
        left = deadline - clock()
        if left <= 0:
            break
        observer.pump(min(0.2, left))
    # Lines of requests that started before the deadline may still be on their way: one
    # short last drain, and the window ends at the deadline.
    observer.pump(0.3)
    return observer.observation(since, deadline)


def verify_outcome(source: Any, index: Any, vs: RawObject, rule: int, seconds: float, *,
                   since: float | None = None, cancelled: Callable[[], bool] = lambda: False,
                   observer_factory: Callable[[Any, Any, RuleTarget], ObservedSplit] | None = None) -> Verdict:
    """Watch the traffic of rule ``rule`` of the (applied) ``vs`` for ``seconds`` and judge it.
    ``since``: the epoch time from which requests count (default: now); ``observer_factory``:
    the basis (default: the logs, ``open_observer``)."""
    target = rule_target(vs, rule)
    start = time.time() if since is None else since
    observer = (observer_factory or open_observer)(source, index, target)
    try:
        observation = watch(observer, start, seconds, cancelled=cancelled)
    finally:
        observer.close()
    return judge(index, target, observation)


#: How long the change preview watches the traffic after an apply.
UI_VERIFY_SECONDS = 15.0


class OutcomeWatch:
    """The outcome check of one applied change for the UI, in three parts: set up with the
    mesh index (on the event loop), ``observe`` (blocking: a thread worker), ``verdict`` (on
    the event loop again: the tracer reads the index)."""

    def __init__(self, source: Any, index: Any, target: RuleTarget, seconds: float = UI_VERIFY_SECONDS) -> None:
        self.target = target
        self.seconds = seconds
        self.observer = open_observer(source, index, target)
        self.since = time.time()
        self.observation: Observation | None = None

    @classmethod
    def after_apply(cls, source: Any, index: Any, before: RawObject | None, after: RawObject,
                    seconds: float = UI_VERIFY_SECONDS) -> "OutcomeWatch | None":
        """The watch of the rule the change re-weighted (None: it moved no weight)."""
        rule = changed_rule(before, after)
        if rule is None or index is None:
            return None
        try:
            return cls(source, index, rule_target(after, rule), seconds)
        except OutcomeError:
            return None

    def observe(self, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Watch the traffic for ``seconds`` (from now: call it once the proxies have the change)."""
        self.since = time.time()
        try:
            self.observation = watch(self.observer, self.since, self.seconds, cancelled=cancelled)
        finally:
            self.observer.close()

    def verdict(self, index: Any) -> Verdict:
        """The verdict of what ``observe`` saw."""
        return judge(index, self.target, self.observation or Observation({}))
