"""The sandbox's in-memory object store: objects by (plural, namespace, name), a global
resourceVersion, and a bounded window of change events for watches.

Use it only from the server's event loop thread (``Sandbox.call`` runs a function there).

API for other sandbox modules (the pod routes, the simulator):

- ``get(plural, namespace, name) -> dict | None`` and ``list(plural, namespace=None) ->
  list[dict]`` return the stored dicts themselves: treat them as read-only (copy before
  changing; ``copy_obj`` is a fast deep copy).
- ``create(obj)``, ``update(obj)``, ``delete(plural, namespace, name)`` write like the API
  server (metadata set, resourceVersion bumped, events emitted); they raise ``StoreError``.
- ``add_listener(callback(event_type, obj))`` is called after each committed write with
  ``ADDED`` / ``MODIFIED`` / ``DELETED`` and the new (or last) object.

Stored objects are never mutated in place: a write stores a new dict, so a snapshot of entries
(used by paginated lists) stays consistent, and objects may share unchanged sub-dicts.
"""

from __future__ import annotations

import bisect
import builtins
import itertools
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import orjson

from meshtui.sandbox.kinds import BY_PLURAL, ResourceType, type_for

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects
Listener = Callable[[str, dict[str, Any]], None]


class StoreError(Exception):
    """A failed operation, carrying what the metav1.Status response needs."""

    def __init__(self, code: int, reason: str, message: str,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """This error as a ``metav1.Status`` object."""
        out: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Failure", "message": self.message,
                               "reason": self.reason}
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out


def not_found(t: ResourceType, name: str) -> StoreError:
    """The API server's 404 for a missing object."""
    return StoreError(404, "NotFound", f'{t.qualified} "{name}" not found',
                      {"name": name, "group": t.group, "kind": t.plural})


def conflict(t: ResourceType, name: str, why: str) -> StoreError:
    """The API server's 409 Conflict for a failed precondition."""
    return StoreError(409, "Conflict", f'Operation cannot be fulfilled on {t.qualified} "{name}": {why}',
                      {"name": name, "group": t.group, "kind": t.plural})


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def copy_obj(obj: Any) -> Any:
    """A deep copy of a JSON-like object (faster than ``copy.deepcopy``)."""
    return orjson.loads(orjson.dumps(obj))


