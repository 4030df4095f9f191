"""Which kinds the kube source reads, at which API version, and how to list them in pages.

Istio's ``networking.istio.io`` kinds are served in ``v1``, ``v1beta1`` and/or ``v1alpha3``
depending on the Istio release; discovery picks, per kind, the most stable version the server
serves. Flagger ``Canary`` and Argo ``Rollout`` are read when their CRDs exist, and so are the
Gateway API kinds (``gateway.networking.k8s.io``: GatewayClass, Gateway, HTTPRoute, GRPCRoute,
ReferenceGrant, TCPRoute, TLSRoute), each at the most stable version served (``v1``, else
``v1beta1``, ``v1alpha3``, ``v1alpha2``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from meshtui.model.gateway_api import GATEWAY_API_GROUP, GATEWAY_API_KINDS, GATEWAY_API_VERSIONS
from meshtui.model.index import index_kind
from meshtui.sources.base import LoadError, RawObject
from meshtui.sources.kube_rest import HttpError, Rest, decode
from meshtui.util.gcpause import gc_paused
from meshtui.sources.kube_slim import decode_pod_page, slim_pod

ISTIO_GROUP = "networking.istio.io"
ISTIO_VERSION_PREFERENCE = ("v1", "v1beta1", "v1alpha3")
ISTIO_KINDS = (
    ("VirtualService", "virtualservices"),
    ("DestinationRule", "destinationrules"),
    ("Gateway", "gateways"),
    ("ServiceEntry", "serviceentries"),
    ("Sidecar", "sidecars"),
)
# Progressive-delivery controllers whose objects own traffic splits: read when installed.
OPTIONAL_CRDS = (
    ("flagger.app", "Canary", "canaries"),
    ("argoproj.io", "Rollout", "rollouts"),
)
MESH_CONFIG_NAMESPACE = "istio-system"
MESH_CONFIG_NAME = "istio"
PAGE_SIZE = 500


@dataclass(frozen=True)
class KindSpec:
    """One kind to list and watch: where it lives and how its records are kept."""

    kind: str
    group: str  # '' for core
    version: str
    plural: str
    namespaced: bool = True
    # Optional kinds (mesh config, Flagger, Argo) are skipped silently when absent or forbidden.
    optional: bool = False
    # A fixed namespace and object name (the mesh ConfigMap), whatever the namespace scope.
    fixed_namespace: str | None = None
    fixed_name: str | None = None
    slim: Callable[[RawObject], RawObject] | None = None
    # Decodes a list page's bytes straight to a page of ``slim`` records, skipping every field
    # ``slim`` does not read (None: cannot, decode it fully and slim each item).
    fast_page: Callable[[bytes], dict[str, Any] | None] | None = None
    # A smaller page for big objects: decoding a page holds the interpreter lock throughout,
    # and 500 pods (~3 MB) take ~45 ms, a visible stall of the UI; 250 take about half.
    max_page: int | None = None

    @property
    def index_kind(self) -> str:
        """The kind the mesh index keeps these objects under (and events and resume are keyed
        by): the kind, but ``Gateway.gateway.networking.k8s.io`` for the Gateway API Gateway."""
        return index_kind(self.kind, self.group)

    @property
    def api_version(self) -> str:
        """``group/version``, or ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def _prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, scope: str | None) -> str:
        """The list/watch URL path for namespace ``scope`` (None: all namespaces)."""
        namespace = self.fixed_namespace or (scope if self.namespaced else None)
        if namespace:
            return f"{self._prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self._prefix}/{self.plural}"

    def object_path(self, namespace: str, name: str) -> str:
        """The URL path of one object."""
        if self.namespaced:
            return f"{self._prefix}/namespaces/{namespace}/{self.plural}/{name}"
        return f"{self._prefix}/{self.plural}/{name}"

    def field_selector(self, scope: str | None) -> str | None:
        """Restricts the list to the one object meshtui reads (mesh ConfigMap, scoped Namespace)."""
        if self.fixed_name:
            return f"metadata.name={self.fixed_name}"
        if self.kind == "Namespace" and scope:
            return f"metadata.name={scope}"
        return None

    def record(self, obj: RawObject) -> RawObject:
        """The record kept for a listed or watched object: typed (apiVersion/kind set), maybe slim.

        List items of built-in kinds come without apiVersion and kind, so they are set here; the
        apiVersion is the version the object was read with, which writes reuse.
        """
        obj["apiVersion"] = self.api_version
        obj["kind"] = self.kind
        return self.slim(obj) if self.slim else obj


CORE_KINDS = (
    KindSpec("Namespace", "", "v1", "namespaces", namespaced=False),
    KindSpec("Service", "", "v1", "services"),
    KindSpec("Pod", "", "v1", "pods", slim=slim_pod, fast_page=decode_pod_page, max_page=250),
    KindSpec("Endpoints", "", "v1", "endpoints"),
    KindSpec("ConfigMap", "", "v1", "configmaps", optional=True,
             fixed_namespace=MESH_CONFIG_NAMESPACE, fixed_name=MESH_CONFIG_NAME),
)


def _resources(rest: Rest, group_version: str) -> set[str]:
    try:
        doc = rest.json("GET", f"/apis/{group_version}")
    except HttpError as exc:
        if exc.status in (403, 404, 503):
            return set()
        raise
    return {r.get("name", "") for r in (doc or {}).get("resources") or () if isinstance(r, dict)}


