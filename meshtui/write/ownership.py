"""Who else writes an object, and what that means for a change made here.

A VirtualService edited by hand may belong to a controller or a GitOps pipeline that will put
its own version back. Each ``Owner`` names that writer and says, in one line, what will happen.
Looked at: a Flagger ``Canary`` or Argo ``Rollout`` among the objects read that routes through
it, ``ownerReferences``, Argo CD tracking (``argocd.argoproj.io/instance`` label,
``argocd.argoproj.io/tracking-id`` annotation), Flux (``kustomize.toolkit.fluxcd.io/name``,
``helm.toolkit.fluxcd.io/name`` labels), Helm (``meta.helm.sh/release-name``) and
``kubectl.kubernetes.io/last-applied-configuration``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from meshtui.sources.base import RawObject

ARGOCD_INSTANCE = "argocd.argoproj.io/instance"
ARGOCD_TRACKING = "argocd.argoproj.io/tracking-id"
FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io/name"
FLUX_KUSTOMIZE_NS = "kustomize.toolkit.fluxcd.io/namespace"
FLUX_HELM = "helm.toolkit.fluxcd.io/name"
FLUX_HELM_NS = "helm.toolkit.fluxcd.io/namespace"
HELM_RELEASE = "meta.helm.sh/release-name"
HELM_RELEASE_NS = "meta.helm.sh/release-namespace"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True, slots=True)
class Owner:
    """Another writer of the object: what it is (``flagger``, ``argo-rollouts``,
    ``owner-reference``, ``argocd``, ``flux``, ``helm``, ``kubectl-apply``), which one, and
    what it will do to a manual change."""

    kind: str
    name: str
    explanation: str

    def __str__(self) -> str:
        return self.explanation


def _meta(obj: RawObject) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _str_map(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _flagger(obj: RawObject, objects: Iterable[RawObject]) -> list[Owner]:
    meta = _meta(obj)
    ns, name = meta.get("namespace") or "", meta.get("name") or ""
    out = []
    for canary in objects:
        if canary.get("kind") != "Canary" or not str(canary.get("apiVersion", "")).startswith("flagger.app/"):
            continue
        cmeta = _meta(canary)
        if (cmeta.get("namespace") or "") != ns:
            continue
        spec = canary.get("spec") if isinstance(canary.get("spec"), dict) else {}
        service = spec.get("service") if isinstance(spec.get("service"), dict) else {}
        target = spec.get("targetRef") if isinstance(spec.get("targetRef"), dict) else {}
        # Flagger names the VirtualService it generates after spec.service.name, else the target.
        if (service.get("name") or target.get("name")) == name:
            who = f"{ns}/{cmeta.get('name', '?')}"
            out.append(Owner("flagger", who, f"Flagger Canary {who} manages these weights and will revert a "
                                             "manual change at its next iteration"))
    return out


def _rollout_vs_refs(spec: dict[str, Any]) -> list[dict[str, Any]]:
    istio = ((((spec.get("strategy") or {}).get("canary") or {}).get("trafficRouting") or {}).get("istio") or {})
    refs = []
    if isinstance(istio.get("virtualService"), dict):
        refs.append(istio["virtualService"])
    refs.extend(r for r in istio.get("virtualServices") or [] if isinstance(r, dict))
    return refs


def _argo_rollouts(obj: RawObject, objects: Iterable[RawObject]) -> list[Owner]:
    meta = _meta(obj)
    ns, name = meta.get("namespace") or "", meta.get("name") or ""
    out = []
    for rollout in objects:
        if rollout.get("kind") != "Rollout" or not str(rollout.get("apiVersion", "")).startswith("argoproj.io/"):
            continue
        rmeta = _meta(rollout)
        rns = rmeta.get("namespace") or ""
        spec = rollout.get("spec") if isinstance(rollout.get("spec"), dict) else {}
        for ref in _rollout_vs_refs(spec):
            ref_ns, _, ref_name = str(ref.get("name", "")).rpartition("/")
            if ref_name == name and (ref_ns or rns) == ns:
                who = f"{rns}/{rmeta.get('name', '?')}"
                routes = ref.get("routes")
                which = f" of routes {', '.join(map(str, routes))}" if isinstance(routes, list) and routes else ""
                out.append(Owner("argo-rollouts", who, f"Argo Rollout {who} sets the weights{which} at every "
                                                       "step and will overwrite a manual change"))
    return out


def _owner_references(obj: RawObject, skip: set[str]) -> list[Owner]:
    out = []
    for ref in _meta(obj).get("ownerReferences") or []:
        if not isinstance(ref, dict) or str(ref.get("kind")) in skip:
            continue
        who = f"{ref.get('kind', '?')} {ref.get('name', '?')}"
        role = "controlled" if ref.get("controller") else "owned"
        out.append(Owner("owner-reference", who, f"{role} by {who}: its controller may overwrite a manual "
                                                 "change, and deleting the owner deletes this object"))
    return out


def _gitops(obj: RawObject) -> list[Owner]:
    meta = _meta(obj)
    labels, annotations = _str_map(meta.get("labels")), _str_map(meta.get("annotations"))
    out = []
    app = labels.get(ARGOCD_INSTANCE) or annotations.get(ARGOCD_TRACKING, "").split(":", 1)[0]
    if app:
        out.append(Owner("argocd", app, f"Argo CD application {app} tracks this object: with self-heal it "
                                        "reverts a manual change, otherwise the app shows OutOfSync until the "
                                        "change is committed to Git"))
    for label, ns_label, what in ((FLUX_KUSTOMIZE, FLUX_KUSTOMIZE_NS, "Kustomization"),
                                  (FLUX_HELM, FLUX_HELM_NS, "HelmRelease")):
        if labels.get(label):
            who = f"{labels[ns_label]}/{labels[label]}" if labels.get(ns_label) else labels[label]
            out.append(Owner("flux", who, f"Flux {what} {who} reconciles this object and will revert a "
                                          "manual change at its next reconciliation"))
    if annotations.get(HELM_RELEASE) and not labels.get(FLUX_HELM):
        rel = annotations[HELM_RELEASE]
        who = f"{annotations[HELM_RELEASE_NS]}/{rel}" if annotations.get(HELM_RELEASE_NS) else rel
        out.append(Owner("helm", who, f"Helm release {who} installed this object: the next helm upgrade "
                                      "overwrites a manual change"))
    if LAST_APPLIED in annotations:
        out.append(Owner("kubectl-apply", "kubectl apply", "last written by kubectl apply: the next kubectl "
                                                           "apply of its manifest reverts a manual change"))
    return out


def owners(obj: RawObject, objects: Iterable[RawObject] = ()) -> list[Owner]:
    """Every other writer of ``obj`` found in its metadata and among ``objects`` (the mesh as
    read, which includes Canaries and Rollouts when the cluster has those CRDs)."""
    objs = list(objects)
    found = _flagger(obj, objs) + _argo_rollouts(obj, objs)
    # A Flagger/Argo owner reference says the same as the Canary/Rollout found above.
    skip = {"Canary"} if any(o.kind == "flagger" for o in found) else set()
    if any(o.kind == "argo-rollouts" for o in found):
        skip.add("Rollout")
    return found + _owner_references(obj, skip) + _gitops(obj)
