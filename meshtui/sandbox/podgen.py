"""Realistic Pods, Endpoints and EndpointSlices for the sandbox, as a cluster with Istio
sidecar injection would have them: what the Deployment, ReplicaSet, scheduler, kubelet and
endpoints controllers would have written.

Pods of one template share their immutable sub-objects (the sidecar container, volumes,
tolerations): the store never mutates a stored dict, and sharing keeps 20,000 pods small.
"""

from __future__ import annotations

import functools
import hashlib
import random
from typing import Any

PROXY_IMAGE = "docker.io/istio/proxyv2:1.24.2"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # Kubernetes' rand.SafeEncodeString alphabet
NODES = ("sandbox-worker-1", "sandbox-worker-2", "sandbox-worker-3")
START = "2025-01-01T00:00:00Z"


class IPAllocator:
    """Sequential IPv4 addresses in a /8 (pods in 10.x, services in 10.96.x)."""

    def __init__(self, first: int, second: int = 0) -> None:
        self._n = (first << 24) | (second << 16) | 10

    def next(self) -> str:
        """The next free address."""
        self._n += 1
        n = self._n
        return f"{n >> 24 & 255}.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def safe_string(seed: str, length: int) -> str:
    """A deterministic string in the alphabet Kubernetes uses for generated name suffixes."""
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:length])


@functools.cache
def _proxy_container() -> dict[str, Any]:
    env: list[dict[str, Any]] = [{"name": n, "value": v} for n, v in (
        ("PILOT_CERT_PROVIDER", "istiod"), ("CA_ADDR", "istiod.istio-system.svc:15012"),
        ("PROXY_CONFIG", "{}\n"), ("ISTIO_META_CLUSTER_ID", "Kubernetes"),
        ("ISTIO_META_MESH_ID", "cluster.local"), ("TRUST_DOMAIN", "cluster.local"),
        ("ISTIO_META_INTERCEPTION_MODE", "REDIRECT"))]
    env += [{"name": n, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": p}}} for n, p in (
        ("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace"),
        ("INSTANCE_IP", "status.podIP"), ("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        ("HOST_IP", "status.hostIP"), ("ISTIO_CPU_LIMIT", "limits.cpu"))]
    return {
        "name": "istio-proxy", "image": PROXY_IMAGE, "imagePullPolicy": "IfNotPresent",
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local",
                 "--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"],
        "env": env,
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": {"failureThreshold": 4, "httpGet": {"path": "/healthz/ready", "port": 15021,
                                                              "scheme": "HTTP"},
                           "periodSeconds": 15, "successThreshold": 1, "timeoutSeconds": 3},
        "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                            "privileged": False, "readOnlyRootFilesystem": True, "runAsGroup": 1337,
                            "runAsNonRoot": True, "runAsUser": 1337},
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": p, "name": n} for n, p in (
            ("workload-socket", "/var/run/secrets/workload-spiffe-uds"),
            ("credential-socket", "/var/run/secrets/credential-uds"),
            ("workload-certs", "/var/run/secrets/workload-spiffe-credentials"),
            ("istiod-ca-cert", "/var/run/secrets/istio"), ("istio-data", "/var/lib/istio/data"),
            ("istio-envoy", "/etc/istio/proxy"), ("istio-token", "/var/run/secrets/tokens"),
            ("istio-podinfo", "/etc/istio/pod"))],
    }


