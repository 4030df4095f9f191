"""The resource types the sandbox serves: group, versions, plural, kind, scope, short names.

One ``ResourceType`` per stored kind. Istio kinds are served in several versions, but the store
holds one object per name (as a real API server does for a multi-version CRD whose versions share
a schema); the object is returned with the apiVersion of the request URL.

The store keeps each type under :attr:`ResourceType.key`: its plural, except where two groups
share a plural (Istio's and the Gateway API's ``gateways``): the Gateway API type is kept under
``gateways.gateway.networking.k8s.io``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ISTIO_GROUP = "networking.istio.io"
ISTIO_VERSIONS = ("v1", "v1beta1", "v1alpha3")
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
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
    # Where the store keeps this type when its plural is taken by another group ("" = plural).
    store_key: str = ""

    @property
    def key(self) -> str:
        """The store's name for this type: the plural, unless another group serves it too."""
        return self.store_key or self.plural

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


def _gateway_api(kind: str, plural: str, versions: tuple[str, ...], short: tuple[str, ...] = (),
                 namespaced: bool = True, store_key: str = "") -> ResourceType:
    return ResourceType(GATEWAY_API_GROUP, versions, plural, kind, namespaced, short, ("gateway-api",),
                        strategic_merge=False, store_key=store_key)


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
    # The Gateway API (v1.5.1 standard channel; TCPRoute v1 of v1.6.1), validated by their CRDs.
    _gateway_api("GatewayClass", "gatewayclasses", ("v1", "v1beta1"), ("gc",), namespaced=False),
    _gateway_api("Gateway", "gateways", ("v1", "v1beta1"), ("gtw",), store_key=f"gateways.{GATEWAY_API_GROUP}"),
    _gateway_api("HTTPRoute", "httproutes", ("v1", "v1beta1")),
    _gateway_api("GRPCRoute", "grpcroutes", ("v1",)),
    _gateway_api("ReferenceGrant", "referencegrants", ("v1beta1", "v1"), ("refgrant",)),
    _gateway_api("TLSRoute", "tlsroutes", ("v1",)),
    _gateway_api("TCPRoute", "tcproutes", ("v1",)),
    # Progressive-delivery controllers' custom resources (no schema validation), served so that
    # the demo shows a Flagger Canary and an Argo Rollout driving VirtualServices.
    ResourceType("flagger.app", ("v1beta1",), "canaries", "Canary", True, (), ("all",), strategic_merge=False),
    ResourceType("argoproj.io", ("v1alpha1",), "rollouts", "Rollout", True, ("ro",), strategic_merge=False),
)

#: Every type by its store key (the plural for all but the Gateway API Gateway).
BY_PLURAL: dict[str, ResourceType] = {t.key: t for t in TYPES}
_BY_GROUP_KIND: dict[tuple[str, str], ResourceType] = {(t.group, t.kind): t for t in TYPES}
_BY_GROUP_PLURAL: dict[tuple[str, str], ResourceType] = {(t.group, t.plural): t for t in TYPES}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    """The type served at ``/api[s]/<group>/<version>/<plural>``, or None."""
    t = _BY_GROUP_PLURAL.get((group, plural))
    if t is None or version not in t.versions:
        return None
    return t


def type_for(api_version: str, kind: str) -> ResourceType | None:
    """The type of an object by its apiVersion's group and its kind, or None when not served."""
    group = api_version.rpartition("/")[0] if isinstance(api_version, str) else ""
    return _BY_GROUP_KIND.get((group, kind))


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
