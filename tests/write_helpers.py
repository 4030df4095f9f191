"""Shared set-up of the write tests: a catalog canary in a namespace of the test's own on the
session sandbox, created and read back with the official client (an independent writer)."""

from __future__ import annotations

import itertools
from typing import Any

from kubernetes import client, config

ISTIO = ("networking.istio.io", "v1")
_counter = itertools.count()


def catalog_vs(ns: str) -> dict[str, Any]:
    """The catalog VirtualService of the demo: a header-matched dark launch, then a 90/10 canary."""
    return {
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "catalog", "namespace": ns, "annotations": {"owner": "team-catalog"}},
        "spec": {
            "hosts": ["catalog"],
            "http": [
                {"name": "internal-cohort",
                 "match": [{"headers": {"x-istio-cohort": {"exact": "internal"}}}],
                 "route": [{"destination": {"host": "catalog", "subset": "v2"}}]},
                {"name": "canary",
                 "route": [{"destination": {"host": "catalog", "subset": "v1"}, "weight": 90},
                           {"destination": {"host": "catalog", "subset": "v2"}, "weight": 10}]},
            ],
        },
    }


def admin_client(kubeconfig: str) -> client.ApiClient:
    """The official client on the sandbox's admin context."""
    return config.new_client_from_config(kubeconfig, persist_config=False)


def seed_catalog(api: client.ApiClient, prefix: str = "wr") -> str:
    """A fresh namespace holding the catalog Service, DestinationRule (v1, v2) and VirtualService."""
    ns = f"{prefix}-{next(_counter)}-{id(api) % 10000}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_service(ns, {"metadata": {"name": "catalog", "labels": {"app": "catalog"}},
                                        "spec": {"selector": {"app": "catalog"},
                                                 "ports": [{"name": "http", "port": 80, "targetPort": 3000}]}})
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(*ISTIO, ns, "destinationrules", {
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "catalog", "namespace": ns},
        "spec": {"host": "catalog", "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                {"name": "v2", "labels": {"version": "v2"}}]}})
    custom.create_namespaced_custom_object(*ISTIO, ns, "virtualservices", catalog_vs(ns))
    return ns


def get_vs(api: client.ApiClient, ns: str, name: str = "catalog") -> dict[str, Any]:
    """The VirtualService as the server holds it."""
    return client.CustomObjectsApi(api).get_namespaced_custom_object(*ISTIO, ns, "virtualservices", name)


def weights(vs: dict[str, Any], rule: int = 1) -> list[int | None]:
    """The destination weights of http rule ``rule``."""
    return [d.get("weight") for d in vs["spec"]["http"][rule]["route"]]


def patch_vs(api: client.ApiClient, ns: str, patch: Any, name: str = "catalog") -> dict[str, Any]:
    """A JSON merge patch by another writer."""
    return client.CustomObjectsApi(api).patch_namespaced_custom_object(*ISTIO, ns, "virtualservices", name, patch)


def add_timeout(api: client.ApiClient, ns: str, timeout: str = "5s") -> dict[str, Any]:
    """Another writer adds ``timeout`` to the canary rule (a merge patch replaces the list)."""
    http = get_vs(api, ns)["spec"]["http"]
    http[1]["timeout"] = timeout
    return patch_vs(api, ns, {"spec": {"http": http}})
