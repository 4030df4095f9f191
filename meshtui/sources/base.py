"""The one ``Source`` protocol every UI and CLI path talks to, and the values it exchanges.

A source hands out raw Kubernetes-style objects (plain ``dict`` with ``apiVersion``, ``kind``,
``metadata``, ...). Typing them is the model's job (``meshtui.model``); keeping the raw object
means unknown fields survive every round trip. All methods are blocking: callers in the UI run
them in worker threads.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

RawObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """Identity of an object across versions: kind, namespace ('' when cluster-scoped), name."""

    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, obj: RawObject) -> "ObjectKey":
        """The key of a raw object."""
        meta = obj.get("metadata") or {}
        return cls(obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class LoadError:
    """An object or file that could not be read; the rest of the source still loads."""

    message: str
    path: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    @property
    def location(self) -> str:
        """``file:line:column`` (as much of it as is known; empty when nothing is)."""
        where = self.path or ""
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        where = self.location
        return f"{where}: {self.message}" if where else self.message


@dataclass(slots=True)
class Snapshot:
    """Everything a source holds at one moment."""

    objects: list[RawObject] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)
    # Opaque resume token for watch() (a resourceVersion per kind for kube; unused for files).
    resume: dict[str, str] = field(default_factory=dict)


class ConnectionState(enum.Enum):
    """How current the source's view is."""

    LIVE = "live"
    RECONNECTING = "reconnecting"
    STALE = "stale"


@dataclass(frozen=True, slots=True)
class ObjectEvent:
    """An object was added, modified or deleted at the source."""

    type: Literal["ADDED", "MODIFIED", "DELETED"]
    object: RawObject


@dataclass(frozen=True, slots=True)
class StateEvent:
    """The connection state changed; ``since`` is a UNIX time, ``detail`` a one-line reason."""

    state: ConnectionState
    since: float
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ResyncEvent:
    """The source relisted (e.g. after 410 Gone): ``objects`` replaces everything of ``kinds``."""

    kinds: tuple[str, ...]
    objects: list[RawObject]


@dataclass(frozen=True, slots=True)
class LoadErrorsEvent:
    """The source's load problems changed (a file stopped or started parsing): ``errors`` is
    the whole current list. The objects that did load stay live."""

    errors: tuple[LoadError, ...]


SourceEvent = ObjectEvent | StateEvent | ResyncEvent | LoadErrorsEvent


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The outcome of a successful apply: the object as stored (or as it would be, for a dry run)."""

    object: RawObject
    dry_run: bool


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a source can do, declared as data: the UI and the CLI read these, never guess from
    attributes. Whether writes are allowed right now is ``Source.read_only_reason()`` (it may
    have to ask the server); ``read_only`` here is what is known without asking."""

    #: kubeconfig contexts to switch between (``:ctx``).
    contexts: bool = False
    #: a live Envoy admin per pod (else proxy config is generated from the mesh).
    envoy_admin: bool = False
    #: pod logs to follow.
    logs: bool = False
    #: running proxies that a write propagates to (the propagation check).
    live_proxies: bool = False
    #: why writes are refused whatever the server says (``--read-only``), else None.
    read_only: str | None = None


class SourceError(Exception):
    """Base of the errors a source raises; ``str()`` is a one-line cause fit for the user."""


class ConflictError(SourceError):
    """The object changed since it was read; nothing was written. ``current`` is what is there now."""

    def __init__(self, message: str, current: RawObject | None = None) -> None:
        super().__init__(message)
        self.current = current


class ForbiddenError(SourceError):
    """The source refuses writes (read-only mode, read-only token, RBAC)."""


class InvalidObjectError(SourceError):
    """The source rejected the object as invalid (schema, admission). ``causes`` are field paths."""

    def __init__(self, message: str, causes: list[str] | None = None) -> None:
        super().__init__(message)
        self.causes = causes or []


class NotFoundError(SourceError):
    """The object, pod or file does not exist at the source."""


class UnavailableError(SourceError):
    """The source cannot be reached right now (server down, network)."""


class OutcomeUnknownError(UnavailableError):
    """A write was sent but its answer never came (read timeout, connection lost after the
    request went out): the source may or may not have applied it. Only reading the object back
    tells."""


class UnauthorizedError(SourceError):
    """The source rejected the credentials (HTTP 401: an expired or invalid token)."""


class ConfigurationError(SourceError):
    """The source cannot even be opened: a missing, empty or malformed kubeconfig, an unknown
    context. Nothing was contacted."""


class WriteFailedError(SourceError):
    """The operating system refused the write (disk full, directory not writable); the file as it
    was is left in place."""


@runtime_checkable
class Source(Protocol):
    """Where the mesh comes from: a live cluster, the sandbox, or a directory of manifests."""

    #: What the status bar shows: a kube context or a directory.
    description: str

    @property
    def capabilities(self) -> Capabilities:
        """What this source can do (contexts, Envoy admin, logs, live proxies, writes)."""
        ...

    def read_only_reason(self) -> str | None:
        """Why writes are refused (``--read-only``, 403, RBAC), or ``None`` when they are allowed."""
        ...

    def origin(self, key: ObjectKey) -> str | None:
        """Where the object is kept, for messages that name who changed it: a manifest's file
        and document; None for a cluster (its server names the writer in managedFields)."""
        ...

    def snapshot(self) -> Snapshot:
        """List every object meshtui reads (Istio networking kinds, services, pods, endpoints,
        namespaces, the mesh config map)."""
        ...

    def watch(self, stop: threading.Event, resume: dict[str, str] | None = None) -> Iterator[SourceEvent]:
        """Yield changes after ``snapshot()`` until ``stop`` is set; reconnects by itself and
        reports connection changes as ``StateEvent``s, changed load problems as ``LoadErrorsEvent``."""
        ...

    def apply(self, obj: RawObject, *, base: RawObject, dry_run: bool = False) -> ApplyResult:
        """Write ``obj`` if the stored object is still ``base`` (resourceVersion or file content);
        raise ``ConflictError`` otherwise. ``dry_run`` validates at the source and writes nothing."""
        ...

    def logs(
        self,
        namespace: str,
        pod: str,
        *,
        container: str = "istio-proxy",
        follow: bool = True,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[str]:
        """The pod container's log lines (without newline); follow until ``stop`` is set. The
        stream is opened before this returns (failures to open it raise here), so a returned
        iterator is a stream the source accepted."""
        ...

    def envoy_admin(self, namespace: str, pod: str, path: str) -> bytes:
        """GET ``path`` (e.g. ``/config_dump?include_eds``, ``/clusters?format=json``) from the
        pod's Envoy admin port 15000."""
        ...

    def pods(self, namespace: str, *, label_selector: str = "", field_selector: str = "") -> list[RawObject]:
        """The running pods of ``namespace`` matching Kubernetes label and field selectors, read now
        and regardless of the source's namespace scope (finding the ztunnel of a node)."""
        ...

    def contexts(self) -> list[str]:
        """The kubeconfig contexts this source can switch to (empty without ``capabilities.contexts``)."""
        ...

    def with_context(self, context: str) -> "Source":
        """The same source on another context; ``SourceError`` when it cannot switch."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...
