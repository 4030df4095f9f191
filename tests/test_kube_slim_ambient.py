"""Pods read by the kube source keep what the ambient model needs: a host-network pod is never captured."""

from __future__ import annotations

import json
from typing import Any

import pytest

from meshtui.model.ambient import pod_dataplane_mode
from meshtui.model.kube import Pod
from meshtui.sources.kube_slim import slim_pod

AMBIENT_NS = {"istio.io/dataplane-mode": "ambient"}


def _pod(host_network: bool) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "agent", "namespace": "shop", "labels": {}},
            "spec": {"hostNetwork": host_network, "nodeName": "n1",
                     "containers": [{"name": "agent", "image": "agent:1", "env": [{"name": "X", "value": "1"}]}]},
            "status": {"phase": "Running", "podIP": "172.18.0.2"}}


@pytest.mark.parametrize(("host_network", "mode"), [(True, "none"), (False, "ambient")])
def test_slim_pod_keeps_host_network(host_network: bool, mode: str) -> None:
    assert pod_dataplane_mode(Pod.parse(slim_pod(_pod(host_network))), AMBIENT_NS) == mode


def test_fast_pod_decoder_keeps_host_network() -> None:
    fastpod = pytest.importorskip("meshtui.sources.kube_fastpod")
    page = fastpod.decode_page(json.dumps({"items": [_pod(True)], "metadata": {}}).encode())
    assert page is not None
    pod = Pod.parse({"kind": "Pod", **slim_pod(page["items"][0])})
    assert pod_dataplane_mode(pod, AMBIENT_NS) == "none"


def test_pods_read_from_a_cluster_keep_their_service_account() -> None:
    # The workload identity (spiffe://…/ns/NS/sa/NAME) ztunnel and AuthorizationPolicy use.
    raw = _pod(False)
    raw["spec"]["serviceAccountName"] = "bookinfo-reviews"
    assert Pod.parse(slim_pod(raw)).service_account == "bookinfo-reviews"
    fastpod = pytest.importorskip("meshtui.sources.kube_fastpod")
    page = fastpod.decode_page(json.dumps({"items": [raw], "metadata": {}}).encode())
    assert page is not None
    assert Pod.parse({"kind": "Pod", **page["items"][0]}).service_account == "bookinfo-reviews"
