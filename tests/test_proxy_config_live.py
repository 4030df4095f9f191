"""Proxy config against the sandbox, through the official client's port-forward: the dump follows
a weight change (CLI and screen ``r``), ``d`` diffs one pod before and after a change, and a
service's endpoints are tabulated across all its client sidecars with health and outlier status.

Each test writes the demo's backend Service, DestinationRule and VirtualService into a namespace
of its own, with pods written by the test; every expectation comes from those objects.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from textual.app import App

from meshtui.cli import main
from meshtui.model.index import MeshIndex
from meshtui.screens.proxy_config import ProxyConfigScreen
from meshtui.screens.proxy_config_diff import ProxyDiffScreen
from meshtui.screens.service_endpoints import ServiceEndpointsScreen
from meshtui.widgets.big_table import BigTable
from ui_helpers import wait_for

DEMO = Path(str(files("meshtui.demo")))
STYLES = [str(files("meshtui.styles").joinpath(n)) for n in ("app.tcss", "proxy_config.tcss", "service_endpoints.tcss")]
SERVICE = "backend-service"
OUTLIER = "meshtui.io/simulate-outlier-ejected"
# (pod, version, IP, ready); v0-b is not ready, so every client has it UNHEALTHY.
BACKENDS = [("backend-v0-a", "v0", "10.244.77.11", True), ("backend-v0-b", "v0", "10.244.77.12", False),
            ("backend-v1-a", "v1", "10.244.77.21", True)]
CLIENTS = [("curl-1", "10.244.77.31"), ("curl-2", "10.244.77.32")]


def _backend_objects(namespace: str) -> list[dict[str, Any]]:
    """The demo's backend Service, DestinationRule and VirtualService, moved to ``namespace``."""
    docs = [d for d in yaml.safe_load_all((DEMO / "default-backend-service.yaml").read_text()) if d]
    out = []
    for d in docs:
        if d.get("kind") in ("Service", "DestinationRule", "VirtualService"):
            d = copy.deepcopy(d)
            d["metadata"]["namespace"] = namespace
            d["metadata"].pop("resourceVersion", None)
            if d["kind"] == "DestinationRule":  # its host is written as an FQDN of "default"
                d["spec"]["host"] = d["spec"]["host"].replace(".default.", f".{namespace}.")
            out.append(d)
    return out


def _pod(namespace: str, name: str, labels: dict[str, str], ip: str, ready: bool = True) -> dict[str, Any]:
    """A running pod with an Istio sidecar, as the kubelet would report it."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"nodeName": "node-1", "containers": [
            {"name": "app", "image": "app:1", "ports": [{"containerPort": 8080}]},
            {"name": "istio-proxy", "image": "proxyv2:1.24"}]},
        "status": {"phase": "Running", "podIP": ip,
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


class Mesh:
    """One test's namespace in the session sandbox, and the official client writing to it."""

    def __init__(self, sandbox: Any, namespace: str) -> None:
        self.kubeconfig = str(sandbox.kubeconfig_path)
        self.ns = namespace
        self.api = config.new_client_from_config(self.kubeconfig, persist_config=False)
        self.core = client.CoreV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)

    def create(self, export_here_only: bool = False) -> None:
        self.core.create_namespace({"metadata": {"name": self.ns}})
        for obj in _backend_objects(self.ns):
            if obj["kind"] == "Service":
                if export_here_only:
                    # Clients in other namespaces (the demo's, other tests') cannot see it.
                    obj["metadata"].setdefault("annotations", {})["networking.istio.io/exportTo"] = "."
                self.core.create_namespaced_service(self.ns, obj)
            else:
                plural = obj["kind"].lower() + "s"
                self.custom.create_namespaced_custom_object("networking.istio.io", "v1", self.ns, plural, obj)
        for name, version, ip, ready in BACKENDS:
            self.core.create_namespaced_pod(self.ns, _pod(self.ns, name, {"app": SERVICE, "version": version}, ip, ready))
        for name, ip in CLIENTS:
            self.core.create_namespaced_pod(self.ns, _pod(self.ns, name, {"app": "curl"}, ip))

    def vs(self) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object("networking.istio.io", "v1", self.ns, "virtualservices", SERVICE)

    def set_default_weights(self, v0: int, v1: int) -> None:
        """Patch the weighted rule's weights, as ``kubectl patch`` would."""
        http = self.vs()["spec"]["http"]
        rule = next(r for r in http if len(r["route"]) > 1)
        rule["route"][0]["weight"], rule["route"][1]["weight"] = v0, v1
        self.custom.patch_namespaced_custom_object("networking.istio.io", "v1", self.ns, "virtualservices",
                                                   SERVICE, {"spec": {"http": http}})

    def annotate(self, pod: str, key: str, value: str) -> None:
        self.core.patch_namespaced_pod(pod, self.ns, {"metadata": {"annotations": {key: value}}})

    def expected_weights(self) -> str:
        """The WEIGHT cell the weighted rule must have: subsets and weights of the stored VirtualService."""
        rule = next(r for r in self.vs()["spec"]["http"] if len(r["route"]) > 1)
        return ", ".join(f"outbound|80|{d['destination']['subset']}|{SERVICE}.{self.ns}.svc.cluster.local:{d['weight']}"
                         for d in rule["route"])

    def close(self) -> None:
        self.core.delete_namespace(self.ns)
        self.api.close()


