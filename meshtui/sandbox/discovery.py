"""Discovery documents (``/version``, ``/api``, ``/apis``, resource lists), the Istio
CustomResourceDefinitions, and the OpenAPI v3 documents kubectl reads.

Legacy (unaggregated) discovery only: kubectl asks for aggregated discovery
(``application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList``) but, as with any
server that answers plain ``application/json``, falls back to the per-group-version lists.

OpenAPI v3: ``/openapi/v3`` lists one document per group-version; each document has a PATCH
operation per kind with the ``fieldValidation`` query parameter (kubectl checks for it to use
server-side field validation) and, for the Istio kinds, the CRD schema as a component with
``x-kubernetes-group-version-kind`` (``kubectl explain``). Core kinds get no component schema, so
``kubectl apply`` computes their strategic merge patches from its built-in Go types, which carry
the real merge keys. ``/openapi/v2`` is not served (404); kubectl copes with that.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from typing import Any

from meshtui.sandbox.kinds import TYPES, ResourceType, group_versions

SERVER_VERSION = {
    "major": "1", "minor": "32", "gitVersion": "v1.32.0-meshtui-sandbox",
    "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.4", "compiler": "gc",
    "platform": "linux/amd64",
}
AUTHZ_GROUP = "authorization.k8s.io"


def api_versions(address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}]}


def api_group_list() -> dict[str, Any]:
    """``GET /apis``: every served group with its versions, preferred first."""
    groups = []
    gvs = group_versions()
    gvs[AUTHZ_GROUP] = ["v1"]
    for group, versions in gvs.items():
        vs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": vs, "preferredVersion": vs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    """``GET /apis/<group>``, or None if not served."""
    for g in api_group_list()["groups"]:
        if g["name"] == group:
            return {"kind": "APIGroup", "apiVersion": "v1", **g}
    return None


def _resource_entry(t: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                             "kind": t.kind, "verbs": list(t.verbs)}
    if t.short_names:
        entry["shortNames"] = list(t.short_names)
    if t.categories:
        entry["categories"] = list(t.categories)
    entry["storageVersionHash"] = hashlib.sha256(t.qualified.encode()).hexdigest()[:12]
    return entry


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``/apis/<group>/<version>``: an APIResourceList, or None."""
    gv = f"{group}/{version}" if group else version
    resources_: list[dict[str, Any]] = []
    if group == AUTHZ_GROUP and version == "v1":
        resources_.append({"name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
                           "namespaced": False, "kind": "SelfSubjectAccessReview", "verbs": ["create"]})
    for t in TYPES:
        if t.group != group or version not in t.versions:
            continue
        resources_.append(_resource_entry(t))
        if t.plural == "pods":
            resources_.append({"name": "pods/log", "singularName": "", "namespaced": True,
                               "kind": "Pod", "verbs": ["get"]})
            resources_.append({"name": "pods/portforward", "singularName": "", "namespaced": True,
                               "kind": "PodPortForwardOptions", "verbs": ["create", "get"]})
    if not resources_:
        return None
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources_}


# -- CustomResourceDefinitions --------------------------------------------------------------------
# The shipped CRDs (Istio's networking kinds, the Gateway API) whose schemas the sandbox serves.
_CRD_FILES = ("networking.istio.io.crds.yaml", "gateway.networking.k8s.io.crds.yaml")


@functools.cache
def _crd_documents() -> tuple[dict[str, Any], ...]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    served = {(t.group, t.kind) for t in TYPES}
    out: list[dict[str, Any]] = []
    for name in _CRD_FILES:
        text = resources.files("meshtui.data").joinpath(name).read_text("utf-8")
        out.extend(d for d in yaml.load_all(text, Loader=loader)
                   if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"
                   and ((d.get("spec") or {}).get("group"), (d.get("spec") or {}).get("names", {}).get("kind")) in served)
    return tuple(out)


def istio_crds() -> list[dict[str, Any]]:
    """The CRDs of the served Istio and Gateway API kinds, as fresh objects ready to store
    (status Established)."""
    import orjson

    out = []
    for doc in _crd_documents():
        crd = orjson.loads(orjson.dumps(doc))
        names = crd["spec"]["names"]
        crd["metadata"] = {"name": crd["metadata"]["name"], "labels": crd["metadata"].get("labels", {}),
                           "annotations": crd["metadata"].get("annotations", {})}
        crd["status"] = {
            "acceptedNames": names,
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts",
                 "message": "no conflicts found", "lastTransitionTime": "2025-01-01T00:00:00Z"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted",
                 "lastTransitionTime": "2025-01-01T00:00:00Z"}],
            "storedVersions": [v["name"] for v in crd["spec"]["versions"] if v.get("storage")],
        }
        out.append(crd)
    return out


