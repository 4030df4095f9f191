"""Istio's ``auth.AuthorizationPoliciesAnalyzer`` (istio/istio
``pkg/config/analysis/analyzers/authz/authorizationpolicies.go``): AuthorizationPolicies that
select no workload (IST0127) and source namespaces that do not exist (IST0101).

A workload counts when its pod is in the mesh: it has an ``istio-proxy`` container, or its
injection label/annotation or namespace says it gets one, or istio-cni has redirected it to
ztunnel (annotation ``ambient.istio.io/redirection: enabled``: ambient mode).
"""

from __future__ import annotations

from typing import Any

from meshtui.analysis.context import Context
from meshtui.model.ambient import AMBIENT_REDIRECTION
from meshtui.model.base import Resource, as_dict, as_list, as_strs

_INJECT = "sidecar.istio.io/inject"


def _pod_in_mesh(ctx: Context, pod: Resource) -> bool:
    """``util.PodInMesh``: a proxy container with an image, else the inject label, else the inject
    annotation, else the namespace's ``istio-injection=enabled``."""
    spec = as_dict(pod.raw.get("spec"))
    for c in [*as_list(spec.get("containers")), *as_list(spec.get("initContainers"))]:
        if as_dict(c).get("name") == "istio-proxy":
            # An absent image key is a slim pod record (names only), not an empty image.
            return as_dict(c).get("image", "?") != ""
    for source in (pod.labels, pod.annotations):
        if _INJECT in source:
            return source[_INJECT] == "true"
    ns = ctx.find("Namespace", "", pod.namespace)
    return ns is not None and ns.labels.get("istio-injection") == "enabled"


def _selector_string(match_labels: dict[str, Any]) -> str:
    """``labels.SelectorFromSet(...).String()``: ``k=v`` pairs sorted by key, comma-separated."""
    return ",".join(f"{k}={match_labels[k]}" for k in sorted(match_labels))


def _matches(match_labels: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in match_labels.items())


def _namespace_match(ns: str, exp: str) -> bool:
    """``namespaceMatch``: ``*``, a ``*suffix`` or ``prefix*`` pattern, or the name (any case)."""
    if exp == "*":
        return True
    if exp.startswith("*"):
        return ns.endswith(exp[1:])
    if exp.endswith("*"):
        return ns.startswith(exp[:-1])
    return ns.casefold() == exp.casefold()


def authorization_policies_analyzer(ctx: Context) -> None:
    """``auth.AuthorizationPoliciesAnalyzer``."""
    pods: dict[str, list[dict[str, str]]] = {}
    for pod in ctx.objects("Pod"):
        in_mesh = pod.annotations.get(AMBIENT_REDIRECTION) == "enabled" or _pod_in_mesh(ctx, pod)
        pods.setdefault(pod.namespace, [])
        if in_mesh:
            pods[pod.namespace].append(pod.labels)
    namespaces = [ns.name for ns in ctx.objects("Namespace")]
    root = ctx.index.mesh_config.root_namespace
    for policy in ctx.objects("AuthorizationPolicy"):
        spec = policy.spec
        selector = spec.get("selector")
        match_labels = as_dict(as_dict(selector).get("matchLabels"))
        if policy.namespace == root:
            if isinstance(selector, dict) and not any(
                    _matches(match_labels, labels) for ns_pods in pods.values() for labels in ns_pods):
                ctx.report("NoMatchingWorkloadsFound", policy, _selector_string(match_labels))
        elif not isinstance(selector, dict):
            if not pods.get(policy.namespace):
                ctx.report("NoMatchingWorkloadsFound", policy, "")
        elif not any(_matches(match_labels, labels) for labels in pods.get(policy.namespace, [])):
            ctx.report("NoMatchingWorkloadsFound", policy, _selector_string(match_labels))
        for i, rule in enumerate(as_list(spec.get("rules"))):
            for j, source_from in enumerate(as_list(as_dict(rule).get("from"))):
                source = as_dict(as_dict(source_from).get("source"))
                listed = as_strs(source.get("namespaces"))
                for k, exp in enumerate([*listed, *as_strs(source.get("notNamespaces"))]):
                    if not any(_namespace_match(ns, exp) for ns in namespaces):
                        field = "namespaces" if k < len(listed) else "notNamespaces"
                        index = k if k < len(listed) else k - len(listed)
                        ctx.report("ReferencedResourceNotFound", policy, "namespace", exp,
                                   path=f"spec.rules[{i}].from[{j}].source.{field}[{index}]")
