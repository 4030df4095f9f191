"""Which analyzers exist and how to run them over a ``MeshIndex``.

Analyzers are registered under Istio's names (``virtualservice.DestinationRuleAnalyzer`` ...,
what ``istioctl analyze --list-analyzers`` shows) and meshtui's (``meshtui.*``). ``analyze``
runs all of them, or the ones named, and returns the findings sorted (errors first, then by
resource) and, as istioctl prints them, each distinct message once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from meshtui.analysis import (
    conditions, destinationrule, envoyfilter, gateway, meshtui_findings, service, serviceentry, sidecar,
)
from meshtui.analysis import ambient_findings, authorization, injection
from meshtui.analysis import gateway_api_findings as gwapi
from meshtui.analysis import gateway_api_istio
from meshtui.analysis import virtualservice as vs
from meshtui.analysis import vsvalidation
from meshtui.analysis.context import Analyzer, Context, all_messages
from meshtui.analysis.finding import Finding
from meshtui.model.index import MeshIndex


class UnknownAnalyzerError(ValueError):
    """An analyzer name that is not registered."""


@dataclass(frozen=True, slots=True)
class AnalyzerInfo:
    """A registered analyzer: its name, what it checks, the function, and which of the cluster
    kinds (Service, Pod, Namespace, Node, Secret) are among its inputs in Istio."""

    name: str
    description: str
    run: Analyzer
    cluster_inputs: tuple[str, ...] = ()


#: The kinds ``istioctl analyze --use-kube=false`` does not read from files
#: (``kuberesource.DefaultExcludedSchemas``); analyzers with one of them among their inputs are skipped.
CLUSTER_KINDS = ("Service", "Namespace", "Node", "Pod", "Secret")


ANALYZERS: tuple[AnalyzerInfo, ...] = (
    AnalyzerInfo("conditions.ConditionAnalyzer", "negative status conditions (IST0171)",
                 conditions.condition_analyzer, cluster_inputs=("Service",)),
    AnalyzerInfo("deprecation.DeprecationAnalyzer", "deprecated VirtualService and Sidecar fields",
                 sidecar.deprecation_analyzer),
    AnalyzerInfo("deployment.MultiServiceAnalyzer", "Services sharing a Deployment with conflicting ports",
                 service.multi_service_analyzer,
                 cluster_inputs=('Namespace', 'Service')),
    AnalyzerInfo("destinationrule.CaCertificateAnalyzer", "TLS without caCertificates",
                 destinationrule.ca_certificate_analyzer),
    AnalyzerInfo("destinationrule.SubsetSelectPodAnalyzer", "unknown hosts and subsets selecting no pod",
                 destinationrule.subset_select_pod_analyzer,
                 cluster_inputs=('Node', 'Pod', 'Service')),
    AnalyzerInfo("envoyfilter.EnvoyPatchAnalyzer", "EnvoyFilter patch operations that may not apply (IST0151-IST0155)",
                 envoyfilter.envoy_patch_analyzer),
    AnalyzerInfo("gateway.CertificateAnalyzer", "a certificate shared by gateways", gateway.certificate_analyzer),
    AnalyzerInfo("gateway.ConflictingGatewayAnalyzer", "gateways with the same selector, port and hosts",
                 gateway.conflicting_gateway_analyzer,
                 cluster_inputs=('Pod',)),
    AnalyzerInfo("gateway.IngressGatewayPortAnalyzer", "gateway ports and selectors against Services and pods",
                 gateway.ingress_gateway_port_analyzer,
                 cluster_inputs=('Pod', 'Service')),
    AnalyzerInfo("gateway.SecretAnalyzer", "gateway credentialName secrets", gateway.secret_analyzer,
                 cluster_inputs=('Pod', 'Secret')),
    AnalyzerInfo("schema.ValidationAnalyzer.DestinationRule", "DestinationRule schema and Istio validation",
                 vsvalidation.schema_analyzer_for("DestinationRule")),
    AnalyzerInfo("schema.ValidationAnalyzer.EnvoyFilter", "EnvoyFilter schema and Istio validation",
                 vsvalidation.schema_analyzer_for("EnvoyFilter")),
    AnalyzerInfo("schema.ValidationAnalyzer.Gateway", "Gateway schema and Istio validation",
                 vsvalidation.schema_analyzer_for("Gateway")),
    AnalyzerInfo("schema.ValidationAnalyzer.ServiceEntry", "ServiceEntry schema and Istio validation",
                 vsvalidation.schema_analyzer_for("ServiceEntry")),
    AnalyzerInfo("schema.ValidationAnalyzer.Sidecar", "Sidecar schema and Istio validation",
                 vsvalidation.schema_analyzer_for("Sidecar")),
    AnalyzerInfo("schema.ValidationAnalyzer.VirtualService",
                 "VirtualService schema and Istio validation, unreachable rules, shadowed matches",
                 vsvalidation.validation_analyzer),
    AnalyzerInfo("schema.ValidationAnalyzer.WorkloadEntry", "WorkloadEntry schema and Istio validation",
                 vsvalidation.schema_analyzer_for("WorkloadEntry")),
    AnalyzerInfo("schema.ValidationAnalyzer.WorkloadGroup", "WorkloadGroup schema and Istio validation",
                 vsvalidation.schema_analyzer_for("WorkloadGroup")),
    AnalyzerInfo("auth.AuthorizationPoliciesAnalyzer", "AuthorizationPolicies selecting no workload, unknown namespaces",
                 authorization.authorization_policies_analyzer, cluster_inputs=("Namespace", "Pod")),
    AnalyzerInfo("injection.Analyzer", "sidecar injection of namespaces and pods (ambient counts as enrolled)",
                 injection.injection_analyzer, cluster_inputs=("Namespace", "Pod")),
    AnalyzerInfo("service.PortNameAnalyzer", "Service port names Istio cannot read", service.port_name_analyzer,
                 cluster_inputs=('Service',)),
    AnalyzerInfo("serviceentry.Analyzer", "ServiceEntries that need addresses", serviceentry.protocol_addresses_analyzer),
    AnalyzerInfo("serviceentry.ConflictingServiceEntryProtocolAnalyzer", "one host and port, two protocols",
                 serviceentry.conflicting_protocol_analyzer),
    AnalyzerInfo("sidecar.SelectorAnalyzer", "Sidecar workload selectors", sidecar.selector_analyzer,
                 cluster_inputs=('Pod', 'Namespace')),
    AnalyzerInfo("virtualservice.ConflictingMeshGatewayHostsAnalyzer", "two mesh VirtualServices for one host",
                 vs.conflicting_mesh_gateway_hosts_analyzer),
    AnalyzerInfo("virtualservice.DestinationHostAnalyzer", "destination hosts and ports",
                 vs.destination_host_analyzer,
                 cluster_inputs=('Service',)),
    AnalyzerInfo("virtualservice.DestinationRuleAnalyzer", "destination subsets", vs.destination_rule_analyzer),
    AnalyzerInfo("virtualservice.GatewayAnalyzer", "VirtualService gateways and their hosts", vs.gateway_analyzer),
    AnalyzerInfo("virtualservice.JWTClaimRouteAnalyzer", "JWT claim routing without RequestAuthentication",
                 vs.jwt_claim_route_analyzer,
                 cluster_inputs=('Pod',)),
    AnalyzerInfo("meshtui.SubsetReadyPodAnalyzer", "MT0001 routed subsets without ready pods",
                 meshtui_findings.subset_ready_pods),
    AnalyzerInfo("meshtui.WeightAnalyzer", "MT0002 weights that do not sum to 100", meshtui_findings.weights_sum),
    AnalyzerInfo("meshtui.DestinationResolutionAnalyzer", "MT0003 destination hosts resolving to nothing",
                 meshtui_findings.unresolved_hosts),
    AnalyzerInfo("meshtui.GatewayHostAnalyzer", "MT0004 short hosts on gateway VirtualServices",
                 meshtui_findings.short_gateway_hosts),
    AnalyzerInfo("meshtui.RegistryOnlyAnalyzer", "MT0005 external hosts blocked by REGISTRY_ONLY",
                 meshtui_findings.registry_only),
    AnalyzerInfo("meshtui.MirrorAnalyzer", "MT0006 mirrors to the routed destination", meshtui_findings.mirror_same_subset),
    AnalyzerInfo("k8sgateway.SelectorAnalyzer", "selector-only policies on Gateway API gateways",
                 gateway_api_istio.selector_analyzer),
    AnalyzerInfo("k8sgateway.CRDVersionAnalyzer", "Gateway API CRDs below Istio's minimum version",
                 gateway_api_istio.crd_version_analyzer),
    AnalyzerInfo("meshtui.GatewayAPIMixingAnalyzer", "MT0101 VirtualService and HTTPRoute on one host",
                 gwapi.mixing_analyzer),
    AnalyzerInfo("meshtui.GatewayAPIBackendAnalyzer", "MT0102 MT0103 MT0106 backendRefs that answer 500",
                 gwapi.backend_analyzer),
    AnalyzerInfo("meshtui.GatewayAPIParentAnalyzer", "MT0104 routes their Gateway does not accept",
                 gwapi.parent_analyzer),
    AnalyzerInfo("meshtui.GatewayAPIShadowAnalyzer", "MT0105 route rules shadowed by earlier ones",
                 gwapi.shadow_analyzer),
    AnalyzerInfo("meshtui.AmbientL7Analyzer", "MT0201 L7 routes on ambient services without a waypoint",
                 ambient_findings.l7_without_waypoint_analyzer),
    AnalyzerInfo("meshtui.WaypointRoutesAnalyzer", "MT0202 MT0206 VirtualServices on waypoint-served services",
                 ambient_findings.waypoint_mixing_analyzer),
    AnalyzerInfo("meshtui.UseWaypointAnalyzer", "MT0203 MT0204 MT0205 waypoint labels istiod cannot honour",
                 ambient_findings.use_waypoint_analyzer),
)


def istioctl_file_analyzers() -> list[str]:
    """The analyzers ``istioctl analyze --use-kube=false`` runs: Istio's, without those that
    need a cluster kind (meshtui's own MT analyzers are not istioctl's)."""
    return [a.name for a in ANALYZERS if not a.name.startswith("meshtui.") and not a.cluster_inputs]


def without_cluster_kinds(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """``objects`` without the core Services, Pods, Namespaces, Nodes and Secrets, which
    ``istioctl analyze --use-kube=false`` ignores in files."""
    def core(o: dict[str, Any]) -> bool:
        return o.get("apiVersion") == "v1" and o.get("kind") in CLUSTER_KINDS
    return [o for o in objects if not core(o)]


def analyzer_names() -> list[str]:
    """Every registered analyzer name."""
    return [a.name for a in ANALYZERS]


def analyze(index: MeshIndex, analyzers: Iterable[str] | None = None,
            timings: dict[str, float] | None = None) -> list[Finding]:
    """Run the named analyzers (all when None) over ``index``; findings sorted errors first.

    With ``timings``, each analyzer's wall time in seconds is stored there under its name
    (lookups shared by the run are charged to the first analyzer that needs them).
    Raises :class:`UnknownAnalyzerError` for a name that is not registered.
    """
    by_name = {a.name: a for a in ANALYZERS}
    chosen = list(ANALYZERS)
    if analyzers is not None:
        names = list(analyzers)
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise UnknownAnalyzerError(f"unknown analyzer {unknown[0]!r} (see --list-analyzers)")
        chosen = [by_name[n] for n in dict.fromkeys(names)]
    ctx = Context(index, all_messages())
    for info in chosen:
        ctx.analyzer = info.name
        started = time.perf_counter()
        info.run(ctx)
        if timings is not None:
            timings[info.name] = time.perf_counter() - started
    return deduplicated(sorted(ctx.findings, key=Finding.sort_key))


def deduplicated(findings: list[Finding]) -> list[Finding]:
    """``findings`` (sorted) without repeats: two analyzers that say the same thing (same level,
    code, origin and text) about one object say it once, as istioctl's ``SortedDedupedCopy``."""
    out: list[Finding] = []
    seen: set[str] = set()
    for f in findings:
        line = f.text()
        if line not in seen:
            seen.add(line)
            out.append(f)
    return out
