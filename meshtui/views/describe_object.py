"""`d` describe: one object as ``kubectl describe`` would sum it up, plus what meshtui knows
about it in the mesh (the routes and policies that apply, its pods per subset, its findings).

Plain text lines (``label``, ``value``); drawn by ``meshtui.screens.describe``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from meshtui.model.hosts import fqdn
from meshtui.model.index import MeshIndex

Line = tuple[str, str]


def _pairs(mapping: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(mapping.items())) or "<none>"


def _service_lines(index: MeshIndex, svc: Any) -> list[Line]:
    host = fqdn(svc.name, svc.namespace, index.domain_suffix)
    out: list[Line] = [("Host", host), ("Type", svc.type)]
    ports = ", ".join(f"{p.name or '-'} {p.port}/{p.protocol}" for p in svc.ports)
    out.append(("Ports", ports or "<none>"))
    out.append(("Selector", _pairs(svc.selector) if svc.selector is not None else "<none: endpoints by hand>"))
    pods = index.pods_for_service(svc)
    out.append(("Pods", f"{sum(p.ready for p in pods)}/{len(pods)} ready"))
    vss = index.virtual_services_for_host(host, from_namespace=svc.namespace)
    out.append(("VirtualServices", ", ".join(f"{v.namespace}/{v.name}" for v in vss) or "<none: plain round robin>"))
    dr = index.destination_rule_for(host, svc.namespace)
    if dr is None:
        out.append(("DestinationRule", "<none>"))
    else:
        out.append(("DestinationRule", f"{dr.namespace}/{dr.name}"))
        for subset in dr.subsets:
            ready = index.pods_for_subset(host, subset.name, svc.namespace)
            out.append((f"  subset {subset.name}", f"{_pairs(subset.labels)}  "
                                                    f"{sum(p.ready for p in ready)}/{len(ready)} ready"))
    return out


def _virtual_service_lines(vs: Any) -> list[Line]:
    out: list[Line] = [("Hosts", ", ".join(vs.hosts) or "<none>"),
                       ("Gateways", ", ".join(vs.effective_gateways))]
    for i, rule in enumerate(vs.http):
        dests = ", ".join(
            f"{rd.destination.host}{' ' + rd.destination.subset if rd.destination.subset else ''}"
            f" {rd.weight if rd.weight is not None else 100}%" for rd in rule.route or [])
        out.append((f"  http[{i}] {rule.name or ''}".rstrip(), dests or "<no route>"))
    if vs.tcp or vs.tls:
        out.append(("TCP/TLS rules", f"{len(vs.tcp)} tcp, {len(vs.tls)} tls"))
    return out


def _destination_rule_lines(dr: Any) -> list[Line]:
    out: list[Line] = [("Host", dr.host)]
    for subset in dr.subsets:
        out.append((f"  subset {subset.name}", _pairs(subset.labels)))
    if dr.traffic_policy is not None:
        out.append(("Traffic policy", ", ".join(sorted((dr.raw.get("spec") or {}).get("trafficPolicy") or {}))))
    return out


def _pod_lines(pod: Any) -> list[Line]:
    return [("Phase", pod.phase or "-"), ("Ready", f"{pod.ready_containers}/{len(pod.containers)}"),
            ("IP", pod.ip or "-"), ("Node", pod.node or "-"), ("Restarts", str(pod.restarts)),
            ("Sidecar", "istio-proxy" if pod.has_sidecar else "none")]


def describe(index: MeshIndex, kind: str, namespace: str, name: str, findings: Iterable[Any] = ()) -> list[Line]:
    """The describe lines of one object (empty when it is not in the mesh)."""
    obj = index.get(kind, namespace, name)
    if obj is None:
        return []
    out: list[Line] = [("Name", obj.name), ("Namespace", obj.namespace or "<cluster>"), ("Kind", obj.kind),
                       ("Labels", _pairs(obj.labels))]
    if obj.annotations:
        out.append(("Annotations", ", ".join(sorted(obj.annotations))))
    if obj.creation_timestamp:
        out.append(("Created", obj.creation_timestamp))
    about = {(kind, namespace, name)}
    if kind == "Service":
        out += _service_lines(index, obj)
        # A service's findings are mostly on the routes and policies that apply to it.
        host = fqdn(name, namespace, index.domain_suffix)
        about |= {(v.kind, v.namespace, v.name) for v in index.virtual_services_for_host(host, from_namespace=namespace)}
        dr = index.destination_rule_for(host, namespace)
        if dr is not None:
            about.add((dr.kind, dr.namespace, dr.name))
    elif kind == "VirtualService":
        out += _virtual_service_lines(obj)
    elif kind == "DestinationRule":
        out += _destination_rule_lines(obj)
    elif kind == "Pod":
        out += _pod_lines(obj)
    own = [f for f in findings if (f.kind, f.namespace, f.resource_name) in about]
    out.append(("Findings", f"{len(own)}" if own else "none"))
    out += [("", f"{f.level} [{f.code}] ({f.origin}) {f.message}") for f in own]
    return out
