"""The kube source's watch against the sandbox: live changes, resume after dropped connections,
410 Gone → relist, connection state, and stop.

Connections are cut with a small TCP proxy between the source and the sandbox, as a flaky network
or a restarting API server would cut them; changes are made with the official client directly.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.sandbox import kubeconfig as sandbox_kubeconfig
from meshtui.sandbox.server import Sandbox
from meshtui.sources.base import ConnectionState, ObjectEvent, ResyncEvent, SourceEvent, StateEvent
from meshtui.sources.kube import KubeSource
from meshtui.sources.kube_watch import WatchSettings
from outage_proxy import OutageProxy

NS = "watch"
ISTIO = ("networking.istio.io", "v1", NS, "virtualservices")
# Quick reconnects, so the tests do not wait on production backoff.
FAST = WatchSettings(backoff_base=0.05, backoff_cap=0.3, stale_after=60.0, poll=0.05)
WAIT = 20.0  # a hang guard, not a speed expectation


@pytest.fixture(scope="module")
def sandbox_and_admin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, client.ApiClient, Path]]:
    sb = Sandbox(scenario=False).start()
    path = sb.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")
    admin = config.new_client_from_config(str(path), persist_config=False)
    client.CoreV1Api(admin).create_namespace({"metadata": {"name": NS}})
    try:
        yield sb, admin, path
    finally:
        admin.close()
        sb.stop()


@pytest.fixture
def proxy(sandbox_and_admin: tuple[Sandbox, client.ApiClient, Path]) -> Iterator[OutageProxy]:
    p = OutageProxy(sandbox_and_admin[0].port)
    yield p
    p.close()


def proxied_kubeconfig(sb: Sandbox, proxy: OutageProxy, tmp_path: Path) -> Path:
    """A kubeconfig for the sandbox whose server address is the proxy (same scheme and CA)."""
    url = sb.url.rsplit(":", 1)[0] + f":{proxy.port}"
    return sandbox_kubeconfig.write(tmp_path / "config", url, sb.admin_token, sb.readonly_token,
                                    getattr(sb, "ca_pem", None))


@pytest.fixture
def source(sandbox_and_admin: tuple[Sandbox, client.ApiClient, Path], proxy: OutageProxy,
           tmp_path: Path) -> Iterator[KubeSource]:
    """A kube source that reaches the sandbox through the flaky proxy."""
    path = proxied_kubeconfig(sandbox_and_admin[0], proxy, tmp_path)
    src = KubeSource.from_kubeconfig(str(path), settings=FAST)
    yield src
    src.close()


class Watching:
    """Runs ``source.watch`` in a thread and queues what it yields."""

    def __init__(self, source: KubeSource, resume: dict[str, str] | None) -> None:
        self.stop = threading.Event()
        self.events: queue.Queue[SourceEvent] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(source, resume), daemon=True)
        self.thread.start()

    def _run(self, source: KubeSource, resume: dict[str, str] | None) -> None:
        for ev in source.watch(self.stop, resume):
            self.events.put(ev)

    def until(self, pred: Callable[[SourceEvent], bool]) -> tuple[SourceEvent, list[SourceEvent]]:
        """The first event matching ``pred``, and every event before it."""
        seen: list[SourceEvent] = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                ev = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            if pred(ev):
                return ev, seen
            seen.append(ev)
        raise AssertionError(f"no matching event; saw {seen!r}")

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=WAIT)
        assert not self.thread.is_alive()


def vs(name: str, weight: int = 100) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"hosts": [name], "http": [{"route": [{"destination": {"host": name}, "weight": weight}]}]}}


def is_vs(name: str, typ: str) -> Callable[[SourceEvent], bool]:
    return lambda ev: (isinstance(ev, ObjectEvent) and ev.type == typ and ev.object["kind"] == "VirtualService"
                       and ev.object["metadata"]["name"] == name)


def vs_events(events: list[SourceEvent]) -> list[tuple[str, str]]:
    return [(ev.type, ev.object["metadata"]["name"]) for ev in events
            if isinstance(ev, ObjectEvent) and ev.object["kind"] == "VirtualService"]


def states(events: list[SourceEvent]) -> list[ConnectionState]:
    return [ev.state for ev in events if isinstance(ev, StateEvent)]


def watcher_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("meshtui-watch-", "meshtui-kube-"))]


def test_watch_sees_create_update_delete(sandbox_and_admin: tuple[Sandbox, client.ApiClient, Path],
                                         source: KubeSource) -> None:
    custom = client.CustomObjectsApi(sandbox_and_admin[1])
    w = Watching(source, source.snapshot().resume)
    try:
        custom.create_namespaced_custom_object(*ISTIO, vs("cud"))
        added, _ = w.until(is_vs("cud", "ADDED"))
        assert added.object["apiVersion"] == "networking.istio.io/v1"
        current = custom.get_namespaced_custom_object(*ISTIO, "cud")
        current["spec"]["http"][0]["route"][0]["weight"] = 100
        current["spec"]["hosts"] = ["cud", "cud.example.com"]
        custom.replace_namespaced_custom_object(*ISTIO, "cud", current)
        modified, _ = w.until(is_vs("cud", "MODIFIED"))
        assert modified.object["spec"]["hosts"] == ["cud", "cud.example.com"]
        custom.delete_namespaced_custom_object(*ISTIO, "cud")
        w.until(is_vs("cud", "DELETED"))
    finally:
        w.close()


def test_watch_resumes_after_dropped_connections_without_loss_or_duplicates(
    sandbox_and_admin: tuple[Sandbox, client.ApiClient, Path], source: KubeSource, proxy: OutageProxy,
) -> None:
    custom = client.CustomObjectsApi(sandbox_and_admin[1])
    w = Watching(source, source.snapshot().resume)
    try:
        custom.create_namespaced_custom_object(*ISTIO, vs("r1"))
        w.until(is_vs("r1", "ADDED"))
        proxy.refusing.set()
        proxy.drop()
        w.until(lambda ev: isinstance(ev, StateEvent) and ev.state == ConnectionState.RECONNECTING)
        # Changes made while the source is cut off.
        custom.create_namespaced_custom_object(*ISTIO, vs("r2"))
        r1 = custom.get_namespaced_custom_object(*ISTIO, "r1")
        r1["spec"]["hosts"] = ["r1", "r1.example.com"]
        custom.replace_namespaced_custom_object(*ISTIO, "r1", r1)
        custom.delete_namespaced_custom_object(*ISTIO, "r2")
        proxy.refusing.clear()
        live, during = w.until(lambda ev: isinstance(ev, StateEvent) and ev.state == ConnectionState.LIVE)
        custom.create_namespaced_custom_object(*ISTIO, vs("r-end"))
        _, after = w.until(is_vs("r-end", "ADDED"))
        # Drop again while streams are open: still nothing lost or repeated.
        proxy.drop()
        custom.create_namespaced_custom_object(*ISTIO, vs("r3"))
        _, more = w.until(is_vs("r3", "ADDED"))
    finally:
        w.close()
    assert vs_events(during + after) == [("ADDED", "r2"), ("MODIFIED", "r1"), ("DELETED", "r2")]
    assert vs_events(more) == []
    assert not any(isinstance(ev, ResyncEvent) for ev in during + after + more)
    for name in ("r1", "r-end", "r3"):
        custom.delete_namespaced_custom_object(*ISTIO, name)


def test_expired_resource_version_relists(sandbox_and_admin: tuple[Sandbox, client.ApiClient, Path],
                                          source: KubeSource, proxy: OutageProxy) -> None:
    sb, admin, _ = sandbox_and_admin
    custom = client.CustomObjectsApi(admin)
    w = Watching(source, source.snapshot().resume)
    try:
        custom.create_namespaced_custom_object(*ISTIO, vs("g1"))
        w.until(is_vs("g1", "ADDED"))
        proxy.refusing.set()
        proxy.drop()
        w.until(lambda ev: isinstance(ev, StateEvent) and ev.state == ConnectionState.RECONNECTING)
        sb.call(sb.store.set_event_window, 1)  # the server forgets history: resuming gets 410
        custom.create_namespaced_custom_object(*ISTIO, vs("g2"))
        custom.delete_namespaced_custom_object(*ISTIO, "g1")
        custom.create_namespaced_custom_object(*ISTIO, vs("g3"))
        proxy.refusing.clear()
        resync, before = w.until(lambda ev: isinstance(ev, ResyncEvent) and ev.kinds == ("VirtualService",))
    finally:
        w.close()
        sb.call(sb.store.set_event_window, 1000)
    stored = custom.list_namespaced_custom_object(*ISTIO)["items"]
    assert sorted(o["metadata"]["name"] for o in resync.objects) == sorted(o["metadata"]["name"] for o in stored)
    assert {"g2", "g3"} <= {o["metadata"]["name"] for o in resync.objects}
    assert vs_events(before) == []  # the changes arrive in the relist, not as stray events
    for name in ("g2", "g3"):
        custom.delete_namespaced_custom_object(*ISTIO, name)


def test_long_disconnection_turns_stale_then_live(sandbox_and_admin: tuple[Sandbox, client.ApiClient, Path],
                                                  proxy: OutageProxy, tmp_path: Path) -> None:
    path = proxied_kubeconfig(sandbox_and_admin[0], proxy, tmp_path)
    settings = WatchSettings(backoff_base=0.05, backoff_cap=0.2, stale_after=0.5, poll=0.05)
    src = KubeSource.from_kubeconfig(str(path), settings=settings)
    w = Watching(src, src.snapshot().resume)
    try:
        proxy.refusing.set()
        proxy.drop()
        reconnecting, _ = w.until(lambda ev: isinstance(ev, StateEvent) and ev.state == ConnectionState.RECONNECTING)
        stale, _ = w.until(lambda ev: isinstance(ev, StateEvent) and ev.state == ConnectionState.STALE)
        assert stale.since == reconnecting.since  # stale since the moment the connection dropped
        assert stale.detail
        proxy.refusing.clear()
        w.until(lambda ev: isinstance(ev, StateEvent) and ev.state == ConnectionState.LIVE)
    finally:
        w.close()
        src.close()


def test_stop_ends_every_watch_thread(source: KubeSource, proxy: OutageProxy) -> None:
    w = Watching(source, source.snapshot().resume)
    # Streams open and idle: the threads are blocked reading sockets.
    deadline = time.monotonic() + WAIT
    while len(watcher_threads()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert watcher_threads()
    w.close()
    assert watcher_threads() == []
    # And while the server is unreachable, with the watchers backing off.
    w = Watching(source, None)
    proxy.refusing.set()
    proxy.drop()
    w.until(lambda ev: isinstance(ev, StateEvent) and ev.state == ConnectionState.RECONNECTING)
    w.close()
    assert watcher_threads() == []


def test_closing_the_source_ends_its_watch(source: KubeSource) -> None:
    w = Watching(source, source.snapshot().resume)
    source.close()
    w.thread.join(timeout=WAIT)
    assert not w.thread.is_alive()
    assert watcher_threads() == []


def test_watch_without_resume_continues_where_the_last_one_stopped(
    sandbox_and_admin: tuple[Sandbox, client.ApiClient, Path], source: KubeSource,
) -> None:
    custom = client.CustomObjectsApi(sandbox_and_admin[1])
    source.snapshot()
    w = Watching(source, None)
    custom.create_namespaced_custom_object(*ISTIO, vs("c1"))
    w.until(is_vs("c1", "ADDED"))
    w.close()
    custom.create_namespaced_custom_object(*ISTIO, vs("c2"))  # while nobody watches
    w = Watching(source, None)
    try:
        custom.create_namespaced_custom_object(*ISTIO, vs("c3"))
        _, before = w.until(is_vs("c3", "ADDED"))
    finally:
        w.close()
    assert vs_events(before) == [("ADDED", "c2")]  # c1 not repeated, c2 not lost
    for name in ("c1", "c2", "c3"):
        custom.delete_namespaced_custom_object(*ISTIO, name)
