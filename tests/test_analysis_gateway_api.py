"""Gateway API analyzers: Istio's cases (IST0166, IST0171 for Gateway API kinds, IST0176) through
``meshtui analyze --files DIR -o json``, and meshtui's MT0101-MT0106 on small manifests."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

ANALYZE = CONFORMANCE_ROOT / "gateway-api" / "analyze"
EXPECTED = yaml.safe_load((ANALYZE / "expected.yaml").read_text())
HARNESS = CONFORMANCE_ROOT / "analyze" / "harness-default-resources.yaml"
# IST0171 on Istio kinds (Service, ServiceEntry, AuthorizationPolicy) is not this analyzer's part.
GATEWAY_API_CONDITION_KINDS = {"Gateway", "HTTPRoute", "GRPCRoute"}


def _analyze(capsys: pytest.CaptureFixture[str], root: Path, *analyzers: str) -> tuple[int, list[dict[str, Any]]]:
    args = ["analyze", "--files", str(root), "-o", "json"]
    for a in analyzers:
        args += ["--analyzer", a]
    code = main(args)
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("case", EXPECTED["cases"], ids=[c["id"] for c in EXPECTED["cases"]])
def test_istio_gateway_api_analyzer_case(case: dict[str, Any], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    for rel in case["input_files"]:
        shutil.copy(ANALYZE / rel, tmp_path / Path(rel).name)
    shutil.copy(HARNESS, tmp_path / "zz-harness-defaults.yaml")
    _code, findings = _analyze(capsys, tmp_path, case["analyzer"])
    want = [e for e in case["expected"]]
    if case["analyzer"] == "conditions.ConditionAnalyzer":
        want = [e for e in want if e["kind"] in GATEWAY_API_CONDITION_KINDS]
        findings = [f for f in findings if f["origin"].split()[0] in GATEWAY_API_CONDITION_KINDS]
    got = Counter((f["code"], f["origin"]) for f in findings)
    expected = Counter((e["code"], f"{e['kind']} {e['namespace'] + '/' if e.get('namespace') else ''}{e['name']}")
                       for e in want)
    assert got == expected


BASE = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart-v2, namespace: shop}
spec: {ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: payments, namespace: other}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: "*.shop.example"}
"""


def _write(root: Path, extra: str) -> Path:
    (root / "mesh.yaml").write_text(BASE + "---\n" + extra)
    return root


def _codes(findings: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((f["code"], f["origin"]) for f in findings)


def test_mixing_virtual_service_and_gamma_route(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart]
  http: [{route: [{destination: {host: cart}}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cart-split, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: cart, port: 8080}]
  rules: [{backendRefs: [{name: cart, port: 8080, weight: 90}, {name: cart-v2, port: 8080, weight: 10}]}]
""")
    _code, findings = _analyze(capsys, tmp_path, "meshtui.GatewayAPIMixingAnalyzer")
    assert _codes(findings) == [("MT0101", "VirtualService shop/cart")]
    assert "HTTPRoute shop/cart-split" in findings[0]["message"]


def test_backend_refs_that_answer_500(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bad-backends, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [www.shop.example]
  rules:
  - matches: [{path: {type: PathPrefix, value: /missing}}]
    backendRefs: [{name: nowhere, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /port}}]
    backendRefs: [{name: cart, port: 9999}]
  - matches: [{path: {type: PathPrefix, value: /cross}}]
    backendRefs: [{name: payments, namespace: other, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /zero}}]
    backendRefs: [{name: cart, port: 8080, weight: 0}, {name: cart-v2, port: 8080, weight: 0}]
""")
    code, findings = _analyze(capsys, tmp_path, "meshtui.GatewayAPIBackendAnalyzer")
    assert Counter(f["code"] for f in findings) == {"MT0102": 2, "MT0103": 1, "MT0106": 1}
    assert code == 1  # MT0102 / MT0103 are errors


def test_reference_grant_makes_cross_namespace_ref_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: pay, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  rules: [{backendRefs: [{name: payments, namespace: other, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-shop, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: shop}]
  to: [{group: "", kind: Service}]
""")
    code, findings = _analyze(capsys, tmp_path, "meshtui.GatewayAPIBackendAnalyzer")
    assert findings == [] and code == 0


def test_route_not_accepted_by_its_gateway(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-ns, namespace: other}
spec:
  parentRefs: [{name: edge, namespace: shop}]
  rules: [{backendRefs: [{name: payments, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: wrong-host, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  hostnames: [api.example.org]
  rules: [{backendRefs: [{name: cart, port: 8080}]}]
""")
    _code, findings = _analyze(capsys, tmp_path, "meshtui.GatewayAPIParentAnalyzer")
    assert _codes(findings) == [("MT0104", "HTTPRoute other/other-ns"), ("MT0104", "HTTPRoute shop/wrong-host")]
    reasons = {f["origin"]: f["message"] for f in findings}
    assert "NotAllowedByListeners" in reasons["HTTPRoute other/other-ns"]
    assert "NoMatchingListenerHostname" in reasons["HTTPRoute shop/wrong-host"]


def test_rule_shadowed_by_an_earlier_catch_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: first, namespace: shop, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: edge}]
  hostnames: [www.shop.example]
  rules: [{backendRefs: [{name: cart, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: second, namespace: shop, creationTimestamp: "2026-02-01T00:00:00Z"}
spec:
  parentRefs: [{name: edge}]
  hostnames: [www.shop.example]
  rules:
  - matches: [{path: {type: PathPrefix, value: /cart}}]
    backendRefs: [{name: cart-v2, port: 8080}]
  - backendRefs: [{name: cart-v2, port: 8080}]
""")
    _code, findings = _analyze(capsys, tmp_path, "meshtui.GatewayAPIShadowAnalyzer")
    # /cart is more specific, so it is tried first and is fine; the second catch-all never is.
    assert _codes(findings) == [("MT0105", "HTTPRoute shop/second")]
    assert "rule 1" in findings[0]["message"] and "HTTPRoute shop/first rule 0" in findings[0]["message"]
