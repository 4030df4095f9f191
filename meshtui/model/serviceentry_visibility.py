"""Mesh config ``serviceEntryVisibility``: who may see a ServiceEntry, by its namespace's labels.

Istio's ``MeshConfig.serviceEntryVisibility`` (``pilot/pkg/model/serviceentry_visibility.go``):
a default visibility and ordered policies, each a visibility with matching rules (today only
``namespaceSelector``, a Kubernetes LabelSelector on the ServiceEntry's namespace). The first
policy whose rules all match wins, else the default; unset means ``PUBLIC`` (Istio's legacy
behaviour). Ambient enforces it: a ``NAMESPACE`` ServiceEntry may not bind to a waypoint in
another namespace (:mod:`meshtui.routing.waypoint_binding`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.base import as_dict, as_list, as_str

PUBLIC = "PUBLIC"
NAMESPACE = "NAMESPACE"
NONE = "NONE"
_KNOWN = (PUBLIC, NAMESPACE, NONE)
_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})


def _visibility(value: Any) -> str:
    """A visibility enum name; UNSPECIFIED and anything unknown read as PUBLIC, as istiod maps them."""
    text = as_str(value)
    return text if text in _KNOWN else PUBLIC


@dataclass(frozen=True, slots=True)
class VisibilityPolicy:
    """One policy: its visibility and the namespace selectors its rules hold (None: a rule that never matches)."""

    visibility: str
    selectors: tuple[dict[str, Any] | None, ...]


def _selector(rule: Any) -> dict[str, Any] | None:
    """The rule's namespaceSelector, or None for a rule istiod cannot use (unknown matcher, bad operator)."""
    selector = as_dict(rule).get("namespaceSelector")
    if not isinstance(selector, dict):
        return None
    if any(as_dict(e).get("operator") not in _OPERATORS for e in as_list(selector.get("matchExpressions"))):
        return None  # LabelSelectorAsSelector fails: istiod drops the rule, which then never matches
    return selector


@dataclass(frozen=True, slots=True)
class ServiceEntryVisibility:
    """The parsed ``serviceEntryVisibility`` of the mesh config."""

    default: str = PUBLIC
    policies: tuple[VisibilityPolicy, ...] = ()

    @classmethod
    def parse(cls, raw: Any) -> ServiceEntryVisibility | None:
        """Read the mapping; None when the mesh config does not set it."""
        if not isinstance(raw, dict):
            return None
        policies = tuple(
            VisibilityPolicy(_visibility(as_dict(p).get("visibility")),
                             tuple(_selector(r) for r in as_list(as_dict(p).get("matchingRules"))))
            for p in as_list(raw.get("policies"))
        )
        return cls(_visibility(raw.get("defaultVisibility")), policies)