def discover(rest: Rest) -> tuple[list[KindSpec], list[LoadError]]:
    """The kinds to read on this server; errors say what is missing (e.g. no Istio CRDs).

    Raises ``UnavailableError`` when the server cannot be reached.
    """
    groups_doc = rest.json("GET", "/apis") or {}
    groups: dict[str, dict[str, Any]] = {
        g.get("name", ""): g for g in groups_doc.get("groups") or () if isinstance(g, dict)
    }
    specs = list(CORE_KINDS)
    errors: list[LoadError] = []

    istio = groups.get(ISTIO_GROUP)
    served = {v.get("version") for v in (istio or {}).get("versions") or ()}
    by_version = {v: _resources(rest, f"{ISTIO_GROUP}/{v}") for v in ISTIO_VERSION_PREFERENCE if v in served}
    missing = []
    for kind, plural in ISTIO_KINDS:
        version = next((v for v in ISTIO_VERSION_PREFERENCE if plural in by_version.get(v, ())), None)
        if version is None:
            missing.append(kind)
        else:
            specs.append(KindSpec(kind, ISTIO_GROUP, version, plural))
    if istio is None:
        errors.append(LoadError(f"{ISTIO_GROUP} is not served by this cluster: Istio CRDs are not installed"))
    elif missing:
        errors.append(LoadError(f"{ISTIO_GROUP}: the server does not serve {', '.join(missing)}"))

    specs.extend(_gateway_api_specs(rest, groups.get(GATEWAY_API_GROUP)))
    for group, kind, plural in OPTIONAL_CRDS:
        info = groups.get(group)
        if not info:
            continue
        version = (info.get("preferredVersion") or {}).get("version")
        if version and plural in _resources(rest, f"{group}/{version}"):
            specs.append(KindSpec(kind, group, version, plural, optional=True))
    return specs, errors


def _gateway_api_specs(rest: Rest, info: dict[str, Any] | None) -> list[KindSpec]:
    """The Gateway API kinds this server serves, each at its most stable served version."""
    if not info:
        return []
    served = {v.get("version") for v in info.get("versions") or () if isinstance(v, dict)}
    by_version = {v: _resources(rest, f"{GATEWAY_API_GROUP}/{v}") for v in GATEWAY_API_VERSIONS if v in served}
    specs = []
    for kind, plural in GATEWAY_API_KINDS:
        version = next((v for v in GATEWAY_API_VERSIONS if plural in by_version.get(v, ())), None)
        if version is not None:
            specs.append(KindSpec(kind, GATEWAY_API_GROUP, version, plural, namespaced=kind != "GatewayClass",
                                  optional=True))
    return specs


# The list metadata (and its continue token) comes before the items in a list body.
_CONTINUE = re.compile(rb'"continue":"([^"\\]*)"')


def _peek_continue(data: bytes) -> str:
    """The continue token of a list page, read from its first bytes without decoding it; ''
    when not seen there. A guess that lets the next page be asked for while this one is
    decoded: the caller checks it against the decoded page."""
    head = data[:4096]
    items = head.find(b'"items"')
    match = _CONTINUE.search(head if items < 0 else head[:items])
    return match.group(1).decode("ascii", "replace") if match else ""


def _page_records(spec: KindSpec, data: bytes) -> tuple[list[RawObject], dict[str, Any]]:
    """The records of one list page and its list metadata."""
    if not data:
        return [], {}
    page = spec.fast_page(data) if spec.fast_page is not None else None
    if page is not None:  # already slim: only typed here, as ``record`` would
        records = page["items"]
        for item in records:
            item["apiVersion"] = spec.api_version
            item["kind"] = spec.kind
    else:
        page = decode(data)
        if not isinstance(page, dict):
            return [], {}
        records = [spec.record(item) for item in page.get("items") or ()]
    meta = page.get("metadata")
    return records, meta if isinstance(meta, dict) else {}


def list_kind(rest: Rest, spec: KindSpec, scope: str | None, page_size: int = PAGE_SIZE) -> tuple[list[RawObject], str]:
    """Every object of ``spec`` in ``scope``, listed in pages; returns (records, list resourceVersion).

    Pages share one consistent snapshot (``continue``); when the continue token expires (410)
    the list restarts from the beginning, as the API documentation asks of consistent clients.
    Raises ``HttpError`` / ``UnavailableError``.
    """
    selector = spec.field_selector(scope)
    path = spec.collection_path(scope)
    if spec.max_page and page_size > spec.max_page:
        page_size = spec.max_page

    def fetch(token: str) -> bytes:
        query: list[tuple[str, Any]] = [("limit", page_size)]
        if token:
            query.append(("continue", token))
        if selector:
            query.append(("fieldSelector", selector))
        return rest.body("GET", path, query)

    for _attempt in range(3):
        records: list[RawObject] = []
        token = ""
        rv = ""
        try:
            # The collector stays paused for the whole list: it would otherwise walk every record
            # kept so far, again and again, while tens of thousands are built. One page is
            # fetched ahead while the last one is decoded, so the server's time per page
            # (~10 ms for 250 pods) hides behind ours.
            with gc_paused(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="meshtui-page") as ahead:
                pending: Future[bytes] | None = ahead.submit(fetch, token)
                while pending is not None:
                    data = pending.result()
                    guess = _peek_continue(data)
                    pending = ahead.submit(fetch, guess) if guess else None
                    items, meta = _page_records(spec, data)
                    del data
                    records.extend(items)
                    rv = str(meta.get("resourceVersion") or rv)
                    token = str(meta.get("continue") or "")
                    if token != guess:  # the peek was wrong: ask for the right page
                        if pending is not None:
                            pending.cancel()
                        pending = ahead.submit(fetch, token) if token else None
                return records, rv
        except HttpError as exc:
            if exc.status == 410 and token:
                continue  # continue token expired mid-list: restart for a consistent snapshot
            raise
    raise HttpError(410, f"listing {spec.plural}: continue token kept expiring")
