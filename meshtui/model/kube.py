"""Typed views of the Kubernetes objects the mesh is made of, and Istio's mesh config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from meshtui.model.base import (
    Raw, Resource, as_bool, as_dict, as_int, as_labels, as_list, as_str, as_strs, int_or_str,
    lazy_view, meta_fields,
)
from meshtui.model.serviceentry_visibility import ServiceEntryVisibility

SIDECAR_CONTAINER = "istio-proxy"


@dataclass(frozen=True, slots=True)
class ServicePort:
    """A port of a Kubernetes Service."""

    name: str | None
    port: int | None
    target_port: int | str | None
    protocol: str  # TCP when not written
    app_protocol: str | None
    node_port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Service(Resource):
    """A Kubernetes Service: the host ``name.namespace.svc.<suffix>`` and its pod selector."""

    selector: dict[str, str] | None  # None: no selector (endpoints managed by hand)
    ports: list[ServicePort]
    type: str  # ClusterIP when not written
    cluster_ip: str | None
    external_name: str | None

    def fqdn(self, domain_suffix: str = "cluster.local") -> str:
        """The service's host name in the mesh."""
        return f"{self.name}.{self.namespace}.svc.{domain_suffix}"

    @classmethod
    def parse(cls, raw: Raw) -> Service:
        """Read a Service object (tolerant)."""
        spec = as_dict(raw.get("spec"))
        ports = []
        for item in as_list(spec.get("ports")):
            d = as_dict(item)
            ports.append(ServicePort(as_str(d.get("name")), as_int(d.get("port")), int_or_str(d.get("targetPort")),
                                     as_str(d.get("protocol")) or "TCP", as_str(d.get("appProtocol")),
                                     as_int(d.get("nodePort"))))
        selector = spec.get("selector")
        return cls(**meta_fields(raw), selector=as_labels(selector) if isinstance(selector, dict) else None,
                   ports=ports, type=as_str(spec.get("type")) or "ClusterIP",
                   cluster_ip=as_str(spec.get("clusterIP")), external_name=as_str(spec.get("externalName")))


def _has_sidecar(pod_spec: dict[str, Any], annotations: dict[str, str]) -> bool:
    # Injected pods carry the proxy as a container, or (native sidecars, k8s >= 1.28) as an
    # init container; the injector's status annotation covers either.
    if "sidecar.istio.io/status" in annotations:
        return True
    for key in ("containers", "initContainers"):
        if any(as_dict(c).get("name") == SIDECAR_CONTAINER for c in as_list(pod_spec.get(key))):
            return True
    return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Pod(Resource):
    """A pod: its labels select it into services and subsets; ``ready`` gates traffic."""

    ip: str | None
    phase: str | None
    ready: bool
    restarts: int
    node: str | None
    containers: list[str]
    #: Containers whose status says ready (kubectl's READY is ``ready_containers/len(containers)``).
    ready_containers: int
    has_sidecar: bool
    service_account: str | None

    @classmethod
    def parse(cls, raw: Raw) -> Pod:
        """Read a Pod object (tolerant). Written as plain loops: a big mesh has 20,000 pods."""
        meta = meta_fields(raw)
        spec = as_dict(raw.get("spec"))
        status = as_dict(raw.get("status"))
        ready = False
        for c in as_list(status.get("conditions")):
            if isinstance(c, dict) and c.get("type") == "Ready":
                ready = c.get("status") == "True"
        restarts = ready_containers = 0
        for c in as_list(status.get("containerStatuses")):
            if isinstance(c, dict):
                restarts += as_int(c.get("restartCount")) or 0
                ready_containers += c.get("ready") is True
        containers = []
        for c in as_list(spec.get("containers")):
            if isinstance(c, dict) and isinstance(c.get("name"), str):
                containers.append(c["name"])
        return cls(**meta, ip=as_str(status.get("podIP")), phase=as_str(status.get("phase")), ready=ready,
                   restarts=restarts, node=as_str(spec.get("nodeName")), containers=containers,
                   ready_containers=ready_containers,
                   has_sidecar=(SIDECAR_CONTAINER in containers or _has_sidecar(spec, meta["annotations"])),
                   service_account=as_str(spec.get("serviceAccountName")))


@dataclass(frozen=True, slots=True)
class EndpointAddress:
    """One backend address; ``pod`` is the targetRef name when it is a Pod."""

    ip: str | None
    pod: str | None
    ready: bool
    node: str | None = None


