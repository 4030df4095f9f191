"""aiohttp handlers for the Kubernetes REST verbs on every sandbox kind, plus discovery,
OpenAPI, bearer-token authentication/authorization and SelfSubjectAccessReview.

One catch-all route parses ``/api/v1/...`` and ``/apis/<group>/<version>/...`` paths the way
the API server's request-info resolver does; more specific routes registered before it (pod
logs, port-forward) win.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from meshtui.sandbox import discovery, protobuf, tables, writes
from meshtui.sandbox.kinds import READ_VERBS, BY_PLURAL, ResourceType, lookup
from meshtui.sandbox.listing import list_body, parse_query, serve_watch
from meshtui.sandbox.store import Store, StoreError

JSON = "application/json"
# Where the authenticated user is kept on the request (a typed key where aiohttp has them).
USER_KEY: Any = web.RequestKey("user", object) if hasattr(web, "RequestKey") else "meshtui.user"
PUBLIC_PATHS = frozenset({"/version", "/healthz", "/livez", "/readyz"})


@dataclass(frozen=True)
class User:
    """An authenticated token holder; ``read_only`` users may only get/list/watch."""

    name: str
    read_only: bool


@dataclass
class RequestInfo:
    """What a resource request addresses, as the API server's RequestInfoResolver splits it."""

    group: str
    version: str
    rtype: ResourceType | None
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None
    verb: str


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response serialized with orjson."""
    return web.Response(body=obj if isinstance(obj, bytes) else orjson.dumps(obj), status=status,
                        content_type=JSON, headers=headers)


def status_response(err: StoreError) -> web.Response:
    """An error as a metav1.Status response."""
    return json_response(err.status(), err.code)


def _parse_path(path: str, method: str, query: Any) -> RequestInfo | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and any(t.plural == rest[2] and t.namespaced for t in BY_PLURAL.values()):
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return RequestInfo(group, version, None, "", None, None, None, "discovery")
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    sub = "/".join(rest[2:]) or None
    if method == "GET":
        verb = "get" if name else ("watch" if query.get("watch") in ("true", "1") else "list")
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection"}.get(method, method.lower())
    return RequestInfo(group, version, lookup(group, version, plural), plural, namespace, name, sub, verb)


def _forbidden(user: User, info: RequestInfo) -> StoreError:
    t = info.rtype
    qualified = t.qualified if t else info.plural
    target = f'{qualified} "{info.name}"' if info.name else qualified
    resource = info.plural + (f"/{info.subresource}" if info.subresource else "")
    where = f' in the namespace "{info.namespace}"' if info.namespace else " at the cluster scope"
    msg = (f'{target} is forbidden: User "{user.name}" cannot {info.verb} resource "{resource}" '
           f'in API group "{info.group}"{where}')
    details: dict[str, Any] = {"group": info.group, "kind": info.plural}
    if info.name:
        details = {"name": info.name, **details}
    return StoreError(403, "Forbidden", msg, details)


class Api:
    """The request handlers; shares the store and the token table with the Sandbox."""

    def __init__(self, store: Store, tokens: dict[str, User], *, bookmark_interval: float = 60.0,
                 watch_timeout: float = 1800.0) -> None:
        self.store = store
        self.tokens = tokens
        self.bookmark_interval = bookmark_interval
        self.watch_timeout = watch_timeout
        self.closing = asyncio.Event()
        self.address = "127.0.0.1"

    # -- middleware -----------------------------------------------------------------------------
    @web.middleware
    async def auth_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """401 for a missing or unknown bearer token, except on the public paths."""
        if request.path not in PUBLIC_PATHS:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header[:7].lower() == "bearer " else ""
            user = self.tokens.get(token)
            if user is None:
                return status_response(StoreError(401, "Unauthorized", "Unauthorized"))
            request[USER_KEY] = user
        try:
            return await handler(request)
        except StoreError as err:
            return status_response(err)
        except web.HTTPException:
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug of ours: still answer with a Status, as the API server does
            return status_response(StoreError(500, "InternalError", f"Internal error occurred: {exc!r}"))

    def revoke_writes(self, token: str) -> None:
        """Take write rights away from ``token`` from its next request on, as an RBAC change
        does to a live credential (it may still get/list/watch). Fault tests use it."""
        user = self.tokens.get(token)
        if user is None:
            raise KeyError("no such token")
        self.tokens[token] = User(user.name, True)

    def authorize(self, request: web.Request, info: RequestInfo) -> None:
        """403 when a read-only user asks for a write."""
        user: User = request[USER_KEY]
        if user.read_only and info.verb not in READ_VERBS:
            raise _forbidden(user, info)

    def add_routes(self, app: web.Application) -> None:
        """Register discovery, OpenAPI, SSAR and the catch-all resource route."""
        app.router.add_get("/version", self.version)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/livez", self.healthz)
        app.router.add_get("/readyz", self.healthz)
        app.router.add_get("/api", self.api_versions)
        app.router.add_get("/apis", self.apis)
        app.router.add_get("/openapi/v3", self.openapi_index)
        app.router.add_get("/openapi/v3/{gv:.+}", self.openapi_doc)
        app.router.add_post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", self.ssar)
        app.router.add_route("*", "/{path:.*}", self.resource)

    # -- discovery ------------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        """``GET /version``."""
        return json_response(discovery.SERVER_VERSION)

    async def healthz(self, request: web.Request) -> web.Response:
        """``GET /healthz``."""
        return web.Response(text="ok")

    async def api_versions(self, request: web.Request) -> web.Response:
        """``GET /api``."""
        return json_response(discovery.api_versions(f"{self.address}:{request.url.port}"))

    async def apis(self, request: web.Request) -> web.Response:
        """``GET /apis``."""
        return json_response(discovery.api_group_list())

    async def openapi_index(self, request: web.Request) -> web.Response:
        """``GET /openapi/v3``."""
        return json_response(discovery.openapi_v3_index())

    async def openapi_doc(self, request: web.Request) -> web.Response:
        """``GET /openapi/v3/<group-version path>``."""
        doc = discovery.openapi_v3_document(request.match_info["gv"])
        if doc is None:
            return status_response(StoreError(404, "NotFound", "the server could not find the requested resource"))
        return json_response(doc, headers={"Cache-Control": "public, immutable"})

    async def ssar(self, request: web.Request) -> web.Response:
        """``POST selfsubjectaccessreviews``: may the caller do this?"""
        raw = await request.read()
        if "protobuf" in request.content_type:
            spec = protobuf.ssar_spec(raw)
        else:
            spec = writes.decode_body(raw, request.content_type).get("spec") or {}
        attrs = spec.get("resourceAttributes")
        user: User = request[USER_KEY]
        allowed = attrs is None or not user.read_only or attrs.get("verb") in READ_VERBS
        status: dict[str, Any] = {"allowed": allowed}
        if not allowed:
            status["reason"] = f'user "{user.name}" is read-only'
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec, "status": status}
        return json_response(out, 201)

    # -- resources ------------------------------------------------------------------------------
    async def resource(self, request: web.Request) -> web.StreamResponse:
        """Every ``/api/v1/...`` and ``/apis/<g>/<v>/...`` request."""
        try:
            return await self._resource(request)
        except StoreError as err:
            return status_response(err)

    async def _resource(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/apis/") and request.path.count("/") == 2:
            group = discovery.api_group(request.path.split("/")[2])
            if group is not None and request.method == "GET":
                return json_response(group)
        info = _parse_path(request.path, request.method, request.query)
        if info is None:
            raise StoreError(404, "NotFound", "the server could not find the requested resource")
        if info.verb == "discovery":
            doc = discovery.resource_list(info.group, info.version)
            if doc is None or request.method != "GET":
                raise StoreError(404, "NotFound", "the server could not find the requested resource")
            return json_response(doc)
        t = info.rtype
        if t is None or (info.subresource and info.subresource != "status"):
            raise StoreError(404, "NotFound", "the server could not find the requested resource")
        self.authorize(request, info)
        if t.namespaced and info.namespace is None and info.verb not in ("list", "watch"):
            raise StoreError(404, "NotFound", "the server could not find the requested resource")
        if not t.namespaced:
            info.namespace = None
        av = t.api_version(info.version)
        # kubectl get asks for server-side printing (a meta.k8s.io Table) through Accept.
        table = tables.negotiate(request.headers.get("Accept"), request.query) \
            if info.verb in ("get", "list", "watch") else None
        if info.verb in ("list", "watch"):
            q = parse_query(request, t, info.version, info.namespace)
            if info.verb == "watch":
                return await serve_watch(request, self.store, q, self.closing,
                                         self.bookmark_interval, self.watch_timeout, table)
            try:
                limit = int(request.query.get("limit") or 0)
            except ValueError:
                raise StoreError(400, "BadRequest", "invalid limit") from None
            return json_response(list_body(self.store, q, limit, request.query.get("continue"), table))
        if info.verb == "get":
            entry = self.store.get_entry(t.key, info.namespace, info.name or "")
            if entry is None:
                from meshtui.sandbox.store import not_found
                raise not_found(t, info.name or "")
            if table is not None:
                return json_response(tables.TableConverter(self.store, t, info.version, table).object_table(entry.obj))
            return json_response(entry.json(av))
        ctx = writes.WriteContext.from_request(request, t, info.version, info.namespace, info.name)
        if info.verb == "create":
            obj, warnings = writes.create(self.store, ctx, await self._body(request))
            return json_response(writes.with_version(obj, av), 201, warnings)
        if info.verb == "update":
            obj, warnings = writes.update(self.store, ctx, await self._body(request),
                                          status_only=info.subresource == "status")
            return json_response(writes.with_version(obj, av), 200, warnings)
        if info.verb == "patch":
            raw = await request.read()
            obj, warnings = writes.patch(self.store, ctx, request.content_type, raw,
                                         status_only=info.subresource == "status")
            return json_response(writes.with_version(obj, av), 200, warnings)
        if info.verb == "delete":
            body = await self._body(request, allow_empty=True)
            return json_response(writes.delete(self.store, ctx, body), 200)
        if info.verb == "deletecollection":
            q = parse_query(request, t, info.version, info.namespace)
            return json_response(writes.delete_collection(self.store, ctx, q), 200)
        raise StoreError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    async def _body(self, request: web.Request, allow_empty: bool = False) -> dict[str, Any]:
        raw = await request.read()
        if not raw.strip() or (allow_empty and "protobuf" in request.content_type):
            if allow_empty:  # DeleteOptions: kubectl may send them as protobuf; defaults apply
                return {}
            raise StoreError(400, "BadRequest", "the request body is empty")
        return writes.decode_body(raw, request.content_type)

