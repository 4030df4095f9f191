"""Istio's Sidecar analyzer (``sidecar/selector.go``) and the deprecation analyzer.

``sidecar.SelectorAnalyzer``: a workloadSelector that matches no pod of the namespace (IST0101);
one pod selected by several Sidecars (IST0110); several selector-less Sidecars in a namespace
(IST0111); a Sidecar for a pod or namespace in ambient mode, where it has no effect (IST0167).

``deprecation.DeprecationAnalyzer``: deprecated fields (IST0002): ``fault.delay.percent`` in
VirtualService routes and ``outboundTrafficPolicy.egressProxy`` in Sidecars.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from meshtui.analysis.context import ISTIO_GROUP, Context, full_name, labels_match, selector_string

_AMBIENT_ANNOTATION = "ambient.istio.io/redirection"


def _pod_ambient(pod: Any) -> bool:
    return pod is not None and pod.annotations.get(_AMBIENT_ANNOTATION) == "enabled"


def _namespace_ambient(ns: Any) -> bool:
    if ns is None:
        return False
    if ns.labels.get("istio-injection") == "enabled" or ns.labels.get("istio.io/rev"):
        return False
    return ns.labels.get("istio.io/dataplane-mode") == "ambient"


def selector_analyzer(ctx: Context) -> None:
    """``sidecar.SelectorAnalyzer``."""
    pods_to_sidecars: dict[tuple[str, str], list[Any]] = defaultdict(list)
    pods: dict[tuple[str, str], Any] = {}
    ns_sidecars: dict[str, list[Any]] = defaultdict(list)
    all_pods = ctx.objects("Pod")
    for sc in ctx.objects("Sidecar", ISTIO_GROUP):
        ws = sc.spec.get("workloadSelector")
        labels = (ws.get("labels") if isinstance(ws, dict) else None) or {}
        if not labels:
            ns_sidecars[sc.namespace].append(sc)
            continue
        found = False
        # A label map goes through the pod label index; anything else is scanned as before.
        candidates = ctx.select_pods(labels, sc.namespace) if isinstance(labels, dict) else all_pods
        for pod in candidates:
            if pod.namespace == sc.namespace and labels_match(labels, pod.labels):
                found = True
                pods_to_sidecars[(pod.namespace, pod.name)].append(sc)
                pods[(pod.namespace, pod.name)] = pod
        if not found:
            ctx.report("ReferencedResourceNotFound", sc, "selector", selector_string(labels),
                       path="spec.workloadSelector.labels")
    reported: set[str] = set()
    for key, scs in sorted(pods_to_sidecars.items()):
        pod = pods[key]
        if len(scs) == 1 and not _pod_ambient(pod):
            continue
        names = [full_name(s) for s in scs]
        for sc in scs:
            if _pod_ambient(pod):
                if full_name(sc) not in reported:
                    ctx.report("IneffectivePolicy", sc, "selected workload is in ambient mode, the policy has no impact")
                    reported.add(full_name(sc))
                continue
            ctx.report("ConflictingSidecarWorkloadSelectors", sc, names, key[0], key[1], path="metadata.name")
    for ns, scs in sorted(ns_sidecars.items()):
        if _namespace_ambient(ctx.find("Namespace", "", ns)):
            for sc in scs:
                if full_name(sc) not in reported:
                    ctx.report("IneffectivePolicy", sc, "namespace is in ambient mode, the policy has no impact")
                    reported.add(full_name(sc))
            continue
        if len(scs) > 1:
            names = [full_name(s) for s in scs]
            for sc in scs:
                ctx.report("MultipleSidecarsWithoutWorkloadSelectors", sc, names, ns)


def deprecation_analyzer(ctx: Context) -> None:
    """``deprecation.DeprecationAnalyzer`` (the VirtualService and Sidecar fields)."""
    for vs in ctx.objects("VirtualService", ISTIO_GROUP):
        for i, rule in enumerate(vs.spec.get("http") or []):
            fault = rule.get("fault") if isinstance(rule, dict) else None
            delay = fault.get("delay") if isinstance(fault, dict) else None
            if isinstance(delay, dict) and isinstance(delay.get("percent"), (int, float)) and delay["percent"] > 0:
                ctx.report("Deprecated", vs, "HTTPRoute.fault.delay.percent is deprecated; use "
                           "HTTPRoute.fault.delay.percentage", path=f"spec.http[{i}].fault.delay.percent")
    for sc in ctx.objects("Sidecar", ISTIO_GROUP):
        otp = sc.spec.get("outboundTrafficPolicy")
        if isinstance(otp, dict) and otp.get("egressProxy") is not None:
            ctx.report("Deprecated", sc, "OutboundTrafficPolicy.EgressProxy ignored",
                       path="spec.outboundTrafficPolicy.egressProxy")