@dataclass(frozen=True, slots=True)
class EndpointPort:
    """A port of Endpoints / EndpointSlice."""

    name: str | None
    port: int | None
    protocol: str


def _ports(raw: Any) -> list[EndpointPort]:
    return [EndpointPort(as_str(as_dict(p).get("name")), as_int(as_dict(p).get("port")),
                         as_str(as_dict(p).get("protocol")) or "TCP") for p in as_list(raw)]


def _target_pod(ref: Any) -> str | None:
    d = as_dict(ref)
    return as_str(d.get("name")) if d.get("kind") in (None, "Pod") else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints(Resource):
    """Core v1 Endpoints of a service (flattened over its subsets).

    ``addresses`` and ``ports`` are read from ``raw`` on first use: a big mesh has an Endpoints
    object per service, and most are never looked at.
    """

    _views: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, raw: Raw) -> Endpoints:
        """Read an Endpoints object (tolerant)."""
        return cls(**meta_fields(raw))

    @property
    def addresses(self) -> list[EndpointAddress]:
        """Every address of every subset, ready ones first within each subset."""
        return self._read()[0]

    @property
    def ports(self) -> list[EndpointPort]:
        """The ports of the subsets, each once."""
        return self._read()[1]

    def _read(self) -> tuple[list[EndpointAddress], list[EndpointPort]]:
        return lazy_view(self._views, "subsets", lambda: _read_subsets(self.raw))


def _read_subsets(raw: Raw) -> tuple[list[EndpointAddress], list[EndpointPort]]:
    """An Endpoints object's addresses and ports, flattened over its subsets (tolerant)."""
    addresses: list[EndpointAddress] = []
    ports: list[EndpointPort] = []
    for subset in as_list(raw.get("subsets")):
        s = as_dict(subset)
        for key, ready in (("addresses", True), ("notReadyAddresses", False)):
            for a in as_list(s.get(key)):
                d = as_dict(a)
                addresses.append(EndpointAddress(as_str(d.get("ip")), _target_pod(d.get("targetRef")), ready,
                                                 as_str(d.get("nodeName"))))
        ports.extend(p for p in _ports(s.get("ports")) if p not in ports)
    return addresses, ports


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointSlice(Resource):
    """A discovery.k8s.io/v1 EndpointSlice; ``service_name`` from its service-name label."""

    service_name: str | None
    address_type: str | None
    addresses: list[EndpointAddress]
    ports: list[EndpointPort]

    @classmethod
    def parse(cls, raw: Raw) -> EndpointSlice:
        """Read an EndpointSlice object (tolerant)."""
        meta = meta_fields(raw)
        addresses = []
        for e in as_list(raw.get("endpoints")):
            d = as_dict(e)
            # An absent "ready" condition means ready (the API's documented default).
            ready = as_bool(as_dict(d.get("conditions")).get("ready"))
            pod = _target_pod(d.get("targetRef"))
            for ip in as_strs(d.get("addresses")):
                addresses.append(EndpointAddress(ip, pod, ready is not False, as_str(d.get("nodeName"))))
        return cls(**meta, service_name=meta["labels"].get("kubernetes.io/service-name"),
                   address_type=as_str(raw.get("addressType")), addresses=addresses, ports=_ports(raw.get("ports")))


