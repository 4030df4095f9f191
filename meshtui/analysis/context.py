"""What every analyzer gets: the mesh index, a ``report`` function, and Istio's shared lookups.

The lookups restate facts of Istio's ``pkg/config/analysis/analyzers/util`` package: how a host
becomes an FQDN (``ConvertHostToFQDN``), how a host names a Kubernetes service
(``GetResourceNameFromHost``), and which ServiceEntry or Service a destination host resolves to
for a given namespace, honouring exportTo (``InitServiceEntryHostMap`` / ``GetDestinationHost``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshtui.analysis.finding import Finding
from meshtui.analysis.labelindex import LabelIndex
from meshtui.analysis.messages import MessageType, catalogue, go_format
from meshtui.model.base import Resource, as_dict
from meshtui.model.index import MeshIndex, index_kind
from meshtui.model.istio import Gateway
from meshtui.model.kube import Service

ISTIO_GROUP = "networking.istio.io"
K8S_GATEWAY_GROUP = "gateway.networking.k8s.io"
MESH_GATEWAY = "mesh"
KUBE_DOMAIN = "svc.cluster.local"
_FQDN = re.compile(r"^(.+)\.(.+)\.svc\.cluster\.local$")


def convert_host_to_fqdn(namespace: str, host: str) -> str:
    """Istio analyzers' ``ConvertHostToFQDN``: a name without a dot (and not ``*``...) gets
    ``.<namespace>.svc.cluster.local``."""
    if host.startswith("*") or "." in host:
        return host
    return f"{host}.{namespace}.{KUBE_DOMAIN}"


def resource_name_from_host(default_namespace: str, host: str) -> tuple[str, str]:
    """``GetResourceNameFromHost``: (namespace, name) of the Service an FQDN names, else the
    host taken as a short name in ``default_namespace``."""
    m = _FQDN.match(host)
    if m:
        return m.group(2), m.group(1)
    return default_namespace, host


def selector_string(labels: dict[str, str] | None) -> str:
    """Kubernetes' ``labels.SelectorFromSet(...).String()``: ``k=v`` sorted by key, comma-joined."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items()))


