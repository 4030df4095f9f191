"""A ztunnel's ``/config_dump`` generated from the mesh, for the sandbox's simulated ztunnels.

The shape is ztunnel's own (the reference dump of ``istioctl ztunnel-config``'s tests): maps of
``workloads`` keyed ``network/ip`` and ``services`` keyed ``network/vip``, a list of
``policies`` and ``certificates``, and ``workloadState`` for the pods on the ztunnel's node.
What istiod would send is derived with meshtui's ambient model: every pod with an IP is a
workload (``HBONE`` when ztunnel captures it, ``TCP`` otherwise), the waypoint of a captured
workload and of each Service is its effective waypoint, addressed ``namespace/hostname`` as
istiod does for a waypoint whose Gateway status holds a hostname. No traffic reaches the
simulated ztunnels, so connection lists are empty; the sandbox has no AuthorizationPolicy, so
there are no policies.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from meshtui.model.ambient import AMBIENT, Waypoint, is_ztunnel_pod, pod_dataplane_mode
from meshtui.model.index import MeshIndex
from meshtui.model.kube import Pod, Service
from meshtui.routing.waypoint_binding import service_binding, workload_binding

HBONE_PORT = 15008
_CLUSTER = "Kubernetes"


def _uid(pod: Pod) -> str:
    return f"{_CLUSTER}//Pod/{pod.namespace}/{pod.name}"


def _gateway_address(waypoint: Waypoint) -> dict[str, Any]:
    """A waypoint's address as istiod sends it: its status hostname (else its IP) and HBONE port."""
    address = waypoint.addresses[0]
    destination = f"/{address}" if address[:1].isdigit() or ":" in address else f"{waypoint.namespace}/{address}"
    return {"destination": destination, "hboneMtlsPort": HBONE_PORT}


def _workload(index: MeshIndex, pod: Pod, trust_domain: str) -> dict[str, Any]:
    ns_labels = index.namespace_labels(pod.namespace)
    captured = pod_dataplane_mode(pod, ns_labels) == AMBIENT
    labels = pod.labels
    out: dict[str, Any] = {"workloadIps": [pod.ip]}
    if captured:
        waypoint = workload_binding(index, pod).waypoint
        if waypoint is not None and waypoint.addresses:
            out["waypoint"] = _gateway_address(waypoint)
    # The Deployment's name: the pod name without the ReplicaSet hash and pod suffix.
    workload_name = pod.name.rsplit("-", 2)[0] if labels.get("pod-template-hash") else pod.name
    out.update({
        "protocol": "HBONE" if captured else "TCP",
        "uid": _uid(pod), "name": pod.name, "namespace": pod.namespace, "trustDomain": trust_domain,
        "serviceAccount": pod.service_account or "default", "workloadName": workload_name,
        "workloadType": "deployment" if labels.get("pod-template-hash") else "pod",
        "canonicalName": labels.get("service.istio.io/canonical-name", labels.get("app", workload_name)),
        "canonicalRevision": labels.get("service.istio.io/canonical-revision", labels.get("version", "latest")),
        "node": pod.node or "", "status": "Healthy" if pod.ready else "Unhealthy", "clusterId": _CLUSTER,
    })
    return out


def _target_port(port: Any, pod: Pod) -> int | None:
    target = port.target_port if port.target_port is not None else port.port
    if isinstance(target, int):
        return target
    for c in (pod.raw.get("spec") or {}).get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and isinstance(p.get("containerPort"), int):
                return int(p["containerPort"])
    return None


def _service(index: MeshIndex, svc: Service) -> dict[str, Any]:
    hostname = svc.fqdn(index.domain_suffix)
    ports = {str(p.port): (p.target_port if isinstance(p.target_port, int) else p.port)
             for p in svc.ports if p.port is not None}
    endpoints: dict[str, Any] = {}
    for pod in index.pods_for_service(svc) if svc.selector else []:
        if not pod.ip:
            continue
        endpoints[f"{_uid(pod)}:/{pod.ip}"] = {
            "workloadUid": _uid(pod), "service": f"{svc.namespace}/{hostname}", "address": f"/{pod.ip}",
            "port": {str(p.port): _target_port(p, pod) or p.port for p in svc.ports if p.port is not None},
        }
    out: dict[str, Any] = {"name": svc.name, "namespace": svc.namespace, "hostname": hostname,
                           "vips": [f"/{svc.cluster_ip}"], "ports": ports}
    waypoint = service_binding(index, svc).waypoint
    if waypoint is not None and waypoint.addresses:
        out["waypoint"] = _gateway_address(waypoint)
    out.update({"endpoints": endpoints, "subjectAltNames": []})
    return out


def _certificate(identity: str, serial: int, now: datetime) -> dict[str, Any]:
    """A certificate entry as ztunnel lists it: a 24 h leaf issued an hour ago, and a long-lived root."""
    def stamp(t: datetime) -> str:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")

    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return {
        "identity": identity, "state": "Available",
        "certChain": [{"pem": "", "serialNumber": str(serial), "validFrom": stamp(start),
                       "expirationTime": stamp(start + timedelta(hours=24))}],
        "rootCerts": [{"pem": "", "serialNumber": "1", "validFrom": "2025-01-01T00:00:00Z",
                       "expirationTime": "2035-01-01T00:00:00Z"}],
    }


def generate_ztunnel_dump(index: MeshIndex, node: str, now: datetime, trust_domain: str = "cluster.local") -> dict[str, Any]:
    """The config dump of the ztunnel on ``node`` (``now``, aware, dates its workload certificates)."""
    pods = sorted((p for p in index.pods if p.ip), key=lambda p: (p.namespace, p.name))
    workloads = {f"/{p.ip}": _workload(index, p, trust_domain) for p in pods}
    services = {f"/{s.cluster_ip}": _service(index, s)
                for s in sorted(index.services, key=lambda s: (s.namespace, s.name))
                if s.cluster_ip and s.cluster_ip != "None"}
    local = [p for p in pods if p.node == node and not is_ztunnel_pod(p)
             and pod_dataplane_mode(p, index.namespace_labels(p.namespace)) == AMBIENT]
    identities = sorted({f"spiffe://{trust_domain}/ns/{p.namespace}/sa/{p.service_account or 'default'}" for p in local})
    return {
        "workloads": workloads,
        "services": services,
        "policies": [],
        "certificates": [_certificate(identity, 1000 + i, now) for i, identity in enumerate(identities)],
        "workloadState": {
            (p.uid or _uid(p)): {
                "state": "Up", "connections": {"inbound": [], "outbound": []},
                "info": {"name": p.name, "namespace": p.namespace, "trustDomain": trust_domain,
                         "serviceAccount": p.service_account or "default"},
            }
            for p in local
        },
    }
