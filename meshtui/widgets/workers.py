"""The session layer's clock and threads on Textual: timers, thread workers, and a wake-up
that coalesces a burst of calls from another thread into one turn of the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.app import App
from textual.worker import get_current_worker


class TextualRunner:
    """``meshtui.session.findings.Runner`` on an app: timers, thread workers, call_from_thread."""

    def __init__(self, app: App[int]) -> None:
        self._app = app

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """A one-shot timer on the app."""
        self._app.set_timer(delay, callback)

    def run_in_thread(self, work: Callable[[Callable[[], bool]], None], group: str) -> None:
        """A thread worker; ``work`` gets its cancellation as a predicate."""

        def run() -> None:
            worker = get_current_worker()
            work(lambda: worker.is_cancelled)

        self._app.run_worker(run, thread=True, group=group, exit_on_error=False)

    def call_on_owner(self, callback: Callable[[], None]) -> None:
        """From a thread: run ``callback`` on the event loop (dropped while the app exits)."""
        try:
            self._app.call_from_thread(callback)
        except RuntimeError:  # the app is shutting down
            pass


class Waker:
    """Called from a thread after each queued item: runs ``drain`` on the loop ``delay``
    seconds later, once per burst (the design asks for ≤ 100 ms from watch event to screen)."""

    def __init__(self, app: App[int], drain: Callable[[], None], delay: float) -> None:
        self._app = app
        self._drain = drain
        self._delay = delay
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending = False

    def attach(self) -> None:
        """On the event loop, before the first wake-up."""
        self._loop = asyncio.get_running_loop()

    def __call__(self) -> None:
        loop = self._loop
        if loop is None or self._pending:
            return
        self._pending = True
        try:
            loop.call_soon_threadsafe(loop.call_later, self._delay, self._woken)
        except RuntimeError:  # the loop is closed: the app is exiting
            pass

    def _woken(self) -> None:
        # A bare loop callback: hand the drain to the app's own message queue, so it runs in
        # the app's context like any handler.
        self._pending = False
        self._app.call_later(self._drain)
