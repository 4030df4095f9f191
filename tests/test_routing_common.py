"""Helpers shared by the routing tests: conformance samples, inline YAML, pods."""

from __future__ import annotations

from typing import Any

import yaml

from meshtui.model.index import MeshIndex
from meshtui.routing.request import TraceRequest
from meshtui.routing.result import TraceResult
from meshtui.routing.trace import trace
from paths import CONFORMANCE_ROOT

CONFORMANCE = CONFORMANCE_ROOT
SAMPLES = CONFORMANCE / "samples"


def sample(*parts: str) -> list[dict[str, Any]]:
    """Every document of one sample file under ``conformance/samples``."""
    path = SAMPLES.joinpath(*parts)
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def docs(text: str) -> list[dict[str, Any]]:
    """Documents of inline YAML."""
    return [d for d in yaml.safe_load_all(text) if d]


def pod(name: str, namespace: str, labels: dict[str, str], ready: bool = True) -> dict[str, Any]:
    """A running pod with a sidecar."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]},
        "status": {
            "phase": "Running",
            "podIP": "10.0.0.1",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def bookinfo_pods() -> list[dict[str, Any]]:
    """One pod per bookinfo workload, labelled as the sample's Deployments label them."""
    out = []
    for dep in sample("bookinfo", "platform", "kube", "bookinfo.yaml"):
        if dep.get("kind") == "Deployment":
            labels = dep["spec"]["template"]["metadata"]["labels"]
            out.append(pod(f"{dep['metadata']['name']}-abc", "default", labels))
    return out


def bookinfo(*networking: str) -> MeshIndex:
    """Bookinfo services, pods and the named networking samples."""
    objs = [o for o in sample("bookinfo", "platform", "kube", "bookinfo.yaml") if o["kind"] != "Deployment"]
    objs += bookinfo_pods()
    for name in networking:
        objs += sample("bookinfo", "networking", name)
    return MeshIndex(objs)


def run(index: MeshIndex, host: str, path: str = "/", **kw: Any) -> TraceResult:
    """Trace a request built from keyword arguments."""
    return trace(index, TraceRequest.build(host, path, **kw))


def subsets(result: TraceResult) -> dict[str | None, int]:
    """``{subset: weight}`` of a trace's destinations."""
    return {d.subset: d.weight for d in result.destinations}


def service(name: str, namespace: str, selector: dict[str, str], port: int = 80) -> dict[str, Any]:
    """A ClusterIP Service with one HTTP port."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": selector, "ports": [{"name": "http", "port": port, "targetPort": 8080}]},
    }
