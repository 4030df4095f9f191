"""The sandbox's ambient data plane: a ztunnel pod per node, and its admin endpoint (port 15000).

The pods look like those of Istio's ``ztunnel`` DaemonSet in ``istio-system`` (label
``app: ztunnel``, one container ``istio-proxy``, one pod per node). A port-forward to 15000 of
one of them reaches :class:`ZtunnelAdminConnection`, which answers ``GET /config_dump`` with
the dump :mod:`meshtui.envoy.ztunnel_generate` makes from the current store, as
``istioctl ztunnel-config`` (and ``meshtui ztunnel-config``) read it on a cluster.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson

from meshtui.model.gateway_api import GATEWAY_API_GROUP
from meshtui.sandbox import podgen
from meshtui.sandbox.envoy_admin import AdminConnection, AdminRequest, Store, StoreSnapshot, _response
from meshtui.sandbox.store import StoreError

SYSTEM_NAMESPACE = "istio-system"
_TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "ztunnel", "istio.io/dataplane-mode": "none",
                            "sidecar.istio.io/inject": "false"}},
    "spec": {"serviceAccountName": "ztunnel",
             "containers": [{"name": "istio-proxy", "image": "docker.io/istio/ztunnel:1.31.0-distroless",
                             "ports": [{"containerPort": 15020, "name": "ztunnel-stats", "protocol": "TCP"}]}]},
}
_NOT_FOUND = b"Invalid request.\n"


def is_ztunnel(pod: dict[str, Any]) -> bool:
    """A ztunnel pod: ``app=ztunnel`` in ``istio-system`` (istio-cni's own test)."""
    meta = pod.get("metadata") or {}
    return meta.get("namespace") == SYSTEM_NAMESPACE and (meta.get("labels") or {}).get("app") == "ztunnel"


def ztunnel_pod(node_index: int, ip: str) -> dict[str, Any]:
    """The ztunnel DaemonSet's pod on ``podgen.NODES[node_index]``."""
    pod = podgen.make_pod(SYSTEM_NAMESPACE, "ztunnel", _TEMPLATE, node_index, ip, ambient=True)
    meta = pod["metadata"]
    node = podgen.NODES[node_index % len(podgen.NODES)]
    # A DaemonSet's pods are named <ds>-<5 chars> and owned by the DaemonSet, not a ReplicaSet.
    meta["name"] = f"ztunnel-{podgen.safe_string(f'ztunnel/{node}', 5)}"
    meta["generateName"] = "ztunnel-"
    meta["labels"].pop("pod-template-hash", None)
    meta["labels"]["controller-revision-hash"] = podgen.safe_string("ztunnel/revision", 10)
    meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ztunnel",
                                "uid": podgen.safe_string("ds/istio-system/ztunnel", 16),
                                "controller": True, "blockOwnerDeletion": True}]
    return pod


def create_ztunnels(store: Any, ips: podgen.IPAllocator) -> None:
    """One ztunnel pod per node, unless they exist."""
    for i in range(len(podgen.NODES)):
        try:
            store.create(ztunnel_pod(i, ips.next()))
        except StoreError:
            return


class ZtunnelSnapshot(StoreSnapshot):
    """The store lists a ztunnel dump reads: the sidecar ones plus waypoint Gateways and classes."""

    KINDS: tuple[str, ...] = (*StoreSnapshot.KINDS, f"gateways.{GATEWAY_API_GROUP}", "gatewayclasses")


class ZtunnelAdminConnection(AdminConnection):
    """One connection to a ztunnel's admin port: ``/config_dump`` is generated, the rest is 404."""

    def respond(self, store: Store, req: AdminRequest) -> bytes:
        """The response bytes to one request, generated from ``store`` (a :class:`ZtunnelSnapshot`)."""
        from meshtui.envoy.ztunnel_generate import generate_ztunnel_dump
        from meshtui.model.index import MeshIndex

        path = urlsplit(req.target).path
        if path != "/config_dump":
            return _response(404, _NOT_FOUND, "text/plain", req.close)
        if req.method not in ("GET", "HEAD"):
            return _response(405, b"", "text/plain", req.close)
        kinds = ZtunnelSnapshot.KINDS
        index = MeshIndex(o for kind in kinds for o in store.list(kind))
        pod = store.get("pods", self.namespace, self.pod) or {}
        node = str((pod.get("spec") or {}).get("nodeName") or "")
        dump = generate_ztunnel_dump(index, node, datetime.now(UTC))
        return _response(200, orjson.dumps(dump, option=orjson.OPT_INDENT_2), "application/json", req.close)