@pytest.fixture()
def mesh(sandbox: Any, request: pytest.FixtureRequest) -> Iterator[Mesh]:
    """A fresh namespace named after the test, with the backend mesh and its clients."""
    name = "pcl-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_"))[:40].strip("-")
    m = Mesh(sandbox, name)
    m.create(export_here_only=True)
    try:
        yield m
    finally:
        m.close()


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _route_weights(table: str, vs: str) -> list[str]:
    """The WEIGHT cells of the rows of VirtualService ``vs`` in ``proxy-config routes --wide`` output."""
    lines = table.splitlines()
    header = re.split(r"\s{2,}", lines[0].strip())
    assert header[-2:] == ["VIRTUAL SERVICE", "WEIGHT"]
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[1:] if line.strip()]
    return [r[-1] for r in rows if len(r) == len(header) and r[-2] == vs]


# -- 1. the dump follows a weight change ------------------------------------------------------


def test_cli_routes_show_the_configured_weights_and_follow_a_change(mesh: Mesh, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["proxy-config", "routes", f"curl-1.{mesh.ns}", "--wide", "--kubeconfig", mesh.kubeconfig]
    code, out, err = _cli(argv, capsys)
    assert code == 0, err
    assert mesh.expected_weights() in _route_weights(out, f"{SERVICE}.{mesh.ns}")
    assert ":90" in mesh.expected_weights()  # the demo's split, before the change

    mesh.set_default_weights(70, 30)
    code, out, err = _cli(argv, capsys)
    assert code == 0, err
    weights = _route_weights(out, f"{SERVICE}.{mesh.ns}")
    assert mesh.expected_weights() in weights
    assert not any(":90" in w for w in weights)


class Host(App[None]):
    """Shows one screen on top of an empty app."""

    CSS_PATH = STYLES

    def __init__(self, screen: Any) -> None:
        super().__init__()
        self._screen = screen

    def on_mount(self) -> None:
        self.push_screen(self._screen)


async def _settle(app: App[None], pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def _weights_in_screen(app: App[None], ns: str) -> list[str]:
    table = app.screen.query_one("#routes-table", BigTable)
    return [cells[-1] for _, cells in table.shown_rows if cells[4] == f"{SERVICE}.{ns}"]


async def test_screen_r_refetches_the_dump_after_a_weight_change(mesh: Mesh) -> None:
    from meshtui.sources.kube import KubeSource

    source = KubeSource.from_kubeconfig(mesh.kubeconfig)
    try:
        screen = ProxyConfigScreen(source, mesh.ns, "curl-1")
        app = Host(screen)
        async with app.run_test(size=(220, 40)) as pilot:
            await _settle(app, pilot)
            assert mesh.expected_weights() in _weights_in_screen(app, mesh.ns)
            # Fetched through the port-forward, from the sandbox's simulated Envoy (issue 12).
            origin = str(app.screen.query_one("#pc-origin").content)
            assert origin.startswith(f"fetched from the pod's Envoy admin (:15000) of {mesh.ns}/curl-1")
            assert "not fetched" not in origin
            mesh.set_default_weights(60, 40)
            await pilot.press("r")
            await _settle(app, pilot)
            assert mesh.expected_weights() in _weights_in_screen(app, mesh.ns)
            assert mesh.expected_weights().endswith(":40")
    finally:
        source.close()


# -- 3. diff of one pod before and after a change ---------------------------------------------


async def test_screen_d_diffs_a_snapshot_against_a_fresh_fetch(mesh: Mesh) -> None:
    from meshtui.sources.kube import KubeSource

    source = KubeSource.from_kubeconfig(mesh.kubeconfig)
    try:
        screen = ProxyConfigScreen(source, mesh.ns, "curl-1")
        app = Host(screen)
        async with app.run_test(size=(220, 40)) as pilot:
            await _settle(app, pilot)
            before = mesh.expected_weights()
            await pilot.press("d")  # snapshot
            await pilot.pause()
            assert screen.snapshot is not None and app.screen is screen
            assert screen.query_one("#pc-snapshot").display

            mesh.set_default_weights(25, 75)
            mesh.annotate("backend-v1-a", OUTLIER, "curl-1")  # curl-1's Envoy ejects v1-a
            after = mesh.expected_weights()
            await pilot.press("d")  # fetch afresh and diff
            await _settle(app, pilot)
            assert isinstance(app.screen, ProxyDiffScreen)
            changes = app.screen.changes
            routes = [c for c in changes if c.what == "route"]
            assert len(routes) == 1 and routes[0].change == "changed"
            assert f"weights {before} -> {after}" in routes[0].detail
            v1_ip = next(ip for name, _v, ip, _r in BACKENDS if name == "backend-v1-a")
            ejected = [c for c in changes if c.what == "endpoint"]
            assert ejected and all(c.name.startswith(f"{v1_ip}:8080 ") and c.change == "changed" for c in ejected)
            assert all("outlier FAILED" in c.detail.split("->")[1] for c in ejected)
            assert not [c for c in changes if c.what == "cluster"]  # no cluster setting changed
            # The table shows them; esc returns to the proxy config, now showing the new weights.
            shown = app.screen.query_one("#pc-diff-table", BigTable)
            assert shown.row_count == len(changes)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and after in _weights_in_screen(app, mesh.ns)

            # A second d still diffs against the same snapshot; D replaces it, then nothing differs.
            await pilot.press("D")
            await pilot.press("d")
            await _settle(app, pilot)
            assert isinstance(app.screen, ProxyDiffScreen) and app.screen.changes == []
    finally:
        source.close()


# -- 2. a service's endpoints across all its clients ------------------------------------------


def _ip(pod: str) -> str:
    return next(ip for name, _v, ip, _r in BACKENDS if name == pod)


def test_cli_service_endpoints_across_clients(mesh: Mesh, capsys: pytest.CaptureFixture[str]) -> None:
    mesh.annotate("backend-v1-a", OUTLIER, "curl-1,curl-2")  # ejected by both curl clients only
    mesh.annotate("backend-v0-a", OUTLIER, "true")  # ejected by every client
    clients = sorted([name for name, *_ in BACKENDS] + [name for name, _ in CLIENTS])
    argv = ["proxy-config", "endpoints", "--service", f"{SERVICE}.{mesh.ns}", "--kubeconfig", mesh.kubeconfig]

    code, out, err = _cli([*argv, "-o", "json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    # Exported to its own namespace only: the clients are exactly the sidecars written there.
    assert sorted(c.split(".")[0] for c in doc["clients"]) == clients
    assert doc["errors"] == [] and doc["not_queried"] == 0
    by_ep = {e["endpoint"]: e for e in doc["endpoints"]}
    assert set(by_ep) == {f"{ip}:8080" for _n, _v, ip, _r in BACKENDS}
    n = len(clients)
    assert by_ep[f"{_ip('backend-v0-a')}:8080"]["ejected_by"] == n
    assert by_ep[f"{_ip('backend-v1-a')}:8080"]["ejected_by"] == len(CLIENTS)
    assert by_ep[f"{_ip('backend-v0-b')}:8080"]["ejected_by"] == 0
    assert by_ep[f"{_ip('backend-v0-b')}:8080"]["statuses"] == {"UNHEALTHY": n}  # not ready
    assert by_ep[f"{_ip('backend-v0-a')}:8080"]["statuses"] == {"HEALTHY": n}
    v1 = by_ep[f"{_ip('backend-v1-a')}:8080"]["per_client"]
    failed = {r["client"].split(".")[0] for r in v1 if r["outlier_check"] == "FAILED"}
    assert failed == {name for name, _ in CLIENTS}
    # Each client lists v1-a in the service's default cluster and in the v1 subset's.
    assert {r["cluster"] for r in v1} == {f"outbound|80||{SERVICE}.{mesh.ns}.svc.cluster.local",
                                          f"outbound|80|v1|{SERVICE}.{mesh.ns}.svc.cluster.local"}

    code, out, err = _cli(argv, capsys)
    assert code == 0, err
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()]
    assert rows[0] == ["ENDPOINT", "CLIENT", "STATUS", "OUTLIER CHECK", "CLUSTER"]
    summary = next(r for r in rows if r[0] == f"{_ip('backend-v1-a')}:8080" and r[1] == "*")
    assert summary[3] == f"ejected by {len(CLIENTS)}/{n} clients"
    detail = [r for r in rows if r[0] == f"{_ip('backend-v1-a')}:8080" and r[1] == f"curl-1.{mesh.ns}"]
    assert detail and all(r[3] == "FAILED" for r in detail)
    assert f"{n} client sidecars of {SERVICE}.{mesh.ns}.svc.cluster.local" in err


def test_cli_service_endpoints_bad_input(mesh: Mesh, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(["proxy-config", "endpoints", "--service", f"nope.{mesh.ns}", "--kubeconfig", mesh.kubeconfig],
                          capsys)
    assert code == 2 and err.strip() == f"meshtui: no Service nope in namespace {mesh.ns}"
    code, out, err = _cli(["proxy-config", "routes", "--service", SERVICE, "--kubeconfig", mesh.kubeconfig], capsys)
    assert code == 2 and "--service" in err and len(err.strip().splitlines()) == 1


async def test_screen_service_endpoints_with_progress_and_summaries(mesh: Mesh) -> None:
    from meshtui.sources.kube import KubeSource

    mesh.annotate("backend-v1-a", OUTLIER, "curl-2")
    source = KubeSource.from_kubeconfig(mesh.kubeconfig)
    try:
        index = MeshIndex(source.snapshot().objects)
        screen = ServiceEndpointsScreen(source, mesh.ns, SERVICE, index=index)
        app = Host(screen)
        n = len(BACKENDS) + len(CLIENTS)
        async with app.run_test(size=(220, 40)) as pilot:
            await wait_for(pilot, lambda: screen.report is not None)
            await _settle(app, pilot)
            table = screen.query_one("#se-table", BigTable)
            rows = [cells for _, cells in table.shown_rows]
            summary = next(r for r in rows if r[0] == f"{_ip('backend-v1-a')}:8080" and r[1] == "*")
            assert summary[3] == f"ejected by 1/{n} clients"
            assert [r[3] for r in rows if r[0] == summary[0] and r[1] == f"curl-2.{mesh.ns}"] == ["FAILED", "FAILED"]
            unhealthy = next(r for r in rows if r[0] == f"{_ip('backend-v0-b')}:8080" and r[1] == "*")
            assert unhealthy[2] == f"UNHEALTHY {n}/{n}"
            assert not screen.query_one("#se-progress").display  # done: the progress bar is gone
            await pilot.press("t")  # summaries only
            assert [cells[1] for _, cells in table.shown_rows] == ["*"] * len(BACKENDS)
            await pilot.press("t", "slash", *"curl-2")
            await pilot.pause()
            assert table.row_count > 0 and all(cells[1] == f"curl-2.{mesh.ns}" for _, cells in table.shown_rows)
    finally:
        source.close()


async def test_mesh_screen_E_opens_the_service_endpoints(mesh: Mesh) -> None:
    from meshtui.app import MeshApp
    from meshtui.sources.kube import KubeSource
    from meshtui.widgets.mesh_tree import MeshTree

    app = MeshApp(lambda: KubeSource.from_kubeconfig(mesh.kubeconfig, namespace=mesh.ns))
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.index.get("Service", mesh.ns, SERVICE) is not None)
        tree = app.screen.query_one(MeshTree)
        tree.focus()
        await pilot.press("home")
        for _ in range(50):
            node = tree.cursor_node
            if node is not None and node.data == ("svc", "Service", mesh.ns, SERVICE):
                break
            if node is not None and node.data == ("ns", mesh.ns) and not node.is_expanded:
                await pilot.press("space")
            await pilot.press("down")
        await pilot.pause()
        await pilot.press("E")
        await pilot.pause()
        assert isinstance(app.screen, ServiceEndpointsScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.report is not None)
        assert len(screen.report.clients) == len(BACKENDS) + len(CLIENTS)
