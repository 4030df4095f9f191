"""What the mesh browser shows of the Gateway API for one service (pure).

A service's traffic is carried by the HTTPRoutes/GRPCRoutes whose parent is the Service (GAMMA,
east-west) and by every route whose ``backendRefs`` send to it (a route splitting between
per-version Services shows under each version, north-south routes under their backends). The
Gateway API Gateways those routes attach to are shown with their listeners and the routes
each listener accepts. Status conditions that are not True are shown as the controller wrote
them, with their message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.model.gateway_api import Condition, K8sGateway, K8sRoute
from meshtui.model.index import K8S_GATEWAY
from meshtui.model.management import managed_by
from meshtui.model.route_view import RuleView, rule_views
from meshtui.routing.gateway_api_binding import attachments

#: Route kinds the browser draws rule by rule.
HTTP_KINDS = ("HTTPRoute", "GRPCRoute")
#: Conditions of negative polarity in the Gateway API (True is the problem): a listener's
#: ``Conflicted``.
_NEGATIVE_POLARITY = frozenset({"Conflicted"})


def is_problem(condition: Condition) -> bool:
    """Whether a status condition says something is wrong: not True (False, Unknown), or True
    for a negative-polarity type such as ``Conflicted``."""
    if condition.type in _NEGATIVE_POLARITY:
        return condition.status == "True"
    return condition.status != "True"


@dataclass(slots=True)
class K8sRouteView:
    """An HTTPRoute or GRPCRoute carrying the service's traffic."""

    key: tuple[str, str, str]  # (kind, namespace, name)
    parents: list[str]  # "Service storefront/cart:8080", "Gateway storefront/edge/http"
    hostnames: list[str]
    rules: list[RuleView]
    #: Conditions whose status is not True: "Accepted False NotAllowedByListeners: <message> (parent)".
    problems: list[str] = field(default_factory=list)
    #: Other writers (a rollout controller, GitOps, Helm ...): one line each.
    managers: list[str] = field(default_factory=list)
    #: (namespace, name) of the Services it is a mesh route of (GAMMA parentRefs).
    parent_services: list[tuple[str, str]] = field(default_factory=list)

    @property
    def title(self) -> str:
        """``HTTPRoute ns/name``."""
        return f"{self.key[0]} {self.key[1]}/{self.key[2]}"


@dataclass(slots=True)
class ListenerView:
    """One listener of a Gateway API Gateway and the routes it accepts."""

    line: str  # "http 80/HTTP  host shop.example.com  routes from Same"
    routes: list[str]  # "HTTPRoute storefront/web (shop.example.com)"


@dataclass(slots=True)
class K8sGatewayView:
    """A Gateway API Gateway one of the service's routes attaches to."""

    key: tuple[str, str, str]  # (K8S_GATEWAY, namespace, name)
    gateway_class: str
    addresses: list[str]
    listeners: list[ListenerView]
    problems: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        """``Gateway ns/name``."""
        return f"Gateway {self.key[1]}/{self.key[2]}"


def condition_problems(conditions: list[Condition], where: str = "") -> list[str]:
    """The conditions that say something is wrong (:func:`is_problem`), one line each, with
    reason and message."""
    out = []
    for c in conditions:
        if is_problem(c):
            line = f"{c.type} {c.status}"
            if c.reason:
                line += f" {c.reason}"
            if c.message:
                line += f": {c.message}"
            if where:
                line += f" ({where})"
            out.append(line)
    return out


def route_view(index: Any, route: K8sRoute) -> K8sRouteView:
    """The browser's record of one route."""
    problems = [line for parent in route.status_parents
                for line in condition_problems(parent.conditions, parent.parent_ref.label)]
    return K8sRouteView(
        key=(route.kind, route.namespace or "default", route.name),
        parents=[ref.label for ref in route.parent_refs],
        hostnames=list(route.hostnames),
        rules=rule_views(route, getattr(index, "domain_suffix", "cluster.local")),
        problems=problems,
        managers=managed_by(route, index),
        parent_services=[(ref.namespace, ref.name) for ref in route.parent_refs if ref.is_service],
    )


def routes_for(index: Any, namespace: str, name: str) -> list[K8sRoute]:
    """The HTTPRoutes/GRPCRoutes carrying traffic of the Service ``namespace/name``: those whose
    parent it is, then those sending it traffic through a backendRef (each once, oldest first)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for route in [*index.routes_for_service(namespace, name), *index.routes_to_service(namespace, name)]:
        key = (route.kind, route.namespace, route.name)
        if route.kind in HTTP_KINDS and key not in seen:
            seen.add(key)
            out.append(route)
    return out


def _listener_line(listener: Any) -> str:
    line = f"{listener.name} {listener.port if listener.port is not None else '?'}/{listener.protocol}"
    line += f"  host {listener.hostname or '*'}"
    if listener.tls_mode:
        line += f"  TLS {listener.tls_mode}"
    line += f"  routes from {listener.allowed_routes.namespaces_from}"
    return line


def gateway_view(index: Any, gateway: K8sGateway) -> K8sGatewayView:
    """The browser's record of one Gateway API Gateway: listeners and what each accepts."""
    accepted = attachments(index, gateway)
    listeners = []
    for listener in gateway.listeners:
        routes = [f"{a.route.kind} {a.route.label} ({', '.join(a.hostnames)})"
                  for a in accepted if a.listener.name == listener.name]
        listeners.append(ListenerView(_listener_line(listener), routes))
    problems = condition_problems(gateway.conditions)
    for ls in gateway.listener_status:
        problems += condition_problems(ls.conditions, f"listener {ls.name}")
    return K8sGatewayView((K8S_GATEWAY, gateway.namespace or "default", gateway.name), gateway.gateway_class_name,
                          list(gateway.addresses), listeners, problems)


def gateways_for(index: Any, routes: list[K8sRoute]) -> list[K8sGatewayView]:
    """The Gateway API Gateways the routes name as parents (each once, in order)."""
    out: list[K8sGatewayView] = []
    seen: set[tuple[str, str]] = set()
    for route in routes:
        for ref in route.parent_refs:
            if not ref.is_gateway or (ref.namespace, ref.name) in seen:
                continue
            seen.add((ref.namespace, ref.name))
            gw = index.get(K8S_GATEWAY, ref.namespace, ref.name)
            if isinstance(gw, K8sGateway):
                out.append(gateway_view(index, gw))
    return out
