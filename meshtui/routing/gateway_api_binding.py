"""Gateway API attachment and reference resolution, as Istio's controller decides them.

Facts from the Gateway API spec (``apis/v1``) and Istio's ``pilot/pkg/config/kube/gateway``
(``conversion.go``, ``route_collections.go``):

- a route's parentRef to a Gateway attaches to every listener its ``sectionName`` / ``port``
  select (all listeners when neither is written); it is accepted by a listener when their
  hostnames intersect and the listener's ``allowedRoutes`` admits the route's namespace
  (``Same``, ``All``, ``Selector`` over the Namespace's labels) and kind;
- hostname intersection: a listener without hostname takes the route's hostnames; a route
  without hostnames takes the listener's; otherwise each route hostname that the listener
  hostname covers, and the listener hostname where a route wildcard covers it;
- a backendRef to a Service is ``name.namespace.svc.<domain>``; one in another namespace needs a
  ReferenceGrant there; a reference that does not resolve still takes its share of traffic, which
  Envoy answers with 500 (Istio sets ``cluster_not_found_response_code: 500`` on these routes);
- status reasons: ``Accepted`` False with ``NoMatchingParent`` / ``NoMatchingListenerHostname``
  / ``NotAllowedByListeners``; ``ResolvedRefs`` False with ``InvalidKind`` over
  ``RefNotPermitted`` over ``BackendNotFound``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.gateway_api import (
    BackendRef, K8sGateway, K8sRoute, Listener, ParentRef,
)
from meshtui.model.hosts import host_subsumes, is_wildcard
from meshtui.model.index import K8S_GATEWAY

ISTIO_GROUP = "networking.istio.io"
INFERENCE_GROUP = "inference.networking.k8s.io"
MCS_GROUP = "multicluster.x-k8s.io"
_REASON_RANK = {"InvalidKind": 3, "RefNotPermitted": 2, "BackendNotFound": 1}


def _suffix(index: Any) -> str:
    return getattr(index, "domain_suffix", None) or "cluster.local"


def intersect_hostnames(listener_hostname: str | None, route_hostnames: list[str]) -> list[str]:
    """The hostnames a route serves on a listener (empty: none in common; ``*``: any)."""
    if not route_hostnames:
        return [listener_hostname or "*"]
    if not listener_hostname or listener_hostname == "*":
        return list(route_hostnames)
    out = []
    for h in route_hostnames:
        if host_subsumes(listener_hostname, h):
            out.append(h)
        elif is_wildcard(h) and host_subsumes(h, listener_hostname):
            out.append(listener_hostname)
    return list(dict.fromkeys(out))


def selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A Kubernetes LabelSelector (``matchLabels`` and ``matchExpressions``) against labels."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def namespace_allowed(index: Any, gateway: K8sGateway, listener: Listener, route_namespace: str) -> bool:
    """Whether the listener's ``allowedRoutes.namespaces`` admits routes of ``route_namespace``."""
    allowed = listener.allowed_routes
    if allowed.namespaces_from == "All":
        return True
    if allowed.namespaces_from == "Same":
        return route_namespace == (gateway.namespace or "default")
    if allowed.namespaces_from == "Selector":
        return selector_matches(allowed.selector, index.namespace_labels(route_namespace))
    return False


