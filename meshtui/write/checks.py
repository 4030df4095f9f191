"""Validation of an edited object before it is written: errors block, warnings ask.

Three layers, each stating what a real cluster would say:

1. the CRD OpenAPI schema (``meshtui.model.schema.validate``), as the API server checks it;
2. the rules of Istio's validating webhook that the schema cannot express, for the fields
   meshtui edits (``pkg/config/validation``: ``validateHTTPRouteDestinations`` — a weight must
   not be negative; a rule with several destinations must not have a total weight of 0);
3. the analyzers (``meshtui.analysis``), run on the mesh with the edit in place. Only findings
   about the edited object that the edit *introduces* count: an error it introduces blocks, a
   warning it introduces must be confirmed; findings it already had are reported as
   ``existing`` so that fixing a weight is never blocked by an unrelated old problem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshtui.sources.base import ObjectKey, RawObject

#: An analyzer run: the mesh index in, findings (``meshtui.analysis.finding.Finding``-like:
#: ``level``, ``code``, ``message``, ``kind``, ``namespace``, ``resource_name``, ``path``) out.
Analyzer = Callable[[Any], Iterable[Any]]


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation message about the edited object."""

    level: str  # "error" | "warning" | "info"
    message: str
    path: str | None = None
    code: str | None = None  # IST0101 ... for analyzer findings
    origin: str = "schema"  # "schema" | "istio" | "analyzer"

    def __str__(self) -> str:
        code = f"[{self.code}] " if self.code else ""
        where = f"{self.path}: " if self.path and self.path not in self.message else ""
        return f"{code}{where}{self.message}"


@dataclass
class Validation:
    """What the checks found: ``errors`` block the write, ``warnings`` need a confirmation,
    ``existing`` are findings the object had before the edit (shown, never blocking)."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    existing: list[Problem] = field(default_factory=list)
    #: Why the analyzers did not run (not available), or None.
    analyzer_skipped: str | None = None

    @property
    def ok(self) -> bool:
        """No blocking error."""
        return not self.errors

    def summary(self) -> str:
        """One line naming the first error and how many more there are."""
        if not self.errors:
            return "valid"
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"{self.errors[0]}{more}"


def webhook_errors(obj: RawObject) -> list[Problem]:
    """Istio's webhook rules for route destinations of a VirtualService (not in the schema)."""
    if obj.get("kind") != "VirtualService":
        return []
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    out: list[Problem] = []
    for section in ("http", "tcp", "tls"):
        rules = spec.get(section)
        if not isinstance(rules, list):
            continue
        for i, rule in enumerate(rules):
            route = rule.get("route") if isinstance(rule, dict) else None
            if not isinstance(route, list):
                continue
            total = 0
            for j, dest in enumerate(route):
                weight = dest.get("weight", 0) if isinstance(dest, dict) else 0
                if isinstance(weight, int) and not isinstance(weight, bool):
                    if weight < 0:
                        out.append(Problem("error", f"weight {weight} < 0",
                                           f"spec.{section}[{i}].route[{j}].weight", origin="istio"))
                    total += weight
            if len(route) > 1 and total == 0:
                out.append(Problem("error", "total destination weight = 0", f"spec.{section}[{i}].route",
                                   origin="istio"))
    return out


def schema_errors(obj: RawObject) -> list[Problem]:
    """The CRD schema errors of an Istio object (none for kinds without a shipped schema)."""
    from meshtui.model import schema

    return [Problem("error", e.message, e.path or None) for e in schema.validate(obj, strict=False)]


def default_analyzer() -> Analyzer:
    """The analysis engine's entry point (every analyzer over a ``MeshIndex``)."""
    from meshtui.analysis.runner import analyze

    return analyze


def _findings_for(analyzer: Analyzer, objects: Sequence[RawObject], key: ObjectKey) -> list[Problem]:
    from meshtui.model.index import MeshIndex

    found = analyzer(MeshIndex(objects))
    out: list[Problem] = []
    for f in found or ():
        if (getattr(f, "kind", None), getattr(f, "namespace", "") or "", getattr(f, "resource_name", None)) != (
            key.kind, key.namespace, key.name
        ):
            continue
        level = str(getattr(f, "level", "Warning")).lower()
        out.append(Problem(level if level in ("error", "warning") else "info", str(getattr(f, "message", "")),
                           getattr(f, "path", None), getattr(f, "code", None), origin="analyzer"))
    return out


def validate_change(base: RawObject, new: RawObject, context: Sequence[RawObject],
                    analyzer: Analyzer | None | str = "auto") -> Validation:
    """Validate ``new`` (which replaces ``base`` among ``context``, the mesh as read).

    ``analyzer="auto"`` uses the analysis engine when it is available; ``None`` skips it.
    """
    result = Validation()
    result.errors.extend(schema_errors(new))
    result.errors.extend(webhook_errors(new))
    fn: Analyzer | None = default_analyzer() if analyzer == "auto" else analyzer  # type: ignore[assignment]
    if fn is None:
        result.analyzer_skipped = "the analyzers are not available" if analyzer == "auto" else "not requested"
        return result
    key = ObjectKey.of(base)
    before_objects = [o for o in context if ObjectKey.of(o) != key] + [base]
    after_objects = [o for o in context if ObjectKey.of(o) != key] + [new]
    # A finding the object already had is "existing" even when its path moved (a rule inserted
    # in front shifts spec.http[N]): match by code and message, each earlier finding once.
    before = Counter((p.code, p.message) for p in _findings_for(fn, before_objects, key))
    for p in _findings_for(fn, after_objects, key):
        if before[(p.code, p.message)] > 0:
            before[(p.code, p.message)] -= 1
            result.existing.append(p)
        elif p.level == "error":
            result.errors.append(p)
        elif p.level == "warning":
            result.warnings.append(p)
        else:
            result.existing.append(p)
    return result
