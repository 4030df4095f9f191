"""Which objects a change to one object can affect: the context its preview checks.

Validation and "findings this edit introduces" only need the objects that the analyzers read
when they judge the edited VirtualService or DestinationRule: the VirtualServices sharing one of its hosts, the
Services, ServiceEntries and DestinationRules of its hosts and destinations, the pods,
Deployments and Endpoints behind those Services, and every object of the small kinds
(Gateways, Sidecars, mesh ConfigMap, Canaries, Rollouts ...). They are found through the mesh
index's host and label indexes, so the cost follows the change, not the size of the mesh; the
preview of one weight edit at 5,000 services checks a few dozen objects instead of 40,000.

A delegate VirtualService (no hosts of its own: what it affects depends on which root
delegates to it) and any other kind (a Gateway, a Sidecar: what they select is found by
workload labels across namespaces) get the whole mesh, which is always correct.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from meshtui.model.base import as_dict
from meshtui.model.kube import Service
from meshtui.sources.base import ObjectKey, RawObject

# Kinds with one object per service or pod: looked up by host or selector, never listed whole.
_BY_HOST = frozenset({"VirtualService", "DestinationRule", "Service", "ServiceEntry"})
_BY_WORKLOAD = frozenset({"Pod", "Deployment", "ReplicaSet", "Endpoints", "EndpointSlice"})
# Namespaces (their labels: injection, ambient) are read for the namespaces of the objects kept.
_BY_NAMESPACE = frozenset({"Namespace"})
# Of these, a VirtualService's findings read only the mesh config (``istio`` in istio-system);
# clusters hold one or two per namespace, and Secrets are only read for Gateways.
_MESH_CONFIG_ONLY = frozenset({"ConfigMap", "Secret"})


def _namespace(obj: RawObject) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "default")


def _destination_hosts(vs: RawObject) -> Iterator[str]:
    """Every host a VirtualService routes or mirrors to."""
    spec = as_dict(vs.get("spec"))
    for section in ("http", "tcp", "tls"):
        for rule in spec.get(section) or []:
            if not isinstance(rule, dict):
                continue
            entries = list(rule.get("route") or []) + list(rule.get("mirrors") or [])
            for entry in entries:
                host = ((entry or {}).get("destination") or {}).get("host") if isinstance(entry, dict) else None
                if isinstance(host, str) and host:
                    yield host
            mirror = rule.get("mirror")
            if isinstance(mirror, dict) and isinstance(mirror.get("host"), str):
                yield mirror["host"]


def _delegates(vs: RawObject) -> Iterator[tuple[str, str]]:
    spec = as_dict(vs.get("spec"))
    for rule in spec.get("http") or []:
        ref = rule.get("delegate") if isinstance(rule, dict) else None
        if isinstance(ref, dict) and ref.get("name"):
            yield str(ref.get("namespace") or _namespace(vs)), str(ref["name"])


def _hosts(obj: RawObject) -> list[str] | None:
    """The hosts an object is about (its own and those it routes to); None when that does not
    bound what it affects."""
    spec = as_dict(obj.get("spec"))
    if obj.get("kind") == "VirtualService" and spec.get("hosts"):
        return [str(h) for h in spec["hosts"]] + list(_destination_hosts(obj))
    if obj.get("kind") == "DestinationRule" and spec.get("host"):
        return [str(spec["host"])]
    return None


def whole_mesh(index: Any) -> list[RawObject]:
    """Every raw object of ``index``: the context of an edit whose reach cannot be bounded."""
    return [obj.raw for kind in index.kinds() for obj in index.objects(kind)]


def affected_objects(index: Any, edited: Iterable[RawObject]) -> list[RawObject]:
    """The raw objects of ``index`` (a ``MeshIndex``) that the analyzers read to judge the
    object in ``edited`` (its versions before and after the change), the edited object's
    current version included."""
    versions = list(edited)
    if any(_hosts(v) is None for v in versions):
        return whole_mesh(index)
    found: dict[ObjectKey, RawObject] = {}

    def keep(raw: RawObject) -> None:
        found.setdefault(ObjectKey.of(raw), raw)

    services: list[Service] = []
    for vs in versions:
        ns = _namespace(vs)
        hosts = _hosts(vs) or []
        for host in dict.fromkeys(index.resolve(str(h), ns) for h in hosts):
            for obj in index.objects_for_host(host):
                keep(obj.raw)
                if isinstance(obj, Service):
                    services.append(obj)
        for delegate_ns, name in _delegates(vs):
            delegate = index.get("VirtualService", delegate_ns, name)
            if delegate is not None:
                keep(delegate.raw)
    for svc in services:
        for pod in index.pods_for_service(svc):
            keep(pod.raw)
        for deployment in index.deployments_for_service(svc):
            keep(deployment.raw)
        endpoints = index.get("Endpoints", svc.namespace, svc.name)
        if endpoints is not None:
            keep(endpoints.raw)
    for kind in index.kinds():
        if kind not in _BY_HOST | _BY_WORKLOAD | _BY_NAMESPACE | _MESH_CONFIG_ONLY:
            for obj in index.objects(kind):
                keep(obj.raw)
    mesh_config = index.get("ConfigMap", "istio-system", "istio")
    if mesh_config is not None:
        keep(mesh_config.raw)
    for ns in sorted({key.namespace for key in found} | {index.mesh_config.root_namespace}):
        namespace = index.get("Namespace", "", ns)
        if namespace is not None:
            keep(namespace.raw)
    return list(found.values())
