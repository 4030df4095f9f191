"""The common part of every typed view, and tolerant field readers.

Views never raise on odd input: a missing or ill-typed field reads as ``None`` or empty, because
a half-written manifest must still show up in the UI (the schema validator is what reports it).
Dicts and lists in views (labels, selectors, ...) are the raw object's own containers, not
copies: treat them as read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")

Raw = dict[str, Any]


class ResourceKey(NamedTuple):
    """Identity of an object: kind, namespace ('' when cluster-scoped), name.

    Same fields, order and meaning as ``meshtui.sources.base.ObjectKey`` (the model may not
    import the sources layer).
    """

    kind: str
    namespace: str
    name: str


def as_str(value: Any) -> str | None:
    """``value`` if it is a string, else None."""
    return value if isinstance(value, str) else None


def as_int(value: Any) -> int | None:
    """``value`` if it is an integer (not a bool; a whole float counts), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_float(value: Any) -> float | None:
    """``value`` as a float if it is a number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def as_bool(value: Any) -> bool | None:
    """``value`` if it is a bool, else None."""
    return value if isinstance(value, bool) else None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty dict (a fresh one: never shared)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def as_strs(value: Any) -> list[str]:
    """The string items of a list (others dropped); empty when not a list."""
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def as_labels(value: Any) -> dict[str, str]:
    """A label map; the raw dict itself when it is one (values are strings in valid input)."""
    return value if isinstance(value, dict) else {}


def int_or_str(value: Any) -> int | str | None:
    """An IntOrString field (e.g. ``targetPort``)."""
    if isinstance(value, str):
        return value
    return as_int(value)


def percentage(value: Any) -> float | None:
    """Istio's ``Percent`` message (``{value: 12.5}``) as a float."""
    return as_float(as_dict(value).get("value"))


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """A read-only typed view of one Kubernetes-style object; ``raw`` is the object itself."""

    kind: str
    api_version: str
    group: str
    version: str
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    resource_version: str | None
    uid: str | None
    creation_timestamp: str | None
    raw: Raw

    @property
    def key(self) -> ResourceKey:
        """(kind, namespace, name), the identity used by sources and the index."""
        return ResourceKey(self.kind, self.namespace, self.name)

    @property
    def spec(self) -> dict[str, Any]:
        """The raw ``spec`` mapping (empty when absent)."""
        return as_dict(self.raw.get("spec"))


def lazy_view(views: dict[str, Any], name: str, read: Callable[[], T]) -> T:
    """A part of a view read from its raw object on first use and kept in the view's own
    ``views`` dict (a frozen view cannot set attributes): indexing a big mesh reads only what
    the index needs of each object."""
    value = views.get(name)
    if value is None:
        value = views[name] = read()
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericResource(Resource):
    """An object of a kind meshtui has no typed view for; everything is in ``raw``."""


def _timestamp(value: Any) -> str | None:
    # A YAML loader may already have turned the RFC 3339 string into a datetime.
    if isinstance(value, str) or value is None:
        return value
    iso = getattr(value, "isoformat", None)
    return iso().replace("+00:00", "Z") if callable(iso) else None


def meta_fields(raw: Raw) -> dict[str, Any]:
    """The keyword arguments of :class:`Resource` read from a raw object."""
    meta = as_dict(raw.get("metadata"))
    api_version = as_str(raw.get("apiVersion")) or ""
    group, _, version = api_version.rpartition("/")
    return {
        "kind": as_str(raw.get("kind")) or "",
        "api_version": api_version,
        "group": group,
        "version": version,
        "name": as_str(meta.get("name")) or "",
        "namespace": as_str(meta.get("namespace")) or "",
        "labels": as_labels(meta.get("labels")),
        "annotations": as_labels(meta.get("annotations")),
        "resource_version": as_str(meta.get("resourceVersion")),
        "uid": as_str(meta.get("uid")),
        "creation_timestamp": _timestamp(meta.get("creationTimestamp")),
        "raw": raw,
    }
