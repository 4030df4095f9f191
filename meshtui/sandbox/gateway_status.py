"""The sandbox's stand-in for Istio's Gateway API controller: it writes route and Gateway status.

Routes get ``status.parents[]`` with ``Accepted`` and ``ResolvedRefs`` for each parentRef, as
``meshtui.routing.gateway_api_binding`` computes them (Istio's reasons and messages); Gateways of
an Istio class get ``Accepted``, ``Programmed``, ``ResolvedRefs``, an address (the generated
``<name>-istio`` Service's host name) and per-listener ``attachedRoutes`` with the kinds they
support. A condition keeps its ``lastTransitionTime`` while its status stays, so rewriting an
unchanged status is a no-op write (the store emits nothing for it) and the controller settles.
"""

from __future__ import annotations

import copy
from typing import Any

from meshtui.model.gateway_api import GATEWAY_API_GROUP, K8sGateway, K8sRoute
from meshtui.model.index import K8S_GATEWAY, MeshIndex
from meshtui.routing.gateway_api_binding import attachments, route_conditions
from meshtui.sandbox.kinds import BY_PLURAL
from meshtui.sandbox.store import Store, StoreError, now_rfc3339

CONTROLLER = "istio.io/gateway-controller"
ISTIO_CLASSES = frozenset({"istio", "istio-waypoint", "istio-east-west", "istio-remote"})
# What the controller reads: the Gateway API objects and what their references resolve to.
_WATCHED = frozenset({"Namespace", "Service", "ServiceEntry"})
_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute")


def _relevant(obj: dict[str, Any]) -> bool:
    group = str(obj.get("apiVersion") or "").rpartition("/")[0]
    return group == GATEWAY_API_GROUP or obj.get("kind") in _WATCHED


