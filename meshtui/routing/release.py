"""Release operations on a raw VirtualService: each returns a NEW raw dict.

The input is never modified; the result is a deep copy in which only the edited fields
changed, so unknown fields, comments carried by round-trip containers and key order survive.
Rules are addressed by index or ``name`` (``rule=None`` picks the obvious one, see
``meshtui.routing.rules.rule_index``); destinations by subset, by host (when they have no
subset) or as ``HOST/SUBSET`` (``meshtui.routing.rules.destination_index``; an ambiguous name is
refused). Weights follow ``meshtui.routing.weights``: integers that sum to 100. The user actions
built on these, for the route editor and the CLI alike, are ``meshtui.write.edit_api``.

Match conditions, rewrites, faults and rule order are edited by ``meshtui.routing.edit``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from meshtui.routing import weights as wa
from meshtui.routing.regex import RegexError, check_re2
from meshtui.routing.rules import (
    ReleaseError,
    RuleRef,
    copy_vs,
    current_weights,
    default_route_index,
    destination_index,
    destination_names,
    destinations,
    http_rules,
    primary_host,
    rule_index,
    vs_label,
    write_weights,
)


def _ensure(vs: dict[str, Any], rule: dict[str, Any], subset: str, host: str | None, like: int | None) -> int:
    """The index of ``subset`` in the rule, adding it with weight 0 (same host/port as ``like``)."""
    found = destination_index(rule, subset)
    if found is not None:
        return found
    route = destinations(rule)
    template = (route[like].get("destination") or {}) if like is not None and route else {}
    dest: dict[str, Any] = {"host": host or template.get("host") or primary_host(vs, rule), "subset": subset}
    if "port" in template and not host:
        dest["port"] = copy.deepcopy(template["port"])
    if len(route) == 1 and "weight" not in route[0]:
        route[0]["weight"] = 100
    route.append({"destination": dest, "weight": 0})
    return len(route) - 1


def _target(rule: dict[str, Any], target: str, vs: dict[str, Any]) -> int:
    found = destination_index(rule, target)
    if found is None:
        have = ", ".join(
            (d.get("destination") or {}).get("subset") or (d.get("destination") or {}).get("host", "?")
            for d in rule.get("route") or []
        )
        raise ReleaseError(f"no destination {target!r} in the rule of {vs_label(vs)} (has: {have or 'none'})")
    return found


def add_destination(vs: dict[str, Any], subset: str, weight: int = 0, host: str | None = None,
                    rule: RuleRef = None) -> dict[str, Any]:
    """Add ``subset`` (of ``host``, default the rule's host) with ``weight``; others shrink."""
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    if destination_index(r, subset) is not None:
        raise ReleaseError(f"destination {subset!r} is already in the rule")
    before = current_weights(r) if r.get("route") else []
    i = _ensure(new, r, subset, host, 0 if before else None)
    write_weights(r, _wrap(wa.add_destination, before, weight, i))
    return new


def remove_destination(vs: dict[str, Any], target: str, rule: RuleRef = None) -> dict[str, Any]:
    """Remove ``target`` from the rule; its share goes to the others in proportion."""
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule, wanted=(target,))]
    i = _target(r, target, new)
    w = _wrap(wa.remove_destination, current_weights(r), i)
    del r["route"][i]
    write_weights(r, w)
    return new


def canary_step(vs: dict[str, Any], stable: str, canary: str, step: int = 10, max_weight: int = 100,
                rule: RuleRef = None) -> dict[str, Any]:
    """Move ``step`` points from ``stable`` to ``canary`` (added if missing), canary capped at
    ``max_weight``; other destinations keep their weights. A negative step moves back."""
    if not 0 <= max_weight <= 100:
        raise ReleaseError(f"max weight {max_weight} is outside 0..100")
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule, wanted=(stable, canary))]
    s = _target(r, stable, new)
    c = _ensure(new, r, canary, None, s)
    w = current_weights(r)
    if step >= 0:
        moved = max(0, min(step, w[s], max_weight - w[c]))
    else:
        moved = -min(-step, w[c])
    # The other destinations keep their weights: pinned around the rule's own total.
    write_weights(r, _wrap(wa.pin_weights, w, {s: w[s] - moved, c: w[c] + moved}, sum(w)))
    return new


def _all_to(vs: dict[str, Any], subset: str, rule: RuleRef) -> dict[str, Any]:
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule, wanted=(subset,))]
    i = _ensure(new, r, subset, None, 0 if r.get("route") else None)
    write_weights(r, [100 if j == i else 0 for j in range(len(r["route"]))])
    return new


def _all_to_routed(vs: dict[str, Any], target: str, rule: RuleRef) -> dict[str, Any]:
    """All traffic of the rule to ``target``, which must be one of its destinations."""
    new = copy_vs(vs)
    index = rule_index(new, rule, wanted=(target,))
    r = http_rules(new)[index]
    i = destination_index(r, target)
    if i is None:
        label = r.get("name") or f"#{index}"
        raise ReleaseError(f"no destination {target!r} in rule {label} of {vs_label(vs)} (has: "
                           f"{destination_names(r)}): promote and rollback move traffic to a destination the "
                           "rule routes to; a blue-green switch sends it to a new subset")
    write_weights(r, [100 if j == i else 0 for j in range(len(r["route"]))])
    return new


