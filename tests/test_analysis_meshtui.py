"""meshtui's own findings (MT0001-MT0006) on small hand-written meshes."""

from __future__ import annotations

from typing import Any

import yaml

from meshtui.analysis import analyze
from meshtui.model.index import MeshIndex

BASE = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1-a, namespace: shop, labels: {app: reviews, version: v1}}
spec: {containers: [{name: reviews}]}
status: {phase: Running, podIP: 10.0.0.1, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2-a, namespace: shop, labels: {app: reviews, version: v2}}
spec: {containers: [{name: reviews}]}
status: {phase: Running, podIP: 10.0.0.2, conditions: [{type: Ready, status: "False"}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
"""


def run(extra: str, analyzer: str) -> list[Any]:
    objs = [d for d in yaml.safe_load_all(BASE + "---\n" + extra) if d]
    return analyze(MeshIndex(objs), [analyzer])


def vs(http: str, hosts: str = "[reviews]", extra: str = "") -> str:
    return f"""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: reviews, namespace: shop}}
spec:
  hosts: {hosts}
  {extra}
  http:
{http}
"""


def test_mt0001_subset_without_ready_pods() -> None:
    found = run(vs("""  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v2}, weight: 30}
    - {destination: {host: reviews, subset: v3}, weight: 20}"""), "meshtui.SubsetReadyPodAnalyzer")
    # v3 selects no pod at all: that is Istio's IST0173 on the DestinationRule, not MT0001.
    assert [(f.code, f.level, f.path) for f in found] == [
        ("MT0001", "Warning", "spec.http[0].route[1].destination.subset"),
    ]
    assert "none ready" in found[0].message
    assert found[0].origin == "VirtualService shop/reviews"


def test_mt0002_weights_not_100() -> None:
    found = run(vs("""  - route:
    - {destination: {host: reviews, subset: v1}, weight: 80}
    - {destination: {host: reviews, subset: v2}, weight: 30}
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 90}
    - {destination: {host: reviews, subset: v2}, weight: 10}"""), "meshtui.WeightAnalyzer")
    assert [(f.code, f.path) for f in found] == [("MT0002", "spec.http[0].route")]
    assert "110" in found[0].message


def test_mt0003_half_qualified_host_gets_a_hint() -> None:
    found = run(vs("""  - route:
    - destination: {host: reviews.shop}"""), "meshtui.DestinationResolutionAnalyzer")
    assert [f.code for f in found] == ["MT0003"]
    assert "reviews.shop.svc.cluster.local" in found[0].message


def test_mt0004_short_host_on_gateway() -> None:
    found = run(vs("""  - route:
    - destination: {host: reviews}""", extra="gateways: [shop/public]"), "meshtui.GatewayHostAnalyzer")
    assert [(f.code, f.path) for f in found] == [("MT0004", "spec.hosts[0]")]
    assert "reviews.shop.svc.cluster.local" in found[0].message


def test_mt0005_registry_only_external_host() -> None:
    mesh = """
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
"""
    route = vs("""  - route:
    - destination: {host: api.example.com}""", hosts="[api.example.com]")
    found = run(mesh + "---\n" + route, "meshtui.RegistryOnlyAnalyzer")
    assert [(f.code, f.level) for f in found] == [("MT0005", "Error")]
    se = """
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: shop}
spec: {hosts: [api.example.com], ports: [{number: 443, name: https, protocol: HTTPS}], resolution: DNS}
"""
    assert run(mesh + "---\n" + route + "---\n" + se, "meshtui.RegistryOnlyAnalyzer") == []
    assert run(route, "meshtui.RegistryOnlyAnalyzer") == []  # ALLOW_ANY by default


def test_mt0006_mirror_to_routed_subset() -> None:
    found = run(vs("""  - route:
    - destination: {host: reviews, subset: v1}
    mirror: {host: reviews.shop.svc.cluster.local, subset: v1}
  - route:
    - destination: {host: reviews, subset: v1}
    mirror: {host: reviews, subset: v2}"""), "meshtui.MirrorAnalyzer")
    assert [(f.code, f.path) for f in found] == [("MT0006", "spec.http[0].mirror")]
