"""The resource types the sandbox serves: group, versions, plural, kind, scope, short names.

One ``ResourceType`` per stored kind. Istio kinds are served in several versions, but the store
holds one object per name (as a real API server does for a multi-version CRD whose versions share
a schema); the object is returned with the apiVersion of the request URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ISTIO_GROUP = "networking.istio.io"
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")
ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_VERBS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class ResourceType:
    """One kind served by the sandbox, with what discovery says about it."""

    group: str  # "" for the core group
    versions: tuple[str, ...]  # served versions; the first is the preferred/storage version
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # Core kinds accept strategic merge patches; custom resources answer 415 to them.
    strategic_merge: bool = True
    # The registry returns the deleted object on DELETE (services, pods, namespaces) instead of a
    # Status, as Kubernetes' generic store does when ReturnDeletedObject is set.
    return_deleted: bool = False
    # Pods also match these field selectors (the pod registry's field set).
    extra_fields: tuple[str, ...] = field(default=())

    @property
    def singular(self) -> str:
        """The lower-case singular name, as discovery reports it."""
        return self.kind.lower()

    @property
    def qualified(self) -> str:
        """``plural.group`` (just ``plural`` for the core group), as error messages name it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str | None = None) -> str:
        """``group/version`` (just ``version`` for the core group)."""
        v = version or self.versions[0]
        return f"{self.group}/{v}" if self.group else v


def _istio(kind: str, plural: str, short: tuple[str, ...]) -> ResourceType:
    return ResourceType(
        ISTIO_GROUP, ISTIO_VERSIONS, plural, kind, True, short,
        categories=("istio-io", "networking-istio-io"), strategic_merge=False,
    )


TYPES: tuple[ResourceType, ...] = (
    ResourceType("", ("v1",), "namespaces", "Namespace", False, ("ns",), return_deleted=True,
                 extra_fields=("status.phase",)),
    ResourceType("", ("v1",), "services", "Service", True, ("svc",), ("all",), return_deleted=True,
                 extra_fields=("spec.clusterIP", "spec.type")),
    ResourceType("", ("v1",), "pods", "Pod", True, ("po",), ("all",), return_deleted=True,
                 extra_fields=("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                               "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                               "status.podIP", "status.nominatedNodeName")),
    ResourceType("", ("v1",), "endpoints", "Endpoints", True, ("ep",)),
    ResourceType("", ("v1",), "configmaps", "ConfigMap", True, ("cm",)),
    ResourceType("discovery.k8s.io", ("v1",), "endpointslices", "EndpointSlice", True),
    ResourceType("apps", ("v1",), "deployments", "Deployment", True, ("deploy",), ("all",)),
    ResourceType("apiextensions.k8s.io", ("v1",), "customresourcedefinitions",
                 "CustomResourceDefinition", False, ("crd", "crds"), ("api-extensions",)),
    _istio("VirtualService", "virtualservices", ("vs",)),
    _istio("DestinationRule", "destinationrules", ("dr",)),
    _istio("Gateway", "gateways", ("gw",)),
    _istio("ServiceEntry", "serviceentries", ("se",)),
    _istio("Sidecar", "sidecars", ()),
    # Progressive-delivery controllers' custom resources (no schema validation), served so that
    # the demo shows a Flagger Canary and an Argo Rollout driving VirtualServices.
    ResourceType("flagger.app", ("v1beta1",), "canaries", "Canary", True, (), ("all",), strategic_merge=False),
    ResourceType("argoproj.io", ("v1alpha1",), "rollouts", "Rollout", True, ("ro",), strategic_merge=False),
)

BY_PLURAL: dict[str, ResourceType] = {t.plural: t for t in TYPES}
BY_KIND: dict[str, ResourceType] = {t.kind: t for t in TYPES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    """The type served at ``/api[s]/<group>/<version>/<plural>``, or None."""
    t = BY_PLURAL.get(plural)
    if t is None or t.group != group or version not in t.versions:
        return None
    return t


def group_versions() -> dict[str, list[str]]:
    """Every non-core group with its served versions, preferred first."""
    out: dict[str, list[str]] = {}
    for t in TYPES:
        if t.group:
            vs = out.setdefault(t.group, [])
            for v in t.versions:
                if v not in vs:
                    vs.append(v)
    return out
