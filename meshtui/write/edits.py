"""The edits of the writing subcommands, as functions from a VirtualService to its new form.

An edit is re-run on the current object after a conflict (``ChangePlan.rebase``), so it names
its rule by ``name`` when the rule has one (an index could point at another rule once someone
inserted a rule in front) and re-reads the weights it starts from.

``shift`` takes assignments ``SUBSET=W`` (exactly W %) and ``SUBSET=+N`` / ``SUBSET=-N``
(N points more or less than now). The named destinations get their weights; the others share
what is left in proportion to their current weights (``meshtui.routing.weights.apportion``),
so the rule keeps summing to 100.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from meshtui.routing import release
from meshtui.routing import weights as wa
from meshtui.routing.rules import (
    ReleaseError,
    RuleRef,
    copy_vs,
    current_weights,
    default_route_index,
    destination_index,
    http_rules,
    rule_index,
    vs_label,
    write_weights,
)
from meshtui.sources.base import RawObject
from meshtui.write.plan import Edit

_ASSIGNMENT = re.compile(r"^(?P<subset>[^=\s]+)=(?P<sign>[+-]?)(?P<value>\d+)%?$")


class RuleChoiceError(ReleaseError):
    """The rule to edit is ambiguous or does not exist (a usage error: say ``--rule``)."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """``SUBSET=W`` (``relative`` False) or ``SUBSET=+N`` / ``SUBSET=-N`` (``value`` signed)."""

    subset: str
    value: int
    relative: bool

    def __str__(self) -> str:
        return f"{self.subset}={self.value:+d}" if self.relative else f"{self.subset}={self.value}"


def parse_assignment(text: str) -> Assignment:
    """Parse ``v2=30``, ``v2=+10``, ``v2=-10`` (``ValueError`` with a one-line cause)."""
    m = _ASSIGNMENT.match(text.strip())
    if not m:
        raise ValueError(f"{text!r}: expected SUBSET=WEIGHT, SUBSET=+STEP or SUBSET=-STEP (e.g. v2=30, v2=+10)")
    value = int(m.group("value"))
    sign = m.group("sign")
    if sign:
        return Assignment(m.group("subset"), -value if sign == "-" else value, True)
    return Assignment(m.group("subset"), value, False)


def _rule_label(rule: dict, index: int) -> str:
    return str(rule.get("name")) if rule.get("name") else f"#{index}"


def rule_text(ref: RuleRef) -> str:
    """How a rule reference reads in messages: ``canary`` or ``#1``."""
    return f"#{ref}" if isinstance(ref, int) else str(ref)


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
    name = rules[index].get("name")
    if name and sum(1 for r in rules if r.get("name") == name) == 1:
        return str(name)
    return index


def _rule(vs: RawObject, ref: RuleRef) -> tuple[dict, int]:
    index = rule_index(vs, ref)
    return http_rules(vs)[index], index


def _destination(vs: RawObject, rule: dict, index: int, subset: str) -> int:
    found = destination_index(rule, subset)
    if found is None:
        have = ", ".join(
            (d.get("destination") or {}).get("subset") or (d.get("destination") or {}).get("host", "?")
            for d in rule.get("route") or []
        )
        raise ReleaseError(f"no destination {subset!r} in rule {_rule_label(rule, index)} of {vs_label(vs)} "
                           f"(has: {have or 'none'})")
    return found


def shift_weights(current: Sequence[int], pins: dict[int, int]) -> list[int]:
    """Weights with destination ``i`` at ``pins[i]`` and the rest shared among the others in
    proportion to ``current`` (``ReleaseError`` when the pins cannot sum to 100)."""
    total = sum(pins.values())
    if total > wa.TOTAL:
        raise ReleaseError(f"the weights given add up to {total}, more than {wa.TOTAL}")
    others = [i for i in range(len(current)) if i not in pins]
    if not others and total != wa.TOTAL:
        raise ReleaseError(f"the weights given add up to {total}, not {wa.TOTAL}")
    shared = wa.apportion([current[i] for i in others], wa.TOTAL - total) if others else []
    out = list(current)
    for i, w in pins.items():
        out[i] = w
    for i, w in zip(others, shared):
        out[i] = w
    return out


def shift_edit(assignments: Sequence[Assignment], rule: RuleRef) -> Edit:
    """The edit of ``meshtui shift``: set or step the named destinations of ``rule``."""
    if not assignments:
        raise ReleaseError("give at least one SUBSET=WEIGHT")
    subsets = [a.subset for a in assignments]
    dup = next((s for s in subsets if subsets.count(s) > 1), None)
    if dup:
        raise ReleaseError(f"{dup!r} is given more than once")
    for a in assignments:
        if not a.relative and not 0 <= a.value <= wa.TOTAL:
            raise ReleaseError(f"weight {a.value} for {a.subset!r} must be between 0 and {wa.TOTAL}")

    def edit(vs: RawObject) -> RawObject:
        new = copy_vs(vs)
        r, index = _rule(new, rule)
        if len(r.get("route") or []) < 2:
            raise ReleaseError(f"rule {_rule_label(r, index)} of {vs_label(vs)} has one destination: "
                               "there is no split to shift")
        current = wa.normalize(current_weights(r))
        pins: dict[int, int] = {}
        for a in assignments:
            i = _destination(new, r, index, a.subset)
            pins[i] = min(wa.TOTAL, max(0, current[i] + a.value)) if a.relative else a.value
        write_weights(r, shift_weights(current, pins))
        return new

    return edit


def _all_to(subset: str, rule: RuleRef, op: str) -> Edit:
    def edit(vs: RawObject) -> RawObject:
        checked = copy_vs(vs)
        r, index = _rule(checked, rule)
        _destination(checked, r, index, subset)
        return release.promote(vs, subset, rule) if op == "promote" else release.rollback(vs, subset, rule)

    return edit


def promote_edit(subset: str, rule: RuleRef) -> Edit:
    """The edit of ``meshtui promote``: all traffic of ``rule`` to ``subset`` (others stay at 0)."""
    return _all_to(subset, rule, "promote")


def rollback_edit(subset: str, rule: RuleRef) -> Edit:
    """The edit of ``meshtui rollback``: all traffic of ``rule`` back to ``subset`` (others at 0)."""
    return _all_to(subset, rule, "rollback")
