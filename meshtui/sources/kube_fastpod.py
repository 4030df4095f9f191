"""Decode a pod list page into only the fields meshtui keeps (needs ``msgspec``).

orjson builds every field of every pod, and freeing them costs about as much again: 20,000 pods
(~130 MB of JSON) take ~1.7 s of the interpreter (measured at ``--scale 5000``). msgspec decodes
into typed structs naming only the fields ``kube_slim.slim_pod`` reads and skips the rest without
building it (~0.3 s). The structs become plain dicts again and go through ``slim_pod`` itself, so
both paths give the same records; a page that does not fit these types falls back to orjson.

Importing this module raises ImportError when msgspec is not installed.
"""

from typing import Any

import msgspec

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
    """The page as a dict whose items hold only the fields ``slim_pod`` reads; None when the
    page does not have the shape of a pod list (the caller decodes it fully instead)."""
    try:
        page = msgspec.to_builtins(_DECODER.decode(data))
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return page if isinstance(page, dict) else None
