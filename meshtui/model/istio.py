"""Typed views of DestinationRule, Gateway, ServiceEntry and Sidecar (networking.istio.io)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.base import (
    Raw, Resource, as_bool, as_dict, as_int, as_labels, as_list, as_str, as_strs, meta_fields,
)


def _selector(raw: Any) -> dict[str, str] | None:
    """``workloadSelector.labels``; None when there is no workloadSelector at all."""
    if not isinstance(raw, dict):
        return None
    return as_labels(raw.get("labels"))


@dataclass(frozen=True, slots=True)
class PortTrafficPolicy:
    """Traffic policy for one port of the destination."""

    port: int | None
    policy: TrafficPolicy


@dataclass(frozen=True, slots=True)
class TrafficPolicy:
    """Load balancing, connection pool, outlier detection and TLS settings.

    The commonly shown settings are typed; the rest stays in ``raw``.
    """

    load_balancer: str | None  # simple policy (ROUND_ROBIN, LEAST_REQUEST, ...) if any
    consistent_hash: dict[str, Any] | None
    connection_pool: dict[str, Any] | None
    outlier_detection: dict[str, Any] | None
    tls_mode: str | None  # DISABLE / SIMPLE / MUTUAL / ISTIO_MUTUAL
    port_level_settings: list[PortTrafficPolicy]
    raw: Raw

    @classmethod
    def parse(cls, raw: Any) -> TrafficPolicy | None:
        """Read a ``TrafficPolicy`` mapping; None when absent."""
        if not isinstance(raw, dict):
            return None
        lb = as_dict(raw.get("loadBalancer"))
        ports = []
        for item in as_list(raw.get("portLevelSettings")):
            d = as_dict(item)
            policy = cls.parse(d)
            if policy is not None:
                ports.append(PortTrafficPolicy(as_int(as_dict(d.get("port")).get("number")), policy))
        return cls(
            load_balancer=as_str(lb.get("simple")),
            consistent_hash=lb.get("consistentHash") if isinstance(lb.get("consistentHash"), dict) else None,
            connection_pool=raw.get("connectionPool") if isinstance(raw.get("connectionPool"), dict) else None,
            outlier_detection=(raw.get("outlierDetection")
                               if isinstance(raw.get("outlierDetection"), dict) else None),
            tls_mode=as_str(as_dict(raw.get("tls")).get("mode")),
            port_level_settings=ports,
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class Subset:
    """A named group of a service's endpoints, selected by pod labels."""

    name: str
    labels: dict[str, str]
    traffic_policy: TrafficPolicy | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class DestinationRule(Resource):
    """Policies for traffic to one host after routing: subsets, load balancing, TLS."""

    host: str
    subsets: list[Subset]
    traffic_policy: TrafficPolicy | None
    export_to: list[str]
    workload_selector: dict[str, str] | None

    def subset(self, name: str) -> Subset | None:
        """The subset called ``name``, if defined."""
        for s in self.subsets:
            if s.name == name:
                return s
        return None

    @classmethod
    def parse(cls, raw: Raw) -> DestinationRule:
        """Read a DestinationRule object (tolerant)."""
        spec = as_dict(raw.get("spec"))
        subsets = []
        for item in as_list(spec.get("subsets")):
            d = as_dict(item)
            subsets.append(Subset(as_str(d.get("name")) or "", as_labels(d.get("labels")),
                                  TrafficPolicy.parse(d.get("trafficPolicy")), d))
        return cls(
            **meta_fields(raw),
            host=as_str(spec.get("host")) or "",
            subsets=subsets,
            traffic_policy=TrafficPolicy.parse(spec.get("trafficPolicy")),
            export_to=as_strs(spec.get("exportTo")),
            workload_selector=_selector(spec.get("workloadSelector")),
        )


@dataclass(frozen=True, slots=True)
class Port:
    """A port of a Gateway server or a ServiceEntry."""

    number: int | None
    name: str | None
    protocol: str | None
    target_port: int | None

    @classmethod
    def parse(cls, raw: Any) -> Port:
        """Read a ``Port`` / ``ServicePort`` mapping."""
        d = as_dict(raw)
        return cls(as_int(d.get("number")), as_str(d.get("name")), as_str(d.get("protocol")),
                   as_int(d.get("targetPort")))


@dataclass(frozen=True, slots=True)
class ServerTLS:
    """TLS settings of a Gateway server."""

    mode: str | None
    credential_name: str | None
    https_redirect: bool
    raw: Raw


