"""The multi-pod log follower: replay de-duplication, back-pressure, cut streams, pods that
join and leave (the last against the sandbox, through the kube source)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.sandbox.server import Sandbox
from meshtui.sources.base import UnavailableError
from meshtui.sources.kube import KubeSource
from meshtui.sources.log_follow import LineQueue, LogFollower, PodKey, ReplayFilter


def line(i: int) -> str:
    """A distinct access-log-like line (real lines carry a timestamp and a request id)."""
    return f'[2025-01-01T00:00:{i % 60:02d}.{i:03d}Z] "GET /item/{i} HTTP/1.1" 200 - req-{i}'


def wait_for(cond: Any, what: str, limit: float = 20.0) -> None:
    """Poll ``cond`` until true; fail with ``what`` after ``limit`` seconds (a hang guard only)."""
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


# --- the replay filter ----------------------------------------------------------------------

def feed_all(f: ReplayFilter, lines: list[str]) -> list[str]:
    out: list[str] = []
    for ln in lines:
        out += f.feed(ln)
    return out + f.flush()


def test_replay_starting_inside_the_history_is_dropped() -> None:
    history = [line(i) for i in range(10)]
    replay = [line(i) for i in range(6, 14)]
    assert feed_all(ReplayFilter(history), replay) == [line(i) for i in range(10, 14)]


def test_replay_of_exactly_the_history_tail_then_quiet_delivers_nothing_and_is_done() -> None:
    f = ReplayFilter([line(i) for i in range(5)])
    assert f.feed(line(3)) == [] and f.feed(line(4)) == []
    assert f.done  # decided without waiting for another line
    assert f.feed(line(5)) == [line(5)]


def test_a_stream_with_no_overlap_passes_whole() -> None:
    """A restarted container: its log shares nothing with what was delivered."""
    fresh = [f"new {i}" for i in range(3)]
    assert feed_all(ReplayFilter([line(i) for i in range(5)]), fresh) == fresh


def test_repeated_lines_align_on_the_longest_overlap() -> None:
    history = ["a", "b", "a"]
    assert feed_all(ReplayFilter(history), ["a", "b", "a", "c"]) == ["c"]
    assert feed_all(ReplayFilter(history), ["a", "c"]) == ["c"]


def test_a_line_cut_short_by_the_break_matches_its_full_text() -> None:
    history = [line(0), line(1), line(2)[:20]]
    assert feed_all(ReplayFilter(history), [line(1), line(2), line(3)]) == [line(3)]


def test_an_incomplete_history_waits_for_its_tail_to_go_by() -> None:
    """When more lines were logged in the resume window than the history holds, the replay
    starts before the history: everything up to the history's end is dropped."""
    history = [line(i) for i in range(50, 60)]
    replay = [line(i) for i in range(40, 65)]
    assert feed_all(ReplayFilter(history, complete=False), replay) == [line(i) for i in range(60, 65)]


def test_an_incomplete_history_still_recognises_a_replay_starting_inside_it() -> None:
    history = [line(i) for i in range(10)]
    replay = [line(i) for i in range(6, 14)]
    assert feed_all(ReplayFilter(history, complete=False), replay) == [line(i) for i in range(10, 14)]


def test_an_incomplete_history_never_seen_gives_up_after_the_lookahead() -> None:
    f = ReplayFilter(["x", "y"], complete=False, lookahead=5)
    fresh = [f"n{i}" for i in range(8)]
    assert feed_all(f, fresh) == fresh


# --- the queue ------------------------------------------------------------------------------

def test_a_full_queue_blocks_the_producer_until_drained() -> None:
    q = LineQueue(maxsize=3)
    stop = threading.Event()
    done = threading.Event()

    def produce() -> None:
        for i in range(6):
            q.put((("ns", "p"), str(i)), stop)
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    wait_for(lambda: len(q) == 3, "the queue to fill")
    assert not done.is_set() and q.blocked_count >= 1
    got = q.drain()
    wait_for(done.is_set, "the producer to finish")
    got += q.drain()
    t.join()
    assert [item for _pod, item in got] == [str(i) for i in range(6)]


def test_a_blocked_producer_gives_up_when_stopped() -> None:
    q = LineQueue(maxsize=1)
    stop = threading.Event()
    assert q.put((("ns", "p"), "a"), stop)
    stop.set()
    assert q.put((("ns", "p"), "b"), stop) is False


# --- a cut stream (a Source of our own protocol whose stream breaks on demand) ----------------