def labels_match(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    """Whether ``labels`` satisfy the equality ``selector`` (an empty selector matches all)."""
    return all(k in labels and labels[k] == v for k, v in (selector or {}).items())


def full_name(obj: Resource) -> str:
    """``resource.FullName.String()``: ``namespace/name`` (``name`` without a namespace)."""
    return f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name


def is_export_to_all(export_to: list[str]) -> bool:
    """``util.IsExportToAllNamespaces``: unset or containing ``*``."""
    return not export_to or "*" in export_to


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """A ServiceEntry, or a Kubernetes Service seen as one (ports and workload selector)."""

    obj: Resource
    hosts: list[str]
    ports: list[tuple[int | None, str | None, str | None]]  # (number, name, protocol)
    selector: dict[str, str] | None


@dataclass
class Context:
    """One analysis run over ``index``; analyzers call :meth:`report`."""

    index: MeshIndex
    messages: dict[str, MessageType]
    analyzer: str = ""
    findings: list[Finding] = field(default_factory=list)
    _cache: dict[Any, Any] = field(default_factory=dict)

    # ---- reporting ----------------------------------------------------------------------

    def report(self, name: str, obj: Resource, *args: Any, path: str | None = None) -> None:
        """Record message ``name`` (a catalogue name such as ``ReferencedResourceNotFound``)
        about ``obj``, its text made from the template and ``args``."""
        mtype = self.messages[name]
        self.findings.append(Finding(
            code=mtype.code, name=mtype.name, level=mtype.level,
            message=go_format(mtype.template, args), kind=obj.kind, namespace=obj.namespace,
            resource_name=obj.name, path=path, analyzer=self.analyzer,
            documentation_url=mtype.documentation_url,
        ))

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value shared by the analyzers of one run (built on first use)."""
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    # ---- objects -------------------------------------------------------------------------

    def objects(self, kind: str, group: str | None = None) -> list[Resource]:
        """Objects of ``kind`` (of API ``group`` when given), in a stable order (a fresh list)."""
        return list(self._sorted(kind, group))

    def _sorted(self, kind: str, group: str | None) -> list[Resource]:
        # Every analyzer walks the same kinds; sort each (kind, group) once per run.
        key = ("objects", kind, group)
        found = self._cache.get(key)
        if found is None:
            objs = [o for o in self.index.objects(index_kind(kind, group)) if group is None or o.group == group]
            found = self._cache[key] = sorted(objs, key=lambda o: (o.namespace, o.name))
        return found

    def workloads(self) -> list[Any]:
        """The pods; for manifests on disk (no Pod at all), one stand-in per Deployment made
        from its pod template, so selectors are checked against what would run."""
        pods = self._sorted("Pod", None)
        if pods:
            return list(pods)
        return list(self.cached("template-pods", self._template_pods))

    def select_workloads(self, selector: dict[str, str] | None, namespace: str | None = None) -> list[Any]:
        """The :meth:`workloads` whose labels carry every label of ``selector`` (an empty
        selector: all), of ``namespace`` when given; in :meth:`workloads` order."""
        if self._sorted("Pod", None):
            return self.select_pods(selector, namespace)
        templates = self.cached("template-pods", self._template_pods)
        return self._select("template-pods", templates, selector, namespace)

    def select_pods(self, selector: dict[str, str] | None, namespace: str | None = None) -> list[Any]:
        """The Pods whose labels carry every label of ``selector`` (an empty selector: all), of
        ``namespace`` when given; in :meth:`objects` order."""
        return self._select("pods", self._sorted("Pod", None), selector, namespace)

    def _select(self, key: str, items: list[Any], selector: dict[str, str] | None,
                namespace: str | None) -> list[Any]:
        label_index = self.cached(("labels", key), lambda: LabelIndex([w.labels for w in items]))
        chosen = [items[i] for i in label_index.matching(selector)]
        return chosen if namespace is None else [w for w in chosen if w.namespace == namespace]

    def services_in(self, namespace: str) -> list[Resource]:
        """The Services of ``namespace`` in :meth:`objects` order."""
        def group() -> dict[str, list[Resource]]:
            out: dict[str, list[Resource]] = {}
            for svc in self._sorted("Service", None):
                out.setdefault(svc.namespace, []).append(svc)
            return out
        return list(self.cached("services-by-namespace", group).get(namespace, ()))

    def _template_pods(self) -> list[Any]:
        out = []
        for dep in self.objects("Deployment"):
            template = as_dict(dep.spec.get("template"))
            meta = as_dict(template.get("metadata"))
            labels = as_dict(meta.get("labels"))
            out.append(TemplatePod(name=dep.name, namespace=dep.namespace, labels=dict(labels)))
        return out

    def istio_gateways(self) -> list[Gateway]:
        """Istio ``networking.istio.io`` Gateways (not Gateway API ones)."""
        return [g for g in self.objects("Gateway", ISTIO_GROUP) if isinstance(g, Gateway)]

    def find(self, kind: str, namespace: str, name: str, group: str | None = None) -> Resource | None:
        """The object of ``kind`` called ``namespace/name`` (exact namespace), if any."""
        # The index keys objects by (kind, normalised namespace, name); the object found there
        # is the only candidate, and must carry exactly this namespace (and group).
        o = self.index.get(kind, namespace, name)
        if o is None or o.namespace != namespace or o.name != name or (group is not None and o.group != group):
            return None
        return o

    # ---- the service registry as the analyzers see it --------------------------------------

    def registry(self) -> dict[tuple[str, str], RegistryEntry]:
        """``InitServiceEntryHostMap``: (scope, FQDN) -> entry; scope is ``*`` or a namespace."""
        return self.cached("registry", self._build_registry)

    def _build_registry(self) -> dict[tuple[str, str], RegistryEntry]:
        out: dict[tuple[str, str], RegistryEntry] = {}
        for se in self.objects("ServiceEntry", ISTIO_GROUP):
            spec = se.spec
            hosts = [h for h in spec.get("hosts") or [] if isinstance(h, str)]
            export_to = [e for e in spec.get("exportTo") or [] if isinstance(e, str)]
            ports = [(p.get("number"), p.get("name"), p.get("protocol"))
                     for p in spec.get("ports") or [] if isinstance(p, dict)]
            ws = spec.get("workloadSelector")
            entry = RegistryEntry(se, hosts, ports, (ws or {}).get("labels") if isinstance(ws, dict) else None)
            for h in hosts:
                fq = convert_host_to_fqdn(se.namespace, h)
                if is_export_to_all(export_to):
                    out[("*", fq)] = entry
                    continue
                for e in export_to:
                    out[(se.namespace if e == "." else e, fq)] = entry
        for svc in self.objects("Service"):
            if not isinstance(svc, Service):
                continue
            fq = convert_host_to_fqdn(svc.namespace, svc.name)
            ports = [(p.port, p.name, p.protocol) for p in svc.ports]
            entry = RegistryEntry(svc, [fq], ports, dict(svc.selector) if svc.selector else None)
            anno = svc.annotations.get("networking.istio.io/exportTo") or ""
            scopes = ["*"] if not anno else [svc.namespace if s == "." else s for s in anno.split(",")]
            for scope in scopes:
                out[(scope, fq)] = entry
        return out

    def destination_host(self, source_ns: str, export_to: list[str], host: str) -> RegistryEntry | None:
        """``GetDestinationHost``: the entry ``host`` resolves to for an object of ``source_ns``."""
        reg = self.registry()
        fq = convert_host_to_fqdn(source_ns, host)
        if ("*", fq) in reg:
            return reg[("*", fq)]
        scopes = [source_ns] if not export_to else [source_ns if e == "." else e for e in export_to]
        for scope in scopes:
            if (scope, fq) in reg:
                return reg[(scope, fq)]
        bare = host[1:] if host.startswith("*") else host
        for scope, se_host, entry in self._wildcard_entries():
            if scope not in ("*", source_ns):
                continue
            if bare.endswith(se_host[1:]):
                return entry
        return None

    def _wildcard_entries(self) -> list[tuple[str, str, RegistryEntry]]:
        """The registry's wildcard hosts in registry order (a miss used to scan every entry)."""
        return self.cached("registry-wildcards", lambda: [
            (scope, se_host, entry) for (scope, se_host), entry in self.registry().items()
            if se_host.startswith("*")])


Analyzer = Callable[[Context], None]


@dataclass(frozen=True)
class TemplatePod:
    """A Deployment's pod template standing in for its pods (manifests on disk have no Pods)."""

    name: str
    namespace: str
    labels: dict[str, str]


def all_messages() -> dict[str, MessageType]:
    """Istio's catalogue plus meshtui's own MT messages."""
    from meshtui.analysis.ambient_findings import AMBIENT_MESSAGES
    from meshtui.analysis.gateway_api_findings import GATEWAY_API_MESSAGES
    from meshtui.analysis.meshtui_findings import MT_MESSAGES

    return {**catalogue(), **{m.name: m for m in (*MT_MESSAGES, *GATEWAY_API_MESSAGES, *AMBIENT_MESSAGES)}}
