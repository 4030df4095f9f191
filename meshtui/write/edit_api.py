"""The edit API: one function per user action on a VirtualService, for the route editor and the
writing subcommands alike.

Each function returns an ``Action``: a one-line description and an ``Edit`` (raw object in, new
raw object out, the input untouched). The route editor queues actions in an ``EditSession``
(``meshtui.write.pending``); ``meshtui shift|promote|rollback`` build a ``ChangePlan`` from one.
Both run the same function for the same request, so they give the same result.

Addressing:

- a rule by index or ``name`` (``RuleRef``); the CLI's default rule is ``pick_rule``;
- a destination by ``SUBSET``, by ``HOST`` (a destination without subset) or by ``HOST/SUBSET``
  (host short or full). A name that fits several destinations (two hosts with a subset ``v1``)
  is refused as ambiguous (``meshtui.routing.rules.destination_index``).

Weights: one reader (``meshtui.routing.rules.current_weights``: a lone destination is 100, a
missing weight 0) and one algebra (``meshtui.routing.weights``). The destinations named get
their weights; the others share the rest in proportion to their current weights, so the rule
keeps summing to 100. A weight action also says which split it leads to (``Action.split``), so
the route editor records the split the user saw and coalesces consecutive moves on one rule.

Promote and rollback move all traffic to a destination **the rule already routes to**; a subset
the rule does not route to is refused (in the editor and in the CLI alike): sending 100 % of the
traffic at once to a subset that has had none is a blue-green switch (``blue_green``), not a
promotion, and a typo must not become an outage.

A Gateway API HTTPRoute editor plugs in at the same seams: destination keys are backend names,
and ``meshtui.routing.weights.pin_weights`` takes the rule's own total (backendRefs weights are
relative and need not sum to 100).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from meshtui.routing import edit as rule_edit
from meshtui.routing import release
from meshtui.routing import weights as wa
from meshtui.routing.rules import (
    ReleaseError,
    RuleRef,
    copy_vs,
    current_weights,
    default_route_index,
    destination_index,
    destination_names,
    http_rules,
    rule_index,
    vs_label,
    write_weights,
)
from meshtui.sources.base import RawObject
from meshtui.write.plan import Edit

#: How a destination is named across versions of a rule: (host, subset or "").
DestKey = tuple[str, str]
#: What a weight action leads to on an object: the rule and its complete new split.
Split = tuple[RuleRef, dict[DestKey, int]]

_ASSIGNMENT = re.compile(r"^(?P<target>[^=\s]+)=(?P<sign>[+-]?)(?P<value>\d+)%?$")


class RuleChoiceError(ReleaseError):
    """The rule to edit is ambiguous or does not exist (a usage error: say ``--rule``)."""


@dataclass(frozen=True, slots=True)
class Action:
    """One user action: what it does in words, and the edit. ``split`` is set for weight
    actions: the rule and split the edit leads to on a given object."""

    description: str
    edit: Edit
    split: Callable[[RawObject], Split] | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """``TARGET=W`` (``relative`` False) or ``TARGET=+N`` / ``TARGET=-N`` (``value`` signed);
    ``target`` names a destination (``SUBSET``, ``HOST`` or ``HOST/SUBSET``)."""

    target: str
    value: int
    relative: bool

    def __str__(self) -> str:
        return f"{self.target}={self.value:+d}" if self.relative else f"{self.target}={self.value}"


def parse_assignment(text: str) -> Assignment:
    """Parse ``v2=30``, ``v2=+10``, ``v2=-10``, ``reviews/v2=30`` (``ValueError`` with a cause)."""
    m = _ASSIGNMENT.match(text.strip())
    if not m:
        raise ValueError(f"{text!r}: expected SUBSET=WEIGHT, SUBSET=+STEP or SUBSET=-STEP (e.g. v2=30, v2=+10; "
                         "HOST/SUBSET=30 when two hosts share a subset name)")
    value = int(m.group("value"))
    sign = m.group("sign")
    if sign:
        return Assignment(m.group("target"), -value if sign == "-" else value, True)
    return Assignment(m.group("target"), value, False)


def dest_key(route_entry: dict) -> DestKey:
    """The identity of one ``route[]`` entry of an HTTP rule."""
    dest = route_entry.get("destination") or {}
    return (str(dest.get("host") or ""), str(dest.get("subset") or ""))


def rule_text(ref: RuleRef) -> str:
    """How a rule reference reads in messages: ``canary`` or ``#1``."""
    return f"#{ref}" if isinstance(ref, int) else str(ref)


