"""What a trace found: the VirtualService and rule, the rules passed over, the destinations.

``TraceResult.to_dict()`` is the stable JSON contract of ``meshtui trace -o json`` (other tools
script against it): keys ``virtual_service``, ``rule_index``, ``rule_name``, ``destinations``
(``{host, subset, port, weight}`` plus extra detail), ``rewrite``, ``mirror`` and
``explanation`` are always present; more keys may be added, none removed. When the rule
taken delegates, ``virtual_service`` / ``rule_index`` name the root rule and the delegate's rules
appear in ``rules`` (``rules[i].delegate`` names the delegate VirtualService).

``route`` names what took the request, for both APIs: ``{"kind": "VirtualService" | "HTTPRoute"
| "GRPCRoute", "name": "ns/name", "rule_index": i, "match_index": j}`` (``match_index`` None for
a rule without matches), or None when no rule took it. A Gateway API backend that does not
resolve carries ``failure`` (``{"status": 500, "reason", "message"}``) on its destination.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from meshtui.routing.match import BlockResult
from meshtui.routing.request import TraceRequest

#: How the request ends:
#: route          a VirtualService rule forwards it to ``destinations``
#: redirect       a rule answers with a redirect
#: direct         a rule answers with a fixed response (directResponse)
#: no_route       a VirtualService applies but no rule matches: Envoy answers 404 (NR)
#: default        no VirtualService applies; the Service's default route (all its pods)
#: passthrough    no VirtualService, host not in the registry: sent on to the address the
#:                client dialled (outboundTrafficPolicy ALLOW_ANY)
#: blackhole      as passthrough, but REGISTRY_ONLY: Envoy answers 502
#: no_vhost       at a gateway, no VirtualService serves the host: 404 (NR)
Outcome = Literal["route", "redirect", "direct", "no_route", "default", "passthrough", "blackhole", "no_vhost"]


@dataclass(slots=True)
class DestinationTrace:
    """One destination of the rule taken (or of the default route), resolved in the mesh."""

    host: str  # FQDN
    subset: str | None
    port: int | None
    weight: int  # as configured; a lone destination without weight counts 100
    probability: float  # share of requests, 0..1 (weight 0 destinations get none)
    service: str | None = None  # "ns/name" of the Service for the host, when one exists
    destination_rule: str | None = None  # "ns/name" of the DestinationRule that applies
    subset_labels: dict[str, str] | None = None  # None when no subset or the subset is undefined
    traffic_policy: dict[str, Any] | None = None  # the subset policy over the DR's top-level one
    pods: list[str] = field(default_factory=list)  # "ns/name" of the pods behind it
    ready: list[str] = field(default_factory=list)  # those of ``pods`` that are ready
    notes: list[str] = field(default_factory=list)
    # A Gateway API backendRef that does not resolve: its share is answered with this status.
    failure: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``host``, ``subset``, ``port``, ``weight`` are the contract)."""
        return {
            "host": self.host,
            "subset": self.subset,
            "port": self.port,
            "weight": self.weight,
            "probability": round(self.probability, 6),
            "service": self.service,
            "destination_rule": self.destination_rule,
            "subset_labels": self.subset_labels,
            "traffic_policy": self.traffic_policy,
            "pods": list(self.pods),
            "ready_pods": len(self.ready),
            "notes": list(self.notes),
            "failure": self.failure,
        }


@dataclass(slots=True)
class MirrorTrace:
    """A mirror target: a copy of ``percentage`` % of requests goes there (responses ignored)."""

    host: str
    subset: str | None
    port: int | None
    percentage: float
    pods: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "host": self.host,
            "subset": self.subset,
            "port": self.port,
            "percentage": self.percentage,
            "pods": list(self.pods),
        }


@dataclass(slots=True)
class RuleTrace:
    """One http rule the request was tried against."""

    virtual_service: str  # "ns/name"
    index: int
    name: str | None
    matched: bool
    blocks: list[BlockResult]
    delegate: str | None = None
    kind: str = "VirtualService"  # or HTTPRoute / GRPCRoute (then ``virtual_service`` names the route)

    def line(self) -> str:
        """One line of explanation for this rule."""
        where = (f"{self.virtual_service} http[{self.index}]" if self.kind == "VirtualService"
                 else f"{self.kind} {self.virtual_service} rules[{self.index}]")
        label = where + (f" {self.name!r}" if self.name else "")
        if self.matched:
            taken = next((b for b in self.blocks if b.matched), None)
            why = taken.summary() if taken else "matched"
            return f"{label}: MATCH — {why}"
        if not self.blocks:
            return f"{label}: no match"
        return f"{label}: no match — " + " | ".join(b.summary() for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "virtual_service": self.virtual_service,
            "index": self.index,
            "name": self.name,
            "matched": self.matched,
            "blocks": [b.to_dict() for b in self.blocks],
            "delegate": self.delegate,
            "kind": self.kind,
        }


