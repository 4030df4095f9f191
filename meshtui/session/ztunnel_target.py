"""Which ztunnel to ask: the pod named, the ztunnel on a workload pod's node, or the one on ``--node``.

The rules are ``istioctl ztunnel-config``'s (``istioctl/pkg/ztunnelconfig``): a named pod is a
ztunnel when its ``app`` label says ``ztunnel`` (a pod without that label, or one that cannot be
read, when its name starts with ``ztunnel``). Any other pod is a workload: the ztunnel on its
node answers, and the workload and connection tables keep only that workload's rows. ``--node``
picks the ztunnel DaemonSet's pod on that node. The error texts are istioctl's where it has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.sources.base import NotFoundError, Source

#: The ztunnel DaemonSet's pod selector in Istio's chart.
ZTUNNEL_SELECTOR = "app=ztunnel"


@dataclass(frozen=True, slots=True)
class ZtunnelTarget:
    """The ztunnel pod to read, and the workload pod the user named when it is not that ztunnel."""

    namespace: str
    name: str
    workload_name: str | None = None
    workload_namespace: str | None = None

    @property
    def label(self) -> str:
        """``name.namespace`` of the ztunnel, as errors name it."""
        return f"{self.name}.{self.namespace}"


class ZtunnelTargetError(LookupError):
    """No ztunnel can answer for what the user named; the message is one line."""


def _one_pod(source: Source, namespace: str, name: str) -> dict[str, Any] | None:
    found = source.pods(namespace, field_selector=f"metadata.name={name}")
    return next((p for p in found if (p.get("metadata") or {}).get("name") == name), None)


def _is_ztunnel(pod: dict[str, Any] | None, name: str) -> bool:
    """istioctl's ``IsZtunnelPod``: the ``app`` label decides when present, else the name prefix."""
    labels = ((pod or {}).get("metadata") or {}).get("labels") or {}
    if "app" in labels:
        return bool(labels["app"] == "ztunnel")
    return name.startswith("ztunnel")


def _serving_first(pod: dict[str, Any]) -> tuple[bool, bool, str]:
    """Sort key: running before not, ready before not, then by name (what ``kubectl logs`` prefers)."""
    status = pod.get("status") or {}
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
    return status.get("phase") != "Running", not ready, str((pod.get("metadata") or {}).get("name") or "")


def ztunnel_on_node(source: Source, node: str, system_namespace: str) -> ZtunnelTarget | None:
    """The ztunnel pod scheduled on ``node`` (a running, ready one first), or None."""
    pods = source.pods(system_namespace, label_selector=ZTUNNEL_SELECTOR, field_selector=f"spec.nodeName={node}")
    if not pods:
        return None
    best = min(pods, key=_serving_first)
    return ZtunnelTarget(system_namespace, str(best["metadata"]["name"]))


def resolve_node(source: Source, node: str, system_namespace: str) -> ZtunnelTarget:
    """``--node NODE``: the ztunnel on that node; ``ZtunnelTargetError`` when there is none."""
    found = ztunnel_on_node(source, node, system_namespace)
    if found is None:
        raise ZtunnelTargetError(f"no ztunnel pod on node {node} (pods {ZTUNNEL_SELECTOR} in {system_namespace})")
    return found


def resolve_pod(source: Source, name: str, namespace: str, system_namespace: str) -> ZtunnelTarget:
    """``POD[.NS]``: that pod when it is a ztunnel, else the ztunnel on the pod's node for that workload."""
    try:
        pod = _one_pod(source, namespace, name)
    except NotFoundError:
        pod = None
    if _is_ztunnel(pod, name):
        return ZtunnelTarget(namespace, name)
    if pod is None:
        raise ZtunnelTargetError(f'failed to get pod {name}.{namespace}: pods "{name}" not found')
    node = str((pod.get("spec") or {}).get("nodeName") or "")
    if not node:
        raise ZtunnelTargetError(f"pod {name}.{namespace} is not scheduled to a node")
    found = ztunnel_on_node(source, node, system_namespace)
    if found is None:
        raise ZtunnelTargetError(f"failed to find ztunnel on node {node} for pod {name}.{namespace}: "
                                 f"no ztunnel pod on that node (pods {ZTUNNEL_SELECTOR} in {system_namespace})")
    return ZtunnelTarget(found.namespace, found.name, workload_name=name, workload_namespace=namespace)
