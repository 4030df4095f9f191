"""The kube source against the sandbox API server: snapshot, writes, read-only, logs, Envoy admin.

Objects are created and changed with the official ``kubernetes`` client, an independent writer;
the source under test only reads what the server says.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from kubernetes import client, config

from meshtui.sandbox.kubeconfig import READONLY_CONTEXT
from meshtui.sandbox.server import Sandbox
from meshtui.sources.base import (
    ConflictError,
    ForbiddenError,
    InvalidObjectError,
    NotFoundError,
    Source,
    UnavailableError,
)
from meshtui.sources.kube import KubeSource

NS = "shop"
ISTIO = ("networking.istio.io", "v1")


def vs_body(name: str, weights: tuple[int, int] = (90, 10)) -> dict[str, Any]:
    """A VirtualService splitting ``reviews`` between subsets v1 and v2."""
    return {
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "hosts": ["reviews"],
            "http": [{"route": [
                {"destination": {"host": "reviews", "subset": "v1"}, "weight": weights[0]},
                {"destination": {"host": "reviews", "subset": "v2"}, "weight": weights[1]},
            ]}],
        },
    }


def pod_body(name: str) -> dict[str, Any]:
    """A pod with an app container and an istio-proxy sidecar, and fields meshtui never reads."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "reviews", "version": "v1"},
                     "annotations": {"sidecar.istio.io/status": '{"containers":["istio-proxy"]}'}},
        "spec": {
            "nodeName": "node-1",
            "containers": [
                {"name": "reviews", "image": "reviews:1", "env": [{"name": "X", "value": "y" * 500}]},
                {"name": "istio-proxy", "image": "proxyv2:1.24"},
            ],
            "volumes": [{"name": "istio-envoy", "emptyDir": {"medium": "Memory"}}],
        },
    }


def seed(api: client.ApiClient) -> None:
    """One object of every kind the kube source reads."""
    core = client.CoreV1Api(api)
    custom = client.CustomObjectsApi(api)
    for ns in (NS, "istio-system"):
        core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_service(NS, {"metadata": {"name": "reviews", "labels": {"app": "reviews"}},
                                        "spec": {"selector": {"app": "reviews"},
                                                 "ports": [{"name": "http", "port": 9080}]}})
    core.create_namespaced_pod(NS, pod_body("reviews-v1-abc"))
    core.create_namespaced_endpoints(NS, {"metadata": {"name": "reviews"},
                                          "subsets": [{"addresses": [{"ip": "10.0.0.5"}],
                                                       "ports": [{"name": "http", "port": 9080}]}]})
    core.create_namespaced_config_map("istio-system", {
        "metadata": {"name": "istio"},
        "data": {"mesh": "accessLogFile: /dev/stdout\noutboundTrafficPolicy:\n  mode: REGISTRY_ONLY\n"}})
    core.create_namespaced_config_map("istio-system", {"metadata": {"name": "unrelated"}, "data": {}})
    custom.create_namespaced_custom_object(*ISTIO, NS, "virtualservices", vs_body("reviews"))
    for plural, kind, spec in (
        ("destinationrules", "DestinationRule",
         {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                         {"name": "v2", "labels": {"version": "v2"}}]}),
        ("gateways", "Gateway", {"selector": {"istio": "ingressgateway"},
                                 "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                                              "hosts": ["*"]}]}),
        ("serviceentries", "ServiceEntry", {"hosts": ["api.example.com"], "location": "MESH_EXTERNAL",
                                            "ports": [{"number": 443, "name": "https", "protocol": "TLS"}],
                                            "resolution": "DNS"}),
        ("sidecars", "Sidecar", {"egress": [{"hosts": ["./*", "istio-system/*"]}]}),
    ):
        custom.create_namespaced_custom_object(*ISTIO, NS, plural, {
            "apiVersion": "networking.istio.io/v1", "kind": kind,
            "metadata": {"name": "reviews" if kind != "Sidecar" else "default", "namespace": NS},
            "spec": spec})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Path]]:
    """A sandbox of our own (the tests change objects), seeded with every kind; its kubeconfig."""
    sb = Sandbox(scenario=False).start()
    kubeconfig = sb.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    api = config.new_client_from_config(str(kubeconfig), persist_config=False)
    try:
        seed(api)
        yield sb, kubeconfig
    finally:
        api.close()
        sb.stop()


