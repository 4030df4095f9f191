"""Istio's ``ValidateEnvoyFilter`` (``pkg/config/validation/envoyfilter``).

What is not restated: building the patch value into its Envoy type (meshtui has no Envoy
protobuf descriptors), so unknown ``@type``s and deprecated filter names are not reported.
"""

from __future__ import annotations

from typing import Any

from meshtui.analysis.validation.common import Result, check_alpha_workload_selector, items, obj, regex_error, text

_LISTENER_CLASS = ("LISTENER", "FILTER_CHAIN", "NETWORK_FILTER", "HTTP_FILTER")
_ROUTE_CLASS = ("ROUTE_CONFIGURATION", "VIRTUAL_HOST", "HTTP_ROUTE")
_HCM = "envoy.filters.network.http_connection_manager"
_OBJECT_TYPES = ("listener", "routeConfiguration", "cluster")


def _check_patch(result: Result, cp: dict[str, Any], path: str) -> None:
    match = cp.get("match")
    match_d = obj(match)
    if text(match_d.get("context")) == "WAYPOINT":
        return
    apply_to = text(cp.get("applyTo")) or "INVALID"
    if apply_to == "INVALID":
        result.error("Envoy filter: missing applyTo", f"{path}.applyTo")
        return
    patch = cp.get("patch")
    if not isinstance(patch, dict):
        result.error("Envoy filter: missing patch", f"{path}.patch")
        return
    op = text(patch.get("operation")) or "INVALID"
    if op == "INVALID":
        result.error("Envoy filter: missing patch operation", f"{path}.patch.operation")
        return
    if op != "REMOVE" and patch.get("value") is None:
        result.error("Envoy filter: missing patch value for non-remove operation", f"{path}.patch.value")
        return
    version = text(obj(match_d.get("proxy")).get("proxyVersion"))
    if version:
        if len(version) > 1024:
            result.warn("Envoy filter: proxyVersion match exceeds 1024 characters and will be ignored",
                        f"{path}.match.proxy.proxyVersion")
        elif regex_error(version):
            result.error(f"Envoy filter: invalid regex for proxy version, [{regex_error(version)}]",
                         f"{path}.match.proxy.proxyVersion")
            return
    has_object = any(k in match_d for k in _OBJECT_TYPES)
    if apply_to in _LISTENER_CLASS and has_object:
        listener = match_d.get("listener")
        if not isinstance(listener, dict):
            result.error("Envoy filter: applyTo for listener class objects cannot have non listener match",
                         f"{path}.match")
            return
        chain = listener.get("filterChain")
        flt = obj(chain).get("filter") if isinstance(chain, dict) else None
        if isinstance(flt, dict):
            if apply_to in ("LISTENER", "FILTER_CHAIN"):
                result.warn(f"Envoy filter: filter match has no effect when used with {apply_to}", f"{path}.match")
            name = text(flt.get("name"))
            if not name:
                result.error("Envoy filter: filter match has no name to match on", f"{path}.match")
                return
            sub = flt.get("subFilter")
            if isinstance(sub, dict):
                if apply_to != "HTTP_FILTER":
                    result.error("Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only",
                                 f"{path}.match")
                    return
                if name not in (_HCM, "envoy.http_connection_manager"):
                    result.error(f"Envoy filter: subfilter match requires filter match with {_HCM}", f"{path}.match")
                    return
                if not text(sub.get("name")):
                    result.error("Envoy filter: subfilter match has no name to match on", f"{path}.match")
                    return
    elif apply_to in _ROUTE_CLASS and has_object and not isinstance(match_d.get("routeConfiguration"), dict):
        result.error("Envoy filter: applyTo for http route class objects cannot have non route configuration match",
                     f"{path}.match")
    elif apply_to == "CLUSTER" and has_object and not isinstance(match_d.get("cluster"), dict):
        result.error("Envoy filter: applyTo for cluster class objects cannot have non cluster match", f"{path}.match")


def validate_envoy_filter(spec: dict[str, Any]) -> Result:
    """``ValidateEnvoyFilter``: always the "internal implementation details" warning, then each patch."""
    result = Result()
    result.warn("EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs "
                "if possible, and exercise extreme caution, especially around upgrades.", "spec")
    warning, errors = check_alpha_workload_selector(spec.get("workloadSelector"))
    if errors:
        only = Result()
        only.add_all(errors, "spec.workloadSelector")
        return only
    if warning:
        result.warn(f"Envoy filter: {warning}, will be applied to all services in namespace", "spec.workloadSelector")
    for i, cp in enumerate(items(spec.get("configPatches"))):
        if not isinstance(cp, dict):
            result.error("Envoy filter: null config patch", f"spec.configPatches[{i}]")
            continue
        _check_patch(result, cp, f"spec.configPatches[{i}]")
    return result
