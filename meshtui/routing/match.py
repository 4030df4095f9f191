"""One request against one ``HTTPMatchRequest`` block, with a reason for every condition.

Semantics follow Istio's translation to Envoy route matches (istio/istio
``pilot/pkg/networking/core/route/route.go``: ``TranslateRouteMatch``, ``sourceMatchHTTP``,
``translateRoute``):

- all conditions of one block must hold (AND); the blocks of a rule are alternatives (OR);
- ``port`` must equal the port the request arrived on;
- when the block lists ``gateways``, the block applies only to those gateways and its
  ``sourceLabels`` / ``sourceNamespace`` are not consulted; otherwise ``sourceLabels`` must be a
  subset of the caller's labels and ``sourceNamespace`` (if set) equal the caller's namespace;
- URI ``exact``/``prefix`` compare the path without its query string, honouring
  ``ignoreUriCase``; ``regex`` is an RE2 full match (``ignoreUriCase`` does not apply to it);
- header names are case-insensitive; an empty StringMatch (or ``regex: "*"``) only requires
  the header to be present; ``withoutHeaders`` inverts the match and treats a missing header
  as the empty string (a presence match inverted means "absent");
- ``queryParams`` take the first value of a parameter, not percent-decoded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from meshtui.routing.regex import full_match, re2_problem
from meshtui.routing.request import MESH, TraceRequest


class StringMatchLike(Protocol):
    """What this module needs of ``meshtui.model.StringMatch``."""

    @property
    def kind(self) -> str | None:
        """exact / prefix / regex / present, or None."""

    @property
    def value(self) -> str | None:
        """The string matched against."""


@dataclass(frozen=True, slots=True)
class Condition:
    """The outcome of one condition of a match block, with a short human reason."""

    field: str  # "uri", "header x-canary", "port", ...
    ok: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"field": self.field, "ok": self.ok, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class BlockResult:
    """One match block: matched when every condition holds."""

    index: int | None  # None for a rule without match blocks
    name: str | None
    matched: bool
    conditions: tuple[Condition, ...] = field(default_factory=tuple)

    @property
    def failures(self) -> list[Condition]:
        """The conditions that did not hold."""
        return [c for c in self.conditions if not c.ok]

    def summary(self) -> str:
        """One line: why it matched or what failed."""
        if self.index is None:
            return "no match conditions: matches every request"
        label = f"match[{self.index}]" + (f" ({self.name})" if self.name else "")
        if not self.conditions:
            return f"{label}: empty block, matches every request"
        if self.matched:
            return f"{label}: " + "; ".join(c.reason for c in self.conditions)
        return f"{label}: " + "; ".join(c.reason for c in self.failures)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "index": self.index,
            "name": self.name,
            "matched": self.matched,
            "conditions": [c.to_dict() for c in self.conditions],
        }


def is_presence(sm: StringMatchLike | None) -> bool:
    """An empty StringMatch, or ``regex: "*"``, only asks for presence (as Istio translates it)."""
    if sm is None or getattr(sm, "kind", None) not in ("exact", "prefix", "regex"):
        return True
    return sm.kind == "regex" and sm.value == "*"


def describe(sm: StringMatchLike | None) -> str:
    """``'exact jason'``, ``'prefix /api'``, ``'regex v[0-9]+'`` or ``'present'``."""
    if is_presence(sm):
        return "present"
    assert sm is not None
    return f"{sm.kind} {sm.value or ''}"


def string_matches(sm: StringMatchLike, value: str, *, ignore_case: bool = False) -> tuple[bool, str | None]:
    """Compare a non-presence StringMatch with ``value``; (matched, error-if-invalid-regex)."""
    want = sm.value or ""
    if sm.kind == "regex":
        problem = re2_problem(want)
        if problem:
            return False, problem
        return full_match(want, value), None
    have = value
    if ignore_case:
        want, have = want.lower(), have.lower()
    if sm.kind == "exact":
        return have == want, None
    return have.startswith(want), None


def _string_condition(label: str, sm: StringMatchLike | None, value: str | None, *, ignore_case: bool = False) -> Condition:
    if is_presence(sm):
        return Condition(label, value is not None, f"{label}: {'present' if value is not None else 'absent'}")
    assert sm is not None
    if value is None:
        return Condition(label, False, f"{label}: absent")
    ok, problem = string_matches(sm, value, ignore_case=ignore_case)
    if problem:
        return Condition(label, False, f"{label} regex {sm.value}: invalid RE2 ({problem})")
    shown = value if value != "" else '""'
    return Condition(label, ok, f"{label} {describe(sm)} {'=' if ok else '≠'} {shown}")


def _without_condition(name: str, sm: StringMatchLike | None, value: str | None) -> Condition:
    label = f"without header {name}"
    if is_presence(sm):
        return Condition(label, value is None, f"{label}: {'absent' if value is None else 'present'}")
    assert sm is not None
    ok, problem = string_matches(sm, value if value is not None else "")
    if problem:
        return Condition(label, False, f"{label} regex {sm.value}: invalid RE2 ({problem})")
    shown = "absent" if value is None else value
    return Condition(label, not ok, f"{label} {describe(sm)}: {'excluded, is ' if ok else 'ok, is '}{shown}")


def resolve_gateway(name: str, namespace: str) -> str:
    """A ``gateways`` entry as Istio resolves it: ``mesh``, ``ns/name`` as is, a bare name in
    the VirtualService's namespace, and the legacy ``name.ns[.svc.cluster.local]`` form."""
    if name == MESH or "/" in name:
        return name
    if "." in name:
        parts = name.split(".")
        return f"{parts[1]}/{parts[0]}"
    return f"{namespace}/{name}"