@pytest.fixture
def admin(cluster: tuple[Sandbox, Path]) -> Iterator[client.ApiClient]:
    """The official client with the admin context: an independent reader and writer."""
    api = config.new_client_from_config(str(cluster[1]), persist_config=False)
    yield api
    api.close()


@pytest.fixture
def source(cluster: tuple[Sandbox, Path]) -> Iterator[KubeSource]:
    src = KubeSource.from_kubeconfig(str(cluster[1]))
    yield src
    src.close()


def by_kind(objects: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        out.setdefault(obj["kind"], []).append(obj)
    return out


def get_vs(admin: client.ApiClient, name: str) -> dict[str, Any]:
    return client.CustomObjectsApi(admin).get_namespaced_custom_object(*ISTIO, NS, "virtualservices", name)


# -- opening ------------------------------------------------------------------------------------

def test_source_is_named_after_the_context_and_satisfies_the_protocol(cluster: tuple[Sandbox, Path]) -> None:
    src = KubeSource.from_kubeconfig(str(cluster[1]), context=READONLY_CONTEXT)
    try:
        assert isinstance(src, Source)
        assert src.description == READONLY_CONTEXT
    finally:
        src.close()


def test_unknown_context_is_a_one_line_error(cluster: tuple[Sandbox, Path]) -> None:
    with pytest.raises(Exception) as info:
        KubeSource.from_kubeconfig(str(cluster[1]), context="nope")
    assert "nope" in str(info.value) and "\n" not in str(info.value)


def test_importing_the_kube_source_does_not_import_the_kubernetes_client() -> None:
    code = "import sys, meshtui.sources.kube, meshtui.session.demo; print('kubernetes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- snapshot -----------------------------------------------------------------------------------

def test_snapshot_lists_every_kind_with_the_version_it_was_read_with(source: KubeSource) -> None:
    snap = source.snapshot()
    assert snap.errors == []
    kinds = by_kind(snap.objects)
    assert set(kinds) == {"Namespace", "Service", "Pod", "Endpoints", "ConfigMap", "VirtualService",
                          "DestinationRule", "Gateway", "ServiceEntry", "Sidecar"}
    for kind in ("VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar"):
        assert [o["apiVersion"] for o in kinds[kind]] == ["networking.istio.io/v1"]
    assert {o["apiVersion"] for o in kinds["Service"] + kinds["Pod"]} == {"v1"}
    # Only the mesh config map, not every config map of istio-system.
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in kinds["ConfigMap"]] == [
        ("istio-system", "istio")]
    # Listed (served) even when empty; the Gateway API Gateway is keyed apart from Istio's.
    assert set(snap.resume) == set(kinds) | {"Canary", "Rollout", "GatewayClass", "Gateway.gateway.networking.k8s.io",
                                             "HTTPRoute", "GRPCRoute", "ReferenceGrant", "TCPRoute", "TLSRoute"}


def test_snapshot_keeps_istio_objects_whole_and_slims_pods(source: KubeSource, admin: client.ApiClient) -> None:
    kinds = by_kind(source.snapshot().objects)
    assert kinds["VirtualService"][0] == get_vs(admin, "reviews")
    pod = kinds["Pod"][0]
    assert pod["metadata"]["labels"] == {"app": "reviews", "version": "v1"}
    assert "sidecar.istio.io/status" in pod["metadata"]["annotations"]
    assert pod["spec"]["nodeName"] == "node-1"
    assert [c["name"] for c in pod["spec"]["containers"]] == ["reviews", "istio-proxy"]
    assert "volumes" not in pod["spec"] and "env" not in pod["spec"]["containers"][0]


