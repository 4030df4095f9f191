"""Faults between meshtui and the API server, seen from the running app and the log tail.

A sandbox is started for this module and reached through ``OutageProxy``, a TCP proxy on
127.0.0.1 that can cut every open connection and refuse new ones: for the client that is an API
server that stopped, and ``up()`` is the server back (with its data, as etcd keeps it).
Changes during the outage are made by the official client straight to the sandbox, as another
operator would make them. Every wait is a hang guard, not a speed expectation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.app import MeshApp
from meshtui.sandbox import kubeconfig as sandbox_kubeconfig
from meshtui.sandbox.server import Sandbox
from meshtui.sources.kube import KubeSource
from meshtui.sources.kube_watch import WatchSettings
from meshtui.sources.log_follow import LogFollower
from meshtui.widgets.status_bar import StatusBar
from ui_helpers import wait_for
from outage_proxy import OutageProxy

ISTIO = ("networking.istio.io", "v1")
# Quick reconnects, so the tests do not wait on production backoff.
FAST = WatchSettings(backoff_base=0.05, backoff_cap=0.3, stale_after=60.0, poll=0.05)
WAIT = 20.0

pytestmark = pytest.mark.timeout(90)


def proxied_kubeconfig(sb: Sandbox, proxy: OutageProxy, path: Path) -> Path:
    """A kubeconfig for the sandbox whose server address is the proxy (same CA, same tokens)."""
    url = sb.url.rsplit(":", 1)[0] + f":{proxy.port}"
    return sandbox_kubeconfig.write(path, url, sb.admin_token, sb.readonly_token, sb.ca_pem)


@pytest.fixture(scope="module")
def outage_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox of this module's own (its event window is shrunk, its tokens are revoked)."""
    sb = Sandbox(scenario=False, traffic=False, bookmark_interval=0.5).start()
    sb.write_kubeconfig(tmp_path_factory.mktemp("faults") / "direct")
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture(scope="module")
def admin(outage_sandbox: Sandbox) -> Iterator[client.ApiClient]:
    """The official client, straight to the sandbox (never through the proxy)."""
    api = config.new_client_from_config(str(outage_sandbox.kubeconfig_path), persist_config=False)
    yield api
    api.close()


@pytest.fixture
def proxy(outage_sandbox: Sandbox) -> Iterator[OutageProxy]:
    p = OutageProxy(outage_sandbox.port)
    yield p
    p.close()


@pytest.fixture
def proxied(outage_sandbox: Sandbox, proxy: OutageProxy, tmp_path: Path) -> str:
    """The kubeconfig that reaches the sandbox through the proxy."""
    return str(proxied_kubeconfig(outage_sandbox, proxy, tmp_path / "config"))


_ns_counter = iter(range(1, 1000))


def fresh_namespace(api: client.ApiClient, prefix: str) -> str:
    """A namespace of the test's own."""
    ns = f"{prefix}-{next(_ns_counter)}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    return ns


def vs(name: str, ns: str, host: str | None = None) -> dict[str, Any]:
    """A one-destination VirtualService."""
    host = host or name
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"hosts": [host], "http": [{"route": [{"destination": {"host": host}}]}]}}


def server_vs(api: client.ApiClient, ns: str) -> dict[str, tuple[str, Any]]:
    """name -> (resourceVersion, spec) of the namespace's VirtualServices as the server has them."""
    items = client.CustomObjectsApi(api).list_namespaced_custom_object(*ISTIO, ns, "virtualservices")["items"]
    return {o["metadata"]["name"]: (o["metadata"]["resourceVersion"], o["spec"]) for o in items}


def index_vs(app: MeshApp, ns: str) -> dict[str, tuple[str, Any]]:
    """The same, from the app's mesh index."""
    if app.index is None:
        return {}
    return {o.name: (o.resource_version, o.raw["spec"]) for o in app.index.objects("VirtualService")
            if o.namespace == ns}


def status_text(app: MeshApp) -> str:
    """The status bar line as the user reads it."""
    return app.screen.query_one(StatusBar).render().plain


