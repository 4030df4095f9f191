"""What the HTTPRoute editor draws: each rule of the route with its matches, filters and
backends, every backend's share of the rule's traffic and its written weight, pending state
against the object as read (``90% → 80%  weight 9 → 8``). Plain data, no widget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.parse import parse_object
from meshtui.model.route_view import RuleView, rule_views
from meshtui.routing import gateway_api_release as gar


@dataclass(frozen=True, slots=True)
class BackendRow:
    """One backendRef of a rule, before and with the pending edits."""

    position: int
    label: str  # "storefront/cart-v2:8080"
    target: str  # how the edit API names it: "cart-v2:8080" ("NS/NAME:PORT" across namespaces)
    share: int  # % of the rule's traffic now (pending edits applied)
    weight: int
    share_before: int | None  # as read; None for a backend the pending edits added
    weight_before: int | None


@dataclass(frozen=True, slots=True)
class RuleRow:
    """One rule: its title, matches, filters and backends."""

    index: int
    title: str  # "rules[1] split"
    matches: list[str]
    actions: list[str]
    backends: list[BackendRow]
    total: int  # the rule's own scale: the sum of its weights


def _target(raw_ref: dict[str, Any]) -> str:
    name = str(raw_ref.get("name"))
    if raw_ref.get("namespace"):
        name = f"{raw_ref['namespace']}/{name}"
    return f"{name}:{raw_ref['port']}" if raw_ref.get("port") is not None else name


def _views(raw: dict[str, Any]) -> list[RuleView]:
    return rule_views(parse_object(raw))


def _raw_rules(raw: dict[str, Any]) -> list[dict[str, Any]]:
    rules = (raw.get("spec") or {}).get("rules")
    return [r if isinstance(r, dict) else {} for r in rules] if isinstance(rules, list) else []


def _by_target(rule: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """target -> (share %, weight) of a raw rule (shares by the one weight algebra)."""
    refs = rule.get("backendRefs") or []
    return {_target(r): (s, w) for r, s, w in zip(refs, gar.shares(rule), gar.current_weights(rule))}


def edit_rows(base: dict[str, Any], current: dict[str, Any]) -> list[RuleRow]:
    """The rows of ``current`` (the pending state), each backend with its share as read in
    ``base`` when the rule and backend are still there (rules are matched by name, else index)."""
    before = {(r.get("name") or i): _by_target(r) for i, r in enumerate(_raw_rules(base))}
    raw_rules = _raw_rules(current)
    out = []
    for view in _views(current):
        raw = raw_rules[view.rule_index] if view.rule_index < len(raw_rules) else {}
        old = before.get(raw.get("name") or view.rule_index, {})
        raw_refs = raw.get("backendRefs") or []
        now = gar.shares(raw)
        backends = []
        for i, b in enumerate(view.backends):
            target = _target(raw_refs[i]) if i < len(raw_refs) else b.label
            was = old.get(target)
            backends.append(BackendRow(i, b.label, target, now[i] if i < len(now) else 0, b.weight,
                                       was[0] if was is not None else None, was[1] if was is not None else None))
        title = f"rules[{view.rule_index}]" + (f" {view.name}" if view.name else "")
        out.append(RuleRow(view.rule_index, title, view.matches, view.actions, backends,
                           sum(b.weight for b in view.backends)))
    return out