def promote(vs: dict[str, Any], canary: str, rule: RuleRef = None) -> dict[str, Any]:
    """All traffic to ``canary`` (100), a destination the rule routes to; the others stay at 0.
    A subset the rule does not route to is refused (``ReleaseError``): that is a blue-green switch."""
    return _all_to_routed(vs, canary, rule)


def rollback(vs: dict[str, Any], stable: str, rule: RuleRef = None) -> dict[str, Any]:
    """All traffic back to ``stable`` (100), a destination the rule routes to; the others stay at 0."""
    return _all_to_routed(vs, stable, rule)


def blue_green_switch(vs: dict[str, Any], to: str, rule: RuleRef = None) -> dict[str, Any]:
    """Switch the rule to subset ``to``: a lone destination changes subset; a split goes 100/0."""
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule, wanted=(to,))]
    route = r.get("route") or []
    if len(route) == 1 and destination_index(r, to) is None:
        route[0].setdefault("destination", {})["subset"] = to
        return new
    return _all_to(vs, to, rule)


def ab_split(vs: dict[str, Any], split: Mapping[str, int], rule: RuleRef = None) -> dict[str, Any]:
    """Set the exact split ``{subset: weight}`` (must sum to 100); subsets not named get 0,
    subsets not yet in the rule are added."""
    if sum(split.values()) != 100 or any(w < 0 for w in split.values()):
        raise ReleaseError(f"split {dict(split)} must be non-negative and sum to 100")
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule, wanted=tuple(split))]
    for subset in split:
        _ensure(new, r, subset, None, 0 if r.get("route") else None)
    pins = {j: 0 for j in range(len(r["route"]))}
    for subset, weight in split.items():
        pins[destination_index(r, subset)] = weight  # type: ignore[index]
    write_weights(r, _wrap(wa.pin_weights, current_weights(r), pins))
    return new


def dark_launch(vs: dict[str, Any], subset: str, header: str = "x-istio-cohort", value: str = "internal",
                kind: str = "exact", host: str | None = None, name: str | None = None,
                before: RuleRef = None) -> dict[str, Any]:
    """Insert a rule sending requests whose ``header`` matches to ``subset``, in front of the
    default route (or of rule ``before``); other traffic is unchanged."""
    if kind not in ("exact", "prefix", "regex"):
        raise ReleaseError(f"match kind {kind!r} must be exact, prefix or regex")
    if kind == "regex":
        _re2(value)
    if not header.strip():
        raise ReleaseError("the dark launch needs a header name")
    new = copy_vs(vs)
    rules = http_rules(new)
    rule_name = name or f"dark-launch-{subset}"
    if any(r.get("name") == rule_name for r in rules):
        raise ReleaseError(f"{vs_label(vs)} already has a rule named {rule_name!r}")
    at = rule_index(new, before) if before is not None else default_route_index(new)
    if at is None:
        at = len(rules)
    anchor = rules[at] if at < len(rules) else rules[-1]
    target = host or primary_host(new, anchor)
    dest: dict[str, Any] = {"host": target, "subset": subset}
    for d in anchor.get("route") or []:
        port = (d.get("destination") or {}).get("port")
        if port is not None and (d.get("destination") or {}).get("host") == target:
            dest["port"] = copy.deepcopy(port)
            break
    rules.insert(at, {
        "name": rule_name,
        "match": [{"headers": {header.lower(): {kind: value}}}],
        "route": [{"destination": dest}],
    })
    return new


def set_mirror(vs: dict[str, Any], subset: str | None, percentage: float = 100.0, host: str | None = None,
               rule: RuleRef = None) -> dict[str, Any]:
    """Mirror ``percentage`` % of the rule's requests to ``subset`` (of ``host``)."""
    if not 0 <= percentage <= 100:
        raise ReleaseError(f"mirror percentage {percentage} is outside 0..100")
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    mirror: dict[str, Any] = {"host": host or primary_host(new, r)}
    if subset:
        mirror["subset"] = subset
    r["mirror"] = mirror
    r.pop("mirrorPercent", None)  # the deprecated integer form would be shadowed; drop it
    r["mirrorPercentage"] = {"value": float(percentage)}
    return new


def remove_mirror(vs: dict[str, Any], rule: RuleRef = None) -> dict[str, Any]:
    """Stop mirroring on the rule (``mirror``, its percentage and ``mirrors``)."""
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    if not any(k in r for k in ("mirror", "mirrors")):
        raise ReleaseError("the rule does not mirror")
    for key in ("mirror", "mirrorPercentage", "mirrorPercent", "mirrors"):
        r.pop(key, None)
    return new


def _re2(pattern: str) -> None:
    try:
        check_re2(pattern)
    except RegexError as exc:
        raise ReleaseError(str(exc)) from None


def _wrap(fn: Any, *args: Any) -> list[int]:
    try:
        return fn(*args)
    except wa.WeightError as exc:
        raise ReleaseError(str(exc)) from None