def change_while_down(api: client.ApiClient, ns: str) -> None:
    """What another operator does while meshtui is cut off: add, modify, delete."""
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(*ISTIO, ns, "virtualservices", vs("added-meanwhile", ns))
    a = custom.get_namespaced_custom_object(*ISTIO, ns, "virtualservices", "a")
    a["spec"]["hosts"] = ["a", "a.example.com"]
    custom.replace_namespaced_custom_object(*ISTIO, ns, "virtualservices", "a", a)
    custom.delete_namespaced_custom_object(*ISTIO, ns, "virtualservices", "b")
    # Churn on one object: only its last state may show.
    for i in range(5):
        c = custom.get_namespaced_custom_object(*ISTIO, ns, "virtualservices", "c")
        c["spec"]["http"][0]["timeout"] = f"{i + 1}s"
        custom.replace_namespaced_custom_object(*ISTIO, ns, "virtualservices", "c", c)


async def run_outage(outage_sandbox: Sandbox, admin: client.ApiClient, proxy: OutageProxy, proxied: str,
                     *, expire_history: bool) -> None:
    """The app runs on the proxied source; the server goes away, the mesh changes, it comes back."""
    ns = fresh_namespace(admin, "outage")
    custom = client.CustomObjectsApi(admin)
    for name in ("a", "b", "c"):
        custom.create_namespaced_custom_object(*ISTIO, ns, "virtualservices", vs(name, ns))
    app = MeshApp(lambda: KubeSource.from_kubeconfig(proxied, settings=FAST))
    states: list[str] = []
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.index is not None, WAIT)
        bar = app.screen.query_one(StatusBar)
        app.watch(bar, "state", lambda value: states.append(value))
        assert "● live" in status_text(app)
        assert index_vs(app, ns) == server_vs(admin, ns)

        proxy.down()
        await wait_for(pilot, lambda: bar.state == "reconnecting", WAIT)
        assert "● reconnecting" in status_text(app)
        if expire_history:
            outage_sandbox.call(outage_sandbox.store.set_event_window, 1)  # resuming now gets 410
        await asyncio.to_thread(change_while_down, admin, ns)
        # Still cut off: the user sees the mesh as it was, marked as not current.
        await pilot.pause(0.3)
        assert set(index_vs(app, ns)) == {"a", "b", "c"}
        assert bar.state == "reconnecting"

        proxy.up()
        await wait_for(pilot, lambda: bar.state == "live", WAIT)
        want = server_vs(admin, ns)
        await wait_for(pilot, lambda: index_vs(app, ns) == want, WAIT)
        assert "● live" in status_text(app)
        assert sorted(want) == ["a", "added-meanwhile", "c"]
        assert want["c"][1]["http"][0]["timeout"] == "5s"

        # And it keeps following afterwards.
        await asyncio.to_thread(custom.create_namespaced_custom_object, *ISTIO, ns, "virtualservices",
                                vs("after", ns))
        await wait_for(pilot, lambda: "after" in index_vs(app, ns), WAIT)
        assert index_vs(app, ns) == server_vs(admin, ns)
        assert app.index.count("VirtualService") == sum(
            1 for o in custom.list_cluster_custom_object(*ISTIO, "virtualservices")["items"])
    # The state the user saw: reconnecting, then live (never stale within 60 s, never a gap).
    assert states[:1] == ["live"] and "reconnecting" in states
    assert states[-1] == "live" and "stale" not in states


async def test_api_server_outage_shows_reconnecting_then_live_and_the_index_catches_up(
    outage_sandbox: Sandbox, admin: client.ApiClient, proxy: OutageProxy, proxied: str,
) -> None:
    await run_outage(outage_sandbox, admin, proxy, proxied, expire_history=False)


async def test_an_expired_watch_relists_and_the_index_matches_the_server(
    outage_sandbox: Sandbox, admin: client.ApiClient, proxy: OutageProxy, proxied: str,
) -> None:
    try:
        await run_outage(outage_sandbox, admin, proxy, proxied, expire_history=True)
    finally:
        outage_sandbox.call(outage_sandbox.store.set_event_window, 1000)


async def test_a_long_outage_shows_stale_since_the_cut(
    outage_sandbox: Sandbox, admin: client.ApiClient, proxy: OutageProxy, proxied: str,
) -> None:
    settings = WatchSettings(backoff_base=0.05, backoff_cap=0.2, stale_after=0.5, poll=0.05)
    app = MeshApp(lambda: KubeSource.from_kubeconfig(proxied, settings=settings))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.index is not None, WAIT)
        bar = app.screen.query_one(StatusBar)
        cut = time.time()
        proxy.down()
        await wait_for(pilot, lambda: bar.state == "stale", WAIT)
        text = status_text(app)
        assert "● stale since " in text
        shown = text.split("stale since ", 1)[1][:8]
        assert shown == time.strftime("%H:%M:%S", time.localtime(bar.since))
        assert cut - 1 <= bar.since <= time.time()
        proxy.up()
        await wait_for(pilot, lambda: bar.state == "live", WAIT)
        assert "stale" not in status_text(app)


