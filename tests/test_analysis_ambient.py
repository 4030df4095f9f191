"""Ambient findings: Istio's ambient-dependent analyzer row, and meshtui's MT02xx in istioctl's line form."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from paths import CONFORMANCE_ROOT

from meshtui.cli import main

AMBIENT_ANALYZE = CONFORMANCE_ROOT / "ambient" / "analyze"
HARNESS = CONFORMANCE_ROOT / "analyze" / "harness-default-resources.yaml"


def _ambient_rows(*analyzers: str) -> list[Any]:
    cases = yaml.safe_load((AMBIENT_ANALYZE / "expected.yaml").read_text())["cases"]
    return [pytest.param(c, id=c["id"]) for c in cases if c["analyzer"] in analyzers]


@pytest.mark.parametrize("case", _ambient_rows("sidecar.SelectorAnalyzer", "injection.Analyzer",
                                                 "auth.AuthorizationPoliciesAnalyzer"))
def test_istio_ambient_dependent_rows(case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for rel in case["input_files"]:
        shutil.copy(AMBIENT_ANALYZE / rel, tmp_path / Path(rel).name)
    shutil.copy(HARNESS, tmp_path / "zz-harness-defaults.yaml")
    code = main(["analyze", "--files", str(tmp_path), "-o", "json", "--analyzer", case["analyzer"]])
    findings = json.loads(capsys.readouterr().out)
    assert Counter((f["code"], f["origin"]) for f in findings) == Counter((e["code"], e["resource"]) for e in case["expected"])
    assert code == (1 if any(f["level"] == "Error" for f in findings) else 0)


def test_injection_messages_read_as_istios(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ns.yaml").write_text(yaml.safe_dump_all([
        _ns("bare", {}), _ns("amb", {"istio.io/dataplane-mode": "ambient"}),
        _ns("both", {"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"})]))
    main(["analyze", "--files", str(tmp_path), "--analyzer", "injection.Analyzer"])
    lines = capsys.readouterr().out.splitlines()
    assert "Warning [IST0123] (Namespace both) The namespace has more than one type of injection labels " \
           "[istio-injection=enabled istio.io/dataplane-mode=ambient], which may lead to undefined behavior. " \
           "Make sure only one injection label exists." in lines
    assert any(line.startswith("Info [IST0102] (Namespace bare) The namespace is not enabled for Istio injection. "
                               "Run 'kubectl label namespace bare istio-injection=enabled'") for line in lines)
    assert not any("(Namespace amb)" in line for line in lines)


def _ns(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _svc(name: str, ns: str = "shop", labels: dict[str, str] | None = None,
         annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, "annotations": annotations or {}},
            "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8080}]}}


def _pod(name: str, app: str, ns: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1", "conditions": [{"type": "Ready", "status": "True"}]}}


def _waypoint(name: str, ns: str = "shop", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {"gatewayClassName": "istio-waypoint",
                     "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
            "status": {"addresses": [{"type": "Hostname", "value": f"{name}.{ns}.svc.cluster.local"}]}}


def _route(name: str, service: str, ns: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": service, "port": 8080}],
                     "rules": [{"backendRefs": [{"name": service, "port": 8080}]}]}}


def _vs(name: str, host: str, ns: str = "shop", source_labels: bool = False) -> dict[str, Any]:
    rule: dict[str, Any] = {"route": [{"destination": {"host": host}}]}
    if source_labels:
        rule = {"name": "from-canary-clients", "match": [{"sourceLabels": {"track": "canary"}}], **rule}
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": ns}, "spec": {"hosts": [host], "http": [rule]}}


def _analyze(tmp_path: Path, objs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    (tmp_path / "mesh.yaml").write_text(yaml.safe_dump_all(objs))
    code = main(["analyze", "--files", str(tmp_path), "--analyzer", "meshtui.AmbientL7Analyzer",
                 "--analyzer", "meshtui.WaypointRoutesAnalyzer", "--analyzer", "meshtui.UseWaypointAnalyzer"])
    return code, [line for line in capsys.readouterr().out.splitlines() if "[MT02" in line]


def test_httproute_on_ambient_service_without_waypoint_is_flagged(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    objs = [_ns("shop", {"istio.io/dataplane-mode": "ambient"}), _svc("cart"), _pod("cart-1", "cart"),
            _route("cart-split", "cart"), _vs("cart-vs", "cart")]
    code, lines = _analyze(tmp_path, objs, capsys)
    assert code == 0
    assert lines == [
        "Warning [MT0201] (HTTPRoute shop/cart-split) HTTPRoute shop/cart-split applies to service cart, whose pods "
        "are in ambient mode with no waypoint: ztunnel only handles L4, so these L7 rules are ignored "
        "(add istio.io/use-waypoint).",
        "Warning [MT0201] (VirtualService shop/cart-vs) VirtualService shop/cart-vs applies to service cart, whose "
        "pods are in ambient mode with no waypoint: ztunnel only handles L4, so these L7 rules are ignored "
        "(add istio.io/use-waypoint).",
    ]


def test_the_same_route_through_a_waypoint_or_on_a_sidecar_service_is_fine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objs = [_ns("shop", {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "wp"}), _waypoint("wp"),
            _svc("cart"), _pod("cart-1", "cart"), _route("cart-split", "cart"),
            _ns("legacy", {"istio-injection": "enabled"}), _svc("old", "legacy"), _route("old-split", "old", "legacy")]
    assert _analyze(tmp_path, objs, capsys) == (0, [])


def test_virtual_service_and_httproutes_on_one_waypoint_and_source_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objs = [_ns("shop", {"istio.io/dataplane-mode": "ambient", "istio.io/use-waypoint": "wp"}), _waypoint("wp"),
            _svc("cart"), _svc("pay"), _route("cart-split", "cart"),
            _vs("pay-vs", "pay.shop.svc.cluster.local", source_labels=True)]
    _, lines = _analyze(tmp_path, objs, capsys)
    assert lines == [
        "Warning [MT0202] (VirtualService shop/pay-vs) service pay is served by waypoint shop/wp, which also serves "
        "HTTPRoute shop/cart-split: mixing VirtualService and HTTPRoute on a waypoint is not supported and the "
        "outcome is undefined.",
        "Warning [MT0206] (VirtualService shop/pay-vs) rule from-canary-clients matches sourceLabels for service pay, "
        "which waypoint shop/wp serves: a waypoint does not know the client's labels, so this match does not apply "
        "there.",
    ]


def test_use_waypoint_naming_a_missing_waypoint_or_one_for_workloads_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    objs = [_ns("shop", {"istio.io/use-waypoint": "gone"}),
            _waypoint("pods-only", labels={"istio.io/waypoint-for": "workload"}),
            _svc("cart", labels={"istio.io/use-waypoint": "missing"}),
            _svc("pay", labels={"istio.io/use-waypoint": "pods-only"})]
    code, lines = _analyze(tmp_path, objs, capsys)
    assert code == 1
    assert sorted(lines) == sorted([
        'Error [MT0203] (Namespace shop) istio.io/use-waypoint names waypoint "shop/gone", which does not exist: '
        "namespace shop gets no waypoint.",
        'Error [MT0203] (Service shop/cart) istio.io/use-waypoint names waypoint "shop/missing", which does not '
        "exist: Service shop/cart gets no waypoint.",
        'Error [MT0204] (Service shop/pay) UnsupportedTrafficType: attempting to bind to traffic type "service" '
        'which the waypoint "shop/pods-only" does not support.',
    ])


def test_unusable_waypoint_canaries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    primary = {"istio.io/use-waypoint": "wp"}
    objs = [_ns("shop", {}), _waypoint("wp"), _waypoint("wp-v2"),
            _svc("bad-weight", labels={**primary, "istio.io/use-waypoint-canary": "wp-v2"},
                 annotations={"istio.io/use-waypoint-canary-weight": "120"}),
            _svc("same", labels={**primary, "istio.io/use-waypoint-canary": "wp"}),
            _svc("weight-only", labels=primary, annotations={"istio.io/use-waypoint-canary-weight": "10"}),
            _svc("good", labels={**primary, "istio.io/use-waypoint-canary": "wp-v2"},
                 annotations={"istio.io/use-waypoint-canary-weight": "10"})]
    _, lines = _analyze(tmp_path, objs, capsys)
    assert sorted(lines) == sorted([
        'Warning [MT0205] (Service shop/bad-weight) CanaryInvalidWeight: canary waypoint "shop/wp-v2" has an invalid '
        "weight; must be an integer in [0,100]: all traffic stays on waypoint shop/wp.",
        'Warning [MT0205] (Service shop/same) CanarySameAsPrimary: canary waypoint "shop/wp" must differ from the '
        "primary waypoint: all traffic stays on waypoint shop/wp.",
        "Warning [MT0205] (Service shop/weight-only) annotation istio.io/use-waypoint-canary-weight is set but no "
        "istio.io/use-waypoint-canary label names a canary: all traffic stays on waypoint shop/wp.",
    ])


def test_port_names_of_the_service_istiod_makes_for_a_waypoint_are_not_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The Service of Istio's waypoint deployment golden: ports status-port and mesh.
    docs = list(yaml.safe_load_all((CONFORMANCE_ROOT / "ambient" / "waypoint-deployment" / "waypoint.yaml").read_text()))
    service = next(d for d in docs if isinstance(d, dict) and d.get("kind") == "Service")
    service["metadata"]["namespace"] = "shop"
    user = json.loads(json.dumps(service))
    user["metadata"] = {"name": "user-made", "namespace": "shop"}
    (tmp_path / "svc.yaml").write_text(yaml.safe_dump_all([service, user]))
    main(["analyze", "--files", str(tmp_path), "-o", "json", "--analyzer", "service.PortNameAnalyzer"])
    origins = [f["origin"] for f in json.loads(capsys.readouterr().out)]
    assert origins == ["Service shop/user-made"]


def test_injection_and_authz_analyzers_on_the_live_demo_see_the_sidecars(
    sandbox: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Through the kube source (pods read as slim records) every demo pod with a sidecar counts.
    code = main(["analyze", "--kubeconfig", str(sandbox.kubeconfig_path), "--context", "meshtui-sandbox",
                 "--analyzer", "injection.Analyzer", "--analyzer", "auth.AuthorizationPoliciesAnalyzer",
                 "--analyzer", "meshtui.AmbientL7Analyzer", "-o", "json"])
    findings = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(f["code"], f["origin"]) for f in findings] == [("MT0201", "HTTPRoute shop/stock-split")]