def evaluate_block(
    match: Any,
    request: TraceRequest,
    *,
    index: int,
    vs_namespace: str,
    gateway: str,
    port: int | None,
) -> BlockResult:
    """Evaluate one ``HTTPMatchRequest`` (model view) for ``request`` at ``gateway``/``port``."""
    conds: list[Condition] = []
    if match.port:
        ok = port == match.port
        conds.append(Condition("port", ok, f"port {match.port} {'=' if ok else '≠'} {port if port is not None else 'unknown'}"))
    gateways = list(match.gateways or [])
    if gateways:
        resolved = [resolve_gateway(g, vs_namespace) for g in gateways]
        ok = gateway in resolved
        conds.append(
            Condition("gateways", ok, f"gateways {', '.join(resolved)} {'include' if ok else 'exclude'} {gateway}")
        )
    else:
        labels = dict(match.source_labels or {})
        if labels:
            missing = {k: v for k, v in labels.items() if request.source_labels.get(k) != v}
            shown = ",".join(f"{k}={v}" for k, v in labels.items())
            if missing:
                have = ",".join(f"{k}={request.source_labels.get(k, '(absent)')}" for k in missing)
                conds.append(Condition("sourceLabels", False, f"sourceLabels {shown} ≠ caller {have}"))
            else:
                conds.append(Condition("sourceLabels", True, f"sourceLabels {shown} = caller"))
        if match.source_namespace:
            ok = request.source_namespace == match.source_namespace
            conds.append(
                Condition(
                    "sourceNamespace",
                    ok,
                    f"sourceNamespace {match.source_namespace} {'=' if ok else '≠'} {request.source_namespace or '(unknown)'}",
                )
            )
    if match.uri is not None:
        if match.uri.kind == "regex":
            conds.append(_string_condition("uri", match.uri, request.path_only))
        else:
            cond = _string_condition("uri", match.uri, request.path_only, ignore_case=bool(match.ignore_uri_case))
            if match.ignore_uri_case:
                cond = Condition(cond.field, cond.ok, cond.reason + " (ignoreUriCase)")
            conds.append(cond)
    if match.scheme is not None:
        conds.append(_string_condition("scheme", match.scheme, request.scheme))
    if match.method is not None:
        conds.append(_string_condition("method", match.method, request.method))
    if match.authority is not None:
        conds.append(_string_condition("authority", match.authority, request.authority))
    for name, sm in sorted((match.headers or {}).items()):
        if name.startswith("@request.auth.claims"):
            conds.append(Condition(f"header {name}", False, f"{name}: JWT claim, not evaluated by trace"))
            continue
        conds.append(_string_condition(f"header {name.lower()}", sm, request.header(name)))
    for name, sm in sorted((match.without_headers or {}).items()):
        conds.append(_without_condition(name.lower(), sm, request.header(name)))
    params = request.query_params()
    for name, sm in sorted((match.query_params or {}).items()):
        conds.append(_string_condition(f"query {name}", sm, params.get(name)))
    return BlockResult(
        index=index,
        name=match.name or None,
        matched=all(c.ok for c in conds),
        conditions=tuple(conds),
    )
