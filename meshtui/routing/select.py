"""Which VirtualServices apply to a request's host at a gateway (or in the mesh).

Facts taken from Istio (``pilot/pkg/model/virtualservice.go``, ``push_context.go``,
``networking/core/route/route.go``, ``networking/core/gateway.go``):

- VirtualService hosts are resolved in the VirtualService's namespace (``reviews`` ->
  ``reviews.<ns>.svc.cluster.local``; names with a dot and ``*`` stay as written);
- ``gateways`` defaults to ``mesh``; ``name`` means ``<vs-namespace>/name``;
- Envoy picks one virtual host per request: an exact host beats a wildcard, a longer wildcard
  suffix beats a shorter one, ``*`` comes last;
- in the mesh, one VirtualService serves a host: the oldest (creation time, then name, then
  namespace); the others for the same host are ignored (Istio reports IST0109);
- at a gateway, the routes of every VirtualService with the same host are concatenated in
  that order, and a VirtualService host is served only where it intersects a server's hosts
  (``ns/host`` restricts the namespaces allowed; the more specific of the two is used).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from meshtui.model import Gateway, VirtualService, parse_object
from meshtui.model.hosts import fqdn, host_subsumes
from meshtui.routing.match import resolve_gateway
from meshtui.routing.request import MESH

DEFAULT_NAMESPACE = "default"


def host_pattern_matches(pattern: str, host: str) -> bool:
    """Whether a host pattern (``a.b``, ``*.b``, ``*``) covers the concrete or wildcard ``host``."""
    return host_subsumes(pattern, host)


def specificity(pattern: str) -> tuple[int, int]:
    """Sort key of Envoy's virtual host choice: larger is more specific."""
    if pattern == "*":
        return (0, 0)
    if pattern.startswith("*"):
        return (1, len(pattern))
    return (2, len(pattern))


def intersect(a: str, b: str) -> str | None:
    """The more specific of two host patterns when one admits the other, else None."""
    if host_pattern_matches(a, b):
        return b
    if host_pattern_matches(b, a):
        return a
    return None


def as_view(obj: Any) -> Any:
    """A typed view of an index entry, whether the index hands out views or raw dicts."""
    return parse_object(obj) if isinstance(obj, dict) else obj


def ordered(vss: Iterable[VirtualService]) -> list[VirtualService]:
    """Istio's precedence among configs: creation time, then name, then namespace."""
    return sorted(vss, key=lambda v: (v.creation_timestamp or "", v.name, v.namespace))


def ns_of(obj: Any) -> str:
    """The namespace an object lives in; one written without a namespace lands in ``default``."""
    return getattr(obj, "namespace", "") or DEFAULT_NAMESPACE


def label(obj: Any) -> str:
    """``namespace/name`` of an object."""
    return f"{ns_of(obj)}/{obj.name}"


@dataclass(slots=True)
class Selection:
    """The VirtualServices that serve the request host, in route order, and how they were chosen."""

    virtual_services: list[VirtualService] = field(default_factory=list)
    pattern: str | None = None  # the virtual host (domain) chosen
    notes: list[str] = field(default_factory=list)


def _gateway_patterns(gateway: Gateway | None, gw_ns: str, vs: VirtualService, vs_hosts: list[str], port: int | None) -> list[str]:
    """The VirtualService's hosts as the gateway serves them (intersected with server hosts)."""
    if gateway is None:
        return vs_hosts
    out: list[str] = []
    for server in gateway.servers:
        if port is not None and server.port.number not in (None, port):
            continue
        for entry in server.hosts:
            ns, slash, name = entry.partition("/")
            if not slash:
                ns, name = "*", entry
            if ns == ".":
                ns = gw_ns
            if ns not in ("*", ns_of(vs)):
                continue
            for h in vs_hosts:
                common = intersect(name, h)
                if common and common not in out:
                    out.append(common)
    return out


def select_virtual_services(
    index: Any,
    host: str,
    gateway: str,
    from_namespace: str | None,
    port: int | None,
    domain_suffix: str = "cluster.local",
) -> Selection:
    """The VirtualServices serving ``host`` (FQDN in the mesh, literal at a gateway)."""
    sel = Selection()
    gw_view: Gateway | None = None
    gw_ns = gateway.partition("/")[0] if gateway != MESH else ""
    if gateway != MESH:
        for g in getattr(index, "gateways", []) or []:
            view = as_view(g)
            if label(view) == gateway:
                gw_view = view
        if gw_view is None:
            sel.notes.append(f"Gateway {gateway} not found: assuming it admits every host")
    candidates: list[tuple[str, VirtualService]] = []
    for item in getattr(index, "virtual_services", []) or []:
        vs = as_view(item)
        if not isinstance(vs, VirtualService):
            continue
        vs_ns = ns_of(vs)
        vs_hosts = [fqdn(h, vs_ns, domain_suffix) for h in vs.hosts]
        if not any(host_pattern_matches(h, host) for h in vs_hosts):
            continue
        name = label(vs)
        gateways = [resolve_gateway(g, vs_ns) for g in vs.effective_gateways]
        if gateway not in gateways:
            if vs.hosts == ["*"]:
                continue  # a catch-all gateway VirtualService is not worth a note on every trace
            sel.notes.append(
                f"VirtualService {name} lists host {host} but is bound to {', '.join(gateways)}, not {gateway}: ignored"
            )
            continue
        if from_namespace is not None and not index.visible_from(vs, from_namespace):
            sel.notes.append(f"VirtualService {name} is not exported to namespace {from_namespace}: ignored")
            continue
        patterns = vs_hosts if gateway == MESH else _gateway_patterns(gw_view, gw_ns, vs, vs_hosts, port)
        best = max((p for p in patterns if host_pattern_matches(p, host)), key=specificity, default=None)
        if best is None:
            sel.notes.append(f"VirtualService {name}: gateway {gateway} does not admit host {host}: ignored")
            continue
        candidates.append((best, vs))
    if not candidates:
        return sel
    sel.pattern = max((p for p, _ in candidates), key=specificity)
    chosen = ordered(vs for p, vs in candidates if p == sel.pattern)
    for p, vs in candidates:
        if p != sel.pattern:
            sel.notes.append(
                f"VirtualService {label(vs)} (host {p}) loses to the more specific host {sel.pattern}"
            )
    if gateway == MESH and len(chosen) > 1:
        for vs in chosen[1:]:
            sel.notes.append(
                f"VirtualService {label(vs)} also claims {sel.pattern} for mesh traffic: ignored "
                f"(the oldest, {label(chosen[0])}, wins; IST0109)"
            )
        chosen = chosen[:1]
    sel.virtual_services = chosen
    return sel
