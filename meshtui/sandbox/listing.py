"""List and watch responses: selectors, limit/continue pagination over a consistent snapshot,
and watch streams (ADDED/MODIFIED/DELETED/BOOKMARK, resume by resourceVersion, 410 Expired).

List bodies are assembled from each object's cached JSON bytes, so a list of 20,000 pods costs a
join, not a re-serialization.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from meshtui.sandbox.kinds import ResourceType
from meshtui.sandbox.selectors import Predicate, field_equals, parse_field_selector, parse_label_selector
from meshtui.sandbox.store import Entry, Event, Expired, Store, StoreError
from meshtui.sandbox.tables import TableConverter, TableRequest

TOO_OLD_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can start "
    "a new list without the continue parameter, or use the continue token in this response to "
    "retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the first "
    "chunk was returned and now may show up in the list.")


@dataclass
class Query:
    """What a list or watch request selects."""

    rtype: ResourceType
    version: str
    namespace: str | None
    label: Predicate | None
    field: Predicate | None
    name: str | None  # pinned by fieldSelector metadata.name=...

    @property
    def api_version(self) -> str:
        """The apiVersion objects are returned with (the request URL's)."""
        return self.rtype.api_version(self.version)

    def matches(self, obj: dict[str, Any]) -> bool:
        """Whether an object is selected."""
        if self.namespace and (obj.get("metadata") or {}).get("namespace") != self.namespace:
            return False
        if self.label is not None and not self.label(obj):
            return False
        return self.field is None or self.field(obj)


def parse_query(request: web.Request, rtype: ResourceType, version: str, namespace: str | None) -> Query:
    """Selectors of a request; StoreError 400 if a selector does not parse."""
    from meshtui.sandbox.selectors import SelectorError

    q = request.query
    try:
        label = parse_label_selector(q.get("labelSelector"))
        field = parse_field_selector(q.get("fieldSelector"), rtype.extra_fields)
    except SelectorError as exc:
        raise StoreError(400, "BadRequest", str(exc)) from None
    return Query(rtype, version, namespace, label, field, field_equals(q.get("fieldSelector"), "metadata.name"))


def _candidates(store: Store, q: Query) -> list[Entry]:
    if q.name is not None:
        if q.rtype.namespaced and q.namespace:
            e = store.get_entry(q.rtype.key, q.namespace, q.name)
            return [e] if e else []
        if not q.rtype.namespaced:
            e = store.get_entry(q.rtype.key, None, q.name)
            return [e] if e else []
    return store.list_entries(q.rtype.key, q.namespace)


def _encode_continue(rv: int, start: int, sid: str) -> str:
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start, "snap": sid})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, int, str]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(raw["rv"]), int(raw["start"]), str(raw["snap"])
    except Exception:
        raise StoreError(400, "BadRequest", "continue key is not valid: illegal base64 data") from None


def list_body(store: Store, q: Query, limit: int, cont: str | None,
              table: TableRequest | None = None) -> bytes:
    """The JSON body of a list response (``<Kind>List``, or a ``Table`` of the page when asked)."""
    if cont:
        rv, start, sid = _decode_continue(cont)
        snap = store.snapshot(sid)
        if snap is None:
            raise StoreError(410, "Expired", TOO_OLD_CONTINUE)
        entries = snap[1]
    else:
        rv, start = store.resource_version, 0
        entries = [e for e in _candidates(store, q) if q.label is None and q.field is None or q.matches(e.obj)]
        sid = ""
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    page = entries[start:]
    if limit > 0 and len(page) > limit:
        page = page[:limit]
        if not sid:
            sid = store.save_snapshot(rv, entries)
        meta["continue"] = _encode_continue(rv, start + limit, sid)
        if q.label is None and q.field is None:
            meta["remainingItemCount"] = len(entries) - start - limit
    if table is not None:
        return TableConverter(store, q.rtype, q.version, table).table([e.obj for e in page], meta)
    av = q.api_version
    head = orjson.dumps({"kind": q.rtype.kind + "List", "apiVersion": av, "metadata": meta})
    return head[:-1] + b',"items":[' + b",".join(e.json(av) for e in page) + b"]}"


# -- watch ---------------------------------------------------------------------------------------
def _event_line(type_: str, data: bytes) -> bytes:
    return b'{"type":"' + type_.encode() + b'","object":' + data + b"}\n"


