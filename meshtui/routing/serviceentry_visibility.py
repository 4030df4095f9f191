"""The visibility mesh config gives a ServiceEntry: ``VisibilityFor`` of Istio's ServiceEntryVisibilityMatcher."""

from __future__ import annotations

from meshtui.model.serviceentry_visibility import PUBLIC, ServiceEntryVisibility
from meshtui.routing.gateway_api_binding import selector_matches


def visibility_for(config: ServiceEntryVisibility | None, namespace_labels: dict[str, str] | None) -> str:
    """PUBLIC, NAMESPACE or NONE for a ServiceEntry whose namespace has ``namespace_labels``.

    The first policy whose rules all match wins (a policy without rules matches everything),
    else the default; without the setting everything is PUBLIC.
    """
    if config is None:
        return PUBLIC
    labels = namespace_labels or {}
    for policy in config.policies:
        if all(s is not None and selector_matches(s, labels) for s in policy.selectors):
            return policy.visibility
    return config.default