@dataclass(frozen=True, slots=True, kw_only=True)
class Namespace(Resource):
    """A namespace and whether sidecar injection is on for it."""

    phase: str | None

    @property
    def injection_enabled(self) -> bool:
        """``istio-injection=enabled`` or a revision label ``istio.io/rev``."""
        if self.labels.get("istio-injection") == "disabled":
            return False
        return self.labels.get("istio-injection") == "enabled" or "istio.io/rev" in self.labels

    @classmethod
    def parse(cls, raw: Raw) -> Namespace:
        """Read a Namespace object (tolerant)."""
        return cls(**meta_fields(raw), phase=as_str(as_dict(raw.get("status")).get("phase")))


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment(Resource):
    """An apps/v1 Deployment: a workload (the only one in ``--files`` mode, where no pods exist)."""

    replicas: int  # 1 when not written, as the API server defaults it
    ready_replicas: int
    selector: dict[str, str]
    template_labels: dict[str, str]
    template_annotations: dict[str, str]
    containers: list[str]

    @classmethod
    def parse(cls, raw: Raw) -> Deployment:
        """Read a Deployment object (tolerant)."""
        spec = as_dict(raw.get("spec"))
        template = as_dict(spec.get("template"))
        tmeta = as_dict(template.get("metadata"))
        replicas = as_int(spec.get("replicas"))
        return cls(**meta_fields(raw), replicas=1 if replicas is None else replicas,
                   ready_replicas=as_int(as_dict(raw.get("status")).get("readyReplicas")) or 0,
                   selector=as_labels(as_dict(spec.get("selector")).get("matchLabels")),
                   template_labels=as_labels(tmeta.get("labels")),
                   template_annotations=as_labels(tmeta.get("annotations")),
                   containers=[n for n in (as_str(as_dict(c).get("name"))
                                           for c in as_list(as_dict(template.get("spec")).get("containers"))) if n])


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigMap(Resource):
    """A ConfigMap (meshtui reads Istio's ``istio`` ConfigMap as :class:`MeshConfig`)."""

    data: dict[str, str]

    @classmethod
    def parse(cls, raw: Raw) -> ConfigMap:
        """Read a ConfigMap object (tolerant)."""
        return cls(**meta_fields(raw), data=as_labels(raw.get("data")))


@dataclass(frozen=True, slots=True)
class MeshConfig:
    """The mesh-wide settings meshtui needs, with Istio's defaults when unset.

    Read from the ``mesh`` key of the ``istio`` ConfigMap in ``istio-system``.
    """

    outbound_traffic_policy: str = "ALLOW_ANY"  # or REGISTRY_ONLY
    access_log_file: str | None = None
    access_log_format: str | None = None  # None: Envoy/Istio default format
    access_log_encoding: str = "TEXT"  # or JSON
    root_namespace: str = "istio-system"
    trust_domain: str = "cluster.local"
    default_service_export_to: list[str] = field(default_factory=lambda: ["*"])
    default_virtual_service_export_to: list[str] = field(default_factory=lambda: ["*"])
    default_destination_rule_export_to: list[str] = field(default_factory=lambda: ["*"])
    service_entry_visibility: ServiceEntryVisibility | None = None  # None: not configured (all PUBLIC)
    error: str | None = None  # why the ``mesh`` text could not be read, if it could not

    def default_export_to(self, kind: str) -> list[str]:
        """The exportTo used by objects of ``kind`` that do not set one."""
        if kind == "VirtualService":
            return self.default_virtual_service_export_to
        if kind == "DestinationRule":
            return self.default_destination_rule_export_to
        return self.default_service_export_to

    @classmethod
    def from_configmap(cls, raw: Raw | None) -> MeshConfig:
        """Parse the ``istio`` ConfigMap (raw); defaults when None or the text is unusable."""
        if raw is None:
            return cls()
        text = as_dict(raw.get("data")).get("mesh")
        if not isinstance(text, str) or not text.strip():
            return cls()
        import yaml  # parsing text, not I/O; PyYAML is a core dependency

        try:
            mesh = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            return cls(error=f"mesh config: {str(exc).splitlines()[0]}")
        if not isinstance(mesh, dict):
            return cls(error="mesh config is not a mapping")
        return cls.from_mesh(mesh)

    @classmethod
    def from_mesh(cls, mesh: dict[str, Any]) -> MeshConfig:
        """Read an already-decoded MeshConfig mapping."""
        default = cls()
        encoding = as_str(mesh.get("accessLogEncoding"))
        return cls(
            outbound_traffic_policy=(as_str(as_dict(mesh.get("outboundTrafficPolicy")).get("mode"))
                                     or default.outbound_traffic_policy),
            access_log_file=as_str(mesh.get("accessLogFile")),
            access_log_format=as_str(mesh.get("accessLogFormat")) or None,
            access_log_encoding=encoding.upper() if encoding else default.access_log_encoding,
            root_namespace=as_str(mesh.get("rootNamespace")) or default.root_namespace,
            trust_domain=as_str(mesh.get("trustDomain")) or default.trust_domain,
            default_service_export_to=as_strs(mesh.get("defaultServiceExportTo")) or ["*"],
            default_virtual_service_export_to=as_strs(mesh.get("defaultVirtualServiceExportTo")) or ["*"],
            default_destination_rule_export_to=as_strs(mesh.get("defaultDestinationRuleExportTo")) or ["*"],
            service_entry_visibility=ServiceEntryVisibility.parse(mesh.get("serviceEntryVisibility")),
        )