def _rule_label(rule: dict, index: int) -> str:
    return str(rule.get("name")) if rule.get("name") else f"#{index}"


def pick_rule(vs: RawObject, rule: str | None) -> RuleRef:
    """The rule a command edits, as a stable reference (its name, else its index).

    Given ``rule`` (an index or a name), that one. Otherwise the only rule with more than one
    destination; else the default route (the last rule without match; the only rule counts);
    else ``RuleChoiceError`` asking for ``--rule``.
    """
    copy = copy_vs(vs)
    rules = http_rules(copy)
    if rule is not None:
        try:
            index = rule_index(copy, rule)
        except ReleaseError as exc:
            raise RuleChoiceError(str(exc)) from None
    else:
        split = [i for i, r in enumerate(rules) if len(r.get("route") or []) > 1]
        if len(split) == 1:
            index = split[0]
        else:
            default = default_route_index(copy)
            if default is None and len(rules) == 1:
                default = 0
            if default is None:
                names = ", ".join(_rule_label(r, i) for i, r in enumerate(rules))
                raise RuleChoiceError(f"{vs_label(vs)} has {len(rules)} http rules ({names}); say which with --rule")
            index = default
    return stable_ref(rules, index)


def stable_ref(rules: Sequence[dict], index: int) -> RuleRef:
    """A reference to rule ``index`` that survives other writers inserting rules: its name when
    it has a unique one, else the index."""
    name = rules[index].get("name") if 0 <= index < len(rules) else None
    if name and sum(1 for r in rules if r.get("name") == name) == 1:
        return str(name)
    return index


def _find(vs: RawObject, ref: RuleRef, target: str) -> tuple[dict, int, int]:
    """(rule, rule index, destination position) of ``target`` in rule ``ref`` of ``vs``."""
    index = rule_index(vs, ref)
    rule = http_rules(vs)[index]
    found = destination_index(rule, target)
    if found is None:
        raise ReleaseError(f"no destination {target!r} in rule {_rule_label(rule, index)} of {vs_label(vs)} "
                           f"(has: {destination_names(rule)})")
    return rule, index, found


# -- weights -------------------------------------------------------------------------------------


def _split_of(vs: RawObject, ref: RuleRef, assignments: Sequence[Assignment]) -> tuple[dict, list[int]]:
    """The rule and its new weights (the algebra shared by every weight action)."""
    index = rule_index(vs, ref)
    rule = http_rules(vs)[index]
    if len(rule.get("route") or []) < 2:
        raise ReleaseError(f"rule {_rule_label(rule, index)} of {vs_label(vs)} has one destination: "
                           "there is no split to shift (add another destination first)")
    current = wa.normalize(current_weights(rule))
    pins: dict[int, int] = {}
    for a in assignments:
        _, _, i = _find(vs, ref, a.target)
        if i in pins:
            raise ReleaseError(f"{a.target!r} names a destination given more than once")
        pins[i] = min(wa.TOTAL, max(0, current[i] + a.value)) if a.relative else a.value
    try:
        return rule, wa.pin_weights(current, pins)
    except wa.WeightError as exc:
        raise ReleaseError(str(exc)) from None


def set_weights(rule: RuleRef, assignments: Sequence[Assignment]) -> Action:
    """Set (``v2=30``) or step (``v2=+10``) the named destinations of ``rule``; the others share
    the rest in proportion. What ``meshtui shift`` and every weight key of the editor run."""
    if not assignments:
        raise ReleaseError("give at least one SUBSET=WEIGHT")
    targets = [a.target for a in assignments]
    dup = next((t for t in targets if targets.count(t) > 1), None)
    if dup:
        raise ReleaseError(f"{dup!r} is given more than once")
    for a in assignments:
        if not a.relative and not 0 <= a.value <= wa.TOTAL:
            raise ReleaseError(f"weight {a.value} for {a.target!r} must be between 0 and {wa.TOTAL}")

    def edit(vs: RawObject) -> RawObject:
        new = copy_vs(vs)
        r, weights = _split_of(new, rule, assignments)
        write_weights(r, weights)
        return new

    def split(vs: RawObject) -> Split:
        r, weights = _split_of(copy_vs(vs), rule, assignments)
        return rule, {dest_key(d): w for d, w in zip(r.get("route") or [], weights)}

    words = " ".join(str(a) for a in assignments)
    return Action(f"shift {words} (rule {rule_text(rule)})", edit, split)


