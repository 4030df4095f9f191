"""Istio's Service and Deployment analyzers (``service/portname.go``, ``deployment/services.go``).

- ``service.PortNameAnalyzer``: a port whose protocol Istio cannot tell from its name or
  ``appProtocol`` (IST0118), or an ExternalName Service with such a port or a port named
  ``tcp`` (IST0150). System namespaces and Istio's own Services are skipped.
- ``deployment.MultiServiceAnalyzer``: a meshed Deployment selected by Services that use one
  port with different protocols (IST0116) or one targetPort with different ports (IST0137).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from meshtui.analysis.context import Context, full_name, labels_match
from meshtui.model.base import as_dict

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "local-path-storage"})
_KNOWN_PROTOCOLS = frozenset({"tcp", "udp", "sctp", "grpc", "grpc-web", "http", "http_proxy", "http2",
                              "https", "tls", "mongo", "redis", "mysql", "hbone"})


def port_protocol_supported(name: str, protocol: str, app_protocol: str | None) -> bool:
    """Istio's ``ConvertProtocol(...).IsUnsupported()`` negated."""
    if protocol in ("UDP", "SCTP"):
        return True
    word = name
    if app_protocol is not None:
        if app_protocol in ("kubernetes.io/h2c", "kubernetes.io/ws", "kubernetes.io/wss"):
            return True
        word = app_protocol
    if word.lower().startswith("grpc-web"):
        return True
    return word.split("-", 1)[0].lower() in _KNOWN_PROTOCOLS


def _target_port(p: dict[str, Any]) -> str:
    tp = p.get("targetPort")
    return "0" if tp is None else str(tp)


# gateway.istio.io/managed values of Services the gateway, mesh (waypoint) and east-west
# controllers create; Istio's PortNameAnalyzer skips them as not written by users.
_MANAGED_GATEWAY_CONTROLLERS = frozenset({"istio.io-gateway-controller", "istio.io-mesh-controller",
                                          "istio.io-eastwest-controller"})


def port_name_analyzer(ctx: Context) -> None:
    """``service.PortNameAnalyzer``."""
    for svc in ctx.objects("Service"):
        if svc.namespace in SYSTEM_NAMESPACES or "istio" in svc.labels or svc.labels.get("release") == "istio":
            continue
        if svc.labels.get("gateway.istio.io/managed") in _MANAGED_GATEWAY_CONTROLLERS:
            continue  # a Service istiod made for a Gateway (a waypoint's "mesh" port is named so)
        external = svc.spec.get("type") == "ExternalName"
        for i, p in enumerate(svc.spec.get("ports") or []):
            if not isinstance(p, dict):
                continue
            name = str(p.get("name") or "")
            app = p.get("appProtocol") if isinstance(p.get("appProtocol"), str) else None
            if port_protocol_supported(name, str(p.get("protocol") or "TCP"), app) and not (name == "tcp" and external):
                continue
            if external:
                ctx.report("ExternalNameServiceTypeInvalidPortName", svc, path=f"spec.ports[{i}]")
            else:
                ctx.report("PortNameIsNotUnderNamingConvention", svc, name, p.get("port") or 0, _target_port(p),
                           path=f"spec.ports[{i}].name")


def _deployment_in_mesh(ctx: Context, dep: Any) -> bool:
    """``util.DeploymentInMesh``: an istio-proxy container, else the inject label/annotation,
    else the namespace's ``istio-injection`` label."""
    template = (dep.spec.get("template") or {}) if isinstance(dep.spec.get("template"), dict) else {}
    meta = template.get("metadata") or {}
    pod_spec = template.get("spec") or {}
    for c in pod_spec.get("containers") or []:
        if isinstance(c, dict) and c.get("name") == "istio-proxy" and c.get("image"):
            return True
    for source in (meta.get("labels") or {}, meta.get("annotations") or {}):
        if "sidecar.istio.io/inject" in source:
            return source["sidecar.istio.io/inject"] == "true"
    ns = ctx.find("Namespace", "", dep.namespace)
    return ns is not None and ns.labels.get("istio-injection") == "enabled"


def multi_service_analyzer(ctx: Context) -> None:
    """``deployment.MultiServiceAnalyzer``."""
    for dep in ctx.objects("Deployment"):
        if dep.labels.get("gateway.istio.io/managed") == "istio.io-mesh-controller":
            continue
        if not _deployment_in_mesh(ctx, dep):
            continue
        template = as_dict(dep.spec.get("template"))
        tlabels = (template.get("metadata") or {}).get("labels") or {}
        matching = [s for s in ctx.services_in(dep.namespace) if isinstance(s.spec.get("selector"), dict)
                    and s.spec["selector"] and labels_match(s.spec["selector"], tlabels)]
        port_map: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        target_map: dict[str, dict[int, str]] = defaultdict(dict)
        for svc in matching:
            for p in svc.spec.get("ports") or []:
                if not isinstance(p, dict):
                    continue
                port = int(p.get("port") or 0)
                port_map[port][str(p.get("protocol") or "TCP")].append(full_name(svc))
                tp = _target_port(p)
                target_map[str(port) if tp in ("0", "") else tp][port] = full_name(svc)
        for port, protocols in sorted(port_map.items()):
            if len(protocols) > 1:
                names = sorted(n for ns in protocols.values() for n in ns)
                ctx.report("DeploymentAssociatedToMultipleServices", dep, dep.name, port, names, path="metadata.name")
        for tp, ports in sorted(target_map.items()):
            if len(ports) > 1:
                ctx.report("DeploymentConflictingPorts", dep, dep.name, sorted(ports.values()), tp, sorted(ports),
                           path="metadata.name")
