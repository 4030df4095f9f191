"""Release operations on a raw HTTPRoute (or GRPCRoute): the Gateway API half of
``meshtui.routing.release``. Each takes the object as read and returns an edited deep copy
(unknown fields and the key order of untouched parts survive).

Weights of ``backendRefs`` are relative (a missing weight is 1, 0 means none). The user works in
percentages (the share of each backend); they are written back on the file's own scale where
that is exact: a rule written 90/10 stays on a 100 scale, one written 9/1 stays 9/1-style when
the new split fits it (``Scale.AUTO``: 8/2 for 80/20, else 100-based), or is always written on
its own scale (``Scale.FILE``: an inexact split is refused) or on 100 (``Scale.PERCENT``).

What the Gateway API cannot express is refused with the reason (:func:`refusal`): fault
injection (no fault filter in the API) and DestinationRule subsets (backends are Services:
one Service per version).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from enum import Enum
from typing import Any

from meshtui.routing import weights as wa
from meshtui.routing.rules import ReleaseError, RuleRef

ROUTE_KINDS = ("HTTPRoute", "GRPCRoute")


class Scale(str, Enum):
    """How new shares are written as weights."""

    AUTO = "auto"  # the file's scale when exact, else 100
    FILE = "file"  # the file's scale, refused when inexact
    PERCENT = "100"  # weights that sum to 100


def route_label(obj: dict[str, Any]) -> str:
    """``HTTPRoute ns/name`` of a raw route, for messages."""
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', 'HTTPRoute')} {meta.get('namespace') or 'default'}/{meta.get('name', '?')}"


def copy_route(obj: dict[str, Any]) -> dict[str, Any]:
    """A deep copy to edit; checks that it is an HTTPRoute/GRPCRoute with rules."""
    if not isinstance(obj, dict) or obj.get("kind") not in ROUTE_KINDS:
        raise ReleaseError("not an HTTPRoute or GRPCRoute")
    new = copy.deepcopy(obj)
    spec = new.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("rules"), list) or not spec["rules"]:
        raise ReleaseError(f"{route_label(obj)} has no rules")
    return new


def rules_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """``spec.rules`` of a (copied) route."""
    return obj["spec"]["rules"]


def rule_label(rule: dict[str, Any], index: int) -> str:
    """``canary`` (its name) or ``#1``."""
    return str(rule.get("name")) if rule.get("name") else f"#{index}"


def rule_index(obj: dict[str, Any], ref: RuleRef) -> int:
    """The index of rule ``ref`` (an index, a numeric string, or a rule name)."""
    rules = rules_of(obj)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        i = int(ref)
        if not 0 <= i < len(rules):
            raise ReleaseError(f"{route_label(obj)} has no rule #{i} (it has {len(rules)})")
        return i
    found = [i for i, r in enumerate(rules) if r.get("name") == ref]
    if len(found) != 1:
        names = ", ".join(rule_label(r, i) for i, r in enumerate(rules))
        raise ReleaseError(f"{route_label(obj)} has no rule named {ref!r} (rules: {names})")
    return found[0]


def pick_rule(obj: dict[str, Any], rule: str | None) -> RuleRef:
    """The rule a command edits: the one given; else the only rule with several backendRefs;
    else the last rule without matches (the default route); else the only rule."""
    rules = rules_of(copy_route(obj))
    if rule is not None:
        index = rule_index(obj, rule)
    else:
        split = [i for i, r in enumerate(rules) if len(r.get("backendRefs") or []) > 1]
        default = [i for i, r in enumerate(rules) if not r.get("matches")]
        if len(split) == 1:
            index = split[0]
        elif default:
            index = default[-1]
        elif len(rules) == 1:
            index = 0
        else:
            names = ", ".join(rule_label(r, i) for i, r in enumerate(rules))
            raise ReleaseError(f"{route_label(obj)} has {len(rules)} rules ({names}); say which with --rule")
    name = rules[index].get("name")
    if name and sum(1 for r in rules if r.get("name") == name) == 1:
        return str(name)
    return index


