"""The edit API for waypoint enrolment (ambient mode): one function per user action on the
``istio.io/use-waypoint*`` labels and the canary weight annotation of a Service, ServiceEntry or
Namespace, in the same ``Action`` shape as :mod:`meshtui.write.edit_api`, so the change is
previewed, validated and written through the one write path.

- ``use``: ``istio.io/use-waypoint=NAME`` (and ``-namespace`` when the waypoint lives in another
  namespace); ``none`` opts the object out of its namespace's waypoint.
- ``remove``: drop ``istio.io/use-waypoint`` and ``-namespace`` (the namespace's waypoint, if
  any, applies again).
- ``canary``: a second waypoint for a share of new connections (Istio 1.31's
  ``istio.io/use-waypoint-canary[-namespace]`` labels and ``-weight`` annotation); ``promote``
  makes the canary the primary and drops the canary configuration, ``rollback`` drops it.
"""

from __future__ import annotations

import copy
from typing import Any

from meshtui.model.ambient import (
    USE_WAYPOINT,
    USE_WAYPOINT_CANARY,
    USE_WAYPOINT_CANARY_NAMESPACE,
    USE_WAYPOINT_CANARY_WEIGHT,
    USE_WAYPOINT_NAMESPACE,
)
from meshtui.routing.rules import ReleaseError
from meshtui.sources.base import RawObject
from meshtui.write.edit_api import Action

def _meta(obj: RawObject) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A deep copy of ``obj`` with its (created if missing) labels and annotations."""
    new = copy.deepcopy(obj)
    meta = new.setdefault("metadata", {})
    return new, meta.setdefault("labels", {}), meta.setdefault("annotations", {})


def _own_namespace(obj: RawObject) -> str:
    meta = obj.get("metadata") or {}
    return str(meta.get("name") if obj.get("kind") == "Namespace" else meta.get("namespace") or "default")


def _set_ref(labels: dict[str, Any], name_key: str, ns_key: str, name: str, namespace: str | None,
             own: str) -> None:
    labels[name_key] = name
    if namespace and namespace != own:
        labels[ns_key] = namespace
    else:
        labels.pop(ns_key, None)


def _finish(obj: RawObject, new: dict[str, Any]) -> dict[str, Any]:
    """Drop a labels/annotations map the edit created and left empty."""
    meta, before = new["metadata"], obj.get("metadata") or {}
    for key in ("labels", "annotations"):
        if meta.get(key) == {} and key not in before:
            del meta[key]
    return new


def _ref_text(name: str, namespace: str | None) -> str:
    return f"{namespace}/{name}" if namespace else name


def use(waypoint: str, namespace: str | None = None) -> Action:
    """Enrol the object in ``waypoint`` (in ``namespace``, default the object's); ``none`` opts out."""
    if not waypoint:
        raise ReleaseError("name a waypoint (or none)")

    def edit(obj: RawObject) -> RawObject:
        new, labels, _ = _meta(obj)
        if waypoint == "none":
            labels[USE_WAYPOINT] = "none"
            labels.pop(USE_WAYPOINT_NAMESPACE, None)
        else:
            _set_ref(labels, USE_WAYPOINT, USE_WAYPOINT_NAMESPACE, waypoint, namespace, _own_namespace(obj))
        return _finish(obj, new)

    what = "opt out of the namespace's waypoint" if waypoint == "none" else \
        f"use waypoint {_ref_text(waypoint, namespace)}"
    return Action(what, edit)


def remove() -> Action:
    """Drop the object's ``use-waypoint`` labels."""

    def edit(obj: RawObject) -> RawObject:
        new, labels, _ = _meta(obj)
        labels.pop(USE_WAYPOINT, None)
        labels.pop(USE_WAYPOINT_NAMESPACE, None)
        return _finish(obj, new)

    return Action("stop using a waypoint", edit)


def _check_weight(weight: int) -> None:
    if not 0 <= weight <= 100:
        raise ReleaseError(f"canary weight {weight} must be an integer from 0 to 100")


def canary(weight: int, waypoint: str | None = None, namespace: str | None = None) -> Action:
    """Send ``weight`` % of new connections to the canary waypoint (``waypoint``, or the one the
    object already names); the primary takes the rest."""
    _check_weight(weight)

    def edit(obj: RawObject) -> RawObject:
        new, labels, annotations = _meta(obj)
        if USE_WAYPOINT not in labels:
            raise ReleaseError(f"{obj.get('kind')} has no istio.io/use-waypoint label: a canary needs a primary "
                               "waypoint on the same object (meshtui waypoint use first)")
        if waypoint is not None:
            if waypoint == labels.get(USE_WAYPOINT) and (namespace or None) == labels.get(USE_WAYPOINT_NAMESPACE):
                raise ReleaseError(f"canary waypoint {waypoint} must differ from the primary waypoint")
            _set_ref(labels, USE_WAYPOINT_CANARY, USE_WAYPOINT_CANARY_NAMESPACE, waypoint, namespace,
                     _own_namespace(obj))
        elif not labels.get(USE_WAYPOINT_CANARY):
            raise ReleaseError("no canary waypoint yet: name one (--waypoint NAME[.NS])")
        annotations[USE_WAYPOINT_CANARY_WEIGHT] = str(weight)
        return _finish(obj, new)

    to = f" ({_ref_text(waypoint, namespace)})" if waypoint else ""
    return Action(f"waypoint canary{to} weight {weight}%", edit)


def promote() -> Action:
    """The canary waypoint becomes the primary; the canary labels and weight are dropped."""

    def edit(obj: RawObject) -> RawObject:
        new, labels, annotations = _meta(obj)
        name = labels.get(USE_WAYPOINT_CANARY)
        if not name or name == "none":
            raise ReleaseError("no canary waypoint to promote (istio.io/use-waypoint-canary is not set)")
        labels[USE_WAYPOINT] = name
        labels.pop(USE_WAYPOINT_NAMESPACE, None)
        if USE_WAYPOINT_CANARY_NAMESPACE in labels:
            labels[USE_WAYPOINT_NAMESPACE] = labels.pop(USE_WAYPOINT_CANARY_NAMESPACE)
        labels.pop(USE_WAYPOINT_CANARY, None)
        annotations.pop(USE_WAYPOINT_CANARY_WEIGHT, None)
        return _finish(obj, new)

    return Action("promote the canary waypoint to primary", edit)


def rollback() -> Action:
    """Drop the canary configuration: all traffic through the primary waypoint again."""

    def edit(obj: RawObject) -> RawObject:
        new, labels, annotations = _meta(obj)
        labels.pop(USE_WAYPOINT_CANARY, None)
        labels.pop(USE_WAYPOINT_CANARY_NAMESPACE, None)
        annotations.pop(USE_WAYPOINT_CANARY_WEIGHT, None)
        return _finish(obj, new)

    return Action("roll back the waypoint canary", edit)
