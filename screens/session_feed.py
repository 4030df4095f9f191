"""The session on Textual: the mesh loads in a thread worker, watch events are folded into the
index on the event loop in batches (woken by the watch, ≤ 100 ms from event to screen), and
every screen on the stack hears of changes, findings and status as messages and calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from meshtui.messages import FindingsUpdated, MeshUpdated
from meshtui.session.findings import Findings, FindingsScheduler
from meshtui.session.mesh_session import Loaded, LoadFailed, MeshSession
from meshtui.sources.base import LoadError, Source
from meshtui.views.mesh_labels import ServiceLabels
from meshtui.widgets.workers import TextualRunner, Waker

# A burst of watch events is applied after this short delay, in one batch (one repaint); a
# slower timer also drains, in case a wake-up is missed.
EVENT_COALESCE_SECONDS = 0.005
EVENT_BATCH_SECONDS = 0.05


class SessionFeed:
    """Drives a ``MeshSession`` on an app: loading, draining, telling the screens."""

    def __init__(self, app: App[Any], open_source: Callable[[], Source], *, scope: str | None,
                 read_only: bool, on_loaded: Callable[[], None] | None = None) -> None:
        self.app = app
        self.session = MeshSession(open_source, FindingsScheduler(TextualRunner(app), self._findings_done),
                                   scope=scope, read_only=read_only)
        self._on_loaded = on_loaded or (lambda: None)
        self._wake = Waker(app, self._drain, EVENT_COALESCE_SECONDS)
        self._told_errors: set[str] = set()  # the load problems a toast has shown

    def start(self) -> None:
        """On the event loop: start loading, and drain on a timer as well as when woken."""
        self._wake.attach()
        self.push_status()
        self.load_mesh()
        self.app.set_interval(EVENT_BATCH_SECONDS, self._drain)

    def load_mesh(self) -> None:
        """Open the source and build the index in a thread, then follow its watch there."""
        self.app.run_worker(self._load, thread=True, exclusive=True, group="load", exit_on_error=False)

    def _load(self) -> None:
        try:
            loaded = self.session.open_and_load()
        except LoadFailed as exc:
            self.app.call_from_thread(self._failed, exc)
            return
        try:
            labels: ServiceLabels | None = ServiceLabels(loaded.live.index)
        except Exception:  # noqa: BLE001 - an optimisation only: the tree makes them itself
            labels = None
        # Imported here, off the loop: the first route view would otherwise pay for it.
        import meshtui.routing.service_view  # noqa: F401

        self.app.call_from_thread(self._loaded, loaded, labels)
        loaded.live.run_watch(self._wake)

    def _loaded(self, loaded: Loaded, labels: ServiceLabels | None) -> None:
        self.session.loaded(loaded)
        self.push_status()
        self._told_errors = set()  # a new load: say every problem again
        self._tell_errors(loaded.live.errors)
        self.broadcast_mesh(labels=labels)
        self._on_loaded()

    def _failed(self, error: LoadFailed) -> None:
        self.session.failed(error)
        self.push_status()
        self.app.notify(str(error), severity="error", timeout=30)

    def _drain(self) -> None:
        batch = self.session.drain()
        if batch is None:
            return
        if batch.failure is not None:
            self.app.notify(f"watch stopped: {batch.failure}", severity="error")
        if batch.load_errors is not None:
            self._tell_errors(batch.load_errors)
        if batch.states or batch.mesh_changed:
            self.push_status()
        if batch.mesh_changed:
            self.broadcast_mesh(batch.changed or None)

    def _tell_errors(self, errors: list[LoadError]) -> None:
        """A toast for each load problem not shown yet (``file:line:column: cause``); one when
        the last one is gone."""
        now = {str(err) for err in errors}
        new = [str(err) for err in errors if str(err) not in self._told_errors]
        for text in new[:5]:
            self.app.notify(text, severity="warning", timeout=10)
        if len(new) > 5:
            self.app.notify(f"{len(new) - 5} more load errors", severity="warning")
        if self._told_errors and not now:
            self.app.notify("every file reads again")
        self._told_errors = now

    def reload(self, open_source: Callable[[], Source], label: str) -> None:
        """Load the mesh afresh from ``open_source`` (a context switch, a reconnect)."""
        self.session.reopen(open_source, label)
        self.push_status()
        self.load_mesh()

    def broadcast_mesh(self, changed: list[tuple[str, dict[str, object]]] | None = None,
                       labels: ServiceLabels | None = None) -> None:
        """Tell every screen on the stack that the mesh changed, so a screen under the one on
        top is current when the user comes back to it."""
        index = self.session.index
        if index is None:
            return
        for screen in self.app.screen_stack:
            screen.post_message(MeshUpdated(index, changed, labels))

    def push_status(self) -> None:
        """Show the session's status on every status bar."""
        from meshtui.widgets.status_bar import StatusBar

        for screen in self.app.screen_stack:
            for bar in screen.query(StatusBar):
                bar.show(self.session.status)

    def _findings_done(self, result: Findings | Exception) -> None:
        if isinstance(result, Exception):
            self.app.notify(f"analysis failed: {result}", severity="error")
            return
        for screen in list(self.app.screen_stack):
            screen.post_message(FindingsUpdated(result.findings, result.by_service, result.by_namespace))
