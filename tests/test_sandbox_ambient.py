"""The sandbox's ambient namespace: sidecar-less pods, ztunnel pods, a ready waypoint, and each ztunnel's
``/config_dump`` on port 15000, read through the API server's port-forward by ``meshtui ztunnel-config``."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from meshtui.cli import main


def _kubectl(sandbox: Any, *args: str) -> Any:
    out = subprocess.run(["kubectl", "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox",
                          *args, "-o", "json"], check=True, capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)


def _zc(sandbox: Any, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["ztunnel-config", *args, "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()[1:]]


def test_ambient_pods_have_no_sidecar_and_a_ztunnel_runs_on_every_node(sandbox: Any) -> None:
    shop = _kubectl(sandbox, "get", "pods", "-n", "shop")["items"]
    app_pods = [p for p in shop if "gateway.networking.k8s.io/gateway-name" not in p["metadata"]["labels"]]
    assert app_pods
    for pod in app_pods:
        assert "istio-proxy" not in [c["name"] for c in pod["spec"]["containers"]]
        assert pod["metadata"]["annotations"]["ambient.istio.io/redirection"] == "enabled"
    ztunnels = _kubectl(sandbox, "get", "pods", "-n", "istio-system", "-l", "app=ztunnel")["items"]
    nodes = {p["spec"]["nodeName"] for p in _kubectl(sandbox, "get", "pods", "-A")["items"]}
    assert {p["spec"]["nodeName"] for p in ztunnels} == nodes
    assert all(p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet" for p in ztunnels)
    gw = _kubectl(sandbox, "get", "gateways.gateway.networking.k8s.io", "waypoint", "-n", "shop")
    assert gw["status"]["addresses"] == [{"type": "Hostname", "value": "waypoint.shop.svc.cluster.local"}]


def _ztunnel_for(sandbox: Any, namespace: str, prefix: str) -> str:
    """The ztunnel on the node of the first pod of ``namespace`` named ``prefix...``."""
    pod = next(p for p in _kubectl(sandbox, "get", "pods", "-n", namespace)["items"]
               if p["metadata"]["name"].startswith(prefix))
    zt = next(p for p in _kubectl(sandbox, "get", "pods", "-n", "istio-system", "-l", "app=ztunnel")["items"]
              if p["spec"]["nodeName"] == pod["spec"]["nodeName"])
    return f"{zt['metadata']['name']}.istio-system"


def test_ztunnel_config_against_the_sandbox_shows_ambient_workloads_and_the_waypoint(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ztunnel = _ztunnel_for(sandbox, "shop", "basket-v1")
    workloads = _rows(_zc(sandbox, capsys, "workloads", ztunnel, "--workload-namespace", "shop"))
    protocols = {row[1].rsplit("-", 2)[0]: row[-1] for row in workloads}
    assert protocols["basket-v1"] == "HBONE" and protocols["stock-v1"] == "HBONE"
    assert protocols["waypoint"] == "TCP"  # the waypoint's own pod opts out of capture
    services = {row[1]: row for row in _rows(_zc(sandbox, capsys, "services", ztunnel, "--service-namespace", "shop"))}
    assert services["basket"][3] == "waypoint" and services["basket"][4] == "2/2"
    assert services["stock"][3] == "None"  # the trap: an HTTPRoute, but no waypoint
    # Sidecar pods are workloads too, but not captured by ztunnel.
    bookinfo = _rows(_zc(sandbox, capsys, "workloads", ztunnel, "--workload-namespace", "bookinfo"))
    assert bookinfo and {row[-1] for row in bookinfo} == {"TCP"}


def test_ztunnel_holds_certificates_and_states_of_its_nodes_ambient_pods(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ztunnel = _ztunnel_for(sandbox, "shop", "basket-v1")
    certs = _rows(_zc(sandbox, capsys, "certificates", ztunnel))
    assert ["spiffe://cluster.local/ns/shop/sa/shop-basket", "Leaf", "Available", "true"] in [r[:4] for r in certs]
    states = json.loads(_zc(sandbox, capsys, "connections", ztunnel, "-o", "json"))
    assert "shop" in {s["info"]["namespace"] for s in states}
    assert all(s["state"] == "Up" for s in states)


def test_a_sidecar_pod_is_answered_by_its_nodes_ztunnel_as_an_uncaptured_workload(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pod = _kubectl(sandbox, "get", "pods", "-n", "bookinfo")["items"][0]
    name = pod["metadata"]["name"]
    rows = _rows(_zc(sandbox, capsys, "workloads", f"{name}.bookinfo"))
    # istioctl resolves a workload pod to the ztunnel on its node; ztunnel knows it, but does not capture it.
    assert [(r[1], r[3], r[-1]) for r in rows] == [(name, pod["spec"]["nodeName"], "TCP")]
