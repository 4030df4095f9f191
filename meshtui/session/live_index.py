"""One way to keep a ``MeshIndex`` live: a source's snapshot, then its watch, folded in batches.

The watch runs in a thread and only queues events; the owner of the index (the app's event loop,
or a command's main loop) calls ``drain()`` to fold everything queued into the index at once, so
no reader ever sees a half-applied change and a burst of events becomes one batch. ``wake`` is
called from the watch thread after each queued event, so the owner can drain soon instead of
polling.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from meshtui.model.index import MeshIndex
from meshtui.util.gcpause import gc_paused
from meshtui.sources.base import (
    ConnectionState,
    LoadError,
    LoadErrorsEvent,
    ObjectEvent,
    RawObject,
    ResyncEvent,
    Source,
    SourceEvent,
    StateEvent,
)

#: (event type, raw object) of one change in a batch.
Change = tuple[str, RawObject]


@dataclass(slots=True)
class MeshBatch:
    """What one ``drain()`` folded into the index."""

    #: Object changes in arrival order.
    changed: list[Change] = field(default_factory=list)
    #: Whether a relist replaced whole kinds (the changes are then unknown: redraw everything).
    resynced: bool = False
    #: Connection-state changes, last one last.
    states: list[StateEvent] = field(default_factory=list)
    #: The watch ended with this error (the index no longer changes).
    failure: str | None = None
    #: The source's load problems changed to this list (None: unchanged).
    load_errors: list[LoadError] | None = None

    @property
    def mesh_changed(self) -> bool:
        """Whether the index differs from before the drain."""
        return bool(self.changed) or self.resynced

    def kinds(self) -> set[str]:
        """The kinds of the changed objects."""
        return {str(obj.get("kind", "")) for _type, obj in self.changed}


class LiveIndex:
    """A source's mesh as a ``MeshIndex``, kept current by the source's watch.

    Build it with ``load()`` (blocking: run it off the event loop), start the watch with
    ``start_watch()`` (a daemon thread) or ``run_watch()`` (on the caller's thread), and fold
    queued events in with ``drain()`` on the thread that reads the index.
    """

    def __init__(self, source: Source, index: MeshIndex, errors: list[LoadError], resume: dict[str, str]) -> None:
        self.source = source
        self.index = index
        #: Objects or files that could not be read at load time (the rest loaded).
        self.errors = errors
        self._resume = resume
        self._stop = threading.Event()
        self._events: queue.SimpleQueue[SourceEvent | Exception] = queue.SimpleQueue()
        self._wake: Callable[[], None] | None = None

    @classmethod
    def load(cls, source: Source) -> "LiveIndex":
        """List everything the source holds and index it (``SourceError`` when it cannot).

        The bulk load creates about a million objects that all live on: with the collector on,
        each generation-2 pass over them stalls the event loop for 200-600 ms (measured at 5,000
        services). It is paused for the load, and the survivors are frozen afterwards so later
        full collections stay small.
        """
        with gc_paused(freeze=True):
            snap = source.snapshot()
            index = MeshIndex(snap.objects)
        return cls(source, index, list(snap.errors), dict(snap.resume))

    def start_watch(self, wake: Callable[[], None] | None = None) -> threading.Thread:
        """Follow the source's changes in a daemon thread (it ends with ``stop()``)."""
        thread = threading.Thread(target=self.run_watch, args=(wake,), name="mesh-watch", daemon=True)
        thread.start()
        return thread

    def run_watch(self, wake: Callable[[], None] | None = None) -> None:
        """Queue the source's changes until ``stop()``; ``wake`` is called after each one."""
        self._wake = wake
        try:
            for event in self.source.watch(self._stop, self._resume):
                if self._stop.is_set():
                    return
                if isinstance(event, (ObjectEvent, ResyncEvent, StateEvent, LoadErrorsEvent)):
                    self._events.put(event)
                    self._poke()
        except Exception as exc:  # noqa: BLE001 - reported once through drain(); the index stays
            if not self._stop.is_set():
                self._events.put(exc)
                self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake()

    def drain(self) -> MeshBatch:
        """Fold every queued event into the index; what changed."""
        batch = MeshBatch()
        index = self.index
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return batch
            if isinstance(event, ObjectEvent):
                obj = event.object
                if event.type == "DELETED":
                    meta = obj.get("metadata") or {}
                    index.delete(obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))
                else:
                    index.upsert(obj)
                batch.changed.append((event.type, obj))
            elif isinstance(event, ResyncEvent):
                index.replace_kinds(event.kinds, event.objects)
                batch.resynced = True
            elif isinstance(event, StateEvent):
                batch.states.append(event)
            elif isinstance(event, LoadErrorsEvent):
                self.errors = list(event.errors)
                batch.load_errors = list(event.errors)
            else:
                batch.failure = str(event)
                batch.states.append(StateEvent(ConnectionState.STALE, time.time(), str(event)))

    def counts(self) -> str:
        """The status bar's object counts."""
        ix = self.index
        return (
            f"{ix.count('Service')} svc · {ix.count('VirtualService')} vs · "
            f"{ix.count('DestinationRule')} dr · {ix.count('Pod')} pods"
        )

    def stop(self) -> None:
        """End the watch (within one event or the source's own timeout)."""
        self._stop.set()

