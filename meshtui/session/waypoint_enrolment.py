"""Enrolling a namespace, Service or ServiceEntry in a waypoint from the UI, as a previewed change.

The choices are the waypoints istiod would bind the object to (class ``istio-waypoint``, taking
its kind of traffic, admitting its namespace, and for a ServiceEntry of NAMESPACE visibility in
its own namespace), plus opting out (``none``) and dropping the label. The chosen one becomes a
``ChangePlan`` built with the edit API ``meshtui waypoint use|remove`` uses
(:mod:`meshtui.write.edit_api_waypoint`), so the preview, checks, write and undo are the one
write path's.
"""

from __future__ import annotations

from dataclasses import dataclass

from meshtui.model.ambient import USE_WAYPOINT, USE_WAYPOINT_NAMESPACE
from meshtui.model.base import Resource
from meshtui.model.index import MeshIndex
from meshtui.routing.waypoint_binding import binding_refusal, waypoints
from meshtui.sources.base import Source
from meshtui.write import edit_api_waypoint
from meshtui.write.plan import ChangePlan
from meshtui.write.scope import affected_objects

#: The choice that drops the object's own ``use-waypoint`` labels.
REMOVE = "remove"
#: The choice that opts a Service or ServiceEntry out of its namespace's waypoint.
OPT_OUT = "none"
ENROLLABLE = frozenset({"Namespace", "Service", "ServiceEntry"})


@dataclass(frozen=True, slots=True)
class EnrolmentChoice:
    """One thing the user may pick: its token (``NS/NAME``, ``none`` or ``remove``) and what it means."""

    token: str
    text: str
    current: bool = False


class EnrolmentError(ValueError):
    """The object cannot be enrolled (gone, wrong kind, unknown choice); the message is one line."""


def _target(index: MeshIndex, kind: str, namespace: str, name: str) -> Resource:
    if kind not in ENROLLABLE:
        raise EnrolmentError(f"a waypoint is chosen for a namespace, Service or ServiceEntry, not a {kind}")
    obj = index.get(kind, namespace, name)
    if obj is None:
        where = f"{namespace}/{name}" if namespace else name
        raise EnrolmentError(f"{kind} {where} is no longer in the mesh")
    return obj


def _own_namespace(obj: Resource) -> str:
    return obj.name if obj.kind == "Namespace" else obj.namespace


def enrolment_choices(index: MeshIndex, kind: str, namespace: str, name: str) -> list[EnrolmentChoice]:
    """What the object may be enrolled in, its current label marked; ``EnrolmentError`` when it cannot be."""
    obj = _target(index, kind, namespace, name)
    own = _own_namespace(obj)
    label = obj.labels.get(USE_WAYPOINT)
    current = f"{obj.labels.get(USE_WAYPOINT_NAMESPACE, own)}/{label}" if label and label != OPT_OUT else None
    out: list[EnrolmentChoice] = []
    for waypoint in waypoints(index):
        if binding_refusal(index, obj, waypoint) is not None:
            continue
        state = "ready" if waypoint.ready else "not ready: no address in its Gateway status yet"
        out.append(EnrolmentChoice(waypoint.resource_name, f"{waypoint.traffic_type} traffic, {state}",
                                   current == waypoint.resource_name))
    if kind != "Namespace":
        out.append(EnrolmentChoice(OPT_OUT, "opt out of the namespace's waypoint (ztunnel only)",
                                   label == OPT_OUT))
    if label:
        out.append(EnrolmentChoice(REMOVE, f"drop the {USE_WAYPOINT} label"
                                   + (" (the namespace's waypoint applies again)" if kind != "Namespace" else "")))
    return out


def enrolment_plan(source: Source, index: MeshIndex, kind: str, namespace: str, name: str,
                   token: str) -> ChangePlan:
    """The change that enrols the object as ``token`` says, for the preview (``EnrolmentError`` on a bad token)."""
    obj = _target(index, kind, namespace, name)
    choices = {c.token for c in enrolment_choices(index, kind, namespace, name)}
    if token not in choices:
        raise EnrolmentError(f"{token!r} is not a waypoint {kind} {obj.name} can use (one of {', '.join(sorted(choices))})")
    if token == REMOVE:
        action = edit_api_waypoint.remove()
    elif token == OPT_OUT:
        action = edit_api_waypoint.use(OPT_OUT)
    else:
        wp_namespace, _, wp_name = token.partition("/")
        action = edit_api_waypoint.use(wp_name, None if wp_namespace == _own_namespace(obj) else wp_namespace)
    new = action.edit(obj.raw)
    return ChangePlan.build(source, obj.raw, action.edit, action.description, affected_objects(index, [obj.raw, new]))