def _bookmark(q: Query, rv: int, initial_end: bool = False, table: TableConverter | None = None) -> bytes:
    if table is not None:
        return _event_line("BOOKMARK", table.bookmark(rv))
    meta: dict[str, Any] = {"resourceVersion": str(rv), "creationTimestamp": None}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return _event_line("BOOKMARK", orjson.dumps({"kind": q.rtype.kind, "apiVersion": q.api_version,
                                                 "metadata": meta}))


def _translate(q: Query, ev: Event, table: TableConverter | None = None) -> bytes | None:
    """One store event as this watch sees it (selector changes become ADDED/DELETED), its object
    as a Table when ``table`` is given."""
    if ev.plural != q.rtype.key:
        return None
    new_ok = q.matches(ev.new.obj)
    old_ok = ev.old is not None and q.matches(ev.old.obj)
    if ev.type == "DELETED":
        type_ = "DELETED" if (old_ok or new_ok) else None
    elif ev.type == "ADDED":
        type_ = "ADDED" if new_ok else None
    elif new_ok and old_ok:
        type_ = "MODIFIED"
    elif new_ok:
        type_ = "ADDED"
    elif old_ok:
        type_ = "DELETED"
    else:
        type_ = None
    if type_ is None:
        return None
    return _event_line(type_, table.watch_object(ev.new.obj) if table else ev.new.json(q.api_version))


async def serve_watch(request: web.Request, store: Store, q: Query,
                      closing: asyncio.Event, bookmark_interval: float,
                      default_timeout: float, table: TableRequest | None = None) -> web.StreamResponse:
    """Stream watch events until timeoutSeconds, client disconnect or server shutdown; with
    ``table``, each event carries a Table (column definitions in the first one only)."""
    params = request.query
    rv_param = params.get("resourceVersion", "")
    bookmarks = params.get("allowWatchBookmarks") in ("true", "1")
    initial = params.get("sendInitialEvents") == "true"
    try:
        timeout = float(params.get("timeoutSeconds") or default_timeout)
    except ValueError:
        raise StoreError(400, "BadRequest", "invalid timeoutSeconds") from None

    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    conv = TableConverter(store, q.rtype, q.version, table) if table is not None else None

    def hook(ev: Event) -> None:
        line = _translate(q, ev, conv)
        if line is not None:
            queue.put_nowait(line)

    # Nothing awaits between registering the hook and taking the snapshot, so no event is lost
    # or duplicated between the initial state and the live stream.
    first: list[bytes] = []
    error: bytes | None = None
    if initial or rv_param in ("", "0"):
        av = q.api_version
        first = [_event_line("ADDED", conv.watch_object(e.obj) if conv else e.json(av))
                 for e in _candidates(store, q) if q.matches(e.obj)]
        if initial and bookmarks:
            first.append(_bookmark(q, store.resource_version, initial_end=True, table=conv))
    else:
        try:
            since = int(rv_param)
        except ValueError:
            raise StoreError(400, "BadRequest", f'invalid resource version: "{rv_param}"') from None
        try:
            first = [line for ev in store.events_since(since) if (line := _translate(q, ev, conv))]
        except Expired as exc:
            status = StoreError(410, "Expired", str(exc)).status()
            error = _event_line("ERROR", orjson.dumps(status))
    if error is None:
        store.add_event_hook(hook)

    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                    "Cache-Control": "no-cache, private"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    try:
        if error is not None:
            await resp.write(error)
            return resp
        if first:
            await resp.write(b"".join(first))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        next_bookmark = loop.time() + bookmark_interval
        closer = asyncio.ensure_future(closing.wait())
        try:
            while not closing.is_set():
                now = loop.time()
                if now >= deadline:
                    break
                wait = min(deadline, next_bookmark if bookmarks else deadline) - now
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, closer}, timeout=max(wait, 0.0),
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    lines = [getter.result()]
                    while not queue.empty():
                        lines.append(queue.get_nowait())
                    await resp.write(b"".join(x for x in lines if x))
                else:
                    getter.cancel()
                    if bookmarks and loop.time() >= next_bookmark:
                        await resp.write(_bookmark(q, store.resource_version, table=conv))
                        next_bookmark = loop.time() + bookmark_interval
        finally:
            closer.cancel()
    except ConnectionResetError:
        return resp
    finally:
        store.remove_event_hook(hook)
    with contextlib.suppress(ConnectionResetError, RuntimeError):
        await resp.write_eof()
    return resp
