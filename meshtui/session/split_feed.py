"""The Logs screen's split panel from either basis: Prometheus when one answers, else the logs.

A ``SplitFeed`` sits beside a ``LogSession`` on the same two sides:

- the *owner* (the event loop) tells it the mesh changed (``mesh_changed``): the subsets and port
  the metrics rows are named with are queued as a command, never written into what the reader reads;
- the *reader* (the screen's worker thread) asks for the panel (``panel``): the first call looks
  for Prometheus (``find_prometheus``: blocking, hence on the worker), later calls query it at most
  every ``REFRESH_S`` seconds and reuse the last answer in between. No Prometheus, or a failed
  query: the logs panel, its label saying why; the search is repeated every ``REFIND_S`` seconds
  (a Prometheus that starts later, or comes back, is picked up).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import replace

from meshtui.accesslog.ingest import PanelData
from meshtui.accesslog.target import LogTarget
from meshtui.model.index import MeshIndex
from meshtui.session.log_session import LogSession
from meshtui.session.split_basis import (
    BasisChoice,
    PrometheusOptions,
    find_prometheus,
    load_prometheus_settings,
    metrics_split,
    split_context,
)
from meshtui.sources.base import Source
from meshtui.sources.prometheus import PrometheusError

#: Seconds between two queries of Prometheus (it scrapes every few seconds itself).
REFRESH_S = 5.0
#: Seconds between two searches for Prometheus while there is none.
REFIND_S = 15.0


class SplitFeed:
    """The panel data of ``target`` from Prometheus or from ``session``'s logs (module docstring)."""

    def __init__(self, source: Source, index: MeshIndex, target: LogTarget,
                 options: PrometheusOptions | None = None, notify: Callable[[str], None] | None = None) -> None:
        self._source = source
        self._target = target
        self._options = options
        self._notify = notify or (lambda _line: None)
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._seen_at = "auto"
        self._context = split_context(index, target)
        self._choice: BasisChoice | None = None
        self._last: PanelData | None = None
        self._failure: str | None = None
        self._next_query = 0.0
        self._next_find = 0.0

    # -- the owner's side -----------------------------------------------------------------------

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

    # -- the reader's side ------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """One line for the status bar: which basis the panel shows, and why ('' until known)."""
        if self._choice is None:
            return ""
        if self._choice.client is not None and self._failure is not None:
            return f"split from logs (Prometheus: {self._failure})"
        return self._choice.status

    def _find(self, now: float) -> BasisChoice:
        if self._choice is None or (self._choice.client is None and now >= self._next_find):
            options = self._options
            if options is None:
                options, problems = load_prometheus_settings()
                for line in problems:
                    self._notify(line)
            self._choice = find_prometheus(self._source, options)
            self._next_find = now + REFIND_S
        return self._choice

    def panel(self, session: LogSession) -> PanelData:
        """The panel now: the metrics basis when Prometheus answers, else ``session``'s logs."""
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                break
            command()
            self._next_query = 0.0  # the subsets or the reporter changed: ask again now
        logs = session.panel()
        now = time.monotonic()
        choice = self._find(now)
        if choice.client is None:
            return replace(logs, label=f"{logs.label} — logs basis: {choice.reason}")
        if now >= self._next_query:
            self._next_query = now + REFRESH_S
            window = logs.window or 60.0
            try:
                split = metrics_split(choice.client, self._context, self._target, window, session.weights,
                                      seen_at=self._seen_at)
            except PrometheusError as exc:
                self._failure, self._last = str(exc), None
            else:
                self._failure = None
                self._last = PanelData(split.seen_at, split.label, split.window, split.rows, split.rollups,
                                       logs.lines, logs.unparsed)
        if self._last is None:
            return replace(logs, label=f"{logs.label} — logs basis: Prometheus: {self._failure}")
        return self._last
