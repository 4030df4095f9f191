"""Istio's analyzers of Gateway API resources (their negative conditions: ``analysis/conditions.py``), with Istio's codes.

- ``k8sgateway.SelectorAnalyzer`` (IST0166, ``pkg/config/analysis/analyzers/k8sgateway/selector.go``):
  an AuthorizationPolicy, RequestAuthentication, Telemetry or WasmPlugin without ``targetRef``
  whose selector's ``matchLabels`` match a pod of a Gateway API gateway (a pod labelled
  ``gateway.networking.k8s.io/gateway-name``) in its namespace: one finding per such pod.
- ``k8sgateway.CRDVersionAnalyzer`` (IST0176, with ``pkg/config/schema/gatewayapi/minimumversions.go``):
  a Gateway API CRD whose ``gateway.networking.k8s.io/bundle-version`` is below the minimum
  Istio watches (grpcroutes v1.1.0, backendtlspolicies v1.4.0, tlsroutes v1.5.0, tcproutes v1.6.0).
"""

from __future__ import annotations

import re

from meshtui.analysis.context import Context
from meshtui.model.gateway_api import GATEWAY_API_GROUP

GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
_POLICY_KINDS = (
    ("security.istio.io", "AuthorizationPolicy"),
    ("security.istio.io", "RequestAuthentication"),
    ("telemetry.istio.io", "Telemetry"),
    ("extensions.istio.io", "WasmPlugin"),
)
BUNDLE_VERSION_ANNOTATION = "gateway.networking.k8s.io/bundle-version"
MINIMUM_BUNDLE_VERSIONS = {
    "grpcroutes": "v1.1.0", "backendtlspolicies": "v1.4.0", "tlsroutes": "v1.5.0", "tcproutes": "v1.6.0",
}


def selector_analyzer(ctx: Context) -> None:
    """IST0166: selector-only policies on pods of Gateway API gateways."""
    gateway_pods: dict[str, list[dict[str, str]]] = {}
    for pod in ctx.objects("Pod"):
        if GATEWAY_NAME_LABEL in pod.labels:
            gateway_pods.setdefault(pod.namespace, []).append(pod.labels)
    for group, kind in _POLICY_KINDS:
        for policy in ctx.objects(kind, group):
            spec = policy.spec
            selector = spec.get("selector")
            if spec.get("targetRef") is not None or not isinstance(selector, dict):
                continue
            match = selector.get("matchLabels") or {}
            for labels in gateway_pods.get(policy.namespace, []):
                if all(labels.get(k) == v for k, v in match.items()):
                    ctx.report("IneffectiveSelector", policy, labels[GATEWAY_NAME_LABEL])


def _version_key(version: str) -> tuple[int, ...] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(?:-.*)?", version.strip())
    return tuple(int(x) for x in m.groups()) if m else None


def crd_version_analyzer(ctx: Context) -> None:
    """IST0176: Gateway API CRDs installed below the version Istio processes."""
    for crd in ctx.objects("CustomResourceDefinition"):
        group = crd.spec.get("group")
        plural = (crd.spec.get("names") or {}).get("plural") if isinstance(crd.spec.get("names"), dict) else None
        minimum = MINIMUM_BUNDLE_VERSIONS.get(plural or "") if group == GATEWAY_API_GROUP else None
        installed = crd.annotations.get(BUNDLE_VERSION_ANNOTATION)
        if minimum is None or not isinstance(installed, str):
            continue
        have, want = _version_key(installed), _version_key(minimum)
        if have is not None and want is not None and have < want:
            ctx.report("GatewayAPICRDVersionBelowMinimum", crd, crd.name, installed, minimum)
