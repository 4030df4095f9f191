"""The demo source (sandbox in-process + kube source) and the kube source on the session sandbox."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlparse

import orjson
import pytest
from kubernetes import client, config

from meshtui.sandbox.server import Sandbox
from meshtui.sources.base import ForbiddenError, Source
from meshtui.session.demo import open_demo
from meshtui.sources.kube import KubeSource


def names(objects: list[dict], kind: str) -> set[tuple[str, str]]:
    return {(o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objects if o["kind"] == kind}


def test_demo_serves_the_demo_mesh_and_close_leaves_nothing_behind() -> None:
    before = {t.ident for t in threading.enumerate()}
    src = open_demo()
    port = urlparse(src.api_client.configuration.host).port
    try:
        assert isinstance(src, Source)
        assert src.read_only_reason() is None
        snap = src.snapshot()
        assert snap.errors == []
        kinds = {o["kind"] for o in snap.objects}
        assert {"Namespace", "Service", "Pod", "Endpoints", "VirtualService", "DestinationRule",
                "Gateway", "ConfigMap"} <= kinds
    finally:
        src.close()
    left = [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()
            and not t.name.startswith("Kubernetes port forward")]
    assert left == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_demo_read_only_refuses_writes() -> None:
    src = open_demo(read_only=True)
    try:
        assert src.read_only_reason() == "--read-only"
        vs = next(o for o in src.snapshot().objects if o["kind"] == "VirtualService")
        with pytest.raises(ForbiddenError):
            src.apply(vs, base=vs)
    finally:
        src.close()


@pytest.fixture(scope="module")
def session_source(sandbox: Sandbox) -> Iterator[KubeSource]:
    src = KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path))
    yield src
    src.close()


def test_snapshot_matches_what_the_official_client_lists(sandbox: Sandbox, session_source: KubeSource) -> None:
    snap = session_source.snapshot()
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    try:
        custom = client.CustomObjectsApi(api)
        for kind, plural in (("VirtualService", "virtualservices"), ("DestinationRule", "destinationrules"),
                             ("Gateway", "gateways")):
            listed = custom.list_cluster_custom_object("networking.istio.io", "v1", plural)["items"]
            # Only Istio's kinds: the demo's waypoint is a Gateway API Gateway of the same kind name.
            istio = [o for o in snap.objects if str(o.get("apiVersion", "")).startswith("networking.istio.io/")]
            assert names(istio, kind) == {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in listed}
        pods = client.CoreV1Api(api).list_pod_for_all_namespaces().items
        assert names(snap.objects, "Pod") == {(p.metadata.namespace, p.metadata.name) for p in pods}
    finally:
        api.close()


def test_envoy_admin_clusters_of_a_demo_pod(session_source: KubeSource) -> None:
    pod = next(o for o in session_source.snapshot().objects
               if o["kind"] == "Pod" and "istio-proxy" in [c["name"] for c in o["spec"]["containers"]])
    doc = orjson.loads(session_source.envoy_admin(pod["metadata"]["namespace"], pod["metadata"]["name"],
                                                  "/clusters?format=json"))
    assert doc["cluster_statuses"]
