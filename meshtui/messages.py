"""Messages the app posts to its screens (attributes down, messages up)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from meshtui.model.index import MeshIndex
    from meshtui.views.mesh_labels import ServiceLabels


class MeshUpdated(Message):
    """The mesh index changed (first load, or a batch of watch events).

    ``labels`` are the browser's labels of a fresh load, made off the event loop (or None).
    """

    def __init__(self, index: "MeshIndex", changed: list[tuple[str, Any]] | None = None,
                 labels: "ServiceLabels | None" = None) -> None:
        super().__init__()
        self.index = index
        # (event type, raw object) pairs in this batch; None on a full (re)load.
        self.changed = changed
        self.labels = labels


class ShowObject(Message):
    """Show one mesh object (e.g. from a proxy-config route, the VirtualService it came from).

    ``rule`` names the HTTP rule within it when known (the Envoy route name is the rule name).
    """

    def __init__(self, kind: str, namespace: str, name: str, *, rule: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        # Message.namespace is Textual's handler-name prefix: the object's namespace needs its own name.
        self.object_namespace = namespace
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

    def can_replace(self, message: Message) -> bool:
        """A newer analysis supersedes one a screen has not handled yet."""
        return isinstance(message, FindingsUpdated)


class RunCommand(Message):
    """Carry out a `:` command line (``meshtui.session.commands``) on behalf of a screen."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line


class OpenProxyConfig(Message):
    """Open the Envoy configuration of one pod (or Deployment, generated on manifests)."""

    def __init__(self, namespace: str, pod: str) -> None:
        super().__init__()
        self.pod_namespace = namespace
        self.pod = pod


class WriteRefused(Message):
    """A write was refused by the source (403): later writes are refused for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason
