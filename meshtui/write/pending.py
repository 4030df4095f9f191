"""Edits made in the route editor but not applied yet, and how they become one ``ChangePlan``.

The editor records each user action (an ``Action`` of ``meshtui.write.edit_api``: its edit
function takes a raw VirtualService and returns the new raw dict), replays them on the object as read to show the pending state, and turns them
into a single plan whose edit re-runs every step, so that after a conflict the same edits are
re-applied on top of the object as it is now (``ChangePlan.rebase``).

Weight moves are recorded as the resulting split of the rule (``v1=70 v2=30``), not as the key
presses that led there: re-applied after someone else changed the object, the user gets the
split they saw, and a rule whose destinations changed meanwhile is refused rather than guessed.
Consecutive weight moves on one rule coalesce into one step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from meshtui.routing.rules import ReleaseError, RuleRef, copy_vs, http_rules, rule_index, write_weights
from meshtui.sources.base import RawObject
from meshtui.write.checks import Problem, istio_problems
from meshtui.write.edit_api import Action, DestKey, dest_key, rule_text, stable_ref
from meshtui.write.plan import ChangePlan, Edit

if TYPE_CHECKING:
    from meshtui.sources.base import Source

def dest_text(key: DestKey) -> str:
    """``v2`` for a subset, else the host."""
    return key[1] or key[0]


def rule_ref(vs: RawObject, index: int) -> RuleRef:
    """A reference to rule ``index`` of ``vs`` that survives other writers inserting rules."""
    return stable_ref(((vs.get("spec") or {}).get("http")) or [], index)


def weights_edit(ref: RuleRef, split: dict[DestKey, int]) -> Edit:
    """An edit giving the destinations of rule ``ref`` exactly ``split`` (must be all of them)."""

    def edit(vs: RawObject) -> RawObject:
        new = copy_vs(vs)
        rule = http_rules(new)[rule_index(new, ref)]
        keys = [dest_key(d) for d in rule.get("route") or []]
        if sorted(keys) != sorted(split):
            have = ", ".join(dest_text(k) for k in keys) or "none"
            raise ReleaseError(f"the destinations of rule {rule_text(ref)} changed (now: {have})")
        write_weights(rule, [split[k] for k in keys])
        return new

    return edit


@dataclass
class PendingEdit:
    """One step of the session: what it does, in words, and the edit itself. ``weights`` is set
    for a weight step (``(rule ref, split)``), so that the next move on that rule can merge."""

    description: str
    edit: Edit
    weights: tuple[RuleRef, dict[DestKey, int]] | None = None


class EditSession:
    """The edits pending on one object: ``base`` as read, ``current`` with every edit applied."""

    def __init__(self, base: RawObject) -> None:
        self.base = base
        self.edits: list[PendingEdit] = []
        self.current: RawObject = base

    @property
    def dirty(self) -> bool:
        """Whether there is anything to apply."""
        return bool(self.edits)

    def _replay(self, base: RawObject, edits: Sequence[PendingEdit]) -> RawObject:
        obj = base
        for step in edits:
            obj = step.edit(obj)
        return obj

    def push(self, description: str, edit: Edit) -> RawObject:
        """Apply ``edit`` on top of the pending state (``ReleaseError`` leaves the session as it was)."""
        self.current = edit(self.current)
        self.edits.append(PendingEdit(description, edit))
        return self.current

    def apply(self, action: Action) -> RawObject:
        """Queue one action of the edit API; a weight action is recorded as the split it leads
        to (``ReleaseError`` leaves the session as it was)."""
        if action.split is None:
            return self.push(action.description, action.edit)
        ref, split = action.split(self.current)
        return self.set_weights(ref, split)

    def set_weights(self, ref: RuleRef, split: dict[DestKey, int]) -> RawObject:
        """Give rule ``ref`` the split ``split``; merges with a weight step on the same rule just before."""
        edits = list(self.edits)
        if edits and edits[-1].weights is not None and edits[-1].weights[0] == ref:
            edits.pop()
        start = self._replay(self.base, edits)
        words = " ".join(f"{dest_text(k)}={w}" for k, w in split.items())
        step = PendingEdit(f"weights of rule {rule_text(ref)}: {words}", weights_edit(ref, dict(split)),
                           (ref, dict(split)))
        current = step.edit(start)
        self.edits = edits + [step]
        self.current = current
        return current

    def pop(self) -> PendingEdit | None:
        """Drop the last pending edit (None when there is none)."""
        if not self.edits:
            return None
        step = self.edits.pop()
        self.current = self._replay(self.base, self.edits)
        return step

    def reset(self, base: RawObject | None = None) -> None:
        """Forget every pending edit (and start from ``base`` when given)."""
        if base is not None:
            self.base = base
        self.edits = []
        self.current = self.base

    def rebase(self, base: RawObject) -> None:
        """Re-apply the pending edits on ``base`` (a newer object); ``ReleaseError`` when one no
        longer applies (the session is then unchanged)."""
        current = self._replay(base, self.edits)
        self.base, self.current = base, current

    def problems(self) -> list[Problem]:
        """Istio's validation of the pending object: every error (istiod would refuse it), and
        the warnings the pending edits introduce; empty when nothing is pending."""
        if not self.edits:
            return []
        had = Counter(p.message for p in istio_problems(self.base))
        out = []
        for p in istio_problems(self.current):
            if p.level == "warning" and had[p.message] > 0:
                had[p.message] -= 1
                continue
            out.append(p)
        return out

    def description(self) -> str:
        """What the pending edits do, in one line."""
        return "; ".join(e.description for e in self.edits) or "no change"

    def combined_edit(self) -> Edit:
        """One edit that replays every pending step (what a rebase after a conflict runs)."""
        steps = [e.edit for e in self.edits]

        def edit(obj: RawObject) -> RawObject:
            for step in steps:
                obj = step(obj)
            return obj

        return edit

    def plan(self, source: "Source", context: Sequence[RawObject] = ()) -> ChangePlan:
        """The change plan of the pending edits against ``base``."""
        return ChangePlan(source, self.base, self.current, self.description(), self.combined_edit(), list(context))
