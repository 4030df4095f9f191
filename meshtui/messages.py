"""Messages the app posts to its screens (attributes down, messages up)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class MeshUpdated(Message):
    """The mesh index changed (first load, or a batch of watch events)."""

    def __init__(self, index: Any, changed: list[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        self.index = index
        # (event type, raw object) pairs in this batch; None on a full (re)load.
        self.changed = changed


class ShowObject(Message):
    """Show one mesh object (e.g. from a proxy-config route, the VirtualService it came from).

    ``rule`` names the HTTP rule within it when known (the Envoy route name is the rule name).
    """

    def __init__(self, kind: str, namespace: str, name: str, *, rule: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.rule = rule


class FindingsUpdated(Message):
    """A fresh analysis of the mesh finished (computed off the event loop).

    ``findings`` are ``meshtui.analysis.Finding`` sorted errors first; ``by_service`` maps a
    browser key ``(kind, namespace, name)`` and ``by_namespace`` a namespace to the worst level
    ("Error" or "Warning") of the findings about it, for the problem markers.
    """

    def __init__(
        self,
        findings: list[Any],
        by_service: dict[tuple[str, str, str], str] | None = None,
        by_namespace: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.findings = findings
        self.by_service = by_service or {}
        self.by_namespace = by_namespace or {}
