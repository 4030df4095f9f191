"""The edit API for Gateway API routes: one function per user action on an HTTPRoute/GRPCRoute,
for the HTTPRoute editor and ``meshtui shift|promote|rollback httproute/NAME`` alike (the same
``Action`` shape as :mod:`meshtui.write.edit_api`, so both go through the one write path).

Backends are named by ``NAME``, ``NS/NAME`` or ``NAME:PORT``; weights are given as percentages
of the rule's traffic and written on the file's own scale where that is exact
(:class:`meshtui.routing.gateway_api_release.Scale`). Actions the Gateway API cannot express
raise ``ReleaseError`` with the reason (:func:`refuse`).

Match edits (header, path, method, query parameter, gRPC method, a whole match) check their
result against the shipped CRD (schema and CEL rules): a value the API server would refuse is
refused when the action is queued, with the API server's message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from meshtui.model import schema
from meshtui.routing import gateway_api_matches as gam
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


def _crd_checked(edit: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``edit``, refused with the CRD's own message (schema and CEL rules, as the API server
    would answer) when its result breaks a rule the object as read did not break: a bad match
    value is refused when it is typed, before any preview or apply."""

    def checked(obj: dict[str, Any]) -> dict[str, Any]:
        new = edit(obj)
        had = {(e.path, e.message) for e in schema.validate(obj)}
        errors = [e for e in schema.validate(new) if (e.path, e.message) not in had]
        if errors:
            raise ReleaseError("; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in errors))
        return new

    return checked


def _match_text(match: int | None) -> str:
    return "every match" if match is None else f"match #{match}"


def header_match(rule: RuleRef, header: str, value: str, regex: bool = False, match: int | None = None) -> Action:
    """Require ``header: value`` (or a regex) in every match of the rule, or in match ``match``."""
    kind = "~" if regex else "="
    return Action(f"add match header {header}{kind}{value} on rule {rule_text(rule)}",
                  _crd_checked(lambda obj: gam.add_header_match(obj, rule, header, value, regex, match)))


def remove_header_match(rule: RuleRef, header: str, match: int | None = None) -> Action:
    """Drop the rule's conditions on ``header`` (in every match, or in match ``match``)."""
    return Action(f"remove match header {header} of rule {rule_text(rule)}",
                  _crd_checked(lambda obj: gam.remove_header_match(obj, rule, header, match)))


def path_match(rule: RuleRef, path_type: str, value: str, match: int | None = None) -> Action:
    """Match the path ``value`` (``Exact``, ``PathPrefix``, ``RegularExpression``) in every
    match of the rule or in match ``match``; an empty value drops the path condition."""
    what = f"path {path_type} {value}" if value else "no path condition"
    return Action(f"match {what} on rule {rule_text(rule)} ({_match_text(match)})",
                  _crd_checked(lambda obj: gam.set_path(obj, rule, path_type, value, match)))


def method_match(rule: RuleRef, method: str, match: int | None = None) -> Action:
    """Match the HTTP ``method``; empty drops the condition."""
    what = f"method {method.upper()}" if method else "any method"
    return Action(f"match {what} on rule {rule_text(rule)} ({_match_text(match)})",
                  _crd_checked(lambda obj: gam.set_method(obj, rule, method, match)))


def grpc_method_match(rule: RuleRef, service: str, method: str, regex: bool = False,
                      match: int | None = None) -> Action:
    """Match the gRPC ``service``/``method`` of a GRPCRoute; both empty drop the condition."""
    kind = "~" if regex else ""
    what = f"grpc {kind}{service or '*'}/{method or '*'}" if service or method else "any gRPC method"
    return Action(f"match {what} on rule {rule_text(rule)} ({_match_text(match)})",
                  _crd_checked(lambda obj: gam.set_grpc_method(obj, rule, service, method, regex, match)))


def query_match(rule: RuleRef, name: str, value: str, regex: bool = False, match: int | None = None) -> Action:
    """Require query parameter ``name`` = ``value`` (or a regex)."""
    kind = "~" if regex else "="
    return Action(f"add match query {name}{kind}{value} on rule {rule_text(rule)} ({_match_text(match)})",
                  _crd_checked(lambda obj: gam.set_query_match(obj, rule, name, value, regex, match)))


def remove_query_match(rule: RuleRef, name: str, match: int | None = None) -> Action:
    """Drop the rule's conditions on query parameter ``name``."""
    return Action(f"remove match query {name} of rule {rule_text(rule)} ({_match_text(match)})",
                  _crd_checked(lambda obj: gam.remove_query_match(obj, rule, name, match)))


def add_match(rule: RuleRef, kind: str, text: str) -> Action:
    """Add the match written ``text`` (``PathPrefix /api, method GET, header x=y``; see
    :func:`meshtui.routing.gateway_api_matches.parse_match`) as one more alternative of the rule."""
    condition = gam.parse_match(kind, text)
    return Action(f"add match {text.strip()} to rule {rule_text(rule)}",
                  _crd_checked(lambda obj: gam.add_match(obj, rule, condition)))


def remove_match(rule: RuleRef, match: int) -> Action:
    """Drop match ``match`` of the rule (a rule left without matches takes every request)."""
    return Action(f"remove match #{match} of rule {rule_text(rule)}",
                  _crd_checked(lambda obj: gam.remove_match(obj, rule, match)))
