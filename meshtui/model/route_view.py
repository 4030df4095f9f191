"""One shape for "a route rule with weighted backends", whichever API wrote it.

A tree or an editor draws a VirtualService ``http`` rule and an HTTPRoute/GRPCRoute rule the same
way: its matches as text, its filters/actions as text, and its backends with weight and share of
traffic, each backend carrying the field path of its weight so an edit can write it back.
``rule_views(obj)`` gives them for a VirtualService, HTTPRoute or GRPCRoute view (others: none).

Weights follow each API: a VirtualService destination without weight counts 100 when it is the
only one (0 otherwise); a Gateway API backendRef without weight counts 1, and weights are
relative (they need not sum to 100).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.gateway_api import K8sRoute, RouteMatch, RouteRule
from meshtui.model.hosts import fqdn
from meshtui.model.virtualservice import HTTPRoute, VirtualService


@dataclass(frozen=True, slots=True)
class WeightedBackend:
    """One backend of a rule: where it sends, its weight as written (or defaulted), its share."""

    label: str  # what to show: "reviews v2 :9080", "Service shop/cart:8080"
    host: str  # FQDN (or the name as written for non-Service kinds)
    port: int | None
    subset: str | None  # VirtualService only
    weight: int
    share: float  # 0..1 of the rule's traffic
    weight_path: str  # e.g. "spec.http[0].route[1].weight", "spec.rules[0].backendRefs[1].weight"


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule of either API, ready to draw or edit."""

    kind: str  # VirtualService, HTTPRoute, GRPCRoute
    route: str  # "ns/name" of the object
    rule_index: int
    name: str | None
    path: str  # field path of the rule: "spec.http[0]" or "spec.rules[0]"
    matches: list[str]  # one line per match (alternatives); empty: every request
    actions: list[str]  # redirect, rewrite, header changes, mirrors, timeout, retries
    backends: list[WeightedBackend]


def _shares(weights: list[int]) -> list[float]:
    total = sum(w for w in weights if w > 0)
    return [(w / total if total and w > 0 else 0.0) for w in weights]


def _vs_rule(vs: VirtualService, rule: HTTPRoute, domain_suffix: str) -> RuleView:
    ns = vs.namespace or "default"
    dests = rule.route
    weights = [d.weight if d.weight is not None else (100 if len(dests) == 1 else 0) for d in dests]
    backends = []
    for i, (d, w, share) in enumerate(zip(dests, weights, _shares(weights))):
        host = fqdn(d.destination.host, ns, domain_suffix)
        label = d.destination.host + (f" {d.destination.subset}" if d.destination.subset else "") + (
            f" :{d.destination.port}" if d.destination.port else "")
        backends.append(WeightedBackend(label, host, d.destination.port, d.destination.subset, w, share,
                                        f"spec.http[{rule.index}].route[{i}].weight"))
    matches = [" ".join(part for part in (
        f"uri {m.uri}" if m.uri else "",
        *(f"header {k} {v}" for k, v in m.headers.items()),
        *(f"query {k} {v}" for k, v in m.query_params.items()),
        f"method {m.method}" if m.method else "",
    ) if part) or "any" for m in rule.match]
    actions = []
    if rule.redirect is not None:
        actions.append("redirect")
    if rule.rewrite is not None:
        actions.append("rewrite")
    if rule.mirror is not None or rule.mirrors:
        actions.append("mirror")
    if rule.timeout:
        actions.append(f"timeout {rule.timeout}")
    return RuleView("VirtualService", f"{ns}/{vs.name}", rule.index, rule.name, f"spec.http[{rule.index}]",
                    matches, actions, backends)


def describe_match(m: RouteMatch) -> str:
    """One Gateway API match as text: ``PathPrefix /api, header x-canary=true, method GET``."""
    parts = []
    if m.path is not None:
        parts.append(f"{m.path.type} {m.path.value}")
    if m.grpc is not None:
        parts.append(f"grpc {m.grpc.type} {m.grpc.service or '*'}/{m.grpc.method or '*'}")
    parts += [f"header {h.name}{'~' if h.type == 'RegularExpression' else '='}{h.value}" for h in m.headers]
    parts += [f"query {q.name}{'~' if q.type == 'RegularExpression' else '='}{q.value}" for q in m.query_params]
    if m.method:
        parts.append(f"method {m.method}")
    return ", ".join(parts) or "any"


def _gateway_rule(route: K8sRoute, rule: RouteRule, domain_suffix: str) -> RuleView:
    weights = [b.weight for b in rule.backend_refs]
    backends = []
    for i, (b, share) in enumerate(zip(rule.backend_refs, _shares(weights))):
        host = f"{b.name}.{b.namespace}.svc.{domain_suffix}" if b.is_service else b.name
        backends.append(WeightedBackend(b.label, host, b.port, None, b.weight, share,
                                        f"spec.rules[{rule.index}].backendRefs[{i}].weight"))
    actions = []
    for f in rule.filters:
        if f.mirror is not None:
            actions.append(f"mirror {f.mirror.backend.label} {f.mirror.percent:g}%")
        elif f.extension_ref is not None:
            actions.append(f"extension {f.extension_ref.kind} {f.extension_ref.name}")
        else:
            actions.append(f.type)
    if rule.timeout:
        actions.append(f"timeout {rule.timeout}")
    if rule.retry is not None:
        actions.append(f"retry {rule.retry.attempts if rule.retry.attempts is not None else 'default'}")
    return RuleView(route.kind, route.label, rule.index, rule.name, f"spec.rules[{rule.index}]",
                    [describe_match(m) for m in rule.matches], actions, backends)


def rule_views(obj: Any, domain_suffix: str = "cluster.local") -> list[RuleView]:
    """The HTTP rules of a VirtualService, HTTPRoute or GRPCRoute view, in the object's order."""
    if isinstance(obj, VirtualService):
        return [_vs_rule(obj, r, domain_suffix) for r in obj.http]
    if isinstance(obj, K8sRoute) and obj.kind in ("HTTPRoute", "GRPCRoute"):
        return [_gateway_rule(obj, r, domain_suffix) for r in obj.rules]
    return []