# --- a pod log stream cut mid-tail --------------------------------------------------------------

def pod_body(name: str, ns: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"},
                                    {"name": "istio-proxy", "image": "proxyv2:1"}]},
            "status": {"phase": "Running", "podIP": "10.244.98.1"}}


def access_line(i: int) -> str:
    """A distinct access-log line (real ones carry a timestamp and a request id)."""
    return (f'[2025-01-01T00:00:{i % 60:02d}.{i % 1000:03d}Z] "GET /item/{i} HTTP/1.1" 200 - via_upstream - '
            f'"-" 0 12 3 2 "-" "curl/8" "req-{i}" "web:80" "10.244.98.1:80" inbound|80|| - - - - -')


def test_a_cut_log_stream_resumes_without_losing_or_repeating_lines(
    outage_sandbox: Sandbox, admin: client.ApiClient, proxy: OutageProxy, proxied: str,
) -> None:
    ns = fresh_namespace(admin, "logcut")
    client.CoreV1Api(admin).create_namespaced_pod(ns, pod_body("web-1", ns))
    hub = outage_sandbox.app["logs"]
    for i in range(20):  # history before meshtui starts tailing
        outage_sandbox.call(hub.append, ns, "web-1", "istio-proxy", access_line(i))
    source = KubeSource.from_kubeconfig(proxied, settings=FAST)
    follower = LogFollower(source, tail_lines=5, retry_initial=0.05, retry_max=0.3)
    got: list[str] = []

    def until(n: int, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while len(got) < n:
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}: have {len(got)} lines, want {n}")
            got.extend(t for _p, t in follower.drain(timeout=0.05))

    try:
        follower.set_pods([(ns, "web-1")])
        until(5, "the tail")
        n = 20
        for cut in range(3):
            for _ in range(10):  # lines while the stream is open
                outage_sandbox.call(hub.append, ns, "web-1", "istio-proxy", access_line(n))
                n += 1
            until(n - 15, "lines on the open stream")
            if cut == 1:
                proxy.down()  # the API server is gone for a while; lines keep being written
                for _ in range(10):
                    outage_sandbox.call(hub.append, ns, "web-1", "istio-proxy", access_line(n))
                    n += 1
                time.sleep(0.3)
                proxy.up()
            else:
                proxy.drop()  # the stream is cut; reconnecting works at once
                for _ in range(10):
                    outage_sandbox.call(hub.append, ns, "web-1", "istio-proxy", access_line(n))
                    n += 1
            until(n - 15, "the lines written around the cut")
        time.sleep(0.5)  # anything repeated would have arrived by now
        got.extend(t for _p, t in follower.drain())
        assert got == [access_line(i) for i in range(15, n)]
        assert follower.states()[(ns, "web-1")].reconnects >= 3
    finally:
        follower.close(wait=5)
        source.close()


def test_a_follower_says_reconnecting_until_a_stream_is_really_back(
    outage_sandbox: Sandbox, admin: client.ApiClient, proxy: OutageProxy, proxied: str,
) -> None:
    ns = fresh_namespace(admin, "logdown")
    client.CoreV1Api(admin).create_namespaced_pod(ns, pod_body("web-1", ns))
    source = KubeSource.from_kubeconfig(proxied, settings=FAST)
    follower = LogFollower(source, tail_lines=1, retry_initial=0.05, retry_max=0.1)
    key = (ns, "web-1")
    notices: list[str] = []

    def wait(condition: Any, what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; notices: {notices}")
            follower.drain(timeout=0.05)
            notices.extend(follower.take_notices())

    try:
        follower.set_pods([key])
        wait(lambda: follower.states()[key].state == "following", "the first stream")
        proxy.down()  # the API server is gone: every reconnect is refused
        wait(lambda: follower.states()[key].reconnects >= 4, "several refused reconnects")
        assert follower.states()[key].state == "reconnecting"
        assert not [n for n in notices if "resumed" in n], notices
        assert any("reconnecting" in n for n in notices)
        proxy.up()
        wait(lambda: any(n == f"{ns}/web-1 resumed" for n in notices), "the resumed notice")
        assert follower.states()[key].state == "following"
    finally:
        follower.close(wait=5)
        source.close()
