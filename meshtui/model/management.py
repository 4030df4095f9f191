"""Who else writes an object: the controllers and GitOps tools that will undo a manual change.

Pure (no I/O): everything is read from the object's metadata and from the Flagger Canaries and
Argo Rollouts in the index. A VirtualService or DestinationRule shaped by one of those, owned by
another object, tracked by Argo CD or Flux, installed by Helm or last written by
``kubectl apply`` has another writer, and a person about to edit its weights should know.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.model.base import Resource
from meshtui.model.hosts import fqdn, is_wildcard
from meshtui.model.parse import parse_object
from meshtui.model.rollouts import ArgoRollout, FlaggerCanary

ARGOCD_INSTANCE = "argocd.argoproj.io/instance"
ARGOCD_TRACKING = "argocd.argoproj.io/tracking-id"
FLUX_KUSTOMIZE = "kustomize.toolkit.fluxcd.io/name"
FLUX_KUSTOMIZE_NS = "kustomize.toolkit.fluxcd.io/namespace"
FLUX_HELM = "helm.toolkit.fluxcd.io/name"
FLUX_HELM_NS = "helm.toolkit.fluxcd.io/namespace"
HELM_RELEASE = "meta.helm.sh/release-name"
HELM_RELEASE_NS = "meta.helm.sh/release-namespace"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Objects without a namespace are indexed in "default", as kubectl apply would create them.
_DEFAULT_NS = "default"

Controller = FlaggerCanary | ArgoRollout


@dataclass(frozen=True, slots=True)
class Manager:
    """Another writer of an object: what it is (``flagger``, ``argo-rollouts``,
    ``owner-reference``, ``argocd``, ``flux``, ``helm``, ``kubectl-apply``), which one, and a
    one-line reason that says what it will do to a manual change."""

    kind: str
    name: str
    reason: str

    def __str__(self) -> str:
        return self.reason


def _ns(obj: Resource) -> str:
    return obj.namespace or _DEFAULT_NS


def _typed(index: Any, kind: str, cls: type) -> list[Any]:
    return [o for o in index.objects(kind) if isinstance(o, cls)]


def _canary_drives(canary: FlaggerCanary, obj: Resource) -> bool:
    if _ns(canary) != _ns(obj):
        return False
    if obj.kind == "VirtualService":
        return obj.name == canary.apex_name
    if obj.kind == "DestinationRule":
        return obj.name in (canary.primary_name, canary.canary_name)
    if obj.kind == "HTTPRoute":
        return canary.drives_gateway_api and obj.name == canary.apex_name
    return False


def _rollout_drives(rollout: ArgoRollout, obj: Resource) -> bool:
    if obj.kind == "VirtualService":
        return any(ref.name == obj.name and (ref.namespace or _ns(rollout)) == _ns(obj)
                   for ref in rollout.virtual_services)
    if obj.kind == "DestinationRule":
        dr = rollout.destination_rule
        return dr is not None and dr.name == obj.name and _ns(rollout) == _ns(obj)
    if obj.kind in ("HTTPRoute", "GRPCRoute"):
        return any(kind == obj.kind and name == obj.name and (ns or _ns(rollout)) == _ns(obj)
                   for kind, ns, name in rollout.gateway_api_routes)
    return False


def controllers_of(obj: Resource, index: Any) -> list[Controller]:
    """The Flagger Canaries and Argo Rollouts in ``index`` that rewrite ``obj`` (a VirtualService,
    DestinationRule, or a Gateway API HTTPRoute/GRPCRoute; anything else has none)."""
    if obj.kind not in ("VirtualService", "DestinationRule", "HTTPRoute", "GRPCRoute"):
        return []
    found: list[Controller] = [c for c in _typed(index, "Canary", FlaggerCanary) if _canary_drives(c, obj)]
    found += [r for r in _typed(index, "Rollout", ArgoRollout) if _rollout_drives(r, obj)]
    return found


def _controller_manager(ctl: Controller, obj: Resource) -> Manager:
    who = f"{ctl.namespace}/{ctl.name}"
    if isinstance(ctl, FlaggerCanary):
        what = {"VirtualService": "generates this VirtualService and sets its weights at every analysis step",
                "HTTPRoute": "(Gateway API provider) generates this HTTPRoute and sets its backendRef weights "
                             "at every analysis step"}.get(obj.kind, "generates this DestinationRule")
        return Manager("flagger", who, f"Flagger Canary {who} {what}: a manual change is reverted")
    if obj.kind in ("HTTPRoute", "GRPCRoute"):
        return Manager("argo-rollouts", who, f"Argo Rollout {who} (Gateway API plugin) sets the backendRef weights "
                                             "of this route at every step: a manual change is overwritten")
    if obj.kind == "VirtualService":
        routes = next((r.routes for r in ctl.virtual_services if r.name == obj.name), [])
        which = f" of route{'s' if len(routes) > 1 else ''} {', '.join(routes)}" if routes else ""
        return Manager("argo-rollouts", who, f"Argo Rollout {who} sets the weights{which} at every step: "
                                             "a manual change is overwritten")
    dr = ctl.destination_rule
    subsets = "/".join(s for s in (dr.canary_subset, dr.stable_subset) if s) if dr else ""
    return Manager("argo-rollouts", who, f"Argo Rollout {who} points subsets {subsets or '(unnamed)'} at its "
                                         "pods: a manual change to their labels is overwritten")


def _owner_references(obj: Resource, skip: set[str]) -> list[Manager]:
    out = []
    refs = (obj.raw.get("metadata") or {}).get("ownerReferences") if isinstance(obj.raw, dict) else None
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, dict) or str(ref.get("kind")) in skip:
            continue
        who = f"{ref.get('kind', '?')} {ref.get('name', '?')}"
        role = "controlled" if ref.get("controller") else "owned"
        out.append(Manager("owner-reference", who, f"{role} by {who}: its controller may overwrite a manual "
                                                   "change, and deleting it deletes this object"))
    return out


def _metadata(obj: Resource) -> list[Manager]:
    labels, annotations = obj.labels, obj.annotations
    out = []
    tracking = annotations.get(ARGOCD_TRACKING)
    app = labels.get(ARGOCD_INSTANCE) or (tracking.split(":", 1)[0] if isinstance(tracking, str) else "")
    if app:
        out.append(Manager("argocd", app, f"Argo CD application {app} tracks this object: self-heal reverts a "
                                          "manual change, otherwise the app shows OutOfSync"))
    for label, ns_label, what in ((FLUX_KUSTOMIZE, FLUX_KUSTOMIZE_NS, "Kustomization"),
                                  (FLUX_HELM, FLUX_HELM_NS, "HelmRelease")):
        if labels.get(label):
            who = f"{labels[ns_label]}/{labels[label]}" if labels.get(ns_label) else str(labels[label])
            out.append(Manager("flux", who, f"Flux {what} {who} reconciles this object and reverts a manual "
                                            "change"))
    if annotations.get(HELM_RELEASE) and not labels.get(FLUX_HELM):
        rel = annotations[HELM_RELEASE]
        who = f"{annotations[HELM_RELEASE_NS]}/{rel}" if annotations.get(HELM_RELEASE_NS) else str(rel)
        out.append(Manager("helm", who, f"Helm release {who} installed this object: the next upgrade overwrites "
                                        "a manual change"))
    if LAST_APPLIED in annotations:
        out.append(Manager("kubectl-apply", "kubectl apply", "last written by kubectl apply: applying its "
                                                             "manifest again reverts a manual change"))
    return out


def managers(obj: Resource | dict[str, Any], index: Any) -> list[Manager]:
    """Every other writer of ``obj`` (a typed view or raw object), controllers first.

    ``index`` is a ``MeshIndex`` (anything with ``objects(kind)``); the Canaries and Rollouts it
    holds are the ones looked at. An owner reference to a Canary or Rollout already found is not
    repeated.
    """
    view = parse_object(obj) if isinstance(obj, dict) else obj
    ctls = controllers_of(view, index)
    skip = {"Canary" for c in ctls if isinstance(c, FlaggerCanary)} | {
        "Rollout" for c in ctls if isinstance(c, ArgoRollout)}
    return [_controller_manager(c, view) for c in ctls] + _owner_references(view, skip) + _metadata(view)


def managed_by(obj: Resource | dict[str, Any], index: Any) -> list[str]:
    """One-line reasons why a manual change to ``obj`` may not last (empty: nobody else writes it)."""
    return [m.reason for m in managers(obj, index)]


def managed_hosts(index: Any) -> set[str]:
    """The FQDNs named by a VirtualService or DestinationRule that a controller, GitOps tool or
    Helm writes, for a per-service marker. ``kubectl apply``'s annotation alone does not count:
    nearly every object carries it, and a marker on everything marks nothing. Canaries and
    Rollouts are looked up once, not per object."""
    canaries = _typed(index, "Canary", FlaggerCanary)
    rollouts = _typed(index, "Rollout", ArgoRollout)
    driven: set[tuple[str, str, str]] = set()
    for c in canaries:
        ns = _ns(c)
        driven.add(("VirtualService", ns, c.apex_name))
        driven.update({("DestinationRule", ns, c.primary_name), ("DestinationRule", ns, c.canary_name)})
    for r in rollouts:
        driven.update(("VirtualService", ref.namespace or _ns(r), ref.name) for ref in r.virtual_services)
        if r.destination_rule is not None:
            driven.add(("DestinationRule", _ns(r), r.destination_rule.name))
    suffix = index.domain_suffix
    out: set[str] = set()
    for objs, kind in ((index.virtual_services, "VirtualService"), (index.destination_rules, "DestinationRule")):
        for obj in objs:
            ns = obj.namespace or _DEFAULT_NS
            if (driven and (kind, ns, obj.name) in driven) or _has_other_writer(obj):
                hosts = obj.hosts if kind == "VirtualService" else [obj.host] if obj.host else []
                out.update(fqdn(h, ns, suffix) for h in hosts if not is_wildcard(h))
    return out


# Metadata keys that name a GitOps tool or Helm (values are not needed to know someone writes it).
_WRITER_LABELS = frozenset({ARGOCD_INSTANCE, FLUX_KUSTOMIZE, FLUX_HELM})
_WRITER_ANNOTATIONS = frozenset({ARGOCD_TRACKING, HELM_RELEASE})


def _has_other_writer(obj: Resource) -> bool:
    """The metadata part of :func:`managers` without building reasons (thousands of objects are
    scanned per refresh), ``kubectl apply`` left out (see :func:`managed_hosts`)."""
    if obj.labels and not _WRITER_LABELS.isdisjoint(obj.labels):
        return True
    if obj.annotations and not _WRITER_ANNOTATIONS.isdisjoint(obj.annotations):
        return True
    meta = obj.raw.get("metadata")
    return isinstance(meta, dict) and bool(meta.get("ownerReferences"))
