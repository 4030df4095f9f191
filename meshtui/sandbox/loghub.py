"""Container logs of the sandbox: a bounded ring of ``(timestamp, line)`` per container.

The traffic simulator (and the tests) append access-log lines here; the pod ``log`` endpoint
reads them, and ``follow`` requests wait here for new lines. Everything except
:meth:`LogHub.append_threadsafe` runs on the server's event loop thread, so the buffers need no
locks and an append is a deque append plus a counter increment.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator

DEFAULT_MAX_LINES = 20_000

LogEntry = tuple[float, str]  # (seconds since the epoch, line without its newline)


class ContainerLog:
    """The log of one container: the last ``max_lines`` lines and the followers waiting for more.

    ``seq`` counts every line ever appended, so a follower remembers how far it has read as a
    number and picks up exactly the lines after it (or, if it fell more than a ring behind, the
    oldest still kept: a slow reader loses lines as it would after a log rotation).
    """

    __slots__ = ("entries", "seq", "closed", "_waiters")

    def __init__(self, max_lines: int = DEFAULT_MAX_LINES) -> None:
        self.entries: deque[LogEntry] = deque(maxlen=max_lines)
        self.seq = 0
        self.closed = False
        self._waiters: list[asyncio.Future[None]] = []

    def append(self, ts: float, line: str) -> None:
        """Add one line (no newline inside) and wake the followers."""
        self.entries.append((ts, line))
        self.seq += 1
        if self._waiters:
            self._wake()

    def extend(self, entries: list[LogEntry]) -> None:
        """Add several lines at once and wake the followers once."""
        if not entries:
            return
        self.entries.extend(entries)
        self.seq += len(entries)
        if self._waiters:
            self._wake()

    def close(self) -> None:
        """Mark the log finished (the pod is gone): followers drain what is left and stop."""
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def after(self, pos: int) -> tuple[list[LogEntry], int]:
        """The lines appended after sequence number ``pos``, and the new position."""
        n = self.seq - pos
        if n <= 0:
            return [], self.seq
        kept = len(self.entries)
        if n >= kept:
            return list(self.entries), self.seq
        # The newest lines sit at the right end; walking from there costs O(n), not O(kept).
        out = list(itertools.islice(reversed(self.entries), n))
        out.reverse()
        return out, self.seq

    def select(self, tail_lines: int | None = None, since: float | None = None) -> list[LogEntry]:
        """The kept lines newer than ``since`` (epoch seconds), then only the last ``tail_lines``."""
        if since is None:
            if tail_lines is None or tail_lines >= len(self.entries):
                return list(self.entries)
            if tail_lines <= 0:
                return []
            out = list(itertools.islice(reversed(self.entries), tail_lines))
            out.reverse()
            return out
        out = [e for e in self.entries if e[0] >= since]
        if tail_lines is not None:
            out = out[len(out) - tail_lines:] if tail_lines > 0 else []
        return out

    async def wait(self, pos: int, timeout: float | None = None) -> None:
        """Return once a line after ``pos`` exists, the log is closed, or ``timeout`` passes."""
        if self.seq > pos or self.closed:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait((fut,), timeout=timeout)
        finally:
            if not fut.done():
                fut.cancel()
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass


class LogHub:
    """All container logs of the sandbox, keyed by ``(namespace, pod, container)``."""

    def __init__(self, max_lines: int = DEFAULT_MAX_LINES) -> None:
        if max_lines <= 0:
            raise ValueError(f"max_lines must be positive, got {max_lines}")
        self.max_lines = max_lines
        self._logs: dict[tuple[str, str, str], ContainerLog] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # Lines from other threads wait here until the loop flushes them in one batch, so a
        # simulator thread pays for one lock and a list append per line, not a loop wake-up.
        self._pending: list[tuple[str, str, str, float, str]] = []
        self._pending_lock = threading.Lock()
        self._flush_scheduled = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Name the event loop that owns the buffers (needed by :meth:`append_threadsafe`)."""
        self._loop = loop

    def get(self, namespace: str, pod: str, container: str) -> ContainerLog:
        """The log of a container, created empty on first use."""
        key = (namespace, pod, container)
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = ContainerLog(self.max_lines)
        return log

    def append(
        self, namespace: str, pod: str, container: str, line: str, ts: float | None = None
    ) -> None:
        """Append a line (call on the event loop thread). ``ts`` defaults to now.

        A trailing newline is dropped; a string with inner newlines becomes several lines.
        """
        if ts is None:
            ts = time.time()
        log = self._logs.get((namespace, pod, container)) or self.get(namespace, pod, container)
        if "\n" in line:
            for part in line.rstrip("\n").split("\n"):
                log.append(ts, part)
        else:
            log.append(ts, line)

    def append_threadsafe(
        self, namespace: str, pod: str, container: str, line: str, ts: float | None = None
    ) -> None:
        """Append a line from any thread; it reaches the buffer on the loop's next turn."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("LogHub.append_threadsafe needs bind(loop) first")
        if ts is None:
            ts = time.time()
        with self._pending_lock:
            self._pending.append((namespace, pod, container, ts, line))
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._pending_lock:
            pending, self._pending = self._pending, []
            self._flush_scheduled = False
        for namespace, pod, container, ts, line in pending:
            self.append(namespace, pod, container, line, ts)

    def close_pod(self, namespace: str, pod: str) -> None:
        """Forget a deleted pod's logs and end its followers' streams."""
        for key in [k for k in self._logs if k[0] == namespace and k[1] == pod]:
            self._logs.pop(key).close()

    def close_all(self) -> None:
        """End every follower (the server is shutting down); the kept lines stay readable."""
        for log in self._logs.values():
            log.close()

    def read(
        self,
        namespace: str,
        pod: str,
        container: str,
        tail_lines: int | None = None,
        since: float | None = None,
    ) -> list[LogEntry]:
        """The kept lines of a container, filtered like ``sinceTime`` and ``tailLines``."""
        log = self._logs.get((namespace, pod, container))
        return log.select(tail_lines, since) if log is not None else []

    async def follow(
        self,
        namespace: str,
        pod: str,
        container: str,
        tail_lines: int | None = None,
        since: float | None = None,
        poll: float | None = None,
    ) -> AsyncGenerator[list[LogEntry], None]:
        """Yield the selected kept lines, then each batch of new lines as it arrives.

        Ends when the pod's log is closed. With ``poll`` it also yields an empty batch every
        ``poll`` seconds of silence, so the caller can notice that its client went away.
        """
        log = self.get(namespace, pod, container)
        pos = log.seq
        first = log.select(tail_lines, since)
        if first:
            yield first
        while True:
            await log.wait(pos, poll)
            batch, pos = log.after(pos)
            if batch:
                if since is not None:
                    batch = [e for e in batch if e[0] >= since]
                yield batch
            elif log.closed:
                return
            else:
                yield []