def backends(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """``backendRefs`` of a rule (created empty when absent)."""
    refs = rule.get("backendRefs")
    if not isinstance(refs, list):
        refs = []
        rule["backendRefs"] = refs
    return refs


def backend_name(ref: dict[str, Any]) -> str:
    """``name`` or ``ns/name`` (cross-namespace) of a backendRef."""
    return f"{ref['namespace']}/{ref.get('name')}" if ref.get("namespace") else str(ref.get("name"))


def backend_names(rule: dict[str, Any]) -> str:
    """The backends of a rule, for messages."""
    return ", ".join(backend_name(b) for b in rule.get("backendRefs") or []) or "no backendRefs"


def backend_index(rule: dict[str, Any], target: str) -> int | None:
    """The backendRef ``target`` names: ``NAME``, ``NS/NAME`` or ``NAME:PORT``; ambiguity is an
    error."""
    name, _, port = target.partition(":")
    ns, _, short = name.rpartition("/")
    found = []
    for i, b in enumerate(rule.get("backendRefs") or []):
        if b.get("name") != short or (ns and b.get("namespace", ns) != ns):
            continue
        if port and str(b.get("port")) != port:
            continue
        found.append(i)
    if len(found) > 1:
        raise ReleaseError(f"{target!r} names {len(found)} backendRefs of the rule; add :PORT")
    return found[0] if found else None


def current_weights(rule: dict[str, Any]) -> list[int]:
    """The weight of every backendRef as Istio reads it (missing: 1)."""
    out = []
    for b in rule.get("backendRefs") or []:
        w = b.get("weight", 1)
        out.append(w if isinstance(w, int) and not isinstance(w, bool) and w >= 0 else 1)
    return out


def shares(rule: dict[str, Any]) -> list[int]:
    """The percentage of the rule's traffic each backend gets (all weights 0: none)."""
    ws = current_weights(rule)
    return [0] * len(ws) if ws and not any(ws) else wa.normalize(ws) if ws else []


def scaled(percents: list[int], total: int, scale: Scale) -> list[int]:
    """``percents`` (summing to 100) as weights on the scale ``total`` of the file."""
    exact = total > 0 and all(p * total % 100 == 0 for p in percents)
    if scale is Scale.PERCENT or total in (0, 100):
        return list(percents)
    if exact:
        return [p * total // 100 for p in percents]
    if scale is Scale.FILE:
        split = "/".join(str(p) for p in percents)
        raise ReleaseError(f"{split} cannot be written on the rule's own scale of {total}; "
                           "write it on a 100 scale (--scale 100)")
    return list(percents)


def _write(rule: dict[str, Any], weights: list[int]) -> None:
    for b, w in zip(backends(rule), weights):
        b["weight"] = w


def _rule(obj: dict[str, Any], ref: RuleRef) -> tuple[dict[str, Any], int]:
    index = rule_index(obj, ref)
    return rules_of(obj)[index], index


def _find(obj: dict[str, Any], rule: dict[str, Any], index: int, target: str) -> int:
    found = backend_index(rule, target)
    if found is None:
        raise ReleaseError(f"no backendRef {target!r} in rule {rule_label(rule, index)} of {route_label(obj)} "
                           f"(has: {backend_names(rule)})")
    return found


def set_shares(obj: dict[str, Any], ref: RuleRef, pins: Mapping[str, tuple[int, bool]],
               scale: Scale = Scale.AUTO) -> dict[str, Any]:
    """Give the named backends a share (``(value, relative)``: ``value`` % or ``+value`` points);
    the others share the rest in proportion, and the weights are written on ``scale``."""
    new = copy_route(obj)
    rule, index = _rule(new, ref)
    if len(rule.get("backendRefs") or []) < 2:
        raise ReleaseError(f"rule {rule_label(rule, index)} of {route_label(obj)} has "
                           f"{len(rule.get('backendRefs') or [])} backendRef(s): there is no split to shift")
    current = shares(rule)
    at: dict[int, int] = {}
    for target, (value, relative) in pins.items():
        i = _find(new, rule, index, target)
        if i in at:
            raise ReleaseError(f"{target!r} names a backendRef given more than once")
        at[i] = min(wa.TOTAL, max(0, current[i] + value)) if relative else value
    try:
        percents = wa.pin_weights(current, at)
    except wa.WeightError as exc:
        raise ReleaseError(str(exc)) from None
    _write(rule, scaled(percents, sum(current_weights(rule)), scale))
    return new


def all_to(obj: dict[str, Any], target: str, ref: RuleRef, scale: Scale = Scale.AUTO) -> dict[str, Any]:
    """Every request of the rule to ``target`` (a backendRef it has); the others stay at weight
    0 so they can be restored: what promote and rollback do."""
    new = copy_route(obj)
    rule, index = _rule(new, ref)
    i = _find(new, rule, index, target)
    percents = [100 if j == i else 0 for j in range(len(backends(rule)))]
    _write(rule, scaled(percents, sum(current_weights(rule)), scale))
    return new


def canary_step(obj: dict[str, Any], stable: str, canary: str, step: int, max_weight: int, ref: RuleRef,
                scale: Scale = Scale.AUTO) -> dict[str, Any]:
    """Move ``step`` points from ``stable`` to ``canary`` (added beside ``stable``, same port,
    when missing), the canary capped at ``max_weight`` %."""
    new = copy_route(obj)
    rule, index = _rule(new, ref)
    s = _find(new, rule, index, stable)
    if backend_index(rule, canary) is None:
        added = {k: v for k, v in backends(rule)[s].items() if k in ("group", "kind", "namespace", "port")}
        backends(rule).append({"name": canary, **added, "weight": 0})
    c = _find(new, rule, index, canary)
    current = shares(rule)
    target = min(max_weight, current[c] + step)
    moved = max(0, min(target - current[c], current[s]))
    percents = list(current)
    percents[c] += moved
    percents[s] -= moved
    _write(rule, scaled(percents, sum(current_weights(rule)), scale))
    return new


def blue_green(obj: dict[str, Any], to: str, ref: RuleRef, scale: Scale = Scale.AUTO) -> dict[str, Any]:
    """Switch the rule to ``to``: added when missing (like the first backend, same port), then
    every request to it."""
    new = copy_route(obj)
    rule, index = _rule(new, ref)
    if backend_index(rule, to) is None:
        refs = backends(rule)
        like = {k: v for k, v in (refs[0] if refs else {}).items() if k in ("group", "kind", "namespace", "port")}
        refs.append({"name": to, **like, "weight": 0})
    return all_to(new, to, ref, scale)


def ab_split(obj: dict[str, Any], split: Mapping[str, int], ref: RuleRef, scale: Scale = Scale.AUTO) -> dict[str, Any]:
    """The exact split ``{backend: percent}`` (sums to 100); backends not named get 0."""
    if sum(split.values()) != wa.TOTAL:
        raise ReleaseError(f"an A/B split must add up to 100 (got {sum(split.values())})")
    new = copy_route(obj)
    rule, index = _rule(new, ref)
    percents = [0] * len(backends(rule))
    for target, value in split.items():
        percents[_find(new, rule, index, target)] = value
    _write(rule, scaled(percents, sum(current_weights(rule)), scale))
    return new


def dark_launch(obj: dict[str, Any], backend: str, header: str, value: str, ref: RuleRef) -> dict[str, Any]:
    """A rule in front of rule ``ref`` sending requests with ``header: value`` to ``backend``
    (port as in rule ``ref``); Gateway API precedence puts a header match before the same path
    without one anyway, and the order keeps the file readable."""
    new = copy_route(obj)
    rule, index = _rule(new, ref)
    like = next((b for b in rule.get("backendRefs") or [] if b.get("name") == backend),
                (rule.get("backendRefs") or [{}])[0])
    ref_out = {"name": backend, **{k: v for k, v in like.items() if k in ("group", "kind", "namespace", "port")}}
    base_matches = rule.get("matches") or [{}]
    matches = [{**m, "headers": [*(m.get("headers") or []), {"name": header, "value": value}]} for m in base_matches]
    rules_of(new).insert(index, {"matches": matches, "backendRefs": [ref_out]})
    return new


def set_mirror(obj: dict[str, Any], backend: str, percent: int, ref: RuleRef, port: int | None = None) -> dict[str, Any]:
    """Mirror ``percent`` % of the rule's requests to ``backend`` (a RequestMirror filter; one
    mirror to the same backend is replaced)."""
    if not 0 < percent <= 100:
        raise ReleaseError(f"mirror percentage {percent} must be between 1 and 100")
    new = copy_route(obj)
    rule, _ = _rule(new, ref)
    like: dict[str, Any] = next((b for b in rule.get("backendRefs") or [] if b.get("port") is not None), {})
    target: dict[str, Any] = {"name": backend}
    if port is not None or like.get("port") is not None:
        target["port"] = port if port is not None else like["port"]
    filters = [f for f in rule.get("filters") or []
               if not (f.get("type") == "RequestMirror"
                       and ((f.get("requestMirror") or {}).get("backendRef") or {}).get("name") == backend)]
    mirror: dict[str, Any] = {"backendRef": target}
    if percent != 100:
        mirror["percent"] = percent
    filters.append({"type": "RequestMirror", "requestMirror": mirror})
    rule["filters"] = filters
    return new


#: Release actions the Gateway API cannot express, and why.
_REFUSED = {
    "fault": "the Gateway API has no fault-injection filter (HTTPRoute cannot delay or abort requests); "
             "use a VirtualService for fault injection",
    "subset": "HTTPRoute backends are Services, not DestinationRule subsets: shift between per-version "
              "Services (one Service per version) instead",
    "destination-rule": "HTTPRoute backends are Services, not DestinationRule subsets: shift between "
                        "per-version Services (one Service per version) instead",
}


def refusal(action: str, obj: dict[str, Any] | None = None) -> str:
    """Why ``action`` (``fault``, ``subset``) cannot be done on a Gateway API route."""
    what = route_label(obj) if obj is not None else "an HTTPRoute"
    return f"{what}: {_REFUSED.get(action, 'the Gateway API cannot express this action')}"

