"""Slim records of Pods: only the fields meshtui reads, so 20,000 pods fit in memory.

A full pod as a Python dict costs ~24 KB (20,000 pods: ~475 MB); the slim record ~0.7 KB
(~13 MB). meshtui never writes pods, so nothing is lost for round trips. Istio objects,
Services, Endpoints, Namespaces and the mesh ConfigMap are kept whole.
"""

from __future__ import annotations

from typing import Any

RawObject = dict[str, Any]

_META_KEYS = (
    "name", "namespace", "labels", "annotations", "ownerReferences", "resourceVersion", "uid",
    "creationTimestamp", "deletionTimestamp",
)
# A full copy of the object as last applied by kubectl: the largest annotation and never read.
DROPPED_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)


def _names(containers: Any, keep_restart_policy: bool = False) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in containers or ():
        if not isinstance(c, dict):
            continue
        rec: dict[str, Any] = {"name": c.get("name", "")}
        # An init container with restartPolicy Always is a native sidecar (istio-proxy may be one).
        if keep_restart_policy and c.get("restartPolicy"):
            rec["restartPolicy"] = c["restartPolicy"]
        out.append(rec)
    return out


def _statuses(statuses: Any) -> list[dict[str, Any]]:
    return [
        {"name": s.get("name", ""), "ready": bool(s.get("ready")), "restartCount": s.get("restartCount", 0)}
        for s in statuses or ()
        if isinstance(s, dict)
    ]


def slim_pod(pod: RawObject) -> RawObject:
    """The fields of ``pod`` that meshtui uses (a new dict; ``pod`` is not modified).

    Kept: apiVersion, kind; metadata name/namespace/labels/annotations (minus kubectl's
    last-applied copy)/ownerReferences/resourceVersion/uid/creationTimestamp/deletionTimestamp;
    spec.nodeName, spec.serviceAccountName, spec.hostNetwork when true, and container names (init containers with their
    restartPolicy); status.phase, podIP, the Ready condition, and name/ready/restartCount of each container status.
    """
    meta = pod.get("metadata") or {}
    slim_meta: dict[str, Any] = {k: meta[k] for k in _META_KEYS if k in meta}
    annotations = slim_meta.get("annotations")
    if isinstance(annotations, dict) and any(k in annotations for k in DROPPED_ANNOTATIONS):
        slim_meta["annotations"] = {k: v for k, v in annotations.items() if k not in DROPPED_ANNOTATIONS}

    spec = pod.get("spec") or {}
    slim_spec: dict[str, Any] = {"containers": _names(spec.get("containers"))}
    if spec.get("initContainers"):
        slim_spec["initContainers"] = _names(spec.get("initContainers"), keep_restart_policy=True)
    if "nodeName" in spec:
        slim_spec["nodeName"] = spec["nodeName"]
    if "serviceAccountName" in spec:  # the workload's identity (spiffe://…/sa/NAME)
        slim_spec["serviceAccountName"] = spec["serviceAccountName"]
    if spec.get("hostNetwork") is True:  # ztunnel never captures a host-network pod
        slim_spec["hostNetwork"] = True

    status = pod.get("status") or {}
    slim_status: dict[str, Any] = {}
    for key in ("phase", "podIP"):
        if key in status:
            slim_status[key] = status[key]
    conditions = [
        {"type": "Ready", "status": c.get("status")}
        for c in status.get("conditions") or ()
        if isinstance(c, dict) and c.get("type") == "Ready"
    ]
    if conditions:
        slim_status["conditions"] = conditions
    if "containerStatuses" in status:
        slim_status["containerStatuses"] = _statuses(status["containerStatuses"])
    if "initContainerStatuses" in status:
        slim_status["initContainerStatuses"] = _statuses(status["initContainerStatuses"])

    return {
        "apiVersion": pod.get("apiVersion", "v1"),
        "kind": "Pod",
        "metadata": slim_meta,
        "spec": slim_spec,
        "status": slim_status,
    }



def decode_pod_page(data: bytes) -> dict[str, Any] | None:
    """A pod list page whose items are already the records ``slim_pod`` makes, or None when
    the fast decoder (``meshtui.sources.kube_fastpod``, which needs msgspec) is not installed
    or cannot read this page."""
    global _fast_missing
    if _fast_missing:
        return None
    try:
        from meshtui.sources.kube_fastpod import decode_page
    except ImportError:
        _fast_missing = True
        return None
    return decode_page(data)


_fast_missing = False