@dataclass(slots=True)
class TraceResult:
    """Everything ``trace()`` established about one request."""

    request: TraceRequest
    gateway: str  # "mesh" or "ns/name"
    host: str  # the request host as resolved (FQDN for mesh services)
    port: int | None
    outcome: Outcome
    virtual_service: str | None = None
    rule_index: int | None = None
    rule_name: str | None = None
    rules: list[RuleTrace] = field(default_factory=list)
    destinations: list[DestinationTrace] = field(default_factory=list)
    rewrite: dict[str, Any] | None = None  # {"uri": path after rewrite, "authority": ...}
    redirect: dict[str, Any] | None = None
    direct_response: dict[str, Any] | None = None
    mirrors: list[MirrorTrace] = field(default_factory=list)
    fault: dict[str, Any] | None = None
    timeout: str | None = None
    retries: dict[str, Any] | None = None
    service: str | None = None  # "ns/name" of the Service the request is addressed to
    notes: list[str] = field(default_factory=list)  # VS selection, traps, assumptions
    # Gateway API routes: what took the request (kind, name, rule_index, match_index).
    route_kind: str | None = None
    route_name: str | None = None
    match_index: int | None = None
    request_headers: dict[str, Any] | None = None  # Gateway API header modifiers: set/add/remove

    @property
    def route(self) -> dict[str, Any] | None:
        """``{"kind", "name", "rule_index", "match_index"}`` of the rule taken, for both APIs."""
        if self.route_kind is not None:
            return {"kind": self.route_kind, "name": self.route_name, "rule_index": self.rule_index,
                    "match_index": self.match_index}
        if self.virtual_service is not None and self.rule_index is not None:
            return {"kind": "VirtualService", "name": self.virtual_service, "rule_index": self.rule_index,
                    "match_index": self.match_index}
        return None

    @property
    def explanation(self) -> list[str]:
        """One line per rule considered, after the notes on how the VirtualService was chosen."""
        return [*self.notes, *(r.line() for r in self.rules), self.verdict()]

    def verdict(self) -> str:
        """The last line: what happens to the request."""
        if self.outcome == "route":
            parts = [
                f"{d.host or 'an invalid backend'}" + (f" subset {d.subset}" if d.subset else "")
                + f" {d.probability * 100:g}%" + (f" (answered {d.failure['status']}: {d.failure['reason']})"
                                                   if d.failure else "")
                for d in self.destinations
            ]
            return "→ routed to " + ", ".join(parts) if parts else "→ routed nowhere (no destinations)"
        if self.outcome == "redirect":
            return f"→ redirect {self.redirect}"
        if self.outcome == "direct":
            return f"→ direct response {self.direct_response}"
        if self.outcome == "no_route":
            return "→ no rule matches: 404 (response flag NR)"
        if self.outcome == "no_vhost":
            return "→ no VirtualService serves this host on the gateway: 404 (response flag NR)"
        if self.outcome == "blackhole":
            return "→ host not in the registry and outboundTrafficPolicy is REGISTRY_ONLY: 502 (BlackHoleCluster)"
        if self.outcome == "passthrough":
            target = f" to {self.service}" if self.service else ""
            return f"→ no VirtualService: passed through{target} by plain Kubernetes load balancing (PassthroughCluster)"
        target = self.destinations[0].host if self.destinations else self.host
        return f"→ no VirtualService: default route to {target}, load-balanced across every pod of the Service"

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of ``meshtui trace -o json``."""
        mirror = self.mirrors[0] if self.mirrors else None
        return {
            "request": self.request.to_dict(),
            "gateway": self.gateway,
            "host": self.host,
            "port": self.port,
            "service": self.service,
            "outcome": self.outcome,
            "virtual_service": self.virtual_service,
            "rule_index": self.rule_index,
            "rule_name": self.rule_name,
            "route": self.route,
            "destinations": [d.to_dict() for d in self.destinations],
            "rewrite": self.rewrite,
            "redirect": self.redirect,
            "direct_response": self.direct_response,
            "mirror": (
                {"host": mirror.host, "subset": mirror.subset, "percentage": mirror.percentage} if mirror else None
            ),
            "mirrors": [m.to_dict() for m in self.mirrors],
            "fault": self.fault,
            "timeout": self.timeout,
            "retries": self.retries,
            "rules": [r.to_dict() for r in self.rules],
            "request_headers": self.request_headers,
            "explanation": self.explanation,
        }