def test_snapshot_pages_through_long_lists(cluster: tuple[Sandbox, Path], admin: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(admin)
    names = [f"page-{i}" for i in range(7)]
    for name in names:
        custom.create_namespaced_custom_object(*ISTIO, NS, "virtualservices", vs_body(name))
    src = KubeSource.from_kubeconfig(str(cluster[1]), page_size=3)
    try:
        listed = [o["metadata"]["name"] for o in src.snapshot().objects if o["kind"] == "VirtualService"]
    finally:
        src.close()
        for name in names:
            custom.delete_namespaced_custom_object(*ISTIO, NS, "virtualservices", name)
    assert sorted(listed) == sorted(names + ["reviews"])


def test_namespace_scope_reads_one_namespace(cluster: tuple[Sandbox, Path], admin: client.ApiClient) -> None:
    client.CoreV1Api(admin).create_namespace({"metadata": {"name": "other"}})
    client.CustomObjectsApi(admin).create_namespaced_custom_object(
        *ISTIO, "other", "virtualservices", {**vs_body("elsewhere"), "metadata": {"name": "elsewhere"}})
    src = KubeSource.from_kubeconfig(str(cluster[1]), namespace=NS)
    try:
        kinds = by_kind(src.snapshot().objects)
    finally:
        src.close()
        client.CoreV1Api(admin).delete_namespace("other")
    assert [o["metadata"]["name"] for o in kinds["Namespace"]] == [NS]
    assert {o["metadata"]["namespace"] for o in kinds["VirtualService"]} == {NS}
    assert [o["metadata"]["name"] for o in kinds["ConfigMap"]] == ["istio"]  # mesh config is global


def test_unreachable_server_is_unavailable(tmp_path: Path) -> None:
    with Sandbox(scenario=False) as sb:
        kubeconfig = sb.write_kubeconfig(tmp_path / "config")
    src = KubeSource.from_kubeconfig(str(kubeconfig))  # the server is gone now
    try:
        with pytest.raises(UnavailableError) as info:
            src.snapshot()
        assert "\n" not in str(info.value)
    finally:
        src.close()


# -- writes -------------------------------------------------------------------------------------

def reweighted(obj: dict[str, Any], v1: int, v2: int) -> dict[str, Any]:
    new = orjson.loads(orjson.dumps(obj))
    route = new["spec"]["http"][0]["route"]
    route[0]["weight"], route[1]["weight"] = v1, v2
    return new


def current_vs(source: KubeSource, name: str = "reviews") -> dict[str, Any]:
    return next(o for o in source.snapshot().objects
                if o["kind"] == "VirtualService" and o["metadata"]["name"] == name)


def test_apply_writes_with_the_read_version(source: KubeSource, admin: client.ApiClient) -> None:
    base = current_vs(source)
    result = source.apply(reweighted(base, 50, 50), base=base)
    assert not result.dry_run
    stored = get_vs(admin, "reviews")
    assert [d["weight"] for d in stored["spec"]["http"][0]["route"]] == [50, 50]
    assert result.object["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]
    assert result.object["apiVersion"] == "networking.istio.io/v1"


def test_dry_run_writes_nothing(source: KubeSource, admin: client.ApiClient) -> None:
    base = current_vs(source)
    before = get_vs(admin, "reviews")
    result = source.apply(reweighted(base, 0, 100), base=base, dry_run=True)
    assert result.dry_run
    assert [d["weight"] for d in result.object["spec"]["http"][0]["route"]] == [0, 100]
    assert get_vs(admin, "reviews") == before


def test_stale_base_is_a_conflict_and_nothing_is_written(source: KubeSource, admin: client.ApiClient) -> None:
    base = current_vs(source)
    # Someone else changes the object after we read it.
    theirs = reweighted(get_vs(admin, "reviews"), 70, 30)
    client.CustomObjectsApi(admin).replace_namespaced_custom_object(*ISTIO, NS, "virtualservices", "reviews", theirs)
    after_theirs = get_vs(admin, "reviews")
    with pytest.raises(ConflictError) as info:
        source.apply(reweighted(base, 10, 90), base=base)
    assert info.value.current == after_theirs
    assert "nothing was written" in str(info.value)
    assert get_vs(admin, "reviews") == after_theirs


def test_renaming_in_a_write_is_refused(source: KubeSource) -> None:
    base = current_vs(source)
    renamed = orjson.loads(orjson.dumps(base))
    renamed["metadata"]["name"] = "other-name"
    with pytest.raises(InvalidObjectError):
        source.apply(renamed, base=base)


def test_server_rejection_is_invalid_object_with_field_paths(source: KubeSource, admin: client.ApiClient) -> None:
    base = current_vs(source)
    bad = reweighted(base, 50, 50)
    bad["spec"]["http"][0]["route"][0]["weight"] = "fifty"
    before = get_vs(admin, "reviews")
    with pytest.raises(InvalidObjectError) as info:
        source.apply(bad, base=base)
    assert "spec.http[0].route[0].weight" in info.value.causes
    assert "\n" not in str(info.value)
    assert get_vs(admin, "reviews") == before


def test_read_only_token_is_forbidden(cluster: tuple[Sandbox, Path], admin: client.ApiClient) -> None:
    src = KubeSource.from_kubeconfig(str(cluster[1]), context=READONLY_CONTEXT)
    try:
        assert src.read_only_reason() is not None and "RBAC" in src.read_only_reason()
        base = current_vs(src)
        before = get_vs(admin, "reviews")
        with pytest.raises(ForbiddenError) as info:
            src.apply(reweighted(base, 1, 99), base=base)
        assert "forbidden" in str(info.value) and "\n" not in str(info.value)
        assert get_vs(admin, "reviews") == before
    finally:
        src.close()


def test_read_only_flag_refuses_without_asking_the_server(tmp_path: Path) -> None:
    with Sandbox(scenario=False) as sb:
        kubeconfig = sb.write_kubeconfig(tmp_path / "config")
    src = KubeSource.from_kubeconfig(str(kubeconfig), read_only=True)  # its server is gone
    try:
        assert src.read_only_reason() == "--read-only"
        obj = vs_body("x")
        obj["metadata"]["resourceVersion"] = "1"
        with pytest.raises(ForbiddenError):
            src.apply(obj, base=obj)
    finally:
        src.close()


def test_admin_may_write(source: KubeSource) -> None:
    assert source.read_only_reason() is None


# -- logs and Envoy admin -----------------------------------------------------------------------

def append_log(sb: Sandbox, pod: str, line: str, container: str = "istio-proxy") -> None:
    sb.app["logs"].append_threadsafe(NS, pod, container, line)


def test_logs_tail_then_follow_sees_a_new_line_and_stops(cluster: tuple[Sandbox, Path], source: KubeSource) -> None:
    sb = cluster[0]
    for i in range(3):
        append_log(sb, "reviews-v1-abc", f"old {i}")
    stop = threading.Event()
    lines = source.logs(NS, "reviews-v1-abc", tail_lines=2, stop=stop)
    assert [next(lines), next(lines)] == ["old 1", "old 2"]
    append_log(sb, "reviews-v1-abc", "new line")
    assert next(lines) == "new line"
    stop.set()
    assert list(lines) == []


def test_logs_stop_ends_a_quiet_follow(cluster: tuple[Sandbox, Path], source: KubeSource) -> None:
    stop = threading.Event()
    seen: list[str] = []
    lines = source.logs(NS, "reviews-v1-abc", container="reviews", stop=stop)
    reader = threading.Thread(target=lambda: seen.extend(lines))
    reader.start()
    stop.set()
    reader.join(timeout=10)
    assert not reader.is_alive()


def test_logs_of_a_missing_pod_is_not_found(source: KubeSource) -> None:
    with pytest.raises(NotFoundError):
        list(source.logs(NS, "no-such-pod", follow=False))


def test_envoy_admin_returns_a_config_dump(source: KubeSource) -> None:
    dump = orjson.loads(source.envoy_admin(NS, "reviews-v1-abc", "/config_dump"))
    types = [c.get("@type", "") for c in dump["configs"]]
    assert any(t.endswith("RoutesConfigDump") for t in types)
    assert any(t.endswith("ClustersConfigDump") for t in types)


def test_envoy_admin_of_a_missing_pod_is_not_found(source: KubeSource) -> None:
    with pytest.raises(NotFoundError) as info:
        source.envoy_admin(NS, "no-such-pod", "/config_dump")
    assert "no-such-pod" in str(info.value)


def test_concurrent_port_forwards_leave_watch_dry_run_and_logs_working(
    cluster: tuple[Sandbox, Path], source: KubeSource, admin: client.ApiClient
) -> None:
    """Issue 12's blocker: port-forwards swapped ``call_api`` on the shared client, so after a
    burst of concurrent Envoy-admin reads every REST call went through a websocket closure."""
    from meshtui.sources.base import ObjectEvent

    stop = threading.Event()
    events: list[ObjectEvent] = []
    snap = source.snapshot()

    def watch() -> None:
        for event in source.watch(stop, snap.resume):
            if isinstance(event, ObjectEvent):
                events.append(event)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    errors: list[BaseException] = []

    def reads() -> None:
        try:
            for _ in range(4):
                source.envoy_admin(NS, "reviews-v1-abc", "/config_dump")
                source.envoy_admin(NS, "reviews-v1-abc", "/clusters?format=json")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    def dry_runs() -> None:
        try:
            for _ in range(8):
                base = current_vs(source)
                source.apply(reweighted(base, 70, 30), base=base, dry_run=True)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    workers = [threading.Thread(target=reads) for _ in range(8)] + [threading.Thread(target=dry_runs)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=90)
    assert not errors, errors

    # After the burst: a dry run still works ...
    base = current_vs(source)
    assert source.apply(reweighted(base, 60, 40), base=base, dry_run=True).dry_run
    # ... the watch is live: a change by another client reaches it ...
    stored = get_vs(admin, "reviews")
    stored["spec"]["http"][0]["route"][0]["weight"] = 55
    stored["spec"]["http"][0]["route"][1]["weight"] = 45
    client.CustomObjectsApi(admin).replace_namespaced_custom_object(
        *ISTIO, NS, "virtualservices", "reviews", stored)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(
        e.object.get("kind") == "VirtualService"
        and [d.get("weight") for d in e.object["spec"]["http"][0]["route"]] == [55, 45]
        for e in list(events)
    ):
        stop.wait(0.05)
    assert any(e.object.get("kind") == "VirtualService" for e in events), "watch went silent"
    # ... and logs follow.
    log_stop = threading.Event()
    seen: list[str] = []
    reader = threading.Thread(
        target=lambda: seen.extend(source.logs(NS, "reviews-v1-abc", tail_lines=0, stop=log_stop)),
        daemon=True)
    reader.start()
    # The stream opens asynchronously: keep writing until a line written after it arrives.
    deadline = time.monotonic() + 20
    n = 0
    while not seen and time.monotonic() < deadline:
        append_log(cluster[0], "reviews-v1-abc", f"after the burst {n}")
        n += 1
        log_stop.wait(0.1)
    log_stop.set()
    reader.join(timeout=10)
    assert seen and seen[0].startswith("after the burst"), seen
    stop.set()
    watcher.join(timeout=10)
