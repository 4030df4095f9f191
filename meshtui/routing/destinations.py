"""Resolve a rule's destinations: FQDN, port, weight share, DestinationRule, subset, pods.

Istio facts used (``route.go``): a lone destination takes all traffic whatever its weight;
with several, destinations of weight 0 are dropped and the rest share in proportion to their
weights. The port is the destination's, else the Service's only port, else the port the
request came in on. A subset that no DestinationRule defines has no Envoy cluster: 503 ``NC``.
"""

from __future__ import annotations

from typing import Any

from meshtui.model import DestinationRule, HTTPRoute, Pod, Service, VirtualService
from meshtui.model.hosts import fqdn
from meshtui.routing.result import DestinationTrace, MirrorTrace
from meshtui.routing.select import as_view, label, ns_of


def effective_weights(weights: list[int | None]) -> list[int]:
    """Configured weights as Envoy sees them: a lone destination is 100, a missing weight 0."""
    if len(weights) == 1:
        return [100]
    return [w or 0 for w in weights]


def probabilities(weights: list[int]) -> list[float]:
    """Share of requests per destination (0..1); all zero gives all zero."""
    total = sum(w for w in weights if w > 0)
    return [(w / total if total and w > 0 else 0.0) for w in weights]


def _suffix(index: Any) -> str:
    return getattr(index, "domain_suffix", None) or "cluster.local"


def _services(index: Any, host: str) -> list[Service]:
    return [s for s in (as_view(x) for x in index.services_for_host(host)) if isinstance(s, Service)]


def _pod_names(pods: Any) -> tuple[list[str], list[str]]:
    names: list[str] = []
    ready: list[str] = []
    for item in pods or []:
        pod = as_view(item)
        name = label(pod)
        names.append(name)
        # Workloads that are not pods (a Deployment in --files mode) count as ready.
        if not isinstance(pod, Pod) or pod.ready:
            ready.append(name)
    return sorted(names), sorted(ready)


def files_mode(index: Any) -> bool:
    """No pods at all (manifests on disk): Deployments stand in for the pods they would run."""
    return not getattr(index, "pods", None) and hasattr(index, "deployments_for_service")


def _merged_policy(dr: DestinationRule | None, subset: str | None) -> dict[str, Any] | None:
    if dr is None:
        return None
    merged: dict[str, Any] = dict(dr.traffic_policy.raw) if dr.traffic_policy else {}
    sub = dr.subset(subset) if subset else None
    if sub is not None and sub.traffic_policy is not None:
        # Istio merges a subset's policy over the top-level one, field by field.
        merged.update(sub.traffic_policy.raw)
    return merged or None


def resolve_destination(index: Any, host: str, subset: str | None, port: int | None, weight: int, share: float,
                        from_ns: str | None) -> DestinationTrace:
    """Everything known about one destination (host already an FQDN)."""
    services = _services(index, host)
    svc = services[0] if services else None
    if port is None and svc is not None:
        ports = [p.port for p in svc.ports if p.port is not None]
        port = ports[0] if len(ports) == 1 else None
    trace = DestinationTrace(host=host, subset=subset, port=port, weight=weight, probability=share)
    if svc is not None:
        trace.service = label(svc)
    else:
        trace.notes.append(f"no Service or ServiceEntry for {host}: Envoy answers 503 (NC, no cluster)")
    dr = as_view(index.destination_rule_for(host, from_ns)) if hasattr(index, "destination_rule_for") else None
    dr = dr if isinstance(dr, DestinationRule) else None
    if dr is not None:
        trace.destination_rule = label(dr)
    trace.traffic_policy = _merged_policy(dr, subset)
    if subset:
        defined = dr.subset(subset) if dr is not None else None
        if defined is None:
            where = f"DestinationRule {trace.destination_rule}" if dr is not None else "no DestinationRule"
            trace.notes.append(f"subset {subset} is not defined ({where}): Envoy answers 503 (NC, no cluster)")
            return trace
        trace.subset_labels = dict(defined.labels)
        pods = index.pods_for_subset(host, subset, from_ns or ns_of(svc))
        if not pods and files_mode(index):
            pods = index.deployments_for_subset(host, subset, from_ns or ns_of(svc))
    else:
        pods = [p for s in services for p in (index.pods_for_service(s) or [])]
        if not pods and files_mode(index):
            pods = [d for s in services for d in index.deployments_for_service(s)]
    trace.pods, trace.ready = _pod_names(pods)
    if svc is not None and not trace.pods:
        trace.notes.append("no pods behind this destination: Envoy answers 503 (UH, no healthy upstream)")
    return trace


def destination_traces(index: Any, vs: VirtualService, rule: HTTPRoute, from_ns: str | None,
                       listen_port: int | None) -> list[DestinationTrace]:
    """The rule's destinations with their shares of traffic."""
    weights = effective_weights([d.weight for d in rule.route])
    shares = probabilities(weights)
    out = []
    for dest, weight, share in zip(rule.route, weights, shares):
        host = fqdn(dest.destination.host, ns_of(vs), _suffix(index))
        port = dest.destination.port
        if port is None and listen_port is not None:
            svc = _services(index, host)
            single = [p.port for p in svc[0].ports] if svc else []
            port = single[0] if len(single) == 1 else listen_port
        out.append(resolve_destination(index, host, dest.destination.subset, port, weight, share, from_ns))
    return out


def mirror_traces(index: Any, vs: VirtualService, rule: HTTPRoute, from_ns: str | None,
                  listen_port: int | None) -> list[MirrorTrace]:
    """``mirror`` (+ ``mirrorPercentage``, default 100) and every entry of ``mirrors``; 0 % is none."""
    targets = []
    if rule.mirror is not None:
        targets.append((rule.mirror, 100.0 if rule.mirror_percentage is None else rule.mirror_percentage))
    for m in rule.mirrors:
        targets.append((m.destination, 100.0 if m.percentage is None else m.percentage))
    out = []
    for dest, pct in targets:
        if pct <= 0:
            continue
        host = fqdn(dest.host, ns_of(vs), _suffix(index))
        resolved = resolve_destination(index, host, dest.subset, dest.port or listen_port, 0, 0.0, from_ns)
        out.append(MirrorTrace(host=host, subset=dest.subset, port=resolved.port, percentage=pct, pods=resolved.pods))
    return out


def service_destination(index: Any, svc: Service, port: int | None, from_ns: str | None) -> DestinationTrace:
    """The default route of a Service without VirtualService: every pod, weight 100."""
    return resolve_destination(index, service_fqdn(index, svc), None, port, 100, 1.0, from_ns)


def service_fqdn(index: Any, svc: Service) -> str:
    """``name.namespace.svc.<suffix>`` of a Service (no namespace written: ``default``)."""
    return f"{svc.name}.{ns_of(svc)}.svc.{_suffix(index)}"
