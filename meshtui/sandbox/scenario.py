"""The sandbox's mesh: the demo manifests shipped in ``meshtui/demo/`` as live objects (with the
pods their Deployments would run and the Endpoints of every Service), and ``--scale N`` extra
services for benchmarks. Also the endpoints controller that keeps Endpoints/EndpointSlices in
step with pod and service changes while the sandbox runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from meshtui.sandbox import podgen
from meshtui.sandbox.kinds import type_for
from meshtui.sandbox.store import Store, StoreError

_ORDER = ("Namespace", "ConfigMap", "Service", "Deployment")


def _yaml_files(root: Traversable) -> Iterator[Traversable]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            yield from _yaml_files(entry)
        elif entry.name.endswith((".yaml", ".yml")):
            yield entry


def demo_documents() -> list[dict[str, Any]]:
    """Every object in the YAML files under the ``meshtui.demo`` package (``List``s unpacked)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out: list[dict[str, Any]] = []
    for f in _yaml_files(resources.files("meshtui.demo")):
        for doc in yaml.load_all(f.read_text(encoding="utf-8"), Loader=loader):
            if isinstance(doc, dict) and doc.get("kind", "").endswith("List") and "items" in doc:
                out.extend(d for d in doc["items"] if isinstance(d, dict))
            elif isinstance(doc, dict) and "kind" in doc:
                out.append(doc)
    return out


