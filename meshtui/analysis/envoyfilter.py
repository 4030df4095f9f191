"""Istio's ``envoyfilter.EnvoyPatchAnalyzer`` (``pkg/config/analysis/analyzers/envoyfilter``).

For each patch of each EnvoyFilter (in namespace/name order):

- ADD with applyTo ROUTE_CONFIGURATION or HTTP_ROUTE is ignored by istiod: IST0153;
- REMOVE there is ignored too: IST0154; elsewhere it is a relative operation;
- REPLACE is only valid for HTTP_FILTER, NETWORK_FILTER (and VIRTUAL_HOST): IST0152 otherwise;
  elsewhere it is a relative operation;
- INSERT_BEFORE / INSERT_AFTER are relative operations.

A relative operation in an EnvoyFilter without ``priority`` may not apply (IST0151); when an
EnvoyFilter seen before patched the same filter name with a ``proxyVersion`` match, the
warning is IST0155 (the filter may not apply during an upgrade) instead.
"""

from __future__ import annotations

import json
from typing import Any

from meshtui.analysis.context import ISTIO_GROUP, Context
from meshtui.model.base import Resource, as_dict

_ROUTE_CLASS = ("ROUTE_CONFIGURATION", "HTTP_ROUTE")
_REPLACEABLE = ("NETWORK_FILTER", "HTTP_FILTER", "VIRTUAL_HOST")


def _instance_name(patch: dict[str, Any], match: dict[str, Any]) -> str:
    """The filter a patch is about: its value's ``name``, else the listener filter matched."""
    value = patch.get("value")
    if not isinstance(value, dict) or not value:
        return ""
    if "name" in value:
        return json.dumps(value["name"], sort_keys=True)
    listener = as_dict(match.get("listener"))
    chain = as_dict(listener.get("filterChain"))
    flt = as_dict(chain.get("filter"))
    return str(flt.get("name") or "")


def _relative(ctx: Context, ef: Resource, index: int, priority: Any, versioned: list[str], name: str) -> None:
    if priority:
        return
    message = ("EnvoyFilterUsesRelativeOperationWithProxyVersion" if name in versioned
               else "EnvoyFilterUsesRelativeOperation")
    ctx.report(message, ef, path=f"spec.configPatches[{index}]")


def envoy_patch_analyzer(ctx: Context) -> None:
    """``envoyfilter.EnvoyPatchAnalyzer``."""
    versioned: list[str] = []  # filter names patched with a proxyVersion match, in order seen
    for ef in ctx.objects("EnvoyFilter", ISTIO_GROUP):
        priority = ef.spec.get("priority")
        for index, cp in enumerate(ef.spec.get("configPatches") or []):
            if not isinstance(cp, dict) or not isinstance(cp.get("patch"), dict):
                break  # as Istio: a patch without its patch section ends the look at this filter
            patch = cp["patch"]
            match = as_dict(cp.get("match"))
            name = _instance_name(patch, match)
            op, apply_to = str(patch.get("operation") or ""), str(cp.get("applyTo") or "")
            if op == "ADD":
                if apply_to in _ROUTE_CLASS:
                    ctx.report("EnvoyFilterUsesAddOperationIncorrectly", ef, path=f"spec.configPatches[{index}]")
            elif op == "REMOVE":
                if apply_to in _ROUTE_CLASS:
                    ctx.report("EnvoyFilterUsesRemoveOperationIncorrectly", ef, path=f"spec.configPatches[{index}]")
                else:
                    _relative(ctx, ef, index, priority, versioned, name)
            elif op == "REPLACE":
                if apply_to not in _REPLACEABLE:
                    ctx.report("EnvoyFilterUsesReplaceOperationIncorrectly", ef, path=f"spec.configPatches[{index}]")
                else:
                    _relative(ctx, ef, index, priority, versioned, name)
            elif op in ("INSERT_BEFORE", "INSERT_AFTER"):
                _relative(ctx, ef, index, priority, versioned, name)
            proxy = as_dict(match.get("proxy"))
            if proxy.get("proxyVersion"):
                versioned.append(name)
