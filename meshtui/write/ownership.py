"""Who else writes an object, and what that means for a change made here.

A VirtualService edited by hand may belong to a controller or a GitOps pipeline that will put
its own version back. The facts live in the model (``meshtui.model.management``: Flagger
Canaries and Argo Rollouts driving the object, ``ownerReferences``, Argo CD, Flux, Helm and
``kubectl apply`` markers); this module adapts them to the write path, which holds raw objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from meshtui.sources.base import RawObject

# Only these kinds can drive another object; indexing just them keeps the check cheap on a
# big mesh (the write path runs it before every preview).
_CONTROLLER_KINDS = ("Canary", "Rollout")


@dataclass(frozen=True, slots=True)
class Owner:
    """Another writer of the object: what it is (``flagger``, ``argo-rollouts``,
    ``owner-reference``, ``argocd``, ``flux``, ``helm``, ``kubectl-apply``), which one, and
    what it will do to a manual change."""

    kind: str
    name: str
    explanation: str

    def __str__(self) -> str:
        return self.explanation


def owners(obj: RawObject, objects: Iterable[RawObject] = ()) -> list[Owner]:
    """Every other writer of ``obj`` found in its metadata and among ``objects`` (the mesh as
    read, which includes Canaries and Rollouts when the cluster has those CRDs)."""
    from meshtui.model.index import MeshIndex
    from meshtui.model.management import managers

    controllers = MeshIndex(o for o in objects if o.get("kind") in _CONTROLLER_KINDS)
    return [Owner(m.kind, m.name, m.reason) for m in managers(obj, controllers)]
