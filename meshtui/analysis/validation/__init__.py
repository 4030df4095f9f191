"""Istio's semantic validation of networking objects: what istiod's webhook would say.

``validate(raw)`` runs, for a VirtualService, DestinationRule, Gateway, ServiceEntry, Sidecar,
EnvoyFilter, WorkloadEntry or WorkloadGroup of ``networking.istio.io``, the checks of
istio/istio ``pkg/config/validation`` (``ValidateVirtualService`` ...) and returns Istio's
messages: errors (istiod rejects the object; reported as IST0106 SchemaValidationError) and
warnings (accepted with a warning; IST0133 SchemaWarning). Every kind has its own module.

The checks that apply to every kind (``validateMetadata``) come first: the
``istio.io/dry-run`` annotation (only AuthorizationPolicy may carry it) and the annotations
reserved to istiod. Results are remembered by object content, since analysis runs again after
every change and almost every object is unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from meshtui.analysis.validation.common import Message, Result, obj, string_map
from meshtui.analysis.validation.destinationrule import validate_destination_rule
from meshtui.analysis.validation.envoyfilter import validate_envoy_filter
from meshtui.analysis.validation.gateway import validate_gateway
from meshtui.analysis.validation.serviceentry import (
    validate_service_entry, validate_workload_entry, validate_workload_group,
)
from meshtui.analysis.validation.sidecar import validate_sidecar
from meshtui.analysis.validation.virtualservice import validate_virtual_service

GROUP = "networking.istio.io"
_RESERVED = ("internal.istio.io/parent-namespace", "internal.istio.io/parent-names")

_Validator = Callable[[str, str, dict[str, str], dict[str, str], dict[str, Any]], Result]

VALIDATORS: dict[str, _Validator] = {
    "VirtualService": lambda name, ns, labels, annotations, spec: validate_virtual_service(ns, annotations, spec),
    "DestinationRule": lambda name, ns, labels, annotations, spec: validate_destination_rule(ns, spec),
    "Gateway": lambda name, ns, labels, annotations, spec: validate_gateway(name, annotations, spec),
    "ServiceEntry": lambda name, ns, labels, annotations, spec: validate_service_entry(ns, labels, spec),
    "Sidecar": lambda name, ns, labels, annotations, spec: validate_sidecar(ns, spec),
    "EnvoyFilter": lambda name, ns, labels, annotations, spec: validate_envoy_filter(spec),
    "WorkloadEntry": lambda name, ns, labels, annotations, spec: validate_workload_entry(spec),
    "WorkloadGroup": lambda name, ns, labels, annotations, spec: validate_workload_group(spec),
}

_MEMO: dict[str, tuple[Message, ...]] = {}
_MEMO_LIMIT = 50_000
_lock = threading.Lock()


def validates(raw: dict[str, Any]) -> bool:
    """Whether ``raw`` is a kind of ``networking.istio.io`` this package validates."""
    api_version = raw.get("apiVersion")
    return (isinstance(api_version, str) and api_version.rpartition("/")[0] == GROUP
            and raw.get("kind") in VALIDATORS)


def _metadata_errors(ns: str, name: str, annotations: dict[str, str]) -> str | None:
    """``validateMetadata`` for the networking kinds (none of which may be a dry run)."""
    if "istio.io/dry-run" in annotations:
        return f"{ns}/{name} has unsupported annotation istio.io/dry-run, please remove the annotation"
    if "internal.istio.io/always-reject" in annotations:
        return '"internal.istio.io/always-reject" annotation found, rejecting'
    for key in _RESERVED:
        if key in annotations:
            return f'"{key}" annotation found, this may not be set by users'
    return None


def _run(raw: dict[str, Any]) -> tuple[Message, ...]:
    meta = obj(raw.get("metadata"))
    name, ns = str(meta.get("name") or ""), str(meta.get("namespace") or "")
    annotations, labels = string_map(meta.get("annotations")), string_map(meta.get("labels"))
    err = _metadata_errors(ns, name, annotations)
    if err:
        return (Message("error", err, "metadata.annotations"),)
    spec = obj(raw.get("spec"))
    return tuple(VALIDATORS[str(raw["kind"])](name, ns, labels, annotations, spec).messages)


def validate(raw: dict[str, Any], content_key: str | None = None) -> tuple[Message, ...]:
    """Istio's validation messages for ``raw`` (empty for kinds it does not validate).

    ``content_key``, when the caller has it, is ``repr`` of everything of ``raw`` but its
    metadata (what the CRD schema check remembers results by), so it is not computed twice.
    """
    if not validates(raw):
        return ()
    meta = obj(raw.get("metadata"))
    try:
        # What the checks read: the spec, the kind, and name/namespace/labels/annotations.
        body = content_key if content_key is not None else repr((raw.get("kind"), raw.get("spec")))
        key = repr((body, meta.get("name"), meta.get("namespace"), meta.get("labels"), meta.get("annotations")))
    except Exception:  # noqa: BLE001 - an object repr() cannot print is validated uncached
        return _run(raw)
    found = _MEMO.get(key)
    if found is None:
        found = _run(raw)
        with _lock:
            while len(_MEMO) >= _MEMO_LIMIT:
                del _MEMO[next(iter(_MEMO))]
            _MEMO[key] = found
    return found


def clear_memo() -> None:
    """Forget remembered results (benchmarks measure the first run with it)."""
    with _lock:
        _MEMO.clear()


__all__ = ["GROUP", "Message", "clear_memo", "validate", "validates"]