def shift(rule: RuleRef, target: str, delta: int) -> Action:
    """Move destination ``target`` by ``delta`` points (clamped to 0..100); the others rebalance."""
    return set_weights(rule, [Assignment(target, delta, True)])


def set_weight(rule: RuleRef, target: str, value: int) -> Action:
    """Give destination ``target`` exactly ``value`` %; the others share the rest."""
    return set_weights(rule, [Assignment(target, value, False)])


def drain(rule: RuleRef, target: str) -> Action:
    """Weight 0 for ``target``, which stays in the rule so that it can be restored."""
    return set_weights(rule, [Assignment(target, 0, False)])


# -- destinations --------------------------------------------------------------------------------


def add_destination(rule: RuleRef, host: str, subset: str, weight: int, *, rule_host: str | None = None) -> Action:
    """Add ``host``/``subset`` at ``weight`` %; the others shrink in proportion. ``rule_host`` is
    the host the rule routes to already (the new destination then inherits its port)."""
    same_host = rule_host is not None and host == rule_host
    return Action(f"add {host} {subset} ({weight}%) to rule {rule_text(rule)}",
                  lambda vs: release.add_destination(vs, subset, weight, None if same_host else host, rule))


def remove_destination(rule: RuleRef, target: str) -> Action:
    """Remove ``target`` from the rule; its share goes to the others in proportion."""
    return Action(f"remove {target} from rule {rule_text(rule)}",
                  lambda vs: release.remove_destination(vs, target, rule))


# -- release workflows -------------------------------------------------------------------------------


def promote(rule: RuleRef, target: str) -> Action:
    """All traffic of ``rule`` to ``target`` (a destination it routes to); the others stay at 0."""
    return Action(f"promote {target} (rule {rule_text(rule)})", lambda vs: release.promote(vs, target, rule))


def rollback(rule: RuleRef, target: str) -> Action:
    """All traffic of ``rule`` back to ``target`` (a destination it routes to); others stay at 0."""
    return Action(f"rollback {target} (rule {rule_text(rule)})", lambda vs: release.rollback(vs, target, rule))


def canary_step(rule: RuleRef, stable: str, canary: str, step: int, max_weight: int) -> Action:
    """Move ``step`` points from ``stable`` to ``canary`` (added when missing), canary capped at
    ``max_weight``."""
    return Action(f"canary step {stable}→{canary} +{step} (max {max_weight}) on rule {rule_text(rule)}",
                  lambda vs: release.canary_step(vs, stable, canary, step, max_weight, rule))


def blue_green(rule: RuleRef, to: str) -> Action:
    """Switch the rule to subset ``to`` (added when missing): a lone destination changes subset,
    a split goes 100/0."""
    return Action(f"blue-green switch to {to} on rule {rule_text(rule)}",
                  lambda vs: release.blue_green_switch(vs, to, rule))


def dark_launch(subset: str, header: str, value: str, kind: str) -> Action:
    """A rule in front of the default route sending requests whose ``header`` matches to ``subset``."""
    return Action(f"dark launch {subset} for {header}: {value}",
                  lambda vs: release.dark_launch(vs, subset, header, value, kind))


def ab_split(rule: RuleRef, split: Mapping[str, int]) -> Action:
    """The exact split ``{subset: weight}`` (sums to 100); subsets not named get 0."""
    words = " ".join(f"{s}={w}" for s, w in split.items())
    return Action(f"A/B split {words} on rule {rule_text(rule)}", lambda vs: release.ab_split(vs, dict(split), rule))


def mirror(rule: RuleRef, subset: str, percentage: float) -> Action:
    """Mirror ``percentage`` % of the rule's requests to ``subset``."""
    return Action(f"mirror {percentage:g}% to {subset} on rule {rule_text(rule)}",
                  lambda vs: release.set_mirror(vs, subset, percentage, rule=rule))


def remove_mirror(rule: RuleRef) -> Action:
    """Stop mirroring on the rule."""
    return Action(f"remove mirror of rule {rule_text(rule)}", lambda vs: release.remove_mirror(vs, rule=rule))


