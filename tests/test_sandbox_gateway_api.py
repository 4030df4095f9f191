"""The sandbox serves the Gateway API: kubectl lists HTTPRoutes and Gateway API Gateways with the
CRDs' columns, schema and CEL errors answer 422, Istio's and the Gateway API's ``gateways`` live
side by side, and the kube source reads the routes so ``trace`` follows them."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from meshtui.model.index import MeshIndex
from meshtui.routing.request import TraceRequest
from meshtui.routing.trace import trace
from meshtui.sandbox.server import Sandbox
from meshtui.sources.kube import KubeSource

pytestmark = [pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")]

MANIFESTS = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web-v2}
spec: {selector: {app: web, version: v2}, ports: [{name: http, port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP, hostname: "*.example.com"}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: edge}]
  hostnames: [web.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: web-v2, port: 8080}]
  - backendRefs: [{name: web, port: 8080, weight: 80}, {name: web-v2, port: 8080, weight: 20}]
"""

PORTLESS = """\
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: broken}
spec:
  rules: [{backendRefs: [{name: web}]}]
"""


@pytest.fixture(scope="module")
def kubectl(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    home = tmp_path_factory.mktemp("kubectl-home")

    def run(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "KUBECONFIG": str(sandbox.kubeconfig_path), "HOME": str(home)}
        done = subprocess.run(["kubectl", *args], input=input, capture_output=True, text=True, env=env,
                              timeout=30, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr}")
        return done

    return run


@pytest.fixture
def ns(kubectl: Any) -> Iterator[str]:
    name = f"gw-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    kubectl("apply", "-n", name, "-f", "-", input=MANIFESTS)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")


def test_kubectl_lists_gateway_api_objects_with_their_columns(kubectl: Any, ns: str) -> None:
    routes = kubectl("get", "httproute", "-n", ns).stdout.splitlines()
    assert routes[0].split() == ["NAME", "HOSTNAMES", "AGE"]
    assert routes[1].split()[:2] == ["web", '["web.example.com"]']
    gateways = kubectl("get", "gtw", "-n", ns).stdout.splitlines()
    assert gateways[0].split()[:4] == ["NAME", "CLASS", "ADDRESS", "PROGRAMMED"]
    assert gateways[1].split()[:2] == ["edge", "istio"]
    # Istio's Gateway kind is a different resource: the Gateway API one is not listed there.
    assert "edge" not in kubectl("get", "gateways.networking.istio.io", "-n", ns).stdout


def test_schema_and_cel_errors_are_422(kubectl: Any, ns: str) -> None:
    done = kubectl("apply", "-n", ns, "-f", "-", input=PORTLESS, check=False)
    assert done.returncode != 0
    assert "is invalid" in done.stderr and "Must have port for Service reference" in done.stderr


def test_kube_source_reads_routes_and_trace_follows_them(sandbox: Sandbox, ns: str) -> None:
    source = KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path))
    try:
        snapshot = source.snapshot()
    finally:
        source.close()
    index = MeshIndex(snapshot.objects)
    assert index.get("HTTPRoute", ns, "web") is not None
    result = trace(index, TraceRequest.build(host="web.example.com", path="/", gateway=f"{ns}/edge"))
    # The API server defaulted the rule's matches to one PathPrefix "/" match.
    assert result.route == {"kind": "HTTPRoute", "name": f"{ns}/web", "rule_index": 1, "match_index": 0}
    assert {d.host: d.probability for d in result.destinations} == {
        f"web.{ns}.svc.cluster.local": 0.8, f"web-v2.{ns}.svc.cluster.local": 0.2}


def test_stored_routes_carry_the_api_servers_defaults(kubectl: Any, ns: str) -> None:
    import json

    obj = json.loads(kubectl("get", "httproute", "web", "-n", ns, "-o", "json").stdout)
    ref = obj["spec"]["parentRefs"][0]
    assert (ref["group"], ref["kind"]) == ("gateway.networking.k8s.io", "Gateway")
    backend = obj["spec"]["rules"][0]["backendRefs"][0]
    assert (backend["group"], backend["kind"], backend["weight"]) == ("", "Service", 1)


def test_route_and_gateway_status_written_as_istio_does(kubectl: Any, ns: str) -> None:
    import json

    route = json.loads(kubectl("get", "httproute", "web", "-n", ns, "-o", "json").stdout)
    (parent,) = route["status"]["parents"]
    assert parent["controllerName"] == "istio.io/gateway-controller"
    assert {c["type"]: (c["status"], c["reason"]) for c in parent["conditions"]} == {
        "Accepted": ("True", "Accepted"), "ResolvedRefs": ("True", "ResolvedRefs")}
    gw = json.loads(kubectl("get", "gtw", "edge", "-n", ns, "-o", "json").stdout)
    assert gw["status"]["listeners"][0]["attachedRoutes"] == 1
    assert "True" in kubectl("get", "gtw", "edge", "-n", ns).stdout.splitlines()[1].split()  # PROGRAMMED
    # A backend that goes away: ResolvedRefs turns False with Istio's reason.
    kubectl("delete", "service", "web-v2", "-n", ns)
    route = json.loads(kubectl("get", "httproute", "web", "-n", ns, "-o", "json").stdout)
    conds = {c["type"]: (c["status"], c["reason"]) for c in route["status"]["parents"][0]["conditions"]}
    assert conds["ResolvedRefs"] == ("False", "BackendNotFound")


def test_scale_mesh_can_carry_httproutes_beside_it() -> None:
    sb = Sandbox(scale=3, scenario=False, scale_httproutes=True, tls=False).start()
    try:
        routes = sb.store.list("httproutes")
        assert sorted(r["metadata"]["name"] for r in routes) == ["svc-0", "svc-1", "svc-2"]
        assert all(c["status"] == "True" for r in routes for c in r["status"]["parents"][0]["conditions"])
        (gw,) = sb.store.list("gateways.gateway.networking.k8s.io")
        assert gw["status"]["listeners"][0]["attachedRoutes"] == 3
        assert len(sb.store.list("virtualservices")) == 3  # the mesh itself is unchanged
    finally:
        sb.stop()
