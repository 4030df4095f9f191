"""meshtui's own findings: problems Istio's analyzers do not report, each with an ``MT`` code.

| code   | name                                  | level   | meaning |
|--------|---------------------------------------|---------|---------|
| MT0001 | SubsetSelectsNoReadyPod               | Warning | a VirtualService routes to a subset (defined by the DestinationRule that applies) whose pods exist but are none ready; its share of traffic fails with 503 UH (a subset that selects no pod at all is Istio's IST0173, not repeated here) |
| MT0002 | RouteWeightsDoNotSum100               | Warning | the weights of a route's destinations (http, tcp or tls) do not add up to 100; Envoy then splits by the proportions, which is rarely what was meant |
| MT0003 | DestinationHostResolvesToNothing      | Warning | a route or mirror destination host resolves (as Istio resolves it for routing, exportTo included) to no Service and no ServiceEntry, where IST0101 is silent or can be made precise: the host is written ``name.namespace`` (Istio does not expand it; the hint names the Service meant), or Istio's analyzer lookup finds the host but routing does not |
| MT0004 | VirtualServiceHostNotSentByClients    | Warning | a VirtualService bound to a gateway lists a short host name (no dot); Istio expands it to ``name.<ns>.svc.cluster.local`` and no client going through the gateway sends that Host, so the rules never match |
| MT0005 | ExternalHostBlockedByRegistryOnly     | Error   | the outbound policy (mesh config, or the namespace's Sidecar) is ``REGISTRY_ONLY`` and a destination host is outside the mesh without a ServiceEntry: sidecars send it to BlackHoleCluster (502) |
| MT0006 | MirrorToRoutedSubset                  | Warning | an HTTP rule mirrors traffic to the same host and subset it routes to, so the same pods get every mirrored request twice |

Kiali's "subset not found" (KIA1107) is covered by Istio's IST0101 ``host+subset in destinationrule``
(``virtualservice.DestinationRuleAnalyzer``); meshtui adds no MT code for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from meshtui.analysis.context import ISTIO_GROUP, Context, full_name
from meshtui.analysis.messages import MessageType
from meshtui.analysis.virtualservice import Annotated, mirror_destinations, route_destinations, virtual_services
from meshtui.model.base import Resource
from meshtui.model.hosts import expand_namespaced, is_wildcard
from meshtui.model.istio import DestinationRule
from meshtui.model.kube import Service
from meshtui.model.virtualservice import VirtualService

MT_MESSAGES = (
    MessageType("SubsetSelectsNoReadyPod", "MT0001", "Warning",
                "A routed subset has no ready pod.", "Subset %q of host %q selects %s."),
    MessageType("RouteWeightsDoNotSum100", "MT0002", "Warning",
                "Route weights do not add up to 100.", "The weights of %s add up to %d, not 100."),
    MessageType("DestinationHostResolvesToNothing", "MT0003", "Warning",
                "A destination host matches no Service or ServiceEntry.",
                "Destination host %q (resolved as %q) matches no Service or ServiceEntry%s."),
    MessageType("VirtualServiceHostNotSentByClients", "MT0004", "Warning",
                "A gateway-bound VirtualService host is a short name no client sends.",
                "Host %q is read as %q on gateway %s; clients through a gateway never send that Host, "
                "so these rules do not match."),
    MessageType("ExternalHostBlockedByRegistryOnly", "MT0005", "Error",
                "REGISTRY_ONLY outbound policy and an external host without a ServiceEntry.",
                "Outbound traffic policy is REGISTRY_ONLY (%s) and host %q has no ServiceEntry: "
                "requests go to BlackHoleCluster (502)."),
    MessageType("MirrorToRoutedSubset", "MT0006", "Warning",
                "A rule mirrors to the destination it routes to.",
                "Rule %s mirrors to %s, the destination it already routes to: those pods receive every "
                "mirrored request twice."),
)


def _services_for(ctx: Context, target: str) -> list[Resource]:
    """``index.services_for_host(target)``, asked once per host in a run."""
    memo: dict[str, list[Resource]] = ctx.cached("services-for-host", dict)
    found = memo.get(target)
    if found is None:
        found = memo[target] = ctx.index.services_for_host(target)
    return found


def _rule_for(ctx: Context, target: str, namespace: str) -> DestinationRule | None:
    """``index.destination_rule_for`` seen from ``namespace``, asked once per pair in a run."""
    memo: dict[tuple[str, str], DestinationRule | None] = ctx.cached("rule-for-host", dict)
    key = (target, namespace)
    if key not in memo:
        memo[key] = ctx.index.destination_rule_for(target, namespace or None)
    return memo[key]


def _resolves(ctx: Context, host: str, namespace: str) -> bool:
    if host == "*":
        return True
    return bool(_services_for(ctx, ctx.index.resolve(host, namespace)))


def subset_ready_pods(ctx: Context) -> None:
    """MT0001: routed subsets with no ready pod."""
    seen: set[tuple[str, str, str, str]] = set()
    for vs in virtual_services(ctx):
        for ad in route_destinations(vs):
            d = ad.destination
            if not d.subset or (full_name(vs), d.host, d.subset, ad.rule) in seen:
                continue
            seen.add((full_name(vs), d.host, d.subset, ad.rule))
            target = ctx.index.resolve(d.host, vs.namespace)
            dr = _rule_for(ctx, target, vs.namespace)
            subset = dr.subset(d.subset) if dr is not None else None
            if subset is None:
                continue  # undefined subset: IST0101 reports it
            selected = [s for s in _services_for(ctx, target) if isinstance(s, Service) and s.selector]
            if not selected:
                continue
            # What index.pods_for_subset computes, with the rule and Services found above.
            selectors = [(s.namespace, {**(s.selector or {}), **subset.labels}) for s in selected]
            pods = [p for ns, sel in selectors for p in ctx.index.pods_matching(ns, sel)]
            if not pods or any(p.ready for p in pods):
                # A subset that selects no pod at all is Istio's IST0173
                # (destinationrule.SubsetSelectPodAnalyzer): meshtui does not say it again.
                continue
            what = f"{len(pods)} pod(s), none ready"
            ctx.report("SubsetSelectsNoReadyPod", vs, d.subset, d.host, what,
                       path=ad.path.rsplit(".", 1)[0] + ".subset")


def weights_sum(ctx: Context) -> None:
    """MT0002: route weights that do not add up to 100."""
    for vs in virtual_services(ctx):
        sections: tuple[tuple[str, Sequence[Any]], ...] = (("http", vs.http), ("tcp", vs.tcp), ("tls", vs.tls))
        for section, rules in sections:
            for i, rule in enumerate(rules):
                weights = [rd.weight for rd in rule.route]
                if not weights or all(w is None for w in weights):
                    continue
                total = sum(w or 0 for w in weights)
                if len(weights) == 1 and total == 0:
                    continue  # a lone destination with weight 0 is Istio's implicit 100
                if total != 100:
                    ctx.report("RouteWeightsDoNotSum100", vs, f"spec.{section}[{i}].route", total,
                               path=f"spec.{section}[{i}].route")


def unresolved_hosts(ctx: Context) -> None:
    """MT0003: destination hosts that resolve to nothing."""
    names = ctx.index.namespaces
    for vs in virtual_services(ctx):
        for ad in [*route_destinations(vs), *mirror_destinations(vs)]:
            host = ad.destination.host
            if not host or is_wildcard(host) or _resolves(ctx, host, vs.namespace):
                continue
            hint = ""
            expanded = expand_namespaced(host, names, ctx.index.domain_suffix)
            if expanded != host and _resolves(ctx, expanded, vs.namespace):
                hint = f"; Istio does not expand {host!r}: write {expanded!r} (or the short name in its namespace)"
            elif ctx.destination_host(vs.namespace, vs.export_to, host) is None:
                continue  # plain "not found": IST0101 (DestinationHostAnalyzer) already says so
            ctx.report("DestinationHostResolvesToNothing", vs, host, ctx.index.resolve(host, vs.namespace), hint,
                       path=ad.path)


def short_gateway_hosts(ctx: Context) -> None:
    """MT0004: gateway-bound VirtualServices whose hosts are short names."""
    for vs in virtual_services(ctx):
        gateways = [g for g in vs.gateways if g != "mesh"]
        if not gateways:
            continue
        # A VirtualService that also names a host gateway clients do send (catalog's
        # `catalog.istioinaction.io` beside `catalog` for mesh callers) is fine at the gateway.
        if any(h == "*" or "." in h for h in vs.hosts):
            continue
        for i, h in enumerate(vs.hosts):
            if h and h != "*" and "." not in h:
                ctx.report("VirtualServiceHostNotSentByClients", vs, h, ctx.index.resolve(h, vs.namespace),
                           ",".join(gateways), path=f"spec.hosts[{i}]")


def _registry_only(ctx: Context, namespace: str) -> str | None:
    """Why outbound traffic from ``namespace`` is REGISTRY_ONLY, or None when it is not."""
    for sc in ctx.objects("Sidecar", ISTIO_GROUP):
        ws = sc.spec.get("workloadSelector")
        if sc.namespace == namespace and not ws:
            mode = (sc.spec.get("outboundTrafficPolicy") or {}).get("mode")
            if mode:
                return f"Sidecar {full_name(sc)}" if mode == "REGISTRY_ONLY" else None
    if ctx.index.mesh_config.outbound_traffic_policy == "REGISTRY_ONLY":
        return "mesh config"
    return None


def registry_only(ctx: Context) -> None:
    """MT0005: external hosts without a ServiceEntry under REGISTRY_ONLY."""
    suffix = "." + ctx.index.domain_suffix
    for vs in virtual_services(ctx):
        if vs.gateways and "mesh" not in vs.gateways:
            continue  # gateways route by their own config; the outbound policy is a sidecar's
        why = _registry_only(ctx, vs.namespace)
        if why is None:
            continue
        for ad in [*route_destinations(vs), *mirror_destinations(vs)]:
            host = ad.destination.host
            if "." not in host or host.endswith(suffix) or is_wildcard(host) or _resolves(ctx, host, vs.namespace):
                continue
            ctx.report("ExternalHostBlockedByRegistryOnly", vs, why, host, path=ad.path)


def _same(ctx: Context, vs: VirtualService, a: Annotated, host: str, subset: str | None) -> bool:
    return (ctx.index.resolve(a.destination.host, vs.namespace) == ctx.index.resolve(host, vs.namespace)
            and (a.destination.subset or None) == (subset or None))


def mirror_same_subset(ctx: Context) -> None:
    """MT0006: a rule mirroring to the host+subset it routes to."""
    for vs in virtual_services(ctx):
        for m in mirror_destinations(vs):
            rule = vs.http[m.rule_index]
            for rd in rule.route:
                if _same(ctx, vs, m, rd.destination.host, rd.destination.subset):
                    label = rule.name or f"#{m.rule_index}"
                    target = m.destination.host + (f"+{m.destination.subset}" if m.destination.subset else "")
                    ctx.report("MirrorToRoutedSubset", vs, label, target, path=m.path.rsplit(".", 1)[0])
                    break
