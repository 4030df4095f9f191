"""Istio's ``conditions.ConditionAnalyzer``: negative status conditions (IST0171).

A condition is reported when its status is the negative one for its kind (read from
``pkg/config/analysis/analyzers/conditions``): ``istio.io/WaypointBound`` False on a Service,
ServiceEntry or WorkloadEntry; ``ZtunnelAccepted`` or ``WaypointAccepted`` False on an
AuthorizationPolicy, and ``WaypointAccepted`` with reason ``PartiallyInvalid`` whatever its
status; ``Accepted``, ``Programmed`` or ``ResolvedRefs`` False on a Gateway API Gateway
(``status.conditions``; listener conditions are not read), HTTPRoute and GRPCRoute (the
conditions of ``status.parents[]``). Other condition types are ignored.
"""

from __future__ import annotations

from typing import Any

from meshtui.analysis.context import ISTIO_GROUP, K8S_GATEWAY_GROUP, Context

_WAYPOINT = {"istio.io/WaypointBound": "False"}
_GATEWAY_API = {"Accepted": "False", "Programmed": "False", "ResolvedRefs": "False"}
# (kind, API group ("" for the core group), where the conditions are, negative statuses)
_KINDS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("Service", "", "conditions", _WAYPOINT),
    ("ServiceEntry", ISTIO_GROUP, "conditions", _WAYPOINT),
    ("WorkloadEntry", ISTIO_GROUP, "conditions", _WAYPOINT),
    ("AuthorizationPolicy", "security.istio.io", "conditions", {"ZtunnelAccepted": "False", "WaypointAccepted": "False"}),
    ("Gateway", K8S_GATEWAY_GROUP, "conditions", _GATEWAY_API),
    ("HTTPRoute", K8S_GATEWAY_GROUP, "parents", _GATEWAY_API),
    ("GRPCRoute", K8S_GATEWAY_GROUP, "parents", _GATEWAY_API),
)


def _conditions(status: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(status, dict):
        return []
    if where == "parents":
        found = [c for p in status.get("parents") or [] if isinstance(p, dict) for c in p.get("conditions") or []]
    else:
        found = list(status.get("conditions") or [])
    return [c for c in found if isinstance(c, dict)]


def condition_analyzer(ctx: Context) -> None:
    """``conditions.ConditionAnalyzer``."""
    for kind, group, where, negative in _KINDS:
        for obj in ctx.objects(kind, group):
            for c in _conditions(obj.raw.get("status"), where):
                ctype, status = str(c.get("type") or ""), str(c.get("status") or "")
                reason, message = str(c.get("reason") or ""), str(c.get("message") or "")
                partially_invalid = kind == "AuthorizationPolicy" and ctype == "WaypointAccepted" \
                    and reason == "PartiallyInvalid"
                if negative.get(ctype) == status:
                    ctx.report("NegativeConditionStatus", obj, ctype, reason, message, path="status")
                if partially_invalid:
                    ctx.report("NegativeConditionStatus", obj, ctype, reason, message, path="status")
