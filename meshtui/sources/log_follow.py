"""Follow one container of many pods at once: a Textual-free multiplexer over ``Source.logs``.

``LogFollower`` runs one thread per pod. ``set_pods`` is the whole membership protocol: pods
that appear start a stream, pods that go away have theirs stopped (the owner calls it whenever
the mesh index changes). A stream that breaks or ends while its pod is still wanted is
reopened with backoff, asking only for what may have been missed (``since_seconds`` from the
last line received plus a margin) and dropping the lines already delivered (``ReplayFilter``),
so a cut costs neither lines nor duplicates.

Lines go into one bounded queue as ``(pod, line)``; when it is full the pod threads block
(back-pressure reaches the log stream and the server) instead of memory growing. The consumer
takes whole batches with ``drain`` (the UI, from a timer) or ``batches`` (a blocking loop).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from meshtui.sources.base import NotFoundError
from meshtui.util.backoff import Backoff

PodKey = tuple[str, str]  # (namespace, pod)
Item = tuple[PodKey, str]

#: Seconds added to the since window of a resumed stream: covers clock skew and the time between
#: Envoy writing a line and us receiving it.
RESUME_MARGIN_S = 2
#: Lines of each pod remembered to recognise the replayed part of a resumed stream.
HISTORY_LINES = 4096


class LineQueue:
    """A bounded FIFO of ``(pod, line)`` shared by producer threads and one consumer.

    ``put`` blocks while the queue is full (waking every 0.1 s to notice ``stop``); ``drain``
    never blocks. ``dropped`` stays 0: nothing is dropped here, slowness is pushed upstream.
    """

    def __init__(self, maxsize: int = 50_000) -> None:
        if maxsize <= 0:
            raise ValueError(f"maxsize must be positive, not {maxsize}")
        self.maxsize = maxsize
        self._items: deque[Item] = deque()
        self._lock = threading.Lock()
        self._not_full = threading.Condition(self._lock)
        self._not_empty = threading.Condition(self._lock)
        self.put_count = 0
        self.blocked_count = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Item, stop: threading.Event) -> bool:
        """Add one item; False when ``stop`` was set while waiting for room."""
        with self._lock:
            if len(self._items) >= self.maxsize:
                self.blocked_count += 1
                while len(self._items) >= self.maxsize:
                    if stop.is_set():
                        return False
                    self._not_full.wait(0.1)
            self._items.append(item)
            self.put_count += 1
            self._not_empty.notify()
            return True

    def drain(self, max_items: int | None = None, timeout: float = 0.0) -> list[Item]:
        """Take up to ``max_items`` (all when None); wait up to ``timeout`` s for the first."""
        with self._lock:
            if not self._items and timeout > 0:
                self._not_empty.wait(timeout)
            items = self._items
            if max_items is None or max_items >= len(items):
                out = list(items)
                items.clear()
            else:
                out = [items.popleft() for _ in range(max_items)]
            if out:
                self._not_full.notify_all()
            return out


class ReplayFilter:
    """Drops the replayed head of a resumed stream: the lines already delivered.

    ``history`` are the last lines delivered for the pod, oldest first. The resumed stream is a
    contiguous piece of the same log that runs past the end of ``history``; the filter finds
    where the history's last line goes by (with the lines before it matching the history as
    far as both go) and passes only what follows.

    When ``complete`` the caller knows the replay cannot start before the history (it holds
    every line delivered in the resume window, and the window starts after the first
    connection): the replay then starts *inside* the history, so a first line found nowhere in
    it means no overlap at all (a restarted container) and everything passes at once. When not
    ``complete`` the replay may start earlier, so lines are held until the history's end goes
    by, or ``lookahead`` lines pass without it (then they are delivered: nothing matched).
    Among overlaps that fit repeated lines the longest wins. The last history line may have
    been cut short by the break: it matches any line it starts.
    """

    def __init__(self, history: Iterable[str], *, complete: bool = True, lookahead: int | None = None) -> None:
        self._h = list(history)
        self._complete = complete
        self._lookahead = lookahead if lookahead is not None else 4 * len(self._h) + 64
        self._held: list[str] = []
        self._alive: list[int] = []  # index in history of the last line each alignment matched
        self._best: int | None = None  # length of the held prefix known to be replay
        self.done = not self._h
        self.skipped = 0

    def _eq(self, pos: int, line: str) -> bool:
        h = self._h[pos]
        return line == h or (pos == len(self._h) - 1 and bool(h) and line.startswith(h))

    def feed(self, line: str) -> list[str]:
        """The lines to deliver now, given the next line of the stream."""
        if self.done:
            return [line]
        held = self._held
        held.append(line)
        last = len(self._h) - 1
        eq = self._eq
        if len(held) == 1:
            # The replay may start at any line of the history.
            alive = [i for i in range(last + 1) if eq(i, line)]
        else:
            alive = [s + 1 for s in self._alive if s < last and eq(s + 1, line)]
            if not self._complete and eq(0, line) and 0 not in alive:
                alive.append(0)  # the history itself may start here
        if last in alive:
            self._best = len(held)
            alive = [s for s in alive if s != last]
        self._alive = alive
        if self._best is not None and not alive:
            return self._release(self._best)
        if not alive and self._complete:
            return self._release(0)
        if len(held) > self._lookahead:
            return self._release(self._best or 0)
        return []

    def _release(self, skip: int) -> list[str]:
        self.done = True
        self.skipped = skip
        out = self._held[skip:]
        self._held = []
        self._alive = []
        return out

    def flush(self) -> list[str]:
        """At the end of the stream: deliver what is held beyond the longest overlap found."""
        if self.done:
            return []
        return self._release(self._best or 0)


@dataclass(slots=True)
class PodState:
    """What the follower knows about one pod's stream."""

    # starting | following (the server accepted the stream) | reconnecting | gone | stopped
    state: str = "starting"
    detail: str = ""
    lines: int = 0
    reconnects: int = 0
    replayed: int = 0


class _PodStream:
    __slots__ = ("key", "stop", "thread", "history", "last_recv", "state", "started")

    def __init__(self, key: PodKey) -> None:
        self.key = key
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.history: deque[tuple[float, str]] = deque(maxlen=HISTORY_LINES)
        self.last_recv: float | None = None
        self.started: float | None = None
        self.state = PodState()


class LogFollower:
    """Follow ``container`` of a changing set of pods through ``source.logs``.

    ``tail_lines`` and ``since_seconds`` apply to the first connection of each pod (a pod that
    joins later starts with the same ``tail_lines``/``since_seconds``). ``notices`` collects
    one-line events (joined, left, reconnecting, resumed) for the UI to show. "resumed" is said
    only once ``source.logs`` returned, which a source does when the server accepted the
    stream (the kube source sends the request before returning); until then the pod stays
    "reconnecting".
    """

    def __init__(
        self,
        source: Any,
        *,
        container: str = "istio-proxy",
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        max_queue: int = 50_000,
        retry_initial: float = 0.5,
        retry_max: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.container = container
        self.tail_lines = tail_lines
        self.since_seconds = since_seconds
        self.queue = LineQueue(max_queue)
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.clock = clock
        self._streams: dict[PodKey, _PodStream] = {}
        self._lock = threading.Lock()
        self._notices: list[str] = []
        self._closed = threading.Event()

    # -- membership -------------------------------------------------------------------------

    def set_pods(self, pods: Iterable[PodKey]) -> tuple[list[PodKey], list[PodKey]]:
        """Follow exactly ``pods`` from now on; returns (joined, left)."""
        wanted = set(pods)
        with self._lock:
            if self._closed.is_set():
                return [], []
            left = sorted(k for k in self._streams if k not in wanted)
            joined = sorted(k for k in wanted if k not in self._streams)
            for key in left:
                stream = self._streams.pop(key)
                stream.stop.set()
                stream.state.state = "stopped"
            for key in joined:
                stream = self._streams[key] = _PodStream(key)
                stream.thread = threading.Thread(
                    target=self._run, args=(stream,), name=f"logs-{key[0]}/{key[1]}", daemon=True
                )
                stream.thread.start()
        for key in joined:
            self._notice(f"{key[0]}/{key[1]} joined")
        for key in left:
            self._notice(f"{key[0]}/{key[1]} left")
        return joined, left

    @property
    def pods(self) -> list[PodKey]:
        """The pods followed now."""
        with self._lock:
            return sorted(self._streams)

    def states(self) -> dict[PodKey, PodState]:
        """A copy of each followed pod's state."""
        with self._lock:
            return {k: replace(s.state) for k, s in self._streams.items()}

    def take_notices(self) -> list[str]:
        """The notices since the last call."""
        with self._lock:
            out, self._notices = self._notices, []
        return out

    def _notice(self, text: str) -> None:
        with self._lock:
            if len(self._notices) < 1000:
                self._notices.append(text)

    # -- consuming --------------------------------------------------------------------------

    def drain(self, max_items: int | None = None, timeout: float = 0.0) -> list[Item]:
        """The ``(pod, line)`` items queued so far (up to ``max_items``), oldest first."""
        return self.queue.drain(max_items, timeout)

    def batches(self, stop: threading.Event, max_items: int = 10_000, timeout: float = 0.1) -> Iterator[list[Item]]:
        """Yield non-empty batches until ``stop`` is set or the follower is closed."""
        while not stop.is_set() and not self._closed.is_set():
            batch = self.queue.drain(max_items, timeout)
            if batch:
                yield batch

    def close(self, wait: float = 0.0) -> None:
        """Stop every stream; with ``wait`` > 0 join the threads for up to that many seconds."""
        self._closed.set()
        with self._lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for s in streams:
            s.stop.set()
        deadline = time.monotonic() + wait
        for s in streams:
            left = deadline - time.monotonic()
            if s.thread is not None and left > 0:
                s.thread.join(left)

    # -- one pod ----------------------------------------------------------------------------

    def _open_args(self, s: _PodStream) -> tuple[int | None, int | None, ReplayFilter | None]:
        """(tail_lines, since_seconds, replay filter) for the next connection of ``s``."""
        now = self.clock()
        if s.last_recv is None:
            # Nothing delivered yet: ask again for what the first connection asked for.
            since = self.since_seconds
            if since is not None and s.started is not None:
                since += math.ceil(now - s.started)
            return self.tail_lines, since, None
        since = max(1, math.ceil(max(0.0, now - s.last_recv)) + RESUME_MARGIN_S)
        window_start = now - since
        # The replay starts inside the history only if the history holds every line delivered
        # in the window and the window begins after the first connection (whose tail/since
        # left older lines of the log undelivered, and so unknown to the history).
        whole = len(s.history) < (s.history.maxlen or 0) or s.history[0][0] < window_start - 1
        after_start = s.started is not None and window_start > s.started + RESUME_MARGIN_S
        replay = ReplayFilter((line for _t, line in s.history), complete=whole and after_start)
        return None, since, replay

    def _run(self, s: _PodStream) -> None:
        ns, pod = s.key
        backoff = Backoff(self.retry_initial, self.retry_max)
        put = self.queue.put
        s.started = self.clock()
        while not s.stop.is_set():
            tail, since, replay = self._open_args(s)
            try:
                stream = self.source.logs(ns, pod, container=self.container, follow=True,
                                          tail_lines=tail, since_seconds=since, stop=s.stop)
                s.state.state, s.state.detail = "following", ""
                if s.state.reconnects:
                    self._notice(f"{ns}/{pod} resumed")
                for line in stream:
                    if s.stop.is_set():
                        break
                    out = replay.feed(line) if replay is not None else (line,)
                    if replay is not None and replay.done:
                        s.state.replayed += replay.skipped
                        replay = None
                    for item in out:
                        s.last_recv = self.clock()
                        s.history.append((s.last_recv, item))
                        s.state.lines += 1
                        if not put((s.key, item), s.stop):
                            return
                    backoff.reset()
                if replay is not None:
                    for item in replay.flush():
                        s.last_recv = self.clock()
                        s.history.append((s.last_recv, item))
                        if not put((s.key, item), s.stop):
                            return
                detail = "the log stream ended"
            except NotFoundError as exc:
                s.state.state, s.state.detail = "gone", str(exc)
                detail = str(exc)
            except Exception as exc:  # noqa: BLE001 - any failure of one stream: retry, the others go on
                detail = str(exc) or type(exc).__name__
            if s.stop.is_set():
                break
            s.state.reconnects += 1
            if s.state.state != "gone":
                s.state.state = "reconnecting"
            s.state.detail = detail
            self._notice(f"{ns}/{pod}: {detail}; reconnecting")
            # Jitter keeps many pods cut at once from reconnecting in lockstep.
            s.stop.wait(backoff.next())
        s.state.state = "stopped"
