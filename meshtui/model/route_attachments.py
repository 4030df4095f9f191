"""Which Gateway API routes attach to which parent, and which ReferenceGrants each namespace has.

Kept by :class:`meshtui.model.index.MeshIndex` one object at a time (upsert/delete touch only
the entries of that route or grant). A route appears under every parent its ``parentRefs``
name: a Gateway (north-south) or a Service (GAMMA, east-west), and under every Service its
rules' ``backendRefs`` send to (so a per-version Service finds the routes splitting onto it).
Whether the parent *accepts*
the route (listener hostnames, ``allowedRoutes``) is decided by the tracer and the analyzers,
which need the namespaces' labels; this index only answers "who points at whom".
"""

from __future__ import annotations

from collections import defaultdict

from meshtui.model.gateway_api import K8sRoute, ReferenceGrant

RouteId = tuple[str, str, str]  # (kind, namespace, name)
Id = tuple[str, str]


class RouteAttachments:
    """parent (namespace, name) -> the routes that name it, split by parent type."""

    __slots__ = ("by_backend", "by_gateway", "by_service", "grants_by_namespace")

    def __init__(self) -> None:
        self.by_gateway: dict[Id, set[RouteId]] = defaultdict(set)
        self.by_service: dict[Id, set[RouteId]] = defaultdict(set)
        self.by_backend: dict[Id, set[RouteId]] = defaultdict(set)
        self.grants_by_namespace: dict[str, set[str]] = defaultdict(set)

    def _parents(self, route: K8sRoute) -> list[tuple[dict[Id, set[RouteId]], Id]]:
        out = []
        for ref in route.parent_refs:
            if ref.is_gateway:
                out.append((self.by_gateway, (ref.namespace, ref.name)))
            elif ref.is_service:
                out.append((self.by_service, (ref.namespace, ref.name)))
        out.extend((self.by_backend, b) for b in route.backend_services)
        return out

    def add_route(self, route: K8sRoute, ident: Id) -> None:
        """Index ``route`` (stored under ``ident``) under each of its parents."""
        rid = (route.kind, *ident)
        for table, parent in self._parents(route):
            table[parent].add(rid)

    def remove_route(self, route: K8sRoute, ident: Id) -> None:
        """Undo :meth:`add_route` for the same view."""
        rid = (route.kind, *ident)
        for table, parent in self._parents(route):
            ids = table.get(parent)
            if ids is not None:
                ids.discard(rid)
                if not ids:
                    del table[parent]

    def add_grant(self, grant: ReferenceGrant, ident: Id) -> None:
        """Index a ReferenceGrant by the namespace it grants access to."""
        self.grants_by_namespace[ident[0]].add(ident[1])

    def remove_grant(self, grant: ReferenceGrant, ident: Id) -> None:
        """Undo :meth:`add_grant`."""
        names = self.grants_by_namespace.get(ident[0])
        if names is not None:
            names.discard(ident[1])
            if not names:
                del self.grants_by_namespace[ident[0]]