def now_rfc3339() -> str:
    """The current time the way the API server writes timestamps (second precision, UTC)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Entry:
    """One stored object version, with its serialized bytes cached per apiVersion."""

    __slots__ = ("obj", "rv", "_json")

    def __init__(self, obj: dict[str, Any], rv: int) -> None:
        self.obj = obj
        self.rv = rv
        self._json: dict[str, bytes] | None = None

    def json(self, api_version: str | None = None) -> bytes:
        """The object as JSON bytes, with ``apiVersion`` set to ``api_version`` if given."""
        av = api_version or self.obj.get("apiVersion", "")
        cache = self._json
        if cache is None:
            cache = self._json = {}
        data = cache.get(av)
        if data is None:
            obj = self.obj if self.obj.get("apiVersion") == av else {**self.obj, "apiVersion": av}
            data = cache[av] = orjson.dumps(obj)
        return data


@dataclass(slots=True)
class Event:
    """One committed change: ``old`` is the previous version (None for ADDED)."""

    rv: int
    type: str
    plural: str
    key: Key
    old: Entry | None
    new: Entry


class Expired(Exception):
    """A watch asked for a resourceVersion older than the retained event window."""


# Kinds whose strategy maintains metadata.generation (bumped when anything but metadata and
# status changes).
_GENERATION_GROUPS = frozenset({"apps", "networking.istio.io", "apiextensions.k8s.io", "gateway.networking.k8s.io"})


def _strip(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class Store:
    """Objects of every sandbox kind, a global resourceVersion and a window of recent events."""

    def __init__(self, event_window: int = 1000) -> None:
        self._objects: dict[str, dict[Key, Entry]] = {t.key: {} for t in BY_PLURAL.values()}
        self._sorted: dict[str, list[Key] | None] = {p: None for p in self._objects}
        self._rv = itertools.count(1)
        self.resource_version = 0
        self._events: deque[Event] = deque(maxlen=max(1, event_window))
        self._evicted_rv = 0  # rv of the newest event dropped from the window
        self._listeners: list[Listener] = []
        self._event_hooks: list[Callable[[Event], None]] = []
        self._snapshots: OrderedDict[str, tuple[int, list[Entry]]] = OrderedDict()

    # -- reading ----------------------------------------------------------------------------
    def get(self, plural: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object (read-only), or None."""
        e = self._objects[plural].get((namespace or "", name))
        return e.obj if e else None

    def get_entry(self, plural: str, namespace: str | None, name: str) -> Entry | None:
        """The stored entry (object + cached JSON), or None."""
        return self._objects[plural].get((namespace or "", name))

    def list(self, plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of one kind (all namespaces when ``namespace`` is None), sorted."""
        return [e.obj for e in self.list_entries(plural, namespace)]

    def count(self, plural: str) -> int:
        """How many objects of one kind are stored."""
        return len(self._objects[plural])

    def list_entries(self, plural: str, namespace: str | None = None) -> builtins.list[Entry]:
        """Entries of one kind sorted by (namespace, name), as etcd returns them."""
        objs = self._objects[plural]
        keys = self._sorted[plural]
        if keys is None:
            keys = self._sorted[plural] = sorted(objs)
        if namespace:
            lo = bisect.bisect_left(keys, (namespace, ""))
            hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
            keys = keys[lo:hi]
        return [objs[k] for k in keys]

    def save_snapshot(self, rv: int, entries: builtins.list[Entry]) -> str:
        """Keep a list result for continue tokens; returns its id (a bounded LRU)."""
        sid = uuid.uuid4().hex[:16]
        self._snapshots[sid] = (rv, entries)
        while len(self._snapshots) > 32:
            self._snapshots.popitem(last=False)
        return sid

    def snapshot(self, sid: str) -> tuple[int, builtins.list[Entry]] | None:
        """A saved list result, or None once it has been evicted."""
        snap = self._snapshots.get(sid)
        if snap is not None:
            self._snapshots.move_to_end(sid)
        return snap

    # -- listeners and events -----------------------------------------------------------------
    def add_listener(self, callback: Listener) -> None:
        """Call ``callback(event_type, obj)`` on the loop thread after each committed write."""
        self._listeners.append(callback)

    def remove_listener(self, callback: Listener) -> None:
        """Stop calling a listener added with ``add_listener``."""
        if callback in self._listeners:
            self._listeners.remove(callback)

    def add_event_hook(self, hook: Callable[[Event], None]) -> None:
        """Low-level: receive every ``Event`` (used by watches)."""
        self._event_hooks.append(hook)

    def remove_event_hook(self, hook: Callable[[Event], None]) -> None:
        """Stop delivering events to a hook."""
        if hook in self._event_hooks:
            self._event_hooks.remove(hook)

    def events_since(self, rv: int) -> builtins.list[Event]:
        """Retained events with a resourceVersion above ``rv``; raises Expired if some are gone."""
        if rv < self._evicted_rv:
            raise Expired(f"too old resource version: {rv} ({self._evicted_rv + 1})")
        out: builtins.list[Event] = []
        for ev in reversed(self._events):
            if ev.rv <= rv:
                break
            out.append(ev)
        out.reverse()
        return out

    def set_event_window(self, size: int) -> None:
        """Resize the retained event window (tests use a small one to force 410 Gone)."""
        events = list(self._events)
        self._events = deque(maxlen=max(1, size))
        for ev in events:
            self._record(ev)

    def _record(self, ev: Event) -> None:
        if len(self._events) == self._events.maxlen:
            self._evicted_rv = self._events[0].rv
        self._events.append(ev)

    def _commit(self, t: ResourceType, type_: str, key: Key, old: Entry | None, new: Entry) -> None:
        ev = Event(new.rv, type_, t.key, key, old, new)
        self._record(ev)
        for hook in list(self._event_hooks):
            hook(ev)
        for cb in list(self._listeners):
            cb(type_, new.obj)

    def _next_rv(self) -> int:
        self.resource_version = next(self._rv)
        return self.resource_version

    # -- writing ------------------------------------------------------------------------------
    @staticmethod
    def type_of(obj: dict[str, Any]) -> ResourceType:
        """The resource type of an object by its kind; StoreError 400 if not served."""
        t = type_for(str(obj.get("apiVersion") or ""), str(obj.get("kind")))
        if t is None:
            raise StoreError(400, "BadRequest", f"no kind {obj.get('kind')!r} is served by the sandbox")
        return t

    def create(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Store a new object (the dict is taken over, not copied); 409 AlreadyExists if taken."""
        t = self.type_of(obj)
        meta = obj.setdefault("metadata", {})
        ns = meta.get("namespace", "") if t.namespaced else ""
        if not t.namespaced:
            meta.pop("namespace", None)
        elif ns and not self.get("namespaces", None, ns):
            raise StoreError(404, "NotFound", f'namespaces "{ns}" not found',
                             {"name": ns, "kind": "namespaces"})
        name = meta.get("name", "")
        key = (ns, name)
        if key in self._objects[t.key]:
            raise StoreError(409, "AlreadyExists", f'{t.qualified} "{name}" already exists',
                             {"name": name, "group": t.group, "kind": t.plural})
        if meta.get("resourceVersion"):
            raise StoreError(500, "InternalError", "resourceVersion should not be set on objects to be created")
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_rfc3339()
        if t.plural == "namespaces":  # what the namespace registry and admission add
            meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": name}
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj["status"] = {"phase": "Active"}
        if t.group in _GENERATION_GROUPS:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        if dry_run:
            return obj
        meta["resourceVersion"] = str(self._next_rv())
        entry = Entry(obj, self.resource_version)
        self._objects[t.key][key] = entry
        self._sorted[t.key] = None
        self._commit(t, "ADDED", key, None, entry)
        return obj

    def update(self, obj: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Replace a stored object; 409 Conflict when ``metadata.resourceVersion`` is stale."""
        t = self.type_of(obj)
        meta = obj.setdefault("metadata", {})
        ns = meta.get("namespace", "") if t.namespaced else ""
        name = meta.get("name", "")
        key = (ns, name)
        old = self._objects[t.key].get(key)
        if old is None:
            raise not_found(t, name)
        given = meta.get("resourceVersion")
        if given:
            if str(given) != str(old.rv):
                raise conflict(t, name, STALE)
        elif not t.strategic_merge:  # custom resources forbid unconditional updates
            raise StoreError(422, "Invalid", f'{t.kind}.{t.group} "{name}" is invalid: '
                             "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
                             {"name": name, "group": t.group, "kind": t.kind, "causes": [
                                 {"reason": "FieldValueInvalid", "message": "Invalid value: 0x0: must be "
                                  "specified for an update", "field": "metadata.resourceVersion"}]})
        old_meta = old.obj.get("metadata", {})
        for k in ("uid", "creationTimestamp"):
            if k in old_meta:
                meta[k] = old_meta[k]
            else:
                meta.pop(k, None)
        if "generation" in old_meta:
            meta["generation"] = old_meta["generation"]
            if _strip(obj) != _strip(old.obj):
                meta["generation"] = old_meta["generation"] + 1
        meta["resourceVersion"] = old_meta.get("resourceVersion", str(old.rv))
        if obj == old.obj:  # a no-op update keeps the resourceVersion and emits nothing
            return old.obj
        if dry_run:
            return obj
        meta["resourceVersion"] = str(self._next_rv())
        entry = Entry(obj, self.resource_version)
        self._objects[t.key][key] = entry
        self._commit(t, "MODIFIED", key, old, entry)
        return obj

    def delete(self, plural: str, namespace: str | None, name: str, dry_run: bool = False,
               precondition_rv: str | None = None, precondition_uid: str | None = None) -> dict[str, Any]:
        """Remove an object (a namespace takes its contents with it); returns its last state."""
        t = BY_PLURAL[plural]
        key = ((namespace or "") if t.namespaced else "", name)
        old = self._objects[plural].get(key)
        if old is None:
            raise not_found(t, name)
        meta = old.obj.get("metadata", {})
        if precondition_uid and precondition_uid != meta.get("uid"):
            raise conflict(t, name, f"Precondition failed: UID in precondition: {precondition_uid}, "
                           f"UID in object meta: {meta.get('uid')}")
        if precondition_rv and str(precondition_rv) != str(old.rv):
            raise conflict(t, name, f"Precondition failed: ResourceVersion in precondition: "
                           f"{precondition_rv}, ResourceVersion in object meta: {old.rv}")
        if dry_run:
            return old.obj
        if plural == "namespaces":
            for other in BY_PLURAL.values():
                if other.namespaced:
                    for e in self.list_entries(other.key, name):
                        self.delete(other.key, name, e.obj["metadata"]["name"])
        del self._objects[plural][key]
        self._sorted[plural] = None
        rv = self._next_rv()
        last = {**old.obj, "metadata": {**meta, "resourceVersion": str(rv)}}
        entry = Entry(last, rv)
        self._commit(t, "DELETED", key, old, entry)
        return last
