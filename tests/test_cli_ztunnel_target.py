"""``meshtui ztunnel-config KIND POD`` with a workload pod, and ``--node NODE``: the ztunnel on that node answers.

As istioctl does: a pod that is not a ztunnel is answered by the ztunnel on its node, and the
workload and connection tables keep only that pod; kubectl (an independent client) says which
node and which ztunnel that is. Bad targets fail in one line.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from meshtui.cli import main


def _kubectl(sandbox: Any, *args: str) -> Any:
    out = subprocess.run(["kubectl", "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox",
                          *args, "-o", "json"], check=True, capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)


def _zc(sandbox: Any, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["ztunnel-config", *args, "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _shop_pod(sandbox: Any, prefix: str) -> dict[str, Any]:
    return next(p for p in _kubectl(sandbox, "get", "pods", "-n", "shop")["items"]
                if p["metadata"]["name"].startswith(prefix))


def _ztunnel_on(sandbox: Any, node: str) -> str:
    zt = [p for p in _kubectl(sandbox, "get", "pods", "-n", "istio-system", "-l", "app=ztunnel")["items"]
          if p["spec"]["nodeName"] == node]
    assert len(zt) == 1
    return f"{zt[0]['metadata']['name']}.istio-system"


def test_a_workload_pod_shows_its_own_row_from_the_ztunnel_on_its_node(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pod = _shop_pod(sandbox, "basket-v1")
    name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
    code, out, err = _zc(sandbox, capsys, "workloads", f"{name}.shop")
    assert code == 0, err
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["NAMESPACE", "POD", "NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL"]
    assert [r[:4] for r in rows[1:]] == [["shop", name, pod["status"]["podIP"], node]]
    # The same row as the node's ztunnel gives when asked directly, narrowed by hand.
    _, whole, _ = _zc(sandbox, capsys, "workloads", _ztunnel_on(sandbox, node))
    assert out.splitlines()[1].split() in [line.split() for line in whole.splitlines()]
    # -n gives the pod's namespace, as istioctl's --namespace does; -o json narrows the same way.
    code, as_json, err = _zc(sandbox, capsys, "workloads", name, "-n", "shop", "-o", "json")
    assert code == 0, err
    assert [(w["name"], w["namespace"], w["node"]) for w in json.loads(as_json)] == [(name, "shop", node)]


def test_other_kinds_of_a_workload_pod_are_the_whole_ztunnel_of_its_node(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pod = _shop_pod(sandbox, "stock-v1")
    code, via_pod, err = _zc(sandbox, capsys, "services", f"{pod['metadata']['name']}.shop")
    assert code == 0, err
    _, direct, _ = _zc(sandbox, capsys, "services", _ztunnel_on(sandbox, pod["spec"]["nodeName"]))
    assert via_pod == direct and len(via_pod.splitlines()) > 2
    code, certs, err = _zc(sandbox, capsys, "certificates", f"{pod['metadata']['name']}.shop")
    assert code == 0, err
    assert "spiffe://cluster.local/ns/shop/sa/" in certs


def test_connections_of_a_workload_pod_name_only_that_pod(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pod = _shop_pod(sandbox, "basket-v1")
    code, out, err = _zc(sandbox, capsys, "connections", f"{pod['metadata']['name']}.shop", "-o", "json")
    assert code == 0, err
    assert {(s["info"]["name"], s["info"]["namespace"]) for s in json.loads(out)} <= {(pod["metadata"]["name"], "shop")}
    _, whole, _ = _zc(sandbox, capsys, "connections", _ztunnel_on(sandbox, pod["spec"]["nodeName"]), "-o", "json")
    assert len({s["info"]["name"] for s in json.loads(whole)}) > 1


def test_node_flag_reads_the_ztunnel_on_that_node(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ztunnels = _kubectl(sandbox, "get", "pods", "-n", "istio-system", "-l", "app=ztunnel")["items"]
    for zt in ztunnels:
        code, via_node, err = _zc(sandbox, capsys, "certificates", "--node", zt["spec"]["nodeName"])
        assert code == 0, err
        _, direct, _ = _zc(sandbox, capsys, "certificates", f"{zt['metadata']['name']}.istio-system")
        assert via_node == direct
    # Each ztunnel holds the certificates of its own node's ambient pods only: the answers differ.
    outs = {_zc(sandbox, capsys, "certificates", "--node", zt["spec"]["nodeName"])[1] for zt in ztunnels}
    assert len(outs) > 1


@pytest.fixture()
def extra_pods(sandbox: Any) -> Iterator[list[dict[str, Any]]]:
    """Pods created for one test in ``shop`` through the official client, deleted afterwards."""
    from kubernetes import client, config

    api = config.new_client_from_config(str(sandbox.kubeconfig_path), context="meshtui-sandbox")
    core = client.CoreV1Api(api)
    made: list[dict[str, Any]] = []
    try:
        yield made
    finally:
        for pod in made:
            core.delete_namespaced_pod(pod["metadata"]["name"], "shop")
        api.close()


def _create(sandbox: Any, made: list[dict[str, Any]], node: str | None) -> str:
    from kubernetes import client, config

    name = f"probe-{uuid.uuid4().hex[:8]}"
    pod: dict[str, Any] = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "probe"}},
                           "spec": {"containers": [{"name": "app", "image": "busybox"}]}}
    if node:
        pod["spec"]["nodeName"] = node
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), context="meshtui-sandbox")
    try:
        client.CoreV1Api(api).create_namespaced_pod("shop", pod)
    finally:
        api.close()
    made.append(pod)
    return name


def test_a_pod_not_scheduled_to_a_node_is_refused_in_one_line(
    sandbox: Any, capsys: pytest.CaptureFixture[str], extra_pods: list[dict[str, Any]]
) -> None:
    name = _create(sandbox, extra_pods, node=None)
    code, out, err = _zc(sandbox, capsys, "workloads", f"{name}.shop")
    assert (code, out) == (2, "")
    assert err == f"meshtui: pod {name}.shop is not scheduled to a node\n"


def test_a_pod_on_a_node_without_ztunnel_is_refused_in_one_line(
    sandbox: Any, capsys: pytest.CaptureFixture[str], extra_pods: list[dict[str, Any]]
) -> None:
    name = _create(sandbox, extra_pods, node="lonely-node")
    code, out, err = _zc(sandbox, capsys, "workloads", f"{name}.shop")
    assert (code, out) == (2, "")
    assert err.startswith(f"meshtui: failed to find ztunnel on node lonely-node for pod {name}.shop: ")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(("args", "message"), [
    (["no-such-pod.shop"], 'meshtui: failed to get pod no-such-pod.shop: pods "no-such-pod" not found'),
    (["--node", "no-such-node"], "meshtui: no ztunnel pod on node no-such-node (pods app=ztunnel in istio-system)"),
    (["x.shop", "--node", "sandbox-worker-1"], "meshtui: at most one of --file, --node, or pod name must be passed"),
])
def test_bad_targets_fail_in_one_line(sandbox: Any, capsys: pytest.CaptureFixture[str], args: list[str],
                                      message: str) -> None:
    code, out, err = _zc(sandbox, capsys, "workloads", *args)
    assert (code, out, err) == (2, "", message + "\n")