def parent_listeners(gateway: K8sGateway, ref: ParentRef) -> list[Listener]:
    """The listeners a parentRef selects by ``sectionName`` and ``port``."""
    return [x for x in gateway.listeners
            if (ref.section_name is None or x.name == ref.section_name) and (ref.port is None or x.port == ref.port)]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A route accepted by one listener of a Gateway, with the hostnames it serves there."""

    route: K8sRoute
    parent: ParentRef
    listener: Listener
    hostnames: list[str]


def attachments(index: Any, gateway: K8sGateway) -> list[Attachment]:
    """Every (route, listener) the Gateway accepts, routes oldest first."""
    out = []
    for route in index.routes_for_gateway(gateway.namespace or "default", gateway.name):
        for ref in route.parent_refs:
            if not ref.is_gateway or (ref.namespace, ref.name) != (gateway.namespace or "default", gateway.name):
                continue
            for listener in parent_listeners(gateway, ref):
                hosts = intersect_hostnames(listener.hostname, route.hostnames)
                if hosts and listener.allows_kind(route.kind) and namespace_allowed(
                        index, gateway, listener, route.namespace or "default"):
                    out.append(Attachment(route, ref, listener, hosts))
    return out


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """A status condition meshtui computes: what Istio would write."""

    type: str
    status: str
    reason: str
    message: str


def _accepted(index: Any, route: K8sRoute, ref: ParentRef) -> ConditionResult:
    def no(reason: str, message: str) -> ConditionResult:
        return ConditionResult("Accepted", "False", reason, message)

    if ref.is_service:
        if index.get("Service", ref.namespace, ref.name) is None:
            return no("NoMatchingParent", f'parent service: "{ref.name}" not found')
    elif ref.kind == "ServiceEntry" and ref.group == ISTIO_GROUP:
        if index.get("ServiceEntry", ref.namespace, ref.name) is None:
            return no("NoMatchingParent", f'parent service entry: "{ref.name}" not found')
    elif ref.is_gateway:
        gw = index.get(K8S_GATEWAY, ref.namespace, ref.name)
        if not isinstance(gw, K8sGateway):
            return no("NoMatchingParent", f'parent gateway: "{ref.namespace}/{ref.name}" not found')
        if ref.section_name is not None and gw.listener(ref.section_name) is None:
            return no("NoMatchingParent", f'sectionName "{ref.section_name}" not found')
        listeners = parent_listeners(gw, ref)
        if ref.port is not None and not listeners:
            return no("NoMatchingParent", f"port {ref.port} not found")
        by_host = [x for x in listeners if intersect_hostnames(x.hostname, route.hostnames)]
        if not by_host:
            names = ", ".join(f'"{x.hostname or "*"}"' for x in listeners)
            return no("NoMatchingListenerHostname", f"no hostnames matched parent hostname {names}")
        ns = route.namespace or "default"
        if not any(namespace_allowed(index, gw, x, ns) and x.allows_kind(route.kind) for x in by_host):
            names = ", ".join(f'"{x.hostname or "*"}"' for x in by_host)
            return no("NotAllowedByListeners",
                      f'hostnames matched parent hostname {names}, but namespace "{ns}" is not allowed by the parent')
    else:
        return no("InvalidParentRef", f"unsupported parent {ref.group}/{ref.kind}")
    return ConditionResult("Accepted", "True", "Accepted", "Route was valid")


@dataclass(frozen=True, slots=True)
class Backend:
    """A backendRef resolved: the host it sends to, or why it cannot (then Envoy answers 500)."""

    ref: BackendRef
    host: str | None  # FQDN / hostname; None for an invalid kind
    port: int | None
    service: Any  # the Service or ServiceEntry view, when one exists
    error_reason: str | None  # InvalidKind, RefNotPermitted, BackendNotFound
    error_message: str | None
    simulated: bool = True  # False for kinds meshtui cannot follow (InferencePool)


def resolve_backend(index: Any, route: K8sRoute, ref: BackendRef) -> Backend:
    """Where one backendRef of ``route`` sends traffic (Istio's ``buildDestination``)."""
    route_ns = route.namespace or "default"
    # A GAMMA consumer route may send to the Service it is attached to without a grant.
    to_parent = ref.is_service and any(p.is_service and (p.namespace, p.name) == (ref.namespace, ref.name)
                                       for p in route.parent_refs)
    if to_parent:
        pass
    elif ref.is_service or (ref.group == ISTIO_GROUP and ref.kind == "ServiceEntry") or ref.group == INFERENCE_GROUP:
        if ref.namespace != route_ns and not index.reference_granted(
                route.kind, route_ns, "" if ref.is_service else ref.group, ref.kind, ref.namespace, ref.name):
            return Backend(ref, None, ref.port, None, "RefNotPermitted",
                           f"backendRef {ref.name}/{ref.namespace} not accessible to a {route.kind} in namespace "
                           f'"{route_ns}" (missing a ReferenceGrant?)')
    if ref.is_service or (ref.group == MCS_GROUP and ref.kind == "ServiceImport"):
        # A ServiceImport (multi-cluster services) is served under the Service's own host name.
        host = f"{ref.name}.{ref.namespace}.svc.{_suffix(index)}"
        found = index.services_for_host(host)
        if not found:
            return Backend(ref, host, ref.port, None, "BackendNotFound", f"backend({host}) not found")
        return Backend(ref, host, ref.port, found[0], None, None)
    if ref.group == ISTIO_GROUP and ref.kind == "Hostname":
        found = index.services_for_host(ref.name)
        if not found:
            return Backend(ref, ref.name, ref.port, None, "BackendNotFound", f"backend({ref.name}) not found")
        return Backend(ref, ref.name, ref.port, found[0], None, None)
    if ref.group == ISTIO_GROUP and ref.kind == "ServiceEntry":
        se = index.get("ServiceEntry", ref.namespace, ref.name)
        hosts = list(getattr(se, "hosts", []) or [])
        if se is None or not hosts:
            return Backend(ref, None, ref.port, None, "BackendNotFound", f"backend({ref.name}) not found")
        return Backend(ref, hosts[0], ref.port, se, None, None)
    if ref.group == INFERENCE_GROUP and ref.kind == "InferencePool":
        return Backend(ref, None, ref.port, None, None, None, simulated=False)
    return Backend(ref, None, ref.port, None, "InvalidKind",
                   f'referencing unsupported backendRef: group "{ref.group}" kind "{ref.kind}"')


def _resolved_refs(index: Any, route: K8sRoute) -> ConditionResult:
    worst: Backend | None = None
    for rule in route.rules:
        refs = list(rule.backend_refs) + [f.mirror.backend for f in rule.filters if f.mirror is not None]
        for ref in refs:
            b = resolve_backend(index, route, ref)
            if b.error_reason and (worst is None or _REASON_RANK[b.error_reason] > _REASON_RANK[worst.error_reason or ""]):
                worst = b
    if worst is not None:
        return ConditionResult("ResolvedRefs", "False", worst.error_reason or "", worst.error_message or "")
    return ConditionResult("ResolvedRefs", "True", "ResolvedRefs", "All references resolved")


def route_conditions(index: Any, route: K8sRoute, ref: ParentRef) -> list[ConditionResult]:
    """``Accepted`` and ``ResolvedRefs`` of ``route`` for one of its parentRefs, as Istio writes them."""
    return [_accepted(index, route, ref), _resolved_refs(index, route)]

