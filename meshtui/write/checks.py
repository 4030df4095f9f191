"""Validation of an edited object before it is written: errors block, warnings ask.

Three layers, each stating what a real cluster would say:

1. the CRD OpenAPI schema (``meshtui.model.schema.validate``), as the API server checks it;
2. Istio's own validation (``meshtui.analysis.validation``, ``pkg/config/validation``), what
   istiod's validating webhook refuses (errors, which block in every source) or accepts with a
   warning (which must be confirmed, unless the object already had it);
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


def istio_problems(obj: RawObject) -> list[Problem]:
    """Istio's validation of ``obj`` (``meshtui.analysis.validation``, what istiod's webhook
    says): errors as IST0106 and warnings as IST0133, with Istio's text and the field path."""
    from meshtui.analysis.validation import validate
    from meshtui.write.plan import plain

    out: list[Problem] = []
    for m in validate(plain(obj)):
        error = m.level == "error"
        out.append(Problem("error" if error else "warning", m.text, m.path, "IST0106" if error else "IST0133",
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
        if str(getattr(f, "analyzer", "")).startswith("schema.ValidationAnalyzer.") and \
                getattr(f, "code", None) in ("IST0106", "IST0133"):
            continue  # the schema and Istio's validation above already said it
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
    had = Counter(p.message for p in istio_problems(base) if p.level == "warning")
    for p in istio_problems(new):
        if p.level == "error":
            result.errors.append(p)
        elif had[p.message] > 0:
            had[p.message] -= 1
            result.existing.append(p)
        else:
            result.warnings.append(p)
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
