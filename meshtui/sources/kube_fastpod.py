"""Decode a pod list page straight into slim pod records (needs ``msgspec``).

orjson builds every field of every pod, and freeing them costs about as much again: 20,000 pods
(~130 MB of JSON) take ~1.7 s of the interpreter (measured at ``--scale 5000``). msgspec decodes
into typed structs naming only the fields ``kube_slim.slim_pod`` reads and skips the rest without
building it (~0.25 s). The structs are then turned into the very records ``slim_pod`` makes, read
attribute by attribute (~0.1 s): going through plain dicts first (``msgspec.to_builtins``) and
``slim_pod`` cost ~0.8 s more. A page that does not fit these types falls back to orjson.

Importing this module raises ImportError when msgspec is not installed.
"""

from typing import Any

import msgspec

from meshtui.sources.kube_slim import DROPPED_ANNOTATIONS

_UNSET: Any = msgspec.UNSET
# Every leaf is kept as decoded (Any): slim_pod does the same conversions on both paths.


class _Named(msgspec.Struct):
    name: Any = _UNSET
    restartPolicy: Any = _UNSET


class _ContainerStatus(msgspec.Struct):
    name: Any = _UNSET
    ready: Any = _UNSET
    restartCount: Any = _UNSET


class _Condition(msgspec.Struct):
    type: Any = _UNSET
    status: Any = _UNSET


class _Meta(msgspec.Struct):
    name: Any = _UNSET
    namespace: Any = _UNSET
    labels: Any = _UNSET
    annotations: Any = _UNSET
    ownerReferences: Any = _UNSET
    resourceVersion: Any = _UNSET
    uid: Any = _UNSET
    creationTimestamp: Any = _UNSET
    deletionTimestamp: Any = _UNSET


class _Spec(msgspec.Struct):
    containers: list[_Named] | None | msgspec.UnsetType = _UNSET
    initContainers: list[_Named] | None | msgspec.UnsetType = _UNSET
    nodeName: Any = _UNSET
    serviceAccountName: Any = _UNSET
    hostNetwork: Any = _UNSET


class _Status(msgspec.Struct):
    phase: Any = _UNSET
    podIP: Any = _UNSET
    conditions: list[_Condition] | None | msgspec.UnsetType = _UNSET
    containerStatuses: list[_ContainerStatus] | None | msgspec.UnsetType = _UNSET
    initContainerStatuses: list[_ContainerStatus] | None | msgspec.UnsetType = _UNSET


class _Pod(msgspec.Struct):
    apiVersion: Any = _UNSET
    metadata: _Meta | None | msgspec.UnsetType = _UNSET
    spec: _Spec | None | msgspec.UnsetType = _UNSET
    status: _Status | None | msgspec.UnsetType = _UNSET


class _PodList(msgspec.Struct):
    items: list[_Pod] | None | msgspec.UnsetType = _UNSET
    metadata: Any = _UNSET


_DECODER = msgspec.json.Decoder(_PodList)


def decode_page(data: bytes) -> dict[str, Any] | None:
    """The page as a dict whose ``items`` are slim pod records, equal to what ``slim_pod``
    makes of each full item (``apiVersion`` as listed, default ``v1``); None when the page
    does not have the shape of a pod list (the caller decodes it fully instead)."""
    try:
        page = _DECODER.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    items = page.items
    meta = page.metadata
    return {
        "items": [_slim(p) for p in items] if items else [],
        "metadata": meta if meta is not _UNSET else {},
    }


def _slim(pod: _Pod) -> dict[str, Any]:
    """``kube_slim.slim_pod`` of one decoded pod, read from the struct (same keys, same order)."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    slim_meta: dict[str, Any] = {}
    if meta:  # neither UNSET nor None (UNSET is falsy)
        for key in _META_FIELDS:
            value = getattr(meta, key)
            if value is not _UNSET:
                slim_meta[key] = value
        annotations = slim_meta.get("annotations")
        if isinstance(annotations, dict) and any(k in annotations for k in DROPPED_ANNOTATIONS):
            slim_meta["annotations"] = {k: v for k, v in annotations.items() if k not in DROPPED_ANNOTATIONS}

    slim_spec: dict[str, Any] = {"containers": []}
    if spec:
        slim_spec["containers"] = [{"name": _or(c.name, "")} for c in spec.containers or ()]
        if spec.initContainers:
            slim_spec["initContainers"] = [
                {"name": _or(c.name, ""), "restartPolicy": c.restartPolicy}
                if c.restartPolicy is not _UNSET and c.restartPolicy else {"name": _or(c.name, "")}
                for c in spec.initContainers
            ]
        if spec.nodeName is not _UNSET:
            slim_spec["nodeName"] = spec.nodeName
        if spec.serviceAccountName is not _UNSET:
            slim_spec["serviceAccountName"] = spec.serviceAccountName
        if spec.hostNetwork is True:  # ztunnel never captures a host-network pod
            slim_spec["hostNetwork"] = True

    slim_status: dict[str, Any] = {}
    if status:
        if status.phase is not _UNSET:
            slim_status["phase"] = status.phase
        if status.podIP is not _UNSET:
            slim_status["podIP"] = status.podIP
        if status.conditions:
            ready = [{"type": "Ready", "status": _or(c.status, None)} for c in status.conditions if c.type == "Ready"]
            if ready:
                slim_status["conditions"] = ready
        if status.containerStatuses is not _UNSET:
            slim_status["containerStatuses"] = _statuses(status.containerStatuses)
        if status.initContainerStatuses is not _UNSET:
            slim_status["initContainerStatuses"] = _statuses(status.initContainerStatuses)

    return {"apiVersion": _or(pod.apiVersion, "v1"), "kind": "Pod", "metadata": slim_meta,
            "spec": slim_spec, "status": slim_status}


_META_FIELDS = _Meta.__struct_fields__


def _or(value: Any, default: Any) -> Any:
    """``value`` unless the field was absent (a ``dict.get`` default)."""
    return default if value is _UNSET else value


def _statuses(statuses: Any) -> list[dict[str, Any]]:
    """The slim container statuses of a decoded ``list[_ContainerStatus] | None``."""
    return [{"name": _or(s.name, ""), "ready": bool(_or(s.ready, False)), "restartCount": _or(s.restartCount, 0)}
            for s in statuses or ()]
