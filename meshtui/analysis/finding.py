"""A finding: one message about one resource, in Istio's shape (code, level, origin, text)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LEVELS = ("Error", "Warning", "Info")


@dataclass(frozen=True, slots=True)
class Finding:
    """One analysis message.

    ``origin`` is written as Istio writes it: ``Kind namespace/name``, or ``Kind name`` for an
    object without a namespace. ``path`` is the offending field (``spec.http[0].route[0]...``)
    where known; ``analyzer`` is the registered name of the analyzer that reported it.
    """

    code: str
    name: str
    level: str
    message: str
    kind: str
    namespace: str
    resource_name: str
    path: str | None = None
    analyzer: str = ""
    documentation_url: str | None = None

    @property
    def origin(self) -> str:
        """``Kind ns/name`` (``Kind name`` without a namespace)."""
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.resource_name}"
        return f"{self.kind} {self.resource_name}"

    @property
    def is_error(self) -> bool:
        """Whether this finding makes ``meshtui analyze`` exit 1."""
        return self.level == "Error"

    def text(self) -> str:
        """istioctl's line: ``Error [IST0101] (VirtualService default/reviews) Referenced ...``."""
        return f"{self.level} [{self.code}] ({self.origin}) {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON form (see ``meshtui.commands.analyze``)."""
        out: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "message": self.message,
            "origin": self.origin,
            "kind": self.kind,
            "namespace": self.namespace or None,
            "resource_name": self.resource_name,
            "path": self.path,
            "analyzer": self.analyzer,
        }
        if self.documentation_url:
            out["documentation_url"] = self.documentation_url
        return out

    def sort_key(self) -> tuple[int, str, str, str, str, str]:
        """Errors first, then by origin, code and text (a stable order for scripts and diffs)."""
        rank = LEVELS.index(self.level) if self.level in LEVELS else len(LEVELS)
        return (rank, self.kind, self.namespace, self.resource_name, self.code, self.message)
