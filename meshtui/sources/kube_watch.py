"""The list/watch loop of the kube source: one thread per kind feeding one generator.

Each kind is watched with a raw streaming GET (``watch=true``, ``resourceVersion``,
``allowWatchBookmarks=true``) read line by line, rather than ``kubernetes.watch.Watch``:
``Watch`` turns every event into a typed model unless told otherwise, and its ``stop()`` only
takes effect after the next event arrives. A raw stream gives us the JSON as is, a socket read
timeout tied to the server-side ``timeoutSeconds`` (so a dead network cannot hang a watch), and
a response object we can shut down from another thread the moment ``stop`` is set.

Reconnects resume from the last resourceVersion seen (events and bookmarks), so nothing is lost
or repeated; 410 Gone (as an HTTP status or an ERROR event) relists that kind and yields a
``ResyncEvent``. Connection failures back off exponentially with jitter.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from meshtui.sources.base import (
    ConnectionState,
    ObjectEvent,
    ResyncEvent,
    SourceEvent,
    StateEvent,
    UnavailableError,
)
from meshtui.sources.kube_kinds import KindSpec, list_kind
from meshtui.sources.kube_rest import HttpError, Rest, describe_connection_error, iter_lines, one_line
from meshtui.util.backoff import Backoff


@dataclass(frozen=True)
class WatchSettings:
    """Timings of the watch loop (tests shorten them)."""

    # Server-side timeoutSeconds, drawn per request (spread reconnects, as client-go does).
    timeout_range: tuple[int, int] = (60, 120)
    # The socket read timeout is timeoutSeconds plus this: past it the network is dead.
    read_slack: float = 15.0
    # How long the response headers of a watch request may take (an unresponsive server).
    header_timeout: float = 10.0
    backoff_base: float = 0.25
    backoff_cap: float = 30.0
    # Disconnected longer than this: the state goes from RECONNECTING to STALE.
    stale_after: float = 20.0
    # How often stop is checked by the generator and the canceller.
    poll: float = 0.1


class Canceller(threading.Thread):
    """Shuts down registered streaming responses once ``stop`` (or ``halt``) is set.

    A thread blocked reading a socket cannot see an Event; shutting the socket down from here
    makes its read return at once.
    """

    def __init__(self, stops: Sequence[threading.Event], halt: threading.Event, poll: float) -> None:
        super().__init__(name="meshtui-kube-canceller", daemon=True)
        self.stops, self.halt, self.poll = tuple(stops), halt, poll
        self._lock = threading.Lock()
        self._live: set[Any] = set()

    def register(self, resp: Any) -> None:
        """Track ``resp``; shut it down right away if we are already halting."""
        with self._lock:
            self._live.add(resp)
        if self.halt.is_set():
            shutdown_response(resp)

    def unregister(self, resp: Any) -> None:
        """Stop tracking ``resp`` (its reader is done with it)."""
        with self._lock:
            self._live.discard(resp)

    def run(self) -> None:
        """Wait for stop or halt, then shut down every tracked response."""
        while not self.halt.wait(self.poll):
            if any(s.is_set() for s in self.stops):
                self.halt.set()
        with self._lock:
            live = list(self._live)
        for resp in live:
            shutdown_response(resp)


def shutdown_response(resp: Any) -> None:
    """Make a blocked read on ``resp`` return now (urllib3 >= 2.3 ``shutdown()``)."""
    try:
        resp.shutdown()
    except Exception:  # already released or closed: nothing is blocked on it
        pass


def _set_read_timeout(resp: Any, seconds: float) -> None:
    """Change the socket timeout of a response whose headers have arrived (urllib3 2.x)."""
    conn = getattr(resp, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def close_response(resp: Any) -> None:
    """Close ``resp`` and hand its connection back to the pool (which drops closed ones)."""
    try:
        resp.close()
        resp.release_conn()
    except Exception:
        pass


class _Gone(Exception):
    """The kind is no longer served or readable; its watcher ends."""


class _StreamError(Exception):
    """The server ended a watch with an ERROR event other than 410."""


def _connection_errors() -> tuple[type[BaseException], ...]:
    import urllib3.exceptions

    return (urllib3.exceptions.HTTPError, OSError, _StreamError, orjson.JSONDecodeError)


class KindWatcher(threading.Thread):
    """Watches one kind and puts tagged items on ``out`` (see ``watch_kinds``)."""

    def __init__(
        self, rest: Rest, spec: KindSpec, scope: str | None, rv: str | None,
        out: queue.Queue[tuple[Any, ...]], halt: threading.Event, canceller: Canceller,
        settings: WatchSettings,
    ) -> None:
        super().__init__(name=f"meshtui-watch-{spec.kind}", daemon=True)
        self.rest, self.spec, self.scope, self.rv = rest, spec, scope, rv
        self.out, self.halt, self.canceller, self.settings = out, halt, canceller, settings
        self.backoff = Backoff(settings.backoff_base, settings.backoff_cap)
        self.is_down = False

    def run(self) -> None:
        """Watch until halted; never dies silently (an unexpected error reports the kind down)."""
        try:
            self._loop()
        except _Gone:
            return
        except Exception as exc:  # a bug here must not freeze the view without a sign
            self._down(f"watch {self.spec.kind} stopped: {one_line(repr(exc), 150)}")

    def _down(self, detail: str) -> None:
        if not self.is_down:
            self.is_down = True
            self.out.put(("down", self.spec.index_kind, time.time(), detail))

    def _up(self) -> None:
        if self.is_down:
            self.is_down = False
            self.out.put(("up", self.spec.index_kind))

    def _pause(self) -> None:
        self.halt.wait(self.backoff.next())

    def _relist(self) -> bool:
        """List the kind again and queue a ``ResyncEvent``; False when it failed (retry later)."""
        try:
            records, rv = list_kind(self.rest, self.spec, self.scope)
        except HttpError as exc:
            if exc.status in (403, 404):
                # The kind went away (CRD deleted) or may no longer be read: empty it, stop here.
                self.out.put(("resync", self.spec.index_kind, "", ResyncEvent((self.spec.index_kind,), [])))
                raise _Gone from exc
            self._down(f"{self.spec.plural}: {exc.message}")
            return False
        except UnavailableError as exc:
            self._down(str(exc))
            return False
        self.rv = rv
        self.out.put(("resync", self.spec.index_kind, rv, ResyncEvent((self.spec.index_kind,), records)))
        return True

    def _loop(self) -> None:
        spec = self.spec
        path = spec.collection_path(self.scope)
        selector = spec.field_selector(self.scope)
        while not self.halt.is_set():
            if not self.rv and not self._relist():
                self._pause()
                continue
            timeout_s = random.randint(*self.settings.timeout_range)
            query: list[tuple[str, Any]] = [
                ("watch", "true"), ("resourceVersion", self.rv),
                ("allowWatchBookmarks", "true"), ("timeoutSeconds", timeout_s),
            ]
            if selector:
                query.append(("fieldSelector", selector))
            try:
                # Headers must come quickly (the API server flushes them when the watch starts);
                # only then may the stream go quiet, until timeoutSeconds plus some slack.
                resp = self.rest.open("GET", path, query, read_timeout=self.settings.header_timeout)
                _set_read_timeout(resp, timeout_s + self.settings.read_slack)
            except HttpError as exc:
                if exc.status in (404, 410):
                    self.rv = None  # too old (or the kind vanished): relist, which tells which
                    continue
                if exc.status == 403:
                    return  # may list but not watch: the snapshot stays as listed
                self._down(f"watch {spec.plural}: HTTP {exc.status}: {exc.message}")
                self._pause()
                continue
            except UnavailableError as exc:
                self._down(str(exc))
                self._pause()
                continue
            self._consume(resp)

    def _consume(self, resp: Any) -> None:
        """Read one watch response to its end; decide how to go on from how it ended."""
        self.canceller.register(resp)
        self._up()
        started, events = time.monotonic(), 0
        try:
            for line in iter_lines(resp):
                if self.halt.is_set():
                    return
                if line.strip():
                    events += 1
                    if not self._handle(orjson.loads(line)):
                        return  # relist requested
            # A clean end: the server-side timeout expired. Reconnect at once unless the server
            # keeps ending streams immediately, which would otherwise spin.
            if events or time.monotonic() - started > 5:
                self.backoff.reset()
            else:
                self._pause()
        except _connection_errors() as exc:
            if self.halt.is_set():
                return
            if events:
                self.backoff.reset()
            self._down(f"watch {self.spec.plural}: {describe_connection_error(exc, self.rest.host)}")
            self._pause()
        finally:
            self.canceller.unregister(resp)
            close_response(resp)

    def _handle(self, event: dict[str, Any]) -> bool:
        """Queue one watch event; False when the stream must end for a relist (410)."""
        kind = self.spec.index_kind
        typ = event.get("type")
        obj = event.get("object") or {}
        if typ in ("ADDED", "MODIFIED", "DELETED"):
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or self.rv)
            self.rv = rv
            self.out.put(("event", kind, rv, ObjectEvent(typ, self.spec.record(obj))))
        elif typ == "BOOKMARK":
            bookmark = (obj.get("metadata") or {}).get("resourceVersion")
            if bookmark:
                self.rv = str(bookmark)
                self.out.put(("rv", kind, self.rv))
        elif typ == "ERROR":
            if obj.get("code") == 410:
                self.rv = None
                return False
            raise _StreamError(one_line(str(obj.get("message") or obj), 200))
        return True


def watch_kinds(
    rest: Rest,
    specs: list[KindSpec],
    scope: str | None,
    resume: dict[str, str],
    stops: Sequence[threading.Event],
    settings: WatchSettings,
    on_progress: Callable[[str, str], None],
) -> Iterator[SourceEvent]:
    """Yield events of every kind in ``specs`` until one of ``stops`` is set.

    A kind missing from ``resume`` is listed first (a ``ResyncEvent``). ``on_progress(kind, rv)``
    is called as each item is handed to the consumer, so a later watch resumes exactly there.
    Connection state is reported as ``StateEvent``s: RECONNECTING while any kind is disconnected,
    STALE (``since`` = when it dropped) after ``settings.stale_after`` seconds, LIVE again after.
    """
    halt = threading.Event()
    out: queue.Queue[tuple[Any, ...]] = queue.Queue()
    canceller = Canceller(stops, halt, settings.poll)
    watchers = [
        KindWatcher(rest, spec, scope, resume.get(spec.index_kind) or None, out, halt, canceller, settings)
        for spec in specs
    ]
    canceller.start()
    for w in watchers:
        w.start()
    down: dict[str, tuple[float, str]] = {}
    state = ConnectionState.LIVE
    try:
        while not any(s.is_set() for s in stops):
            try:
                item = out.get(timeout=settings.poll)
            except queue.Empty:
                item = None
            if item is not None:
                tag = item[0]
                if tag in ("event", "resync"):
                    if item[2]:
                        on_progress(item[1], item[2])
                    yield item[3]
                elif tag == "rv":
                    on_progress(item[1], item[2])
                elif tag == "down":
                    down.setdefault(item[1], (item[2], item[3]))
                elif tag == "up":
                    down.pop(item[1], None)
            new = _aggregate(down, settings.stale_after)
            if new is not None and new.state != state:
                state = new.state
                yield new
            elif new is None and state != ConnectionState.LIVE:
                state = ConnectionState.LIVE
                yield StateEvent(ConnectionState.LIVE, time.time(), "connected")
    finally:
        halt.set()
        deadline = time.monotonic() + 1.5
        for thread in (*watchers, canceller):
            thread.join(timeout=max(0.05, deadline - time.monotonic()))


def _aggregate(down: dict[str, tuple[float, str]], stale_after: float) -> StateEvent | None:
    """RECONNECTING/STALE from the kinds that are down, or None when all are connected."""
    if not down:
        return None
    since, detail = min(down.values())
    state = ConnectionState.STALE if time.time() - since >= stale_after else ConnectionState.RECONNECTING
    return StateEvent(state, since, detail)
