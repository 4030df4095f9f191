"""A change to one object: what was read, what it becomes, and a diff a person can review.

A ``ChangePlan`` is plain data plus the edit function that produced it, so that after a conflict
the same edit can be re-applied on top of the object as it is now (``rebase``). It never writes;
``meshtui.write.apply.Writer`` does.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshtui.sources.base import ObjectKey, RawObject

if TYPE_CHECKING:
    from meshtui.sources.base import Source
    from meshtui.write.checks import Analyzer, Validation

Edit = Callable[[RawObject], RawObject]

# Server-managed bookkeeping that says nothing to a reviewer and would bury the real change.
# Fields the server rewrites on every write: in a diff they are churn, never the change.
_NOISE_METADATA = ("managedFields", "resourceVersion", "generation")


class RebaseError(Exception):
    """The edit cannot be re-applied on top of the current object (deleted, or the edit no
    longer makes sense there); the message is one line."""


def plain(value: Any) -> Any:
    """A copy made of plain ``dict`` / ``list`` / scalars (round-trip containers become plain)."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (str, int, float, bool)) else k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def fingerprint(value: Any) -> str:
    """Canonical JSON of a value, for equality that ignores key order (tells ``True`` from ``1``)."""
    return json.dumps(plain(value), sort_keys=True, default=str, separators=(",", ":"))


def content(obj: RawObject | None) -> dict[str, Any]:
    """Everything of an object but ``apiVersion``, ``kind``, ``metadata`` and ``status``: what an
    edit changes (``spec`` for Istio kinds, ``data`` for a ConfigMap)."""
    return {k: v for k, v in (obj or {}).items() if k not in ("apiVersion", "kind", "metadata", "status")}


def render_yaml(obj: RawObject | None) -> str:
    """Stable YAML of an object: keys in their original order, block style, no line folding,
    without ``metadata.managedFields``. ``None`` (no object) renders as the empty string."""
    if obj is None:
        return ""
    import yaml

    shown = plain(obj)
    meta = shown.get("metadata")
    if isinstance(meta, dict):
        for key in _NOISE_METADATA:
            meta.pop(key, None)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(shown, Dumper=dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 16)


def unified_diff(before: RawObject | None, after: RawObject | None, from_label: str, to_label: str,
                 context: int = 3) -> str:
    """The unified diff of the YAML renderings of two objects ('' when they render the same)."""
    a = render_yaml(before).splitlines(keepends=True)
    b = render_yaml(after).splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, from_label, to_label, n=context))


@dataclass
class ChangePlan:
    """One edit of one object, ready to be validated, reviewed and written.

    ``base`` is the object exactly as read (its resourceVersion or file content is the write
    precondition), ``new`` the edited object, ``description`` one line saying what the edit is
    (``shift v2=+10 in rule canary``). ``edit`` turns an object into its edited form; it made
    ``new`` from ``base`` and makes the rebased plan after a conflict. ``context`` is the rest
    of the mesh as read (the snapshot), for the analyzers and the ownership checks.
    """

    source: "Source"
    base: RawObject
    new: RawObject
    description: str
    edit: Edit | None = None
    context: Sequence[RawObject] = field(default_factory=list)
    #: Set on an undo plan: the audit id of the change it reverts.
    undoes: str | None = None

    @classmethod
    def build(cls, source: "Source", base: RawObject, edit: Edit, description: str,
              context: Sequence[RawObject] = ()) -> "ChangePlan":
        """Apply ``edit`` to ``base`` and wrap the result (edit errors propagate)."""
        return cls(source, base, edit(base), description, edit, list(context))

    @property
    def key(self) -> ObjectKey:
        """Kind, namespace and name of the object being changed."""
        return ObjectKey.of(self.base)

    @property
    def label(self) -> str:
        """``VirtualService istioinaction/catalog``."""
        return str(self.key)

    def changed(self) -> bool:
        """Whether the edit changes anything at all."""
        return fingerprint(self.base) != fingerprint(self.new)

    def diff(self, context: int = 3) -> str:
        """The unified diff of the object as read and as it would be written."""
        name = f"{self.key.namespace}/{self.key.name}" if self.key.namespace else self.key.name
        return unified_diff(self.base, self.new, f"{self.key.kind} {name} (current)",
                            f"{self.key.kind} {name} (new)", context)

    def validate(self, analyzer: "Analyzer | None | str" = "auto") -> "Validation":
        """Schema and Istio validation of ``new``, and the analyzers' findings that the edit
        introduces (see ``meshtui.write.checks.validate_change``)."""
        from meshtui.write.checks import validate_change

        return validate_change(self.base, self.new, self.context, analyzer)

    def rebase(self, current: RawObject | None) -> "ChangePlan":
        """The same edit re-applied on top of ``current`` (what the source holds now)."""
        if current is None:
            raise RebaseError(f"{self.label} no longer exists; nothing to re-apply the edit to")
        if self.edit is None:
            raise RebaseError("this change cannot be re-applied automatically; make it again")
        try:
            new = self.edit(current)
        except (ValueError, KeyError, TypeError) as exc:
            raise RebaseError(f"cannot re-apply {self.description!r} on the current object: {exc}") from None
        context = [current if ObjectKey.of(o) == self.key else o for o in self.context]
        return ChangePlan(self.source, current, new, self.description, self.edit, context, self.undoes)