@dataclass(frozen=True, slots=True)
class Server:
    """One listener of a Gateway: a port and the hosts it admits (``ns/host`` allowed)."""

    port: Port
    hosts: list[str]
    tls: ServerTLS | None
    bind: str | None
    name: str | None
    raw: Raw


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway(Resource):
    """A load balancer at the mesh edge, bound to gateway pods by ``selector``."""

    selector: dict[str, str]
    servers: list[Server]

    @classmethod
    def parse(cls, raw: Raw) -> Gateway:
        """Read a Gateway object (tolerant)."""
        spec = as_dict(raw.get("spec"))
        servers = []
        for item in as_list(spec.get("servers")):
            d = as_dict(item)
            tls = None
            if isinstance(d.get("tls"), dict):
                t = d["tls"]
                tls = ServerTLS(as_str(t.get("mode")), as_str(t.get("credentialName")),
                                as_bool(t.get("httpsRedirect")) or False, t)
            servers.append(Server(Port.parse(d.get("port")), as_strs(d.get("hosts")), tls,
                                  as_str(d.get("bind")), as_str(d.get("name")), d))
        return cls(**meta_fields(raw), selector=as_labels(spec.get("selector")), servers=servers)


@dataclass(frozen=True, slots=True)
class WorkloadEndpoint:
    """An endpoint of a ServiceEntry (the WorkloadEntry spec shape)."""

    address: str | None
    ports: dict[str, int]
    labels: dict[str, str]
    network: str | None
    locality: str | None
    weight: int | None
    service_account: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceEntry(Resource):
    """Adds hosts (often external) to Istio's service registry."""

    hosts: list[str]
    addresses: list[str]
    ports: list[Port]
    location: str | None  # MESH_EXTERNAL / MESH_INTERNAL
    resolution: str | None  # NONE / STATIC / DNS / DNS_ROUND_ROBIN
    endpoints: list[WorkloadEndpoint]
    export_to: list[str]
    workload_selector: dict[str, str] | None
    subject_alt_names: list[str]

    @classmethod
    def parse(cls, raw: Raw) -> ServiceEntry:
        """Read a ServiceEntry object (tolerant)."""
        spec = as_dict(raw.get("spec"))
        endpoints = []
        for item in as_list(spec.get("endpoints")):
            d = as_dict(item)
            ports = {k: v for k, v in as_dict(d.get("ports")).items() if as_int(v) is not None}
            endpoints.append(WorkloadEndpoint(as_str(d.get("address")), ports, as_labels(d.get("labels")),
                                              as_str(d.get("network")), as_str(d.get("locality")),
                                              as_int(d.get("weight")), as_str(d.get("serviceAccount"))))
        return cls(
            **meta_fields(raw),
            hosts=as_strs(spec.get("hosts")),
            addresses=as_strs(spec.get("addresses")),
            ports=[Port.parse(p) for p in as_list(spec.get("ports"))],
            location=as_str(spec.get("location")),
            resolution=as_str(spec.get("resolution")),
            endpoints=endpoints,
            export_to=as_strs(spec.get("exportTo")),
            workload_selector=_selector(spec.get("workloadSelector")),
            subject_alt_names=as_strs(spec.get("subjectAltNames")),
        )


@dataclass(frozen=True, slots=True)
class SidecarEgress:
    """An egress listener of a Sidecar: which ``ns/host`` the workloads may reach."""

    hosts: list[str]
    port: Port | None
    bind: str | None
    capture_mode: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Sidecar(Resource):
    """Scopes what the selected workloads' sidecars see and accept."""

    workload_selector: dict[str, str] | None
    egress: list[SidecarEgress]
    ingress: list[dict[str, Any]]
    outbound_traffic_policy: str | None  # ALLOW_ANY / REGISTRY_ONLY, None = mesh default

    @classmethod
    def parse(cls, raw: Raw) -> Sidecar:
        """Read a Sidecar object (tolerant)."""
        spec = as_dict(raw.get("spec"))
        egress = []
        for item in as_list(spec.get("egress")):
            d = as_dict(item)
            egress.append(SidecarEgress(as_strs(d.get("hosts")),
                                        Port.parse(d["port"]) if isinstance(d.get("port"), dict) else None,
                                        as_str(d.get("bind")), as_str(d.get("captureMode"))))
        return cls(
            **meta_fields(raw),
            workload_selector=_selector(spec.get("workloadSelector")),
            egress=egress,
            ingress=[i for i in as_list(spec.get("ingress")) if isinstance(i, dict)],
            outbound_traffic_policy=as_str(as_dict(spec.get("outboundTrafficPolicy")).get("mode")),
        )
