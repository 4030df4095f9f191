"""Addressing inside a raw VirtualService: rules by index or name, destinations by subset or host.

Shared by the release operations (``meshtui.routing.release``, ``meshtui.routing.edit``). They
all work on a deep copy of the raw object, so unknown fields and the key order of untouched
parts survive.
"""

from __future__ import annotations

import copy
from typing import Any

RuleRef = int | str | None


class ReleaseError(ValueError):
    """A release operation that cannot be applied; the message is one line for the user."""


def vs_label(vs: dict[str, Any]) -> str:
    """``ns/name`` of a raw VirtualService, for messages."""
    meta = vs.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{ns}/{meta.get('name', '?')}" if ns else str(meta.get("name", "?"))


def copy_vs(vs: dict[str, Any]) -> dict[str, Any]:
    """A deep copy to edit; checks that it is a VirtualService with ``spec.http``."""
    if not isinstance(vs, dict) or vs.get("kind") != "VirtualService":
        raise ReleaseError("not a VirtualService")
    new = copy.deepcopy(vs)
    spec = new.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("http"), list) or not spec["http"]:
        raise ReleaseError(f"VirtualService {vs_label(vs)} has no http rules")
    return new


def http_rules(vs: dict[str, Any]) -> list[dict[str, Any]]:
    """``spec.http`` of a (copied) VirtualService."""
    return vs["spec"]["http"]


def destinations(rule: dict[str, Any]) -> list[dict[str, Any]]:
    """``route`` of a rule (created empty when absent)."""
    route = rule.get("route")
    if not isinstance(route, list):
        route = []
        rule["route"] = route
    return route


def subsets_of(rule: dict[str, Any]) -> list[str | None]:
    """The subset of each destination of a rule."""
    return [((d.get("destination") or {}).get("subset")) for d in rule.get("route") or []]


def is_catch_all(rule: dict[str, Any]) -> bool:
    """A rule without match blocks, which takes every request that reaches it."""
    return not rule.get("match")


def rule_index(vs: dict[str, Any], rule: RuleRef, *, wanted: tuple[str, ...] = ()) -> int:
    """The index of the rule ``rule`` names (index, or ``name``); when None, the obvious one.

    None means: the only rule; else the only rule routing to one of ``wanted`` subsets; else the
    default route (the last rule without match) when it routes to one of them.
    """
    rules = http_rules(vs)
    if isinstance(rule, int) and not isinstance(rule, bool):
        if not 0 <= rule < len(rules):
            raise ReleaseError(f"rule {rule} does not exist ({vs_label(vs)} has {len(rules)} http rules)")
        return rule
    if isinstance(rule, str):
        for i, r in enumerate(rules):
            if r.get("name") == rule:
                return i
        if rule.isdigit():
            return rule_index(vs, int(rule))
        raise ReleaseError(f"no http rule named {rule!r} in {vs_label(vs)}")
    if len(rules) == 1:
        return 0
    if wanted:
        hits = [i for i, r in enumerate(rules) if set(wanted) & set(subsets_of(r))]
        if len(hits) == 1:
            return hits[0]
        defaults = [i for i in hits if is_catch_all(rules[i])]
        if defaults:
            return defaults[-1]
    raise ReleaseError(f"{vs_label(vs)} has {len(rules)} http rules; say which one (index or name)")


def default_route_index(vs: dict[str, Any]) -> int | None:
    """The last rule without match (the default route), or None."""
    rules = http_rules(vs)
    for i in range(len(rules) - 1, -1, -1):
        if is_catch_all(rules[i]):
            return i
    return None


def _host_is(host: str, name: str) -> bool:
    """Whether ``name`` (short or full) names ``host`` (as written in the rule, short or full)."""
    return host == name or host.split(".")[0] == name or name.split(".")[0] == host


def destination_index(rule: dict[str, Any], target: str) -> int | None:
    """The destination ``target`` names: ``SUBSET``; ``HOST`` (a destination without subset,
    host short or full); or ``HOST/SUBSET``. None when nothing matches; ``ReleaseError`` when
    several do (two hosts with the same subset name): guessing would move the wrong traffic."""
    keys = [((d.get("destination") or {}).get("host") or "", (d.get("destination") or {}).get("subset") or "")
            for d in rule.get("route") or []]
    host, sep, subset = target.rpartition("/")
    if sep:
        hits = [i for i, (h, s) in enumerate(keys) if s == subset and _host_is(h, host)]
    else:
        hits = [i for i, (_, s) in enumerate(keys) if s == target]
        if not hits:
            hits = [i for i, (h, s) in enumerate(keys) if not s and _host_is(h, target)]
    if len(hits) > 1:
        names = ", ".join(f"{keys[i][0]}/{keys[i][1]}" for i in hits)
        raise ReleaseError(f"{target!r} is ambiguous: the rule routes to {names}; name one as HOST/SUBSET")
    return hits[0] if hits else None


def destination_name(rule: dict[str, Any], position: int) -> str:
    """The shortest name ``destination_index`` takes back to destination ``position``: its
    subset, else its host; ``HOST/SUBSET`` when the subset name alone is ambiguous."""
    dest = ((rule.get("route") or [])[position].get("destination")) or {}
    host, subset = str(dest.get("host") or ""), str(dest.get("subset") or "")
    short = subset or host
    try:
        if destination_index(rule, short) == position:
            return short
    except ReleaseError:
        pass
    return f"{host}/{subset}"


def destination_names(rule: dict[str, Any]) -> str:
    """The destinations of a rule by name, for messages (``v1, v2`` or ``none``)."""
    return ", ".join(destination_name(rule, i) for i in range(len(rule.get("route") or []))) or "none"


def primary_host(vs: dict[str, Any], rule: dict[str, Any] | None) -> str:
    """The host new destinations of ``rule`` go to: its first destination's, else the VS's first host."""
    for d in (rule or {}).get("route") or []:
        host = (d.get("destination") or {}).get("host")
        if host:
            return host
    for r in http_rules(vs):
        for d in r.get("route") or []:
            host = (d.get("destination") or {}).get("host")
            if host:
                return host
    hosts = (vs.get("spec") or {}).get("hosts") or []
    if hosts and hosts[0] != "*":
        return hosts[0]
    raise ReleaseError(f"cannot tell which host to route to in {vs_label(vs)}; give a host")


def current_weights(rule: dict[str, Any]) -> list[int]:
    """Weights as Istio reads them: a lone destination is 100, a missing weight 0."""
    route = rule.get("route") or []
    if len(route) == 1:
        return [100]
    out = []
    for d in route:
        w = d.get("weight")
        out.append(w if isinstance(w, int) and not isinstance(w, bool) and w >= 0 else 0)
    return out


def write_weights(rule: dict[str, Any], weights: list[int]) -> None:
    """Store ``weights`` on the rule's destinations; a lone destination keeps no weight if it had none."""
    route = destinations(rule)
    if len(route) != len(weights):
        raise ReleaseError("internal: weights do not match destinations")
    if len(route) == 1:
        if "weight" in route[0]:
            route[0]["weight"] = 100
        return
    for d, w in zip(route, weights):
        d["weight"] = w