def fault(rule: RuleRef, delay: str | None, delay_percent: float, abort: int | None, abort_percent: float) -> Action:
    """Delay and/or abort a percentage of the rule's requests."""
    # The percentage is part of what the user is about to do: "abort 503 for 5%" vs every request.
    words = ", ".join(w for w in (f"delay {delay} for {delay_percent:g}%" if delay else "",
                                  f"abort {abort} for {abort_percent:g}%" if abort else "") if w)
    return Action(f"fault {words} on rule {rule_text(rule)}",
                  lambda vs: rule_edit.set_fault(vs, delay, delay_percent, abort, abort_percent, rule=rule))


def remove_fault(rule: RuleRef) -> Action:
    """Remove the rule's fault injection."""
    return Action(f"remove fault injection of rule {rule_text(rule)}", lambda vs: rule_edit.remove_fault(vs, rule=rule))


# -- matches, rewrites, rule order --------------------------------------------------------------------


_NAMED = ("headers", "queryParams", "withoutHeaders")


def _same_condition(old: tuple[int, str, str | None], field: str, name: str | None, block: int) -> bool:
    """Whether a condition is ``old`` again (header names compare without case, as HTTP's)."""
    old_block, old_field, old_name = old
    if old_field != field or old_block != block:
        return False
    if field in _NAMED:
        return (old_name or "").lower() == (name or "").lower() if field != "queryParams" else old_name == name
    return True


def set_condition(rule: RuleRef, field: str, kind: str, value: str | None, name: str | None, block: int,
                  ignore_case: bool | None, *, replacing: tuple[int, str, str | None] | None = None) -> Action:
    """Add a match condition to block ``block`` of the rule (``replacing``: the condition
    ``(block, field, name)`` it takes the place of, removed first when it is another one)."""
    same = replacing is not None and _same_condition(replacing, field, name, block)

    def edit(vs: RawObject) -> RawObject:
        b = block
        if replacing is not None and not same:
            old_block, old_field, old_name = replacing
            vs = rule_edit.remove_condition(vs, old_field, old_name, rule, old_block)
            # Removing the block's last condition drops the block: write into a new one.
            b = min(block, len(http_rules(vs)[rule_index(vs, rule)].get("match") or []))
        return rule_edit.set_condition(vs, field, kind, value, name, rule, b, ignore_case)

    what = f"{field} {name or ''} {kind} {value or ''}".replace("  ", " ").strip()
    return Action(f"{'change' if replacing else 'add'} match {what} on rule {rule_text(rule)}", edit)


def remove_condition(rule: RuleRef, field: str, name: str | None, block: int) -> Action:
    """Remove one match condition of the rule."""
    return Action(f"remove {field} {name or ''} condition of rule {rule_text(rule)}".replace("  ", " "),
                  lambda vs: rule_edit.remove_condition(vs, field, name, rule, block))


def move_rule(rule: RuleRef, to: int) -> Action:
    """Move the rule to position ``to`` (rules are tried in order)."""
    return Action(f"move rule {rule_text(rule)} to #{to}", lambda vs: rule_edit.move_rule(vs, rule, to))


def rewrite(rule: RuleRef, uri: str | None, authority: str | None) -> Action:
    """Set the rule's URI prefix rewrite and authority rewrite."""
    words = " ".join(w for w in (f"uri {uri}" if uri else "", f"authority {authority}" if authority else "") if w)
    return Action(f"rewrite {words} on rule {rule_text(rule)}",
                  lambda vs: rule_edit.set_rewrite(vs, uri, authority, rule=rule))


def retries(rule: RuleRef, attempts: int, per_try_timeout: str | None, retry_on: str | None) -> Action:
    """Set the rule's retry policy (``attempts`` 0: no retries)."""
    words = f"{attempts} attempts" + (f" of {per_try_timeout}" if per_try_timeout else "") + (
        f" on {retry_on}" if retry_on else "")
    return Action(f"retries {words} on rule {rule_text(rule)}",
                  lambda vs: rule_edit.set_retries(vs, attempts, per_try_timeout, retry_on, rule=rule))


def timeout(rule: RuleRef, value: str | None) -> Action:
    """Set (``value``) or remove (None) the rule's request timeout."""
    what = f"timeout {value}" if value else "remove the timeout"
    return Action(f"{what} on rule {rule_text(rule)}", lambda vs: rule_edit.set_timeout(vs, value, rule=rule))


def remove_rewrite(rule: RuleRef) -> Action:
    """Remove the rule's rewrite."""
    return Action(f"remove rewrite of rule {rule_text(rule)}", lambda vs: rule_edit.remove_rewrite(vs, rule=rule))
