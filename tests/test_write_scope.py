"""The preview checks only the objects an edit can affect, and finds what the whole mesh finds.

``affected_objects`` replaced a run of every analyzer over the whole mesh, twice, per preview.
These tests hold it to the old answer: for edits of every VirtualService of the demo mesh
(weights, a subset no DestinationRule defines, a host that does not exist, a gateway that does
not exist), the errors, warnings and existing findings of the preview are the same with the
scoped context as with the whole mesh; and the context of one VirtualService in a scaled mesh
does not grow with the mesh.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from meshtui.model.index import MeshIndex
from meshtui.sandbox.scenario import load_demo, load_scale
from meshtui.sandbox.store import BY_PLURAL, Store
from meshtui.write.checks import validate_change
from meshtui.write.scope import affected_objects


def _objects(store: Store) -> list[dict[str, Any]]:
    return [copy.deepcopy(o) for plural in BY_PLURAL for o in store.list(plural)]


@pytest.fixture(scope="module")
def demo() -> list[dict[str, Any]]:
    store = Store()
    load_demo(store)
    return _objects(store)


def _first_route(vs: dict[str, Any]) -> list[dict[str, Any]]:
    for rule in vs["spec"].get("http") or []:
        if rule.get("route"):
            return rule["route"]
    return []


def _reweigh(vs: dict[str, Any]) -> None:
    route = _first_route(vs)
    for i, d in enumerate(route):
        d["weight"] = 100 if i == len(route) - 1 else 0


def _unknown_subset(vs: dict[str, Any]) -> None:
    for d in _first_route(vs):
        d["destination"]["subset"] = "no-such-subset"


def _unknown_host(vs: dict[str, Any]) -> None:
    for d in _first_route(vs):
        d["destination"]["host"] = "nowhere.example.svc.cluster.local"


def _unknown_gateway(vs: dict[str, Any]) -> None:
    vs["spec"]["gateways"] = ["no-such-gateway"]


EDITS: dict[str, Callable[[dict[str, Any]], None]] = {
    "weights": _reweigh, "unknown subset": _unknown_subset, "unknown host": _unknown_host,
    "unknown gateway": _unknown_gateway,
}


def _summary(validation: Any) -> tuple[list[str], list[str], list[str]]:
    return (sorted(map(str, validation.errors)), sorted(map(str, validation.warnings)),
            sorted(map(str, validation.existing)))


@pytest.mark.parametrize("edit", list(EDITS))
def test_scoped_preview_finds_what_the_whole_mesh_finds(demo: list[dict[str, Any]], edit: str) -> None:
    index = MeshIndex(demo)
    services = [o for o in demo if o["kind"] == "VirtualService" and _first_route(o)]
    assert len(services) >= 5
    introduced = 0
    for base in services:
        new = copy.deepcopy(base)
        EDITS[edit](new)
        whole = validate_change(base, new, demo)
        scoped = validate_change(base, new, affected_objects(index, [base, new]))
        assert _summary(scoped) == _summary(whole), f"{edit} of {base['metadata']['name']}"
        introduced += len(whole.errors) + len(whole.warnings)
    if edit != "weights":
        assert introduced > 0  # the edits do introduce findings, so the comparison means something


def test_context_of_one_edit_does_not_grow_with_the_mesh() -> None:
    sizes = []
    for n in (50, 400):
        store = Store()
        load_scale(store, n)
        index = MeshIndex(_objects(store))
        vs = index.get("VirtualService", "scale-0", "svc-7")
        assert vs is not None
        context = affected_objects(index, [vs.raw])
        kinds = sorted({o["kind"] for o in context})
        assert {"VirtualService", "DestinationRule", "Service", "Pod"} <= set(kinds)
        sizes.append(len(context))
    assert sizes[0] == sizes[1]


def test_scoped_preview_of_a_destination_rule_edit(demo: list[dict[str, Any]]) -> None:
    index = MeshIndex(demo)
    rules = [o for o in demo if o["kind"] == "DestinationRule" and o["spec"].get("subsets")]
    assert rules
    introduced = 0
    for base in rules:
        new = copy.deepcopy(base)
        new["spec"]["subsets"][-1]["labels"] = {"version": "no-such-version"}
        whole = validate_change(base, new, demo)
        scoped = validate_change(base, new, affected_objects(index, [base, new]))
        assert _summary(scoped) == _summary(whole), base["metadata"]["name"]
        introduced += len(whole.errors) + len(whole.warnings)
    assert introduced > 0  # a subset selecting no pod is found, so the comparison means something
