"""Analysis of a mesh of a few hundred services: the sandbox's ``--scale`` mesh with deliberate
breakages gives exactly the findings those breakages call for, and subset selection agrees with
a brute-force scan of every pod. (Speed is measured by ``python -m meshtui.analysis.bench``.)"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshtui.analysis import analyze
from meshtui.analysis.bench import scale_objects
from meshtui.analysis.labelindex import LabelIndex
from meshtui.model.index import MeshIndex
from meshtui.sandbox.scenario import load_scale
from meshtui.sandbox.store import Store

SERVICES = 300
PLURALS = ("namespaces", "services", "pods", "endpoints", "virtualservices", "destinationrules")


def _sandbox_objects(n: int = SERVICES) -> list[dict[str, Any]]:
    """What ``meshtui sandbox --scale n`` serves (without the demo), as fresh dicts."""
    import copy

    store = Store()
    load_scale(store, n)
    return [copy.deepcopy(o) for plural in PLURALS for o in store.list(plural)]


def _find(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    [obj] = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def _summary(findings: list[Any]) -> set[tuple[str, str, str | None]]:
    return {(f.code, f.origin, f.path) for f in findings}


@pytest.fixture(scope="module")
def mesh() -> list[dict[str, Any]]:
    return _sandbox_objects()


def test_the_scale_mesh_as_generated_is_clean(mesh: list[dict[str, Any]]) -> None:
    assert analyze(MeshIndex(mesh)) == []


def test_one_broken_subset_among_many_gives_exactly_its_findings(mesh: list[dict[str, Any]]) -> None:
    import copy

    objs = copy.deepcopy(mesh)
    ns = f"scale-{123 // 100}"
    # A subset whose labels no pod carries, and a route to a subset no rule defines.
    _find(objs, "DestinationRule", "svc-123")["spec"]["subsets"][1]["labels"] = {"version": "v9"}
    _find(objs, "VirtualService", "svc-77")["spec"]["http"][0]["route"][1]["destination"]["subset"] = "v3"
    # A host no Service has.
    _find(objs, "DestinationRule", "svc-250")["spec"]["host"] = "nowhere"
    assert _summary(analyze(MeshIndex(objs))) == {
        # The subset selects no pod: Istio's IST0173 says it, and meshtui's MT0001 does not repeat it.
        ("IST0173", f"DestinationRule {ns}/svc-123", "spec.subsets[1]"),
        ("IST0101", "VirtualService scale-0/svc-77", "spec.http[0].route[1].destination.subset"),
        ("IST0174", "DestinationRule scale-2/svc-250", "spec.host"),
        # ... so svc-250's routes now name subsets that no rule for svc-250 defines.
        ("IST0101", "VirtualService scale-2/svc-250", "spec.http[0].route[0].destination.subset"),
        ("IST0101", "VirtualService scale-2/svc-250", "spec.http[0].route[1].destination.subset"),
    }


def test_unready_pods_of_one_subset_are_reported_once(mesh: list[dict[str, Any]]) -> None:
    import copy

    objs = copy.deepcopy(mesh)
    for pod in objs:
        if pod["kind"] == "Pod" and pod["metadata"]["labels"].get("app") == "svc-42" \
                and pod["metadata"]["labels"]["version"] == "v2":
            pod["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    findings = analyze(MeshIndex(objs))
    assert _summary(findings) == {("MT0001", "VirtualService scale-0/svc-42", "spec.http[0].route[1].destination.subset")}
    assert "2 pod(s), none ready" in findings[0].message


def _brute_force_unselected(objs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(DestinationRule ns/name, subset) pairs no pod of any namespace satisfies, by scanning
    every pod for every subset (the Service selector plus the subset labels, as Istio builds it)."""
    services = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs if o["kind"] == "Service"}
    pods = [o["metadata"].get("labels") or {} for o in objs if o["kind"] == "Pod"]
    out = set()
    for dr in (o for o in objs if o["kind"] == "DestinationRule"):
        ns = dr["metadata"]["namespace"]
        svc = services.get((ns, dr["spec"]["host"]))
        if svc is None:
            continue
        for subset in dr["spec"]["subsets"]:
            selector = {**svc["spec"]["selector"], **subset["labels"]}
            if not any(all(labels.get(k) == v for k, v in selector.items()) for labels in pods):
                out.add((f"{ns}/{dr['metadata']['name']}", subset["name"]))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_subset_selection_agrees_with_a_scan_of_every_pod(mesh: list[dict[str, Any]], seed: int) -> None:
    import copy

    rnd = random.Random(seed)
    objs = copy.deepcopy(mesh)
    drs = [o for o in objs if o["kind"] == "DestinationRule"]
    pods = [o for o in objs if o["kind"] == "Pod"]
    for dr in rnd.sample(drs, 40):
        subset = rnd.choice(dr["spec"]["subsets"])
        subset["labels"] = rnd.choice([{"version": "v3"}, {"version": "v1", "track": "canary"},
                                       {"app": f"svc-{rnd.randrange(SERVICES)}"}, {}])
    for pod in rnd.sample(pods, len(pods) // 4):
        if rnd.random() < 0.5:
            pod["metadata"]["labels"].pop("version", None)
        else:
            pod["metadata"]["labels"]["track"] = "canary"
    by_name = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in drs}
    reported = set()
    for f in analyze(MeshIndex(objs), ["destinationrule.SubsetSelectPodAnalyzer"]):
        assert f.code == "IST0173" and f.path is not None
        position = int(f.path.removeprefix("spec.subsets[").removesuffix("]"))
        subset = by_name[(f.namespace, f.resource_name)]["spec"]["subsets"][position]["name"]
        reported.add((f"{f.namespace}/{f.resource_name}", subset))
    expected = _brute_force_unselected(objs)
    assert expected  # the breakages left some subsets without pods
    assert reported == expected


