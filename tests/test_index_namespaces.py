"""The index's namespace list follows every upsert and delete: the Namespace objects plus each
namespace an object lives in, as a walk of every object would find them."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from meshtui.model.index import MeshIndex

NAMESPACES = ("a", "b", "c", "")
KINDS = ("Service", "VirtualService", "Namespace", "Pod")


def raw(kind: str, namespace: str, name: str) -> dict:
    if kind == "Namespace":
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace or "d"}}
    api = "networking.istio.io/v1" if kind == "VirtualService" else "v1"
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {}}


def walked(index: MeshIndex) -> list[str]:
    names = {o.name for o in index.objects("Namespace")}
    for kind in ("Service", "VirtualService", "Pod"):
        names.update(o.namespace or "default" for o in index.objects(kind))
    return sorted(names)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from(KINDS), st.sampled_from(NAMESPACES),
                          st.sampled_from(("x", "y"))), max_size=40))
def test_namespaces_match_a_walk_after_any_sequence_of_changes(ops: list[tuple[bool, str, str, str]]) -> None:
    index = MeshIndex([])
    for add, kind, ns, name in ops:
        obj = raw(kind, ns, name)
        if add:
            index.upsert(obj)
        else:
            meta = obj["metadata"]
            index.delete(kind, meta.get("namespace", "") if kind != "Namespace" else "", meta["name"])
        assert index.namespaces == walked(index)