def ensure_namespace(store: Store, name: str, labels: dict[str, str] | None = None) -> None:
    """Create a namespace unless it exists."""
    if store.get("namespaces", None, name) is None:
        store.create({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": name, "labels": dict(labels or {})}})


class _Loader:
    """Creates objects with the defaults and companions a cluster would give them."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pod_ips = podgen.IPAllocator(10, 244 + 0)
        self.svc_ips = podgen.IPAllocator(10, 96)

    def create(self, obj: dict[str, Any]) -> None:
        kind = obj.get("kind", "")
        t = type_for(str(obj.get("apiVersion") or ""), kind)
        if t is None:
            return  # a kind the sandbox does not serve (ServiceAccount...): a real cluster has it, we skip it
        obj["apiVersion"] = t.api_version()
        meta = obj.setdefault("metadata", {})
        if t.namespaced:
            meta.setdefault("namespace", "default")
            ensure_namespace(self.store, meta["namespace"], {"istio-injection": "enabled"})
        if kind == "Service":
            podgen.default_service(obj, self.svc_ips.next())
        if kind == "Deployment":
            replicas = (obj.get("spec") or {}).get("replicas", 1)
            obj.setdefault("status", {}).update({"replicas": replicas, "readyReplicas": replicas,
                                                 "availableReplicas": replicas, "updatedReplicas": replicas,
                                                 "observedGeneration": 1})
        try:
            created = self.store.create(obj)
        except StoreError:
            return  # a duplicate in the manifests: the first one wins, as with kubectl create
        if kind == "Deployment":
            self.pods_for(created)

    def pods_for(self, deploy: dict[str, Any]) -> None:
        meta, spec = deploy["metadata"], deploy.get("spec") or {}
        ambient = _ambient_namespace(self.store, meta["namespace"])
        for i in range(int(spec.get("replicas", 1) or 0)):
            self.store.create(podgen.make_pod(meta["namespace"], meta["name"], spec.get("template") or {},
                                              i, self.pod_ips.next(), ambient=ambient))


def _ambient_namespace(store: Store, name: str) -> bool:
    """Whether the namespace is labelled ``istio.io/dataplane-mode: ambient`` (no sidecars there)."""
    ns = store.get("namespaces", None, name) or {}
    return ((ns.get("metadata") or {}).get("labels") or {}).get("istio.io/dataplane-mode") == "ambient"


def load_demo(store: Store) -> None:
    """Create the demo mesh: namespaces, manifests, pods of each Deployment, Endpoints."""
    ensure_namespace(store, "istio-system")
    loader = _Loader(store)
    docs = demo_documents()
    rank = {k: i for i, k in enumerate(_ORDER)}
    for doc in sorted(docs, key=lambda d: rank.get(d.get("kind", ""), len(rank))):
        loader.create(doc)
    if any(_ambient_namespace(store, ns["metadata"]["name"]) for ns in store.list("namespaces")):
        from meshtui.sandbox.ztunnel import create_ztunnels

        create_ztunnels(store, loader.pod_ips)  # the ambient data plane: a ztunnel per node
    sync_all_endpoints(store)


def sync_endpoints(store: Store, service: dict[str, Any], pods: list[dict[str, Any]] | None = None) -> None:
    """Create or update the Endpoints and EndpointSlice of one Service."""
    ns = service["metadata"]["namespace"]
    if pods is None:
        pods = store.list("pods", ns)
    made = podgen.endpoints_for(service, pods)
    if made is None:
        return
    for obj, plural in zip(made, ("endpoints", "endpointslices")):
        current = store.get(plural, ns, obj["metadata"]["name"])
        if current is None:
            store.create(obj)
        else:
            obj["metadata"] = {**current["metadata"], "labels": obj["metadata"]["labels"]}
            store.update(obj)


def sync_all_endpoints(store: Store) -> None:
    """Endpoints for every Service (pods grouped by namespace once)."""
    by_ns: dict[str, list[dict[str, Any]]] = {}
    for pod in store.list("pods"):
        by_ns.setdefault(pod["metadata"]["namespace"], []).append(pod)
    for svc in store.list("services"):
        sync_endpoints(store, svc, by_ns.get(svc["metadata"]["namespace"], []))


def attach_endpoints_controller(store: Store) -> None:
    """Keep Endpoints/EndpointSlices in step with later pod and service changes."""

    def on_change(event: str, obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        ns = (obj.get("metadata") or {}).get("namespace")
        if kind == "Service" and event != "DELETED":
            sync_endpoints(store, obj)
        elif kind == "Service":
            for plural in ("endpoints", "endpointslices"):
                for e in store.list(plural, ns):
                    if e["metadata"]["name"] == obj["metadata"]["name"] or \
                            (e["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == obj["metadata"]["name"]:
                        store.delete(plural, ns, e["metadata"]["name"])
        elif kind == "Pod":
            labels = obj["metadata"].get("labels") or {}
            for svc in store.list("services", ns):
                sel = (svc.get("spec") or {}).get("selector") or {}
                if sel and all(labels.get(k) == v for k, v in sel.items()):
                    sync_endpoints(store, svc)

    store.add_listener(on_change)


def load_scale(store: Store, n: int, per_namespace: int = 100, httproutes: bool = False) -> None:
    """Add ``n`` services (namespaces ``scale-0``...), each with a VirtualService (90/10 v1/v2),
    a DestinationRule (subsets v1, v2), 4 pods (2 per version) and its Endpoints. With
    ``httproutes``, each namespace also gets a Gateway API Gateway ``edge`` and each service an
    HTTPRoute on it (host ``<svc>.<ns>.example.com``, two path rules): n HTTPRoutes beside the
    mesh, north-south, so they do not mix with its VirtualServices."""
    loader = _Loader(store)
    loader.pod_ips = podgen.IPAllocator(10, 100)
    for i in range(n):
        ns = f"scale-{i // per_namespace}"
        if i % per_namespace == 0:
            ensure_namespace(store, ns, {"istio-injection": "enabled"})
            if httproutes:
                store.create({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
                              "metadata": {"name": "edge", "namespace": ns},
                              "spec": {"gatewayClassName": "istio", "listeners": [
                                  {"name": "http", "port": 80, "protocol": "HTTP",
                                   "hostname": f"*.{ns}.example.com"}]}})
        name = f"svc-{i}"
        svc = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": name, "namespace": ns, "labels": {"app": name, "service": name}},
               "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 8080, "targetPort": 8080}]}}
        podgen.default_service(svc, loader.svc_ips.next())
        svc = store.create(svc)
        pods = []
        for version in ("v1", "v2"):
            template = {"metadata": {"labels": {"app": name, "version": version}},
                        "spec": {"serviceAccountName": name, "containers": [{
                            "name": name, "image": f"docker.io/meshtui/{name}:{version}",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}}
            for j in range(2):
                pods.append(store.create(podgen.make_pod(ns, f"{name}-{version}", template, j,
                                                         loader.pod_ips.next())))
        store.create({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                      "metadata": {"name": name, "namespace": ns},
                      "spec": {"hosts": [name], "http": [{"route": [
                          {"destination": {"host": name, "subset": "v1"}, "weight": 90},
                          {"destination": {"host": name, "subset": "v2"}, "weight": 10}]}]}})
        store.create({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                      "metadata": {"name": name, "namespace": ns},
                      "spec": {"host": name, "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                         {"name": "v2", "labels": {"version": "v2"}}]}})
        if httproutes:
            store.create({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                          "metadata": {"name": name, "namespace": ns},
                          "spec": {"parentRefs": [{"name": "edge"}], "hostnames": [f"{name}.{ns}.example.com"],
                                   "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                                              "backendRefs": [{"name": name, "port": 8080}]},
                                             {"backendRefs": [{"name": name, "port": 8080}]}]}})
        sync_endpoints(store, svc, pods)