def test_selectors_of_sidecars_and_gateways_among_many_pods(mesh: list[dict[str, Any]]) -> None:
    import copy

    objs = copy.deepcopy(mesh)

    def sidecar(name: str, ns: str, labels: dict[str, str]) -> dict[str, Any]:
        return {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar", "metadata": {"name": name, "namespace": ns},
                # An egress listener: a Sidecar with nothing else is one istiod refuses (IST0106).
                "spec": {"workloadSelector": {"labels": labels}, "egress": [{"hosts": ["./*"]}]}}

    objs += [
        sidecar("here", "scale-0", {"app": "svc-5"}),  # selects svc-5's pods: fine
        sidecar("elsewhere", "scale-1", {"app": "svc-5"}),  # svc-5 runs in scale-0 only
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "scale-2"},
         "spec": {"selector": {"app": "svc-250", "version": "v1"},
                  "servers": [{"port": {"number": 8080, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": {"name": "lost", "namespace": "scale-2"},
         "spec": {"selector": {"istio": "nowhere"},
                  "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}]}},
    ]
    assert _summary(analyze(MeshIndex(objs))) == {
        ("IST0101", "Sidecar scale-1/elsewhere", "spec.workloadSelector.labels"),
        ("IST0101", "Gateway scale-2/lost", "spec.selector"),  # IngressGatewayPortAnalyzer, SecretAnalyzer
    }


def test_the_benchmark_builds_the_mesh_the_sandbox_serves() -> None:
    def essentials(objs: list[dict[str, Any]]) -> dict[tuple[str, str, str], Any]:
        out = {}
        for o in objs:
            meta = o["metadata"]
            key = (o["kind"], meta.get("namespace", ""), meta["name"])
            if o["kind"] == "Pod":
                ready = [c["status"] for c in o["status"]["conditions"] if c["type"] == "Ready"]
                out[key] = (meta["labels"], o["spec"]["nodeName"], ready, o["status"]["podIP"])
            elif o["kind"] == "Service":
                out[key] = (meta["labels"], o["spec"]["selector"], o["spec"]["ports"], o["spec"]["clusterIP"])
            elif o["kind"] == "Namespace":
                out[key] = meta.get("labels")
            elif o["kind"] == "Endpoints":
                out[key] = [a["ip"] for s in o["subsets"] for a in s["addresses"]]
            else:
                out[key] = o["spec"]
        return out

    sandbox = essentials(_sandbox_objects(120))
    bench = essentials([o for o in scale_objects(120) if o["metadata"]["name"] != "istio-system"])
    assert bench == sandbox


labels = st.dictionaries(st.sampled_from("abc"), st.sampled_from(["1", "2", "3"]), max_size=3)


@given(st.lists(labels, max_size=12), labels)
def test_label_index_answers_like_a_scan(maps: list[dict[str, str]], selector: dict[str, str]) -> None:
    index = LabelIndex(maps)
    scan = [i for i, m in enumerate(maps) if all(k in m and m[k] == v for k, v in selector.items())]
    assert index.matching(selector) == scan
    assert index.any_match(selector) == bool(scan)
