"""Istio's ``injection.Analyzer``: namespaces and pods whose sidecar injection is off, unclear or
missing; ambient namespaces count as enrolled (istio/istio
``pkg/config/analysis/analyzers/injection/injection.go``).

* IST0123 NamespaceMultipleInjectionLabels: more than one of ``istio-injection``, ``istio.io/rev``
  and ``istio.io/dataplane-mode`` (the last two only count unless ``istio-injection`` is set to
  something other than ``enabled``);
* IST0102 NamespaceNotInjected (or IST0148 NamespaceInjectionEnabledByDefault when the injector
  ConfigMap says ``enableNamespacesByDefault``): neither injection label, and not ambient;
* IST0103 PodMissingProxy: a pod of an ``istio-injection=enabled`` namespace without an
  ``istio-proxy`` container, unless it opts out (``sidecar.istio.io/inject: false``) or uses the
  host network.
"""

from __future__ import annotations

import json

from meshtui.analysis.context import Context
from meshtui.model.base import as_dict, as_list

_INJECTION = "istio-injection"
_REVISION = "istio.io/rev"
_DATAPLANE_MODE = "istio.io/dataplane-mode"
_SIDECAR_INJECT = "sidecar.istio.io/inject"
_SYSTEM_NAMESPACE = "istio-system"


def _injector_configmap_name(revision: str) -> str:
    """``util.GetInjectorConfigMapName``: the sidecar injector ConfigMap of a revision."""
    return "istio-sidecar-injector" if revision in ("", "default") else f"istio-sidecar-injector-{revision}"


def _enable_namespaces_by_default(data: dict[str, str]) -> bool:
    """``sidecarInjectorWebhook.enableNamespacesByDefault`` of the ConfigMap's ``values`` JSON."""
    try:
        values = json.loads(data.get("values", ""))
    except ValueError:
        return False
    return as_dict(as_dict(values).get("sidecarInjectorWebhook")).get("enableNamespacesByDefault") is True


def injection_analyzer(ctx: Context) -> None:
    """``injection.Analyzer``."""
    by_default = False  # as in Istio, the last injector ConfigMap read carries over to later namespaces
    injected: set[str] = set()
    for ns in sorted(ctx.objects("Namespace"), key=lambda o: o.name):
        if ns.name == _SYSTEM_NAMESPACE:
            continue
        labels = ns.labels
        injection = labels.get(_INJECTION)
        found = [f"{_INJECTION}={injection}"] if injection is not None else []
        for key in (_REVISION, _DATAPLANE_MODE):
            if key in labels and (injection is None or injection == "enabled"):
                found.append(f"{key}={labels[key]}")
        if len(found) > 1:
            ctx.report("NamespaceMultipleInjectionLabels", ns, found)
        if labels.get(_DATAPLANE_MODE) == "ambient":
            continue
        name = _injector_configmap_name(labels.get(_REVISION, ""))
        cm = next((c for c in ctx.objects("ConfigMap") if c.name == name), None)
        if cm is not None:
            by_default = _enable_namespaces_by_default({k: v for k, v in as_dict(cm.raw.get("data")).items()
                                                        if isinstance(v, str)})
        if not injection and _REVISION not in labels:
            if by_default:
                ctx.report("NamespaceInjectionEnabledByDefault", ns)
            else:
                ctx.report("NamespaceNotInjected", ns, ns.name, ns.name, path="metadata.name")
            continue
        if injection == "enabled":
            injected.add(ns.name)
    for pod in ctx.objects("Pod"):
        if pod.namespace not in injected:
            continue
        inject = pod.labels.get(_SIDECAR_INJECT, pod.annotations.get(_SIDECAR_INJECT, ""))
        spec = as_dict(pod.raw.get("spec"))
        if inject.lower() == "false" or spec.get("hostNetwork") is True:
            continue
        containers = [*as_list(spec.get("containers")), *as_list(spec.get("initContainers"))]
        proxy = next((as_dict(c) for c in containers if as_dict(c).get("name") == "istio-proxy"), None)
        # Istio wants the proxy container to have an image; the kube source's slim pods keep only
        # container names, so an absent image key counts as present (the API server requires one).
        if proxy is None or proxy.get("image", "?") == "":
            ctx.report("PodMissingProxy", pod, f"{pod.namespace}/{pod.name}")
