"""The Logs screen's split panel from either basis: Prometheus when one answers, else the logs.

A ``SplitFeed`` sits beside a ``LogSession``. Its own thread (``start``; ``close`` ends it) looks
for Prometheus (``find_prometheus``), then asks it for the split every ``REFRESH_S`` seconds; while
there is none it looks again every ``REFIND_S`` seconds (a Prometheus that starts later, or comes
back, is picked up). Those calls block on the network, so they never hold up the line pump.

- The *owner* (the event loop) queues changes: the mesh changed (``mesh_changed``: the subsets the
  metrics rows are named with) and the reporter (``set_basis``), as commands the thread applies.
- The *reader* (the screen's worker) calls ``panel(session)``: the latest metrics split when there
  is one, else ``session``'s logs panel with a label saying why; it never waits. The window and
  weights it passes are what the next query asks for.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from meshtui.accesslog.ingest import PanelData
from meshtui.accesslog.target import LogTarget
from meshtui.model.index import MeshIndex
from meshtui.session.log_session import LogSession
from meshtui.session.split_basis import (
    BasisChoice,
    ObservedSplit,
    PrometheusOptions,
    find_prometheus,
    metrics_split,
    split_context,
)
from meshtui.sources.base import Source
from meshtui.sources.prometheus import PrometheusError

#: Seconds between two queries of Prometheus (it scrapes every few seconds itself).
REFRESH_S = 5.0
#: Seconds between two searches for Prometheus while there is none.
REFIND_S = 15.0
_TICK_S = 0.2


@dataclass(frozen=True, slots=True)
class _Result:
    """What the thread found last: the basis, and the split or why there is none."""

    choice: BasisChoice
    split: ObservedSplit | None = None
    failure: str | None = None


class SplitFeed:
    """The panel data of ``target`` from Prometheus or from a session's logs (module docstring)."""

    def __init__(self, source: Source, index: MeshIndex, target: LogTarget,
                 options: PrometheusOptions | None = None) -> None:
        self._source = source
        self._target = target
        self._options = options or PrometheusOptions()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[_Result] = queue.SimpleQueue()
        self._wanted: queue.SimpleQueue[tuple[float, dict[str, float]]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The thread's own state.
        self._context = split_context(index, target)
        self._seen_at = "auto"
        # The reader's own state.
        self._last: _Result | None = None

    # -- the owner's side -----------------------------------------------------------------------

    def start(self) -> None:
        """Start looking for Prometheus and querying it."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"split-feed {self._target.label}", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the thread (without waiting: it ends within a query's timeout)."""
        self._stop.set()

    def mesh_changed(self, index: MeshIndex) -> None:
        """The mesh changed: name the metrics rows after its current subsets."""
        context = split_context(index, self._target)

        def apply() -> None:
            self._context = context

        self._commands.put(apply)

    def set_basis(self, mode: str) -> None:
        """Where the requests are seen: ``auto``, ``client`` (reporter source), ``server``
        (reporter destination), as the logs basis's ``o`` key chooses."""

        def apply() -> None:
            self._seen_at = mode

        self._commands.put(apply)

    # -- the thread -------------------------------------------------------------------------------

    def _run(self) -> None:
        choice: BasisChoice | None = None
        next_find = next_query = 0.0
        window, weights = 60.0, dict[str, float]()
        asked = False  # no query before the reader has said which window and weights
        while not self._stop.is_set():
            changed = False
            while True:
                try:
                    self._commands.get_nowait()()
                    changed = True
                except queue.Empty:
                    break
            while True:
                try:
                    wanted = self._wanted.get_nowait()
                except queue.Empty:
                    break
                changed = changed or wanted != (window, weights)
                window, weights = wanted
                asked = True
            now = time.monotonic()
            if choice is None or (choice.client is None and now >= next_find):
                choice = find_prometheus(self._source, self._options)
                next_find, next_query = now + REFIND_S, 0.0
                if choice.client is None:
                    self._results.put(_Result(choice))
            if choice.client is not None and asked and (now >= next_query or changed):
                next_query = now + REFRESH_S
                try:
                    split = metrics_split(choice.client, self._context, self._target, window, weights,
                                          seen_at=self._seen_at)
                except PrometheusError as exc:
                    self._results.put(_Result(choice, failure=str(exc)))
                else:
                    self._results.put(_Result(choice, split=split))
            self._stop.wait(_TICK_S)

    # -- the reader's side ------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """One line for the status bar: which basis the panel shows, and why ('' until known)."""
        last = self._last
        if last is None:
            return ""
        if last.choice.client is not None and last.split is None:
            return f"split from logs (Prometheus: {last.failure or 'asking'})"
        return last.choice.status

    def panel(self, session: LogSession) -> PanelData:
        """The panel now: the latest metrics split when there is one, else ``session``'s logs."""
        logs = session.panel()
        self._want(logs.window or 60.0, session.weights)
        while True:
            try:
                self._last = self._results.get_nowait()
            except queue.Empty:
                break
        last = self._last
        if last is None:
            return logs
        if last.split is not None:
            s = last.split
            return PanelData(s.seen_at, s.label, s.window, s.rows, s.rollups, logs.lines, logs.unparsed)
        reason = last.choice.reason if last.choice.client is None else f"Prometheus: {last.failure}"
        return replace(logs, label=f"{logs.label} — logs basis: {reason}")

    def _want(self, window: float, weights: Mapping[str, float]) -> None:
        self._wanted.put((window, dict(weights)))