@functools.cache
def _volumes() -> list[dict[str, Any]]:
    return [
        {"emptyDir": {}, "name": "workload-socket"}, {"emptyDir": {}, "name": "credential-socket"},
        {"emptyDir": {}, "name": "workload-certs"}, {"emptyDir": {"medium": "Memory"}, "name": "istio-envoy"},
        {"emptyDir": {}, "name": "istio-data"},
        {"downwardAPI": {"defaultMode": 420, "items": [
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}, "path": "labels"},
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}, "path": "annotations"}]},
         "name": "istio-podinfo"},
        {"name": "istio-token", "projected": {"defaultMode": 420, "sources": [{"serviceAccountToken": {
            "audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}]}},
        {"configMap": {"defaultMode": 420, "name": "istio-ca-root-cert"}, "name": "istiod-ca-cert"},
    ]


_TOLERATIONS = [{"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "tolerationSeconds": 300},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists",
                 "tolerationSeconds": 300}]


def _container_status(c: dict[str, Any], seed: str) -> dict[str, Any]:
    cid = hashlib.sha256(seed.encode()).hexdigest()
    return {"containerID": f"containerd://{cid}", "image": c.get("image", ""),
            "imageID": f"{c.get('image', '')}@sha256:{cid[::-1]}", "lastState": {}, "name": c["name"],
            "ready": True, "restartCount": 0, "started": True,
            "state": {"running": {"startedAt": START}}}


def make_pod(namespace: str, deploy: str, template: dict[str, Any], index: int, ip: str,
             owner_uid: str = "", ambient: bool = False) -> dict[str, Any]:
    """One running, ready pod of a Deployment's template, with the Istio sidecar injected; or,
    ``ambient`` (a namespace labelled ``istio.io/dataplane-mode: ambient``), without a sidecar and
    annotated as istio-cni annotates the pods it redirects to ztunnel."""
    tmpl_meta = template.get("metadata") or {}
    tmpl_spec = template.get("spec") or {}
    phash = safe_string(f"{namespace}/{deploy}/template", 10)
    name = f"{deploy}-{phash}-{safe_string(f'{namespace}/{deploy}/{index}', 5)}"
    labels = {**(tmpl_meta.get("labels") or {}), "pod-template-hash": phash,
              "security.istio.io/tlsMode": "istio",
              "service.istio.io/canonical-name": (tmpl_meta.get("labels") or {}).get("app", deploy),
              "service.istio.io/canonical-revision": (tmpl_meta.get("labels") or {}).get("version", "latest")}
    app_containers = [{"imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                       "terminationMessagePolicy": "File", "resources": {}, **c}
                      for c in tmpl_spec.get("containers") or [{"name": deploy, "image": f"{deploy}:latest"}]]
    # A gateway Deployment's only container is already istio-proxy (Envoy itself); every other
    # workload gets the injected sidecar.
    has_proxy = any(c.get("name") == "istio-proxy" for c in app_containers)
    containers = app_containers if has_proxy or ambient else [*app_containers, _proxy_container()]
    first = app_containers[0]["name"]
    node = NODES[index % len(NODES)]
    conditions = [{"lastProbeTime": None, "lastTransitionTime": START, "status": "True", "type": t}
                  for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")]
    pod: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": name, "generateName": f"{deploy}-{phash}-", "namespace": namespace, "labels": labels,
            "annotations": {"istio.io/rev": "default", "kubectl.kubernetes.io/default-container": first,
                            "kubectl.kubernetes.io/default-logs-container": first,
                            "prometheus.io/path": "/stats/prometheus", "prometheus.io/port": "15020",
                            "prometheus.io/scrape": "true",
                            "sidecar.istio.io/status": '{"initContainers":["istio-init"],"containers":['
                            '"istio-proxy"],"volumes":["workload-socket","credential-socket",'
                            '"workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token",'
                            '"istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}'},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{deploy}-{phash}",
                                 "uid": owner_uid or safe_string(f"rs/{namespace}/{deploy}", 16),
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {
            "containers": containers, "dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
            "nodeName": node, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
            "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {},
            "serviceAccount": tmpl_spec.get("serviceAccountName", "default"),
            "serviceAccountName": tmpl_spec.get("serviceAccountName", "default"),
            "terminationGracePeriodSeconds": 30, "tolerations": _TOLERATIONS, "volumes": _volumes(),
        },
        "status": {
            "conditions": conditions,
            "containerStatuses": [_container_status(c, f"{name}/{c['name']}") for c in containers],
            "hostIP": f"172.18.0.{2 + index % len(NODES)}", "phase": "Running", "podIP": ip,
            "podIPs": [{"ip": ip}], "qosClass": "Burstable", "startTime": START,
        },
    }
    if ambient:
        annotations = pod["metadata"]["annotations"]
        annotations.pop("sidecar.istio.io/status")
        del labels["security.istio.io/tlsMode"]
        if labels.get("istio.io/dataplane-mode") != "none":  # a waypoint's own pods opt out
            annotations["ambient.istio.io/redirection"] = "enabled"
    return pod


def pod_ready(pod: dict[str, Any]) -> bool:
    """Whether a pod has a True Ready condition and an IP (what endpoints controllers use)."""
    st = pod.get("status") or {}
    return bool(st.get("podIP")) and any(c.get("type") == "Ready" and c.get("status") == "True"
                                         for c in st.get("conditions") or [])


def _selects(selector: dict[str, str], pod: dict[str, Any]) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in selector.items())


def _target_port(port: dict[str, Any], pod: dict[str, Any]) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for c in (pod.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target:
                return p.get("containerPort")
    return None


def endpoints_for(service: dict[str, Any], pods: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(Endpoints, EndpointSlice) of a Service from the ready pods its selector picks."""
    selector = (service.get("spec") or {}).get("selector")
    if not selector:
        return None
    meta = service["metadata"]
    ns, name = meta["namespace"], meta["name"]
    chosen = [p for p in pods if _selects(selector, p) and pod_ready(p)]
    ports = (service.get("spec") or {}).get("ports") or []
    addresses, slice_eps = [], []
    for p in chosen:
        pm = p["metadata"]
        ref = {"kind": "Pod", "name": pm["name"], "namespace": ns, "uid": pm.get("uid", "")}
        ip = p["status"]["podIP"]
        node = (p.get("spec") or {}).get("nodeName")
        addresses.append({"ip": ip, "nodeName": node, "targetRef": ref})
        slice_eps.append({"addresses": [ip], "conditions": {"ready": True, "serving": True, "terminating": False},
                          "nodeName": node, "targetRef": ref})
    ep_ports, slice_ports = [], []
    for sp in ports:
        tp = _target_port(sp, chosen[0]) if chosen else None
        entry = {"port": tp or sp.get("port"), "protocol": sp.get("protocol", "TCP")}
        if sp.get("name"):
            entry = {"name": sp["name"], **entry}
        if sp.get("appProtocol"):
            entry["appProtocol"] = sp["appProtocol"]
        ep_ports.append(entry)
        slice_ports.append({"name": sp.get("name", ""), **{k: v for k, v in entry.items() if k != "name"}})
    subsets = [{"addresses": addresses, "ports": ep_ports}] if addresses else []
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": name, "namespace": ns, "labels": dict(meta.get("labels") or {})},
                 "subsets": subsets}
    if not subsets:
        del endpoints["subsets"]
    eps = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
           "metadata": {"name": f"{name}-{safe_string(ns + '/' + name, 5)}", "namespace": ns,
                        "labels": {**(meta.get("labels") or {}), "kubernetes.io/service-name": name,
                                   "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                        "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": name,
                                             "uid": meta.get("uid", ""), "controller": True,
                                             "blockOwnerDeletion": True}]},
           "addressType": "IPv4", "endpoints": slice_eps, "ports": slice_ports}
    return endpoints, eps


def default_service(svc: dict[str, Any], cluster_ip: str) -> None:
    """Fill in what the API server defaults on a Service (clusterIP, protocol, targetPort...)."""
    spec = svc.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    if spec["type"] != "ExternalName" and not spec.get("clusterIP"):
        spec["clusterIP"] = cluster_ip
    if spec.get("clusterIP") and spec["clusterIP"] != "None":
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))
    svc.setdefault("status", {"loadBalancer": {}})


def rng(seed: str) -> random.Random:
    """A deterministic random generator (the demo is the same on every start)."""
    return random.Random(seed)
