"""What one session of meshtui holds, typed: the source, its live index, the namespace scope,
why writes are refused, the latest findings, and the status line that says all of it.

Screens read the session; only its owner (the app, on the event loop) changes it. Loading
(``open_and_load``) is blocking and returns what it made instead of storing it, so a worker
thread never writes an attribute the UI reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from meshtui.model.index import MeshIndex
from meshtui.session.findings import FindingsScheduler
from meshtui.session.live_index import LiveIndex, MeshBatch
from meshtui.sources.base import Capabilities, Source

ALL_NAMESPACES = "all namespaces"


class LoadFailed(Exception):
    """The source could not be opened or listed; ``str()`` is the line the user reads.
    ``source`` is the source when it was opened (it must still be closed)."""

    def __init__(self, message: str, source: Source | None = None) -> None:
        super().__init__(message)
        self.source = source


@dataclass(slots=True)
class Loaded:
    """What ``open_and_load`` made: the live index and why writes are refused (or None)."""

    live: LiveIndex
    write_block: str | None


@dataclass(slots=True)
class Status:
    """What every status bar shows."""

    source: str = "connecting…"
    scope: str = ALL_NAMESPACES
    read_only: str | None = None
    state: str = "connecting"
    since: float = 0.0
    counts: str = ""
    #: Why the connection is not live (one line, e.g. a TLS error), or "".
    detail: str = ""

    def update(self, **values: object) -> None:
        """Change fields by name (an unknown name is a programming error)."""
        for name, value in values.items():
            if name not in self.__dataclass_fields__:
                raise AttributeError(f"Status has no field {name!r}")
            setattr(self, name, value)


class MeshSession:
    """The source, live index, scope, write block and findings of one run of the app."""

    def __init__(
        self,
        open_source: Callable[[], Source],
        findings: FindingsScheduler,
        *,
        scope: str | None = None,
        read_only: bool = False,
    ) -> None:
        self._open_source = open_source
        self.findings = findings
        self.scope = scope
        self.read_only_flag = read_only
        self.live: LiveIndex | None = None
        #: Why writes are refused: ``--read-only``, read-only credentials, RBAC, a 403 met.
        self.write_block: str | None = "--read-only" if read_only else None
        self.status = Status(scope=scope or ALL_NAMESPACES)
        self._opened: Source | None = None

    # -- what screens read ----------------------------------------------------------------------

    @property
    def source(self) -> Source | None:
        """The source, once opened."""
        return self.live.source if self.live is not None else self._opened

    @property
    def index(self) -> MeshIndex | None:
        """The live mesh index, once loaded."""
        return self.live.index if self.live is not None else None

    @property
    def capabilities(self) -> Capabilities:
        """What the source can do (nothing until it is open)."""
        source = self.source
        return source.capabilities if source is not None else Capabilities()

    def write_block_reason(self) -> str | None:
        """Why this session may not write, or None. No I/O: what the load established."""
        if self.read_only_flag:
            return "--read-only"
        if self.write_block:
            return self.write_block
        return self.capabilities.read_only

    # -- loading (blocking: off the event loop) -------------------------------------------------

    def open_and_load(self) -> Loaded:
        """Open the source, list and index it, ask whether it may write. ``LoadFailed`` when it
        cannot be opened or listed."""
        try:
            source = self._open_source()
        except Exception as exc:  # noqa: BLE001 - any failure to open must reach the user as text
            raise LoadFailed(f"cannot open source: {exc}") from exc
        try:
            live = LiveIndex.load(source)
        except Exception as exc:  # noqa: BLE001
            raise LoadFailed(f"cannot load the mesh: {exc}", source) from exc
        reason = "--read-only" if self.read_only_flag else None
        if reason is None:
            try:
                reason = source.read_only_reason()
            except Exception:  # noqa: BLE001 - unknown rights: let the write path find out
                reason = None
        return Loaded(live, reason)

    # -- changes (on the owner's thread) --------------------------------------------------------

    def loaded(self, result: Loaded) -> None:
        """Take what ``open_and_load`` made."""
        self.live = result.live
        self._opened = None
        self.write_block = result.write_block
        self.status.update(source=result.live.source.description, state="live", detail="",
                           read_only=result.write_block, counts=result.live.counts())
        self.findings.set_load_errors(result.live.errors)
        self.findings.schedule(result.live.index)

    def failed(self, error: LoadFailed) -> None:
        """A load failed: keep its source to close, and say the mesh is stale."""
        self._opened = error.source
        self.status.update(state="stale", since=time.time(), detail=str(error))

    def drain(self) -> MeshBatch | None:
        """Fold queued watch events into the index (None before the first load)."""
        if self.live is None:
            return None
        batch = self.live.drain()
        for event in batch.states:
            self.status.update(state=event.state.value, since=event.since,
                               detail=event.detail if event.state.value != "live" else "")
        if batch.mesh_changed:
            self.status.update(counts=self.live.counts())
            self.findings.schedule(self.live.index)
        if batch.load_errors is not None:
            self.findings.set_load_errors(batch.load_errors)
        return batch

    def refused_write(self, reason: str) -> None:
        """A write met a refusal (403): every later write is refused for this reason."""
        self.write_block = reason
        self.status.update(read_only=reason)

    def set_scope(self, namespace: str | None) -> str | None:
        """Scope to ``namespace`` (None: all); an error line when the mesh has no such namespace."""
        index = self.index
        if namespace and index is not None and namespace not in index.namespaces:
            return f"no namespace {namespace!r} in this mesh"
        self.scope = namespace
        self.status.update(scope=namespace or ALL_NAMESPACES)
        return None

    def reopen(self, open_source: Callable[[], Source], label: str) -> None:
        """Drop the live index and load from ``open_source`` next (a context switch, a reconnect)."""
        if self.live is not None:
            self.live.stop()
        self.live = None
        self._open_source = open_source
        self.status.update(source=label, state="reconnecting", detail="")

    def close(self) -> None:
        """Stop the watch and release the source (the demo sandbox stops with it)."""
        source = self.source
        if self.live is not None:
            self.live.stop()
        if source is not None:
            try:
                source.close()
            except Exception:  # noqa: BLE001 - closing must never keep the app from exiting
                pass


def context_switcher(old: Source, name: str) -> Callable[[], Source]:
    """A source factory for context ``name`` of ``old``'s kubeconfig; it closes ``old`` once
    the new one is open (the old watch ends with its stop event)."""

    def open_new() -> Source:
        new = old.with_context(name)
        old.close()
        return new

    return open_new