class GatewayStatusController:
    """Keeps Gateway API status current in ``store`` (attach with :meth:`attach`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.index = MeshIndex(o for t in BY_PLURAL.values() for o in store.list(t.key) if _relevant(o))

    @classmethod
    def attach(cls, store: Store) -> GatewayStatusController:
        """Write every status once, then follow the store's changes."""
        controller = cls(store)
        controller.sync_all()
        store.add_listener(controller.on_change)
        return controller

    def on_change(self, event: str, obj: dict[str, Any]) -> None:
        """A committed write: update the index, then the status it affects."""
        if not _relevant(obj):
            return
        meta = obj.get("metadata") or {}
        group = str(obj.get("apiVersion") or "").rpartition("/")[0]
        if event == "DELETED":
            self.index.delete(str(obj.get("kind")), meta.get("namespace") or "", meta.get("name") or "", group=group)
        else:
            self.index.upsert(obj)
        if obj.get("kind") in _ROUTE_KINDS and event != "DELETED":
            route = self.index.get(str(obj["kind"]), meta.get("namespace") or "", meta.get("name") or "")
            if isinstance(route, K8sRoute):
                self._sync_route(route)
            for ref in getattr(route, "parent_refs", []):
                gw = self.index.get(K8S_GATEWAY, ref.namespace, ref.name) if ref.is_gateway else None
                if isinstance(gw, K8sGateway):
                    self._sync_gateway(gw)
        elif obj.get("kind") in ("Service", "ServiceEntry"):
            # Only the routes that name it (as parent or backend) can change.
            name, ns = meta.get("name") or "", meta.get("namespace") or "default"
            for route in self.index.routes():
                refs: list[Any] = [*route.parent_refs, *(b for r in route.rules for b in r.backend_refs)]
                if any(r.name == name and r.namespace == ns for r in refs):
                    self._sync_route(route)
        else:
            self.sync_all()

    def sync_all(self) -> None:
        """Recompute the status of every route and Istio-class Gateway."""
        for route in self.index.routes():
            self._sync_route(route)
        for gw in self.index.k8s_gateways:
            self._sync_gateway(gw)

    # -- writing ---------------------------------------------------------------------------
    def _write(self, key: str, namespace: str, name: str, status: dict[str, Any]) -> None:
        current = self.store.get(key, namespace, name)
        if current is None:
            return
        old = current.get("status") or {}
        _keep_transition_times(old, status)
        if old == status:
            return
        updated = copy.deepcopy(current)
        updated["status"] = status
        try:
            self.store.update(updated)
        except StoreError:
            pass  # changed meanwhile: the next event recomputes it

    def _managed(self, gw: Any) -> bool:
        return isinstance(gw, K8sGateway) and gw.gateway_class_name in ISTIO_CLASSES

    def _sync_route(self, route: K8sRoute) -> None:
        parents = []
        for ref in route.parent_refs:
            if ref.is_gateway:
                gw = self.index.get(K8S_GATEWAY, ref.namespace, ref.name)
                if gw is not None and not self._managed(gw):
                    continue  # another controller's Gateway: not ours to report on
            conditions = [{"type": c.type, "status": c.status, "reason": c.reason, "message": c.message,
                           "lastTransitionTime": now_rfc3339(), "observedGeneration": _generation(route)}
                          for c in route_conditions(self.index, route, ref)]
            parents.append({"parentRef": ref.raw, "controllerName": CONTROLLER, "conditions": conditions})
        key = next((t.key for t in BY_PLURAL.values() if t.group == GATEWAY_API_GROUP and t.kind == route.kind), None)
        if key is not None:
            self._write(key, route.namespace, route.name, {"parents": parents})

    def _sync_gateway(self, gw: K8sGateway) -> None:
        if not self._managed(gw):
            return
        ns = gw.namespace or "default"
        attached: dict[str, set[tuple[str, str, str]]] = {x.name: set() for x in gw.listeners}
        for a in attachments(self.index, gw):
            attached.setdefault(a.listener.name, set()).add((a.route.kind, a.route.namespace, a.route.name))
        # istiod names a waypoint's Service after the Gateway, other classes' "<name>-<class>".
        name = gw.name if gw.gateway_class_name == "istio-waypoint" else f"{gw.name}-istio"
        service = f"{name}.{ns}.svc.{self.index.domain_suffix}"
        ports = ",".join(str(x.port) for x in gw.listeners if x.port is not None)
        gen = _generation(gw)

        def cond(kind: str, reason: str, message: str, status: str = "True") -> dict[str, Any]:
            return {"type": kind, "status": status, "reason": reason, "message": message,
                    "lastTransitionTime": now_rfc3339(), "observedGeneration": gen}

        status = {
            "addresses": [{"type": "Hostname", "value": service}],
            "conditions": [cond("Accepted", "Accepted", "Resource accepted"),
                           cond("Programmed", "Programmed", f"Resource programmed, assigned to service(s) {service}:{ports}"),
                           cond("ResolvedRefs", "ResolvedRefs", "All references resolved")],
            "listeners": [{
                "name": x.name, "attachedRoutes": len(attached.get(x.name, ())),
                "supportedKinds": [{"group": GATEWAY_API_GROUP, "kind": k} for k in x.default_route_kinds()
                                   if x.allows_kind(k)] or [{"group": g, "kind": k} for g, k in x.allowed_routes.kinds],
                "conditions": [cond("Accepted", "Accepted", "No errors found"),
                               cond("Conflicted", "NoConflicts", "No errors found", "False"),
                               cond("Programmed", "Programmed", "No errors found"),
                               cond("ResolvedRefs", "ResolvedRefs", "No errors found")],
            } for x in gw.listeners],
        }
        self._write(f"gateways.{GATEWAY_API_GROUP}", ns, gw.name, status)


def _generation(obj: Any) -> int:
    meta = obj.raw.get("metadata") or {}
    gen = meta.get("generation")
    return gen if isinstance(gen, int) else 1


def _keep_transition_times(old: Any, new: Any) -> None:
    """Carry ``lastTransitionTime`` over from ``old`` where a condition's status did not change."""
    if isinstance(old, dict) and isinstance(new, dict):
        if "type" in new and "lastTransitionTime" in new and old.get("type") == new.get("type") \
                and old.get("status") == new.get("status") and "lastTransitionTime" in old:
            new["lastTransitionTime"] = old["lastTransitionTime"]
        for k, v in new.items():
            if k in old:
                _keep_transition_times(old[k], v)
    elif isinstance(old, list) and isinstance(new, list):
        for o, n in zip(old, new):
            _keep_transition_times(o, n)