class CuttableSource:
    """An in-memory ``Source.logs``: lines with timestamps, ``since_seconds`` and ``tail_lines``
    as the API server applies them, and a switch that breaks the open streams."""

    def __init__(self) -> None:
        self.lines: dict[PodKey, list[tuple[float, str]]] = {}
        self.cond = threading.Condition()
        self.generation = 0
        self.opens: list[dict[str, Any]] = []

    def append(self, pod: PodKey, text: str) -> None:
        with self.cond:
            self.lines.setdefault(pod, []).append((time.time(), text))
            self.cond.notify_all()

    def cut(self) -> None:
        with self.cond:
            self.generation += 1
            self.cond.notify_all()

    def logs(self, namespace: str, pod: str, *, container: str = "istio-proxy", follow: bool = True,
             tail_lines: int | None = None, since_seconds: int | None = None,
             stop: threading.Event | None = None) -> Iterator[str]:
        key = (namespace, pod)
        self.opens.append({"pod": key, "tail_lines": tail_lines, "since_seconds": since_seconds})
        with self.cond:
            gen = self.generation
            entries = list(self.lines.get(key, []))
        if since_seconds is not None:
            cutoff = time.time() - since_seconds
            entries = [e for e in entries if e[0] >= cutoff]
        if tail_lines is not None:
            entries = entries[-tail_lines:] if tail_lines else []
        pos = len(self.lines.get(key, []))
        yield from (text for _ts, text in entries)
        while stop is None or not stop.is_set():
            with self.cond:
                if self.generation != gen:
                    raise UnavailableError(f"log of {namespace}/{pod}: connection reset")
                new = self.lines.get(key, [])[pos:]
                if not new:
                    self.cond.wait(0.05)
                    continue
                pos += len(new)
            yield from (text for _ts, text in new)


def test_a_cut_stream_resumes_without_losing_or_repeating_lines() -> None:
    src = CuttableSource()
    pod = ("shop", "web-1")
    for i in range(30):
        src.append(pod, line(i))
    follower = LogFollower(src, tail_lines=10, retry_initial=0.05)
    try:
        follower.set_pods([pod])
        got: list[str] = []
        wait_for(lambda: got.extend(t for _p, t in follower.drain()) or len(got) >= 10, "the tail")
        src.cut()
        for i in range(30, 40):  # logged while the stream is down or reconnecting
            src.append(pod, line(i))
        wait_for(lambda: got.extend(t for _p, t in follower.drain()) or len(got) >= 20, "the resumed lines")
        for i in range(40, 45):
            src.append(pod, line(i))
        wait_for(lambda: got.extend(t for _p, t in follower.drain()) or len(got) >= 25, "new lines")
        time.sleep(0.2)
        got.extend(t for _p, t in follower.drain())
        assert got == [line(i) for i in range(20, 45)]
        resumed = [o for o in src.opens if o["tail_lines"] is None]
        assert resumed and all(o["since_seconds"] is not None for o in resumed)
        assert follower.states()[pod].reconnects >= 1
    finally:
        follower.close(wait=5)


# --- against the sandbox --------------------------------------------------------------------

NS = "meshtui-follow-test"


def pod_body(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"},
                                    {"name": "istio-proxy", "image": "proxyv2:1"}]},
            "status": {"phase": "Running", "podIP": "10.244.99.1"}}


@pytest.fixture(scope="module")
def core(sandbox: Sandbox) -> Iterator[client.CoreV1Api]:
    assert sandbox.kubeconfig_path is not None
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": NS}})
    yield core
    core.delete_namespace(NS)
    api.close()


def test_pods_join_and_leave_the_followed_set(sandbox: Sandbox, core: client.CoreV1Api) -> None:
    hub = sandbox.app["logs"]
    core.create_namespaced_pod(NS, pod_body("web-a"))
    sandbox.call(hub.append, NS, "web-a", "istio-proxy", "a before")
    assert sandbox.kubeconfig_path is not None
    source = KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path))
    follower = LogFollower(source, tail_lines=5, retry_initial=0.05)
    got: list[tuple[PodKey, str]] = []

    def seen(text: str) -> bool:
        got.extend(follower.drain())
        return any(t == text for _p, t in got)

    try:
        follower.set_pods([(NS, "web-a")])
        wait_for(lambda: seen("a before"), "web-a's tail")
        sandbox.call(hub.append, NS, "web-a", "istio-proxy", "a live")
        wait_for(lambda: seen("a live"), "web-a's new line")

        core.create_namespaced_pod(NS, pod_body("web-b"))  # a pod that appears later
        joined, left = follower.set_pods([(NS, "web-a"), (NS, "web-b")])
        assert (joined, left) == ([(NS, "web-b")], [])
        wait_for(lambda: follower.states()[(NS, "web-b")].state == "following", "web-b's stream")
        sandbox.call(hub.append, NS, "web-b", "istio-proxy", "b live")
        wait_for(lambda: seen("b live"), "web-b's line")

        core.delete_namespaced_pod("web-a", NS)  # the pod goes away: its owner drops it
        assert follower.set_pods([(NS, "web-b")]) == ([], [(NS, "web-a")])
        assert follower.pods == [(NS, "web-b")]
        sandbox.call(hub.append, NS, "web-b", "istio-proxy", "b still")
        wait_for(lambda: seen("b still"), "web-b after web-a left")
        assert [t for p, t in got if p == (NS, "web-a")] == ["a before", "a live"]
        assert [t for p, t in got if p == (NS, "web-b")] == ["b live", "b still"]
        notices = follower.take_notices()
        assert f"{NS}/web-b joined" in notices and f"{NS}/web-a left" in notices
    finally:
        follower.close(wait=5)
        source.close()
