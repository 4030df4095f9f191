"""The edit API for Gateway API routes: one function per user action on an HTTPRoute/GRPCRoute,
for the HTTPRoute editor and ``meshtui shift|promote|rollback httproute/NAME`` alike (the same
``Action`` shape as :mod:`meshtui.write.edit_api`, so both go through the one write path).

Backends are named by ``NAME``, ``NS/NAME`` or ``NAME:PORT``; weights are given as percentages
of the rule's traffic and written on the file's own scale where that is exact
(:class:`meshtui.routing.gateway_api_release.Scale`). Actions the Gateway API cannot express
raise ``ReleaseError`` with the reason (:func:`refuse`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from meshtui.routing import gateway_api_release as gar
from meshtui.routing.gateway_api_release import Scale
from meshtui.routing.rules import ReleaseError, RuleRef
from meshtui.write.edit_api import Action, Assignment, rule_text


def set_weights(rule: RuleRef, assignments: Sequence[Assignment], scale: Scale = Scale.AUTO) -> Action:
    """Set (``cart-v2=30``: 30 %) or step (``cart-v2=+10``) the named backends of ``rule``; the
    others share the rest in proportion."""
    if not assignments:
        raise ReleaseError("give at least one BACKEND=PERCENT")
    for a in assignments:
        if not a.relative and not 0 <= a.value <= 100:
            raise ReleaseError(f"share {a.value} for {a.target!r} must be between 0 and 100 (%)")
    pins = {a.target: (a.value, a.relative) for a in assignments}
    if len(pins) != len(assignments):
        raise ReleaseError("a backend is given more than once")
    words = " ".join(str(a) for a in assignments)
    return Action(f"shift {words} (rule {rule_text(rule)})", lambda obj: gar.set_shares(obj, rule, pins, scale))


def promote(rule: RuleRef, target: str, scale: Scale = Scale.AUTO) -> Action:
    """All traffic of ``rule`` to ``target`` (a backendRef it has); the others stay at 0."""
    return Action(f"promote {target} (rule {rule_text(rule)})", lambda obj: gar.all_to(obj, target, rule, scale))


def rollback(rule: RuleRef, target: str, scale: Scale = Scale.AUTO) -> Action:
    """All traffic of ``rule`` back to ``target`` (a backendRef it has); the others stay at 0."""
    return Action(f"rollback {target} (rule {rule_text(rule)})", lambda obj: gar.all_to(obj, target, rule, scale))


def canary_step(rule: RuleRef, stable: str, canary: str, step: int, max_weight: int,
                scale: Scale = Scale.AUTO) -> Action:
    """Move ``step`` points from ``stable`` to ``canary``, capped at ``max_weight`` %."""
    return Action(f"canary step {stable}→{canary} +{step} (max {max_weight}) on rule {rule_text(rule)}",
                  lambda obj: gar.canary_step(obj, stable, canary, step, max_weight, rule, scale))


def blue_green(rule: RuleRef, to: str, scale: Scale = Scale.AUTO) -> Action:
    """Switch the rule to backend ``to`` (added when missing)."""
    return Action(f"blue-green switch to {to} on rule {rule_text(rule)}",
                  lambda obj: gar.blue_green(obj, to, rule, scale))


def ab_split(rule: RuleRef, split: Mapping[str, int], scale: Scale = Scale.AUTO) -> Action:
    """The exact split ``{backend: percent}``; backends not named get 0."""
    words = " ".join(f"{b}={w}" for b, w in split.items())
    return Action(f"A/B split {words} on rule {rule_text(rule)}",
                  lambda obj: gar.ab_split(obj, dict(split), rule, scale))


def dark_launch(rule: RuleRef, backend: str, header: str, value: str) -> Action:
    """A rule before ``rule`` sending requests with ``header: value`` to ``backend``."""
    return Action(f"dark launch {backend} for {header}: {value}",
                  lambda obj: gar.dark_launch(obj, backend, header, value, rule))


def mirror(rule: RuleRef, backend: str, percent: int) -> Action:
    """Mirror ``percent`` % of the rule's requests to ``backend``."""
    return Action(f"mirror {percent}% to {backend} on rule {rule_text(rule)}",
                  lambda obj: gar.set_mirror(obj, backend, percent, rule))


def refuse(action: str, obj: dict | None = None) -> ReleaseError:
    """The error for an action the Gateway API cannot express (``fault``, ``subset``)."""
    return ReleaseError(gar.refusal(action, obj))


def set_split(rule: RuleRef, split: Mapping[str, int], scale: Scale = Scale.AUTO) -> Action:
    """Give every backend of ``rule`` exactly its share in ``split`` (``{target: percent}``,
    summing to 100): what a weight key of the HTTPRoute editor leads to, recorded as the split
    the user saw so that a re-apply after a conflict gives that split."""
    pins = {target: (value, False) for target, value in split.items()}
    words = " ".join(f"{t}={v}%" for t, v in split.items())
    return Action(f"weights of rule {rule_text(rule)}: {words}", lambda obj: gar.set_shares(obj, rule, pins, scale))


def moved_split(shares: Sequence[int], position: int, value: int) -> list[int]:
    """The shares after backend ``position`` is set to ``value`` % (clamped 0..100), the others
    sharing the rest in proportion (the one weight algebra)."""
    from meshtui.routing import weights as wa

    try:
        return wa.pin_weights(list(shares), {position: max(0, min(100, value))})
    except wa.WeightError as exc:
        raise ReleaseError(str(exc)) from None


def header_match(rule: RuleRef, header: str, value: str, regex: bool = False) -> Action:
    """Require ``header: value`` (or a regex) in every match of the rule."""
    kind = "~" if regex else "="
    return Action(f"add match header {header}{kind}{value} on rule {rule_text(rule)}",
                  lambda obj: gar.add_header_match(obj, rule, header, value, regex))


def remove_header_match(rule: RuleRef, header: str) -> Action:
    """Drop the rule's conditions on ``header``."""
    return Action(f"remove match header {header} of rule {rule_text(rule)}",
                  lambda obj: gar.remove_header_match(obj, rule, header))
