"""The weighted rule a canary run drives, whatever kind of route holds it: a VirtualService's http
rule (destinations named ``host/subset``) or a GAMMA HTTPRoute/GRPCRoute rule (backendRefs named
``NAME`` / ``NS/NAME``, weights as shares of the rule). ``RouteSplit`` gives the run what it
needs (each destination's name for an assignment, its key in an observation, the starting
weights, the rule's ``RuleTarget``) and builds its writes through the one edit API of the kind
(``meshtui.write.edit_api`` / ``meshtui.write.edit_api_gateway``): one runner for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from meshtui.routing.rules import ReleaseError, RuleRef
from meshtui.session.observed_split import destination_key
from meshtui.session.outcome_check import RuleTarget, is_gateway_route, rule_target
from meshtui.sources.base import RawObject
from meshtui.write.edit_api import Action, Assignment


@dataclass(frozen=True, slots=True)
class RouteSplit:
    """Rule ``ref`` of a route (``kind``): per destination its ``names`` (for an assignment) and
    ``keys`` (in an ``Observation``), the ``start`` weights (percent), the position ``pos`` of the
    destination being moved, and the ``target`` whose traffic is watched."""

    kind: str
    ref: RuleRef
    names: list[str]
    keys: list[str]
    start: list[int]
    pos: int
    target: RuleTarget

    @property
    def baseline(self) -> int:
        """The position of the baseline: the heaviest other destination at the start."""
        return max((i for i in range(len(self.start)) if i != self.pos), key=lambda i: self.start[i])

    def assign(self, assignments: Sequence[Assignment]) -> Action:
        """The write setting ``assignments`` (percent) on the rule, through the kind's edit API."""
        if self.kind in ("HTTPRoute", "GRPCRoute"):
            from meshtui.write import edit_api_gateway

            return edit_api_gateway.set_weights(self.ref, assignments)
        from meshtui.write.edit_api import set_weights

        return set_weights(self.ref, assignments)


def route_split(route: RawObject, rule: str | None, to: str) -> RouteSplit:
    """The ``RouteSplit`` of ``route``'s rule ``rule`` (None: as ``meshtui shift`` picks it)
    moving ``to``; ``ReleaseError`` (or ``OutcomeError``) when there is no split to move."""
    label = f"{(route.get('metadata') or {}).get('namespace')}/{(route.get('metadata') or {}).get('name')}"
    if is_gateway_route(route):
        return _gateway_split(route, rule, to, label)
    from meshtui.routing.rules import current_weights, destination_index, rule_index
    from meshtui.write.edit_api import pick_rule

    ref = pick_rule(route, rule)
    idx = rule_index(route, ref)
    spec_rule = route["spec"]["http"][idx]
    pos = destination_index(spec_rule, to)
    if pos is None:
        raise ReleaseError(f"rule {ref} of {label} does not route to {to!r} "
                           "(add the destination first; a canary moves traffic between existing ones)")
    start = current_weights(spec_rule)
    _check_split(ref, start)
    dests = [d.get("destination") or {} for d in spec_rule["route"]]
    target = rule_target(route, idx, str(dests[pos].get("host") or ""))
    names, keys = [], []
    for d in dests:
        host, subset = str(d.get("host") or ""), str(d.get("subset") or "")
        names.append(f"{host.split('.')[0]}/{subset}" if subset else host)
        keys.append(destination_key(host, subset))
    return RouteSplit("VirtualService", ref, names, keys, start, pos, target)


def _gateway_split(route: RawObject, rule: str | None, to: str, label: str) -> RouteSplit:
    from meshtui.routing import gateway_api_release as gar

    ref = gar.pick_rule(route, rule)
    idx = gar.rule_index(route, ref)
    spec_rule = gar.rules_of(route)[idx]
    pos = gar.backend_index(spec_rule, to)
    if pos is None:
        raise ReleaseError(f"rule {gar.rule_label(spec_rule, idx)} of {route.get('kind')} {label} has no "
                           f"backendRef {to!r} (has: {gar.backend_names(spec_rule)}; add it first: a canary "
                           "moves traffic between existing ones)")
    start = gar.shares(spec_rule)
    _check_split(ref, start)
    refs: list[dict[str, Any]] = list(spec_rule.get("backendRefs") or [])
    names = [gar.backend_name(b) for b in refs]
    keys = [str(b.get("name") or "") for b in refs]
    return RouteSplit(str(route.get("kind")), ref, names, keys, start, pos, rule_target(route, idx))


def _check_split(ref: RuleRef, start: list[int]) -> None:
    if len(start) < 2:
        raise ReleaseError(f"rule {ref} has one destination: there is no split to move")
