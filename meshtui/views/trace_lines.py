"""A traced request in words: short host names, what happens without a VirtualService, and the
Host-header trap (a VirtualService that routes the Service under another host name, so the
request never meets its rules). Drawn by ``meshtui.widgets.trace_tree``."""

from __future__ import annotations

from typing import Any


def short_host(host: str) -> str:
    """``reviews.bookinfo.svc.cluster.local`` → ``reviews.bookinfo``; other hosts unchanged."""
    if ".svc." in host:
        return host.split(".svc.", 1)[0]
    return host


def no_virtual_service_line(result: Any) -> str:
    """What happens without a VirtualService, in one plain sentence."""
    target = result.service or (result.destinations[0].host if result.destinations else None)
    if result.outcome in ("default", "passthrough") and target:
        return f"no VirtualService applies: plain Kubernetes load balancing across every pod of {target}"
    if result.outcome == "passthrough":
        return "no VirtualService applies: passed through to the address the client dialled (PassthroughCluster)"
    if result.outcome == "blackhole":
        return "no VirtualService applies and the host is not in the registry: REGISTRY_ONLY answers 502"
    if result.outcome == "no_vhost":
        return f"no VirtualService serves {result.host} on gateway {result.gateway}: 404 (NR)"
    return "no VirtualService applies"


def bypassed_virtual_services(index: Any, result: Any) -> list[tuple[str, list[str]]]:
    """The Host-header trap: VirtualServices written for the Service the request went to (one
    of their hosts names it), which the request's Host does not match, as (``ns/name``, hosts)."""
    if result.virtual_service is not None or not result.service or index is None:
        return []
    ns, _, name = result.service.partition("/")
    service = index.get("Service", ns, name)
    if service is None:
        return []
    from meshtui.model.hosts import fqdn, host_matches
    from meshtui.routing.service_view import service_routes

    target = fqdn(service.name, service.namespace)
    out = []
    for vs in service_routes(index, service).virtual_services:
        if result.gateway == "mesh" and vs.gateways and "mesh" not in vs.gateways:
            continue
        if any(host_matches(fqdn(h, vs.namespace), target) for h in vs.hosts):
            out.append((f"{vs.namespace}/{vs.name}", list(vs.hosts)))
    return out
