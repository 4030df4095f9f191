"""Benchmark: every analyzer over the ``--scale`` mesh, in-process.

Run ``python -m meshtui.analysis.bench [--services 5000] [--runs 3]``. It builds the objects
``meshtui sandbox --scale N`` serves (``meshtui.sandbox.scenario.load_scale``: per service a
Service, a VirtualService splitting 90/10 over subsets v1/v2, a DestinationRule defining them,
4 pods, Endpoints; 100 services a namespace) in the form the UI's mesh index holds them (pods
slimmed as the kube source keeps them), then times ``analyze()`` on a fresh ``MeshIndex`` per
run and prints, per analyzer and in total, the median, min and max of the runs. Target (the
UI re-analyses after every change batch): the whole run under ~3 s at 5,000 services on 2 cores.

Each run starts with schema validation forgotten (the cold figure); a last line times one more
run with it remembered, which is what the UI's re-analysis after a change batch costs. The
generator restates the sandbox's (the engine may not import the sandbox); ``tests/
test_analysis_scale.py`` checks that the two produce the same mesh.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import statistics
import sys
import time
from typing import Any

from meshtui.analysis.runner import ANALYZERS, analyze
from meshtui.analysis.validation import clear_memo as clear_validation_memo
from meshtui.analysis.vsvalidation import clear_schema_memo
from meshtui.model.index import MeshIndex

PER_NAMESPACE = 100
# The sandbox's pod generator (meshtui.sandbox.podgen) in the few fields the slim pod keeps.
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_NODES = ("sandbox-worker-1", "sandbox-worker-2", "sandbox-worker-3")
_SIDECAR_STATUS = ('{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket",'
                   '"credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo",'
                   '"istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}')


def _safe_string(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:length])


class _Addresses:
    """Sequential IPv4 addresses, as the sandbox allocates them (pods 10.100.x, services 10.96.x)."""

    def __init__(self, first: int, second: int) -> None:
        self._n = (first << 24) | (second << 16) | 10

    def next(self) -> str:
        self._n += 1
        n = self._n
        return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    # The API server labels every namespace with its name.
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {**labels, "kubernetes.io/metadata.name": name}}}


def _service(ns: str, name: str, ip: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name, "service": name}},
            "spec": {"selector": {"app": name},
                     "ports": [{"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"}],
                     "type": "ClusterIP", "clusterIP": ip, "clusterIPs": [ip], "ipFamilies": ["IPv4"],
                     "ipFamilyPolicy": "SingleStack", "sessionAffinity": "None",
                     "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}}}


def _pod(ns: str, app: str, version: str, index: int, ip: str) -> dict[str, Any]:
    deploy = f"{app}-{version}"
    phash = _safe_string(f"{ns}/{deploy}/template", 10)
    name = f"{deploy}-{phash}-{_safe_string(f'{ns}/{deploy}/{index}', 5)}"
    labels = {"app": app, "version": version, "pod-template-hash": phash, "security.istio.io/tlsMode": "istio",
              "service.istio.io/canonical-name": app, "service.istio.io/canonical-revision": version}
    annotations = {"istio.io/rev": "default", "kubectl.kubernetes.io/default-container": app,
                   "kubectl.kubernetes.io/default-logs-container": app, "prometheus.io/path": "/stats/prometheus",
                   "prometheus.io/port": "15020", "prometheus.io/scrape": "true",
                   "sidecar.istio.io/status": _SIDECAR_STATUS}
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{deploy}-{phash}",
             "uid": _safe_string(f"rs/{ns}/{deploy}", 16), "controller": True, "blockOwnerDeletion": True}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": annotations,
                         "ownerReferences": [owner]},
            "spec": {"containers": [{"name": app}, {"name": "istio-proxy"}], "nodeName": _NODES[index % len(_NODES)]},
            "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}],
                       "containerStatuses": [{"name": c, "ready": True, "restartCount": 0}
                                             for c in (app, "istio-proxy")]}}


def _endpoints(ns: str, name: str, pods: list[dict[str, Any]]) -> dict[str, Any]:
    addresses = [{"ip": p["status"]["podIP"], "nodeName": p["spec"]["nodeName"],
                  "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns, "uid": ""}}
                 for p in pods]
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name, "service": name}},
            "subsets": [{"addresses": addresses, "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}]}


def _virtual_service(ns: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"hosts": [name], "http": [{"route": [
                {"destination": {"host": name, "subset": "v1"}, "weight": 90},
                {"destination": {"host": name, "subset": "v2"}, "weight": 10}]}]}}


def _destination_rule(ns: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"host": name, "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                               {"name": "v2", "labels": {"version": "v2"}}]}}


def scale_objects(services: int, per_namespace: int = PER_NAMESPACE) -> list[dict[str, Any]]:
    """The objects of ``load_scale(store, services)`` as the UI's index holds them: namespaces
    ``scale-K`` (and ``istio-system``), and per service ``svc-I`` its Service, 4 slim pods (2 of
    v1, 2 of v2), Endpoints, VirtualService and DestinationRule."""
    out: list[dict[str, Any]] = [_namespace("istio-system", {})]
    pod_ips, svc_ips = _Addresses(10, 100), _Addresses(10, 96)
    for i in range(services):
        ns, name = f"scale-{i // per_namespace}", f"svc-{i}"
        if i % per_namespace == 0:
            out.append(_namespace(ns, {"istio-injection": "enabled"}))
        out.append(_service(ns, name, svc_ips.next()))
        pods = [_pod(ns, name, version, j, pod_ips.next()) for version in ("v1", "v2") for j in range(2)]
        out += pods
        out += [_virtual_service(ns, name), _destination_rule(ns, name), _endpoints(ns, name, pods)]
    return out


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.3f} {min(values):8.3f} {max(values):8.3f}"


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a report."""
    parser = argparse.ArgumentParser(prog="python -m meshtui.analysis.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=5000, help="services in the mesh (default 5000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (default 3)")
    args = parser.parse_args(argv)
    if args.services < 1 or args.runs < 1:
        print("meshtui: --services and --runs must be at least 1", file=sys.stderr)
        return 2

    started = time.perf_counter()
    objects = scale_objects(args.services)
    print(f"mesh: {args.services} services, {len(objects)} objects, built in {time.perf_counter() - started:.2f} s")
    analyze(MeshIndex(scale_objects(1)))  # load the message catalogue and CRD schemas once

    per_analyzer: dict[str, list[float]] = {a.name: [] for a in ANALYZERS}
    totals: list[float] = []
    cpu: list[float] = []  # process CPU time: what contention on a shared machine does not inflate
    findings = 0
    for _ in range(args.runs):
        index = MeshIndex(objects)
        clear_schema_memo()
        clear_validation_memo()
        gc.collect()
        timings: dict[str, float] = {}
        t0, c0 = time.perf_counter(), time.process_time()
        findings = len(analyze(index, timings=timings))
        totals.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        for name, seconds in timings.items():
            per_analyzer[name].append(seconds)
    warm: list[float] = []
    for _ in range(args.runs):
        index = MeshIndex(objects)  # the UI analyses a fresh index built from its snapshot
        gc.collect()
        t0 = time.perf_counter()
        analyze(index)
        warm.append(time.perf_counter() - t0)

    width = max(len(n) for n in per_analyzer)
    print(f"{'analyzer':{width}s}   median      min      max  (seconds, {args.runs} runs)")
    for name, values in per_analyzer.items():
        print(f"{name:{width}s} {_spread(values)}")
    print(f"{'analyze() total':{width}s} {_spread(totals)}  ({findings} findings)")
    print(f"{'analyze() total, CPU time':{width}s} {_spread(cpu)}")
    print(f"{'analyze() again, validation remembered':{width}s} {_spread(warm)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
