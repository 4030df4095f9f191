"""Istio's DestinationRule analyzers (``pkg/config/analysis/analyzers/destinationrule``).

- ``destinationrule.CaCertificateAnalyzer``: TLS mode SIMPLE / MUTUAL without
  ``caCertificates`` at the destination (IST0128) or port level (IST0129).
- ``destinationrule.SubsetSelectPodAnalyzer``: a host that resolves to nothing (IST0174) and
  subsets that select no pod (IST0173); when the mesh holds no Pod at all (manifests on disk),
  Deployments' pod templates stand for the pods. Pod labels are augmented with their node's topology
  labels and ``kubernetes.io/hostname``, as Istio's registry does.
"""

from __future__ import annotations

from typing import Any

from meshtui.analysis.context import ISTIO_GROUP, Context, full_name
from meshtui.analysis.labelindex import LabelIndex
from meshtui.model.base import as_dict

_TOPOLOGY = ("topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone")
_HOSTNAME = "kubernetes.io/hostname"


def _tls(policy: Any) -> dict[str, Any]:
    tls = policy.get("tls") if isinstance(policy, dict) else None
    return tls if isinstance(tls, dict) else {}


def ca_certificate_analyzer(ctx: Context) -> None:
    """``destinationrule.CaCertificateAnalyzer``."""
    for dr in ctx.objects("DestinationRule", ISTIO_GROUP):
        host = str(dr.spec.get("host") or "")
        policy = as_dict(dr.spec.get("trafficPolicy"))
        tls = _tls(policy)
        # A credentialName on a DR with a workloadSelector (a gateway's) carries its own CA.
        selected = isinstance(dr.spec.get("workloadSelector"), dict)
        if tls.get("mode") in ("SIMPLE", "MUTUAL") and not tls.get("caCertificates") and not (
                selected and tls.get("credentialName")):
            ctx.report("NoServerCertificateVerificationDestinationLevel", dr, full_name(dr), dr.namespace,
                       tls["mode"], host, path="spec.trafficPolicy.tls")
        for i, pls in enumerate(policy.get("portLevelSettings") or []):
            ptls = _tls(pls)
            if ptls.get("mode") in ("SIMPLE", "MUTUAL") and not ptls.get("caCertificates") and not (
                    selected and ptls.get("credentialName")):
                port = (pls.get("port") or {}).get("number") if isinstance(pls.get("port"), dict) else None
                ctx.report("NoServerCertificateVerificationPortLevel", dr, full_name(dr), dr.namespace,
                           ptls["mode"], host, f"number:{port}" if port else "",
                           path=f"spec.trafficPolicy.portLevelSettings[{i}].tls")


def _augmented_labels(pod: Any, nodes: dict[str, dict[str, str]]) -> dict[str, str]:
    labels = dict(pod.labels)
    node = (pod.raw.get("spec") or {}).get("nodeName") if isinstance(pod.raw.get("spec"), dict) else None
    if node and node in nodes:
        for key in _TOPOLOGY:
            if nodes[node].get(key):  # Istio adds topology labels only when set
                labels[key] = nodes[node][key]
        labels[_HOSTNAME] = node
    return labels


def subset_select_pod_analyzer(ctx: Context) -> None:
    """``destinationrule.SubsetSelectPodAnalyzer``."""
    nodes = {n.name: dict(n.labels) for n in ctx.objects("Node")}
    pod_labels = [_augmented_labels(p, nodes) for p in ctx.objects("Pod")]
    if not pod_labels:
        # Manifests on disk have Deployments, not Pods: their pod templates stand for the pods
        # (meshtui's reading; Istio's analyzer would report every subset of such a tree).
        for dep in ctx.objects("Deployment"):
            template = as_dict(dep.spec.get("template"))
            labels = (template.get("metadata") or {}).get("labels") or {}
            if isinstance(labels, dict):
                pod_labels.append(dict(labels))
    # Pods of every namespace count, as in Istio; the index makes each subset cost about the
    # number of pods carrying its rarest label instead of a scan of all pods.
    selects = LabelIndex(pod_labels)
    for dr in ctx.objects("DestinationRule", ISTIO_GROUP):
        host = str(dr.spec.get("host") or "")
        export_to = [e for e in dr.spec.get("exportTo") or [] if isinstance(e, str)]
        entry = ctx.destination_host(dr.namespace, export_to, host)
        if entry is None:
            ctx.report("UnknownDestinationRuleHost", dr, host, path="spec.host")
            continue
        for i, ss in enumerate(dr.spec.get("subsets") or []):
            if not isinstance(ss, dict):
                continue
            labels = as_dict(ss.get("labels"))
            selector = {**(entry.selector or {}), **labels}
            if not selects.any_match(selector):
                ctx.report("DestinationRuleSubsetNotSelectPods", dr, str(ss.get("name") or ""),
                           path=f"spec.subsets[{i}]")