# The printer columns of Flagger's and Argo Rollouts' own CRDs (artifacts/flagger/crd.yaml,
# manifests/crds/rollout-crd.yaml); their schemas are not served (no validation).
_CUSTOM_COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Canary": [{"name": "Status", "type": "string", "jsonPath": ".status.phase"},
               {"name": "Weight", "type": "string", "jsonPath": ".status.canaryWeight"},
               {"name": "LastTransitionTime", "type": "string", "jsonPath": ".status.lastTransitionTime"}],
    "Rollout": [{"name": "Desired", "type": "integer", "jsonPath": ".spec.replicas"},
                {"name": "Current", "type": "integer", "jsonPath": ".status.replicas"},
                {"name": "Up-to-date", "type": "integer", "jsonPath": ".status.updatedReplicas"},
                {"name": "Available", "type": "integer", "jsonPath": ".status.availableReplicas"}],
}


def custom_resource_crds() -> list[dict[str, Any]]:
    """CRDs of the served non-Istio custom resources (Flagger Canary, Argo Rollout): names,
    scope, versions with a status subresource, and a schema that keeps every field."""
    out = []
    for t in TYPES:
        if t.kind not in _CUSTOM_COLUMNS:
            continue
        names: dict[str, Any] = {"kind": t.kind, "listKind": f"{t.kind}List", "plural": t.plural, "singular": t.singular}
        if t.short_names:
            names["shortNames"] = list(t.short_names)
        if t.categories:
            names["categories"] = list(t.categories)
        versions = [{"name": v, "served": True, "storage": i == 0, "subresources": {"status": {}},
                     "additionalPrinterColumns": _CUSTOM_COLUMNS[t.kind],
                     "schema": {"openAPIV3Schema": {"type": "object",
                                                    "x-kubernetes-preserve-unknown-fields": True}}}
                    for i, v in enumerate(t.versions)]
        out.append({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": t.qualified},
            "spec": {"group": t.group, "names": names, "scope": "Namespaced" if t.namespaced else "Cluster",
                     "versions": versions},
            "status": {"acceptedNames": names, "storedVersions": [t.versions[0]], "conditions": [
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted",
                 "lastTransitionTime": "2025-01-01T00:00:00Z"}]},
        })
    return out


@functools.cache
def printer_columns() -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """(group, kind, version) -> the CRD's additionalPrinterColumns (for Table responses)."""
    out: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for doc in _crd_documents():
        kind = doc["spec"]["names"]["kind"]
        for v in doc["spec"]["versions"]:
            out[(doc["spec"]["group"], kind, v["name"])] = v.get("additionalPrinterColumns") or []
    for t in TYPES:
        for v in t.versions:
            if t.kind in _CUSTOM_COLUMNS:
                out[(t.group, t.kind, v)] = _CUSTOM_COLUMNS[t.kind]
    return out


# -- OpenAPI v3 -------------------------------------------------------------------------------------
def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_index() -> dict[str, Any]:
    """``GET /openapi/v3``: one document per served group-version."""
    paths = {}
    seen = set()
    for t in TYPES:
        for v in t.versions:
            p = _gv_path(t.group, v)
            if p not in seen:
                seen.add(p)
                paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={_hash(p)}"}
    return {"paths": paths}


def _hash(p: str) -> str:
    return hashlib.sha512(f"meshtui-sandbox-1:{p}".encode()).hexdigest().upper()[:128]


_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force", "pretty")


def _op(t: ResourceType, version: str, action: str) -> dict[str, Any]:
    params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
              for n in _QUERY_PARAMS if action in ("patch", "put", "post") or n == "pretty"]
    return {"operationId": f"{action}{t.kind}", "parameters": params,
            "responses": {"200": {"description": "OK"}},
            "x-kubernetes-action": action,
            "x-kubernetes-group-version-kind": {"group": t.group, "version": version, "kind": t.kind}}


def _schema_name(t: ResourceType, version: str) -> str:
    parts = list(reversed(t.group.split("."))) if t.group else ["io", "k8s", "api", "core"]
    return ".".join([*parts, version, t.kind])


@functools.cache
def openapi_v3_document(gv_path: str) -> dict[str, Any] | None:
    """``GET /openapi/v3/<gv_path>``: an OpenAPI 3.0 document for one group-version, or None."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    crd_schemas = {}
    for doc in _crd_documents():
        for v in doc["spec"]["versions"]:
            crd_schemas[(doc["spec"]["group"], doc["spec"]["names"]["kind"], v["name"])] = (
                (v.get("schema") or {}).get("openAPIV3Schema"))
    for t in TYPES:
        for v in t.versions:
            if _gv_path(t.group, v) != gv_path:
                continue
            base = f"/{gv_path}" + ("/namespaces/{namespace}" if t.namespaced else "") + f"/{t.plural}"
            paths[base] = {"get": _op(t, v, "list"), "post": _op(t, v, "post")}
            paths[base + "/{name}"] = {"get": _op(t, v, "get"), "put": _op(t, v, "put"),
                                       "patch": _op(t, v, "patch"), "delete": _op(t, v, "delete")}
            schema = crd_schemas.get((t.group, t.kind, v))
            if schema is not None:
                full = {**schema, "x-kubernetes-group-version-kind": [
                    {"group": t.group, "kind": t.kind, "version": v}]}
                full.setdefault("properties", {})
                full["properties"] = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                      "metadata": {"type": "object"}, **full["properties"]}
                schemas[_schema_name(t, v)] = full
    if not paths:
        return None
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "paths": paths, "components": {"schemas": schemas}}
