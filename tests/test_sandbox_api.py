"""The sandbox API server through the official ``kubernetes`` client: list, watch, get, writes,
conflicts, auth, validation and dry runs behave as on a real API server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from meshtui.sandbox.kubeconfig import READONLY_CONTEXT
from meshtui.sandbox.server import Sandbox

ISTIO = ("networking.istio.io", "v1")
KINDS = [("namespaces", None), ("services", "bookinfo"), ("pods", "bookinfo"), ("endpoints", "bookinfo"),
         ("configmaps", "istio-system")]
ISTIO_KINDS = ["virtualservices", "destinationrules", "gateways", "serviceentries", "sidecars"]


@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    yield c
    c.close()


@pytest.fixture(scope="module")
def readonly(sandbox: Sandbox) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(str(sandbox.kubeconfig_path), context=READONLY_CONTEXT,
                                      persist_config=False)
    yield c
    c.close()


@pytest.fixture
def ns(api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace for a test that writes."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    yield name
    client.CoreV1Api(api).delete_namespace(name)


def vs(name: str, ns: str, weight: Any = 100, api_version: str = "networking.istio.io/v1") -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": "VirtualService", "metadata": {"name": name, "namespace": ns},
            "spec": {"hosts": [name], "http": [{"route": [{"destination": {"host": name}, "weight": weight}]}]}}


def raw_list(api: client.ApiClient, path: str, **query: Any) -> dict[str, Any]:
    resp = api.call_api(path, "GET", query_params=list(query.items()), auth_settings=["BearerToken"],
                        response_type="object", _return_http_data_only=True)
    return resp


def test_every_core_kind_lists_with_typed_client(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    assert {n.metadata.name for n in core.list_namespace().items} >= {"bookinfo", "default", "istio-system"}
    pods = core.list_namespaced_pod("bookinfo").items
    assert pods and all(p.status.phase == "Running" and p.status.pod_ip for p in pods)
    assert {c.name for c in pods[0].status.container_statuses} >= {"istio-proxy"}
    svc = core.read_namespaced_service("reviews", "bookinfo")
    eps = core.read_namespaced_endpoints("reviews", "bookinfo")
    ready = [p for p in pods if p.metadata.labels.get("app") == "reviews"]
    assert svc.spec.cluster_ip
    assert sorted(a.ip for a in eps.subsets[0].addresses) == sorted(p.status.pod_ip for p in ready)
    assert core.read_namespaced_config_map("istio", "istio-system").data
    assert client.AppsV1Api(api).list_namespaced_deployment("bookinfo").items


@pytest.mark.parametrize("plural", ISTIO_KINDS)
def test_every_istio_kind_lists(api: client.ApiClient, plural: str) -> None:
    out = client.CustomObjectsApi(api).list_cluster_custom_object(*ISTIO, plural)
    assert out["kind"].endswith("List") and int(out["metadata"]["resourceVersion"]) > 0


def test_versions_serve_the_same_stored_object(api: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api)
    got = {v: custom.get_namespaced_custom_object("networking.istio.io", v, "bookinfo", "virtualservices", "reviews")
           for v in ("v1", "v1beta1", "v1alpha3")}
    assert {g["apiVersion"] for g in got.values()} == {f"networking.istio.io/{v}" for v in got}
    assert len({(g["metadata"]["uid"], g["metadata"]["resourceVersion"], str(g["spec"])) for g in got.values()}) == 1


def test_label_selectors_including_set_based(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)

    def names(sel: str) -> set[str]:
        return {p.metadata.labels["app"] + "/" + p.metadata.labels.get("version", "")
                for p in core.list_namespaced_pod("bookinfo", label_selector=sel).items}

    assert names("app=reviews,version in (v1,v3)") == {"reviews/v1", "reviews/v3"}
    assert names("app=reviews,version notin (v1)") == {"reviews/v2", "reviews/v3"}
    assert names("app=reviews,!version") == set()
    with pytest.raises(ApiException) as err:
        core.list_namespaced_pod("bookinfo", label_selector="app in (x")
    assert err.value.status == 400


def test_field_selector_and_pagination(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    assert [n.metadata.name for n in core.list_namespace(field_selector="metadata.name=bookinfo").items] == ["bookinfo"]
    every = [p.metadata.name for p in core.list_pod_for_all_namespaces().items]
    pages, token = [], None
    while True:
        page = core.list_pod_for_all_namespaces(limit=2, _continue=token)
        pages.append([p.metadata.name for p in page.items])
        token = page.metadata._continue
        if not token:
            break
    assert sum(pages, []) == every and all(len(p) <= 2 for p in pages) and len(pages) > 1
    with pytest.raises(ApiException) as err:
        core.list_pod_for_all_namespaces(field_selector="spec.unknown=x")
    assert err.value.status == 400


def test_create_get_update_conflict_delete(api: client.ApiClient, ns: str) -> None:
    custom = client.CustomObjectsApi(api)
    created = custom.create_namespaced_custom_object(*ISTIO, ns, "virtualservices", vs("web", ns))
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"] and meta["generation"] == 1
    with pytest.raises(ApiException) as err:
        custom.create_namespaced_custom_object(*ISTIO, ns, "virtualservices", vs("web", ns))
    assert err.value.status == 409 and '"reason":"AlreadyExists"' in err.value.body.replace(" ", "")
    stale = dict(created)
    created["spec"]["hosts"] = ["web", "web.example.com"]
    updated = custom.replace_namespaced_custom_object(*ISTIO, ns, "virtualservices", "web", created)
    assert int(updated["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert updated["metadata"]["generation"] == 2
    stale["spec"] = {"hosts": ["other"]}
    stale["metadata"] = {**meta}
    with pytest.raises(ApiException) as err:
        custom.replace_namespaced_custom_object(*ISTIO, ns, "virtualservices", "web", stale)
    assert err.value.status == 409
    assert 'Operation cannot be fulfilled on virtualservices.networking.istio.io \\"web\\": the object has been modified' \
        in err.value.body
    custom.delete_namespaced_custom_object(*ISTIO, ns, "virtualservices", "web")
    with pytest.raises(ApiException) as err:
        custom.get_namespaced_custom_object(*ISTIO, ns, "virtualservices", "web")
    assert err.value.status == 404


def test_patches(api: client.ApiClient, ns: str) -> None:
    custom = client.CustomObjectsApi(api)
    core = client.CoreV1Api(api)
    custom.create_namespaced_custom_object(*ISTIO, ns, "virtualservices", vs("web", ns))
    merged = custom.patch_namespaced_custom_object(*ISTIO, ns, "virtualservices", "web",
                                                   {"metadata": {"labels": {"team": "a"}}})
    assert merged["metadata"]["labels"] == {"team": "a"} and merged["spec"]["hosts"] == ["web"]
    api.set_default_header("Content-Type", "application/json-patch+json")
    try:
        jp = custom.patch_namespaced_custom_object(*ISTIO, ns, "virtualservices", "web",
                                                   [{"op": "replace", "path": "/spec/hosts/0", "value": "web2"}])
    finally:
        api.default_headers.pop("Content-Type", None)
    assert jp["spec"]["hosts"] == ["web2"]
    core.create_namespaced_service(ns, {"metadata": {"name": "svc"}, "spec": {
        "selector": {"app": "svc"}, "ports": [{"name": "http", "port": 80}, {"name": "grpc", "port": 90}]}})
    svc = core.patch_namespaced_service("svc", ns, {"spec": {"ports": [{"port": 80, "name": "http-web"}]}})
    assert [(p.name, p.port) for p in svc.spec.ports] == [("http-web", 80), ("grpc", 90)]


def test_read_only_token_is_forbidden_to_write(readonly: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(readonly)
    assert custom.get_namespaced_custom_object(*ISTIO, "bookinfo", "virtualservices", "reviews")
    with pytest.raises(ApiException) as err:
        custom.patch_namespaced_custom_object(*ISTIO, "bookinfo", "virtualservices", "reviews",
                                              {"metadata": {"labels": {"x": "y"}}})
    assert err.value.status == 403
    assert ('virtualservices.networking.istio.io \\"reviews\\" is forbidden: User \\"meshtui-readonly\\" '
            'cannot patch resource \\"virtualservices\\" in API group \\"networking.istio.io\\" in the '
            'namespace \\"bookinfo\\"') in err.value.body
    review = client.AuthorizationV1Api(readonly).create_self_subject_access_review(
        {"spec": {"resourceAttributes": {"verb": "update", "group": "networking.istio.io",
                                         "resource": "virtualservices", "namespace": "bookinfo"}}})
    assert review.status.allowed is False


def test_unknown_token_is_unauthorized(sandbox: Sandbox, tmp_path: Any) -> None:
    cfg = client.Configuration()
    cfg.host = sandbox.url
    assert sandbox.ca_pem is not None
    (tmp_path / "ca.crt").write_bytes(sandbox.ca_pem)
    cfg.ssl_ca_cert = str(tmp_path / "ca.crt")
    cfg.api_key = {"authorization": "Bearer nope"}
    with client.ApiClient(cfg) as c, pytest.raises(ApiException) as err:
        client.CoreV1Api(c).list_namespace()
    assert err.value.status == 401


def test_schema_invalid_virtualservice_is_422_with_field(api: client.ApiClient, ns: str) -> None:
    with pytest.raises(ApiException) as err:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            *ISTIO, ns, "virtualservices", vs("bad", ns, weight="ninety"))
    assert err.value.status == 422
    import json
    status = json.loads(err.value.body)
    assert status["reason"] == "Invalid"
    assert "spec.http[0].route[0].weight" in [c["field"] for c in status["details"]["causes"]]


def test_dry_run_changes_nothing_and_emits_no_event(api: client.ApiClient, ns: str) -> None:
    custom = client.CustomObjectsApi(api)
    before = custom.list_namespaced_custom_object(*ISTIO, ns, "virtualservices")
    rv = before["metadata"]["resourceVersion"]
    out = custom.create_namespaced_custom_object(*ISTIO, ns, "virtualservices", vs("dry", ns), dry_run="All")
    assert out["metadata"]["name"] == "dry"
    with pytest.raises(ApiException):
        custom.get_namespaced_custom_object(*ISTIO, ns, "virtualservices", "dry")
    events = list(watch.Watch().stream(custom.list_namespaced_custom_object, *ISTIO, ns, "virtualservices",
                                       resource_version=rv, timeout_seconds=1))
    assert events == []


def _changes(custom: client.CustomObjectsApi, ns: str, names: list[str]) -> None:
    for n in names:
        custom.create_namespaced_custom_object(*ISTIO, ns, "destinationrules", {
            "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": n, "namespace": ns}, "spec": {"host": n}})


def test_watch_resumes_after_disconnect_without_loss_or_duplicates(api: client.ApiClient, ns: str) -> None:
    custom = client.CustomObjectsApi(api)
    rv = custom.list_namespaced_custom_object(*ISTIO, ns, "destinationrules")["metadata"]["resourceVersion"]
    _changes(custom, ns, ["a", "b"])
    seen: list[tuple[str, str]] = []
    # The server ends this watch after 1 s: a disconnect the client did not ask for.
    for ev in watch.Watch().stream(custom.list_namespaced_custom_object, *ISTIO, ns, "destinationrules",
                                   resource_version=rv, timeout_seconds=1):
        seen.append((ev["type"], ev["object"]["metadata"]["name"]))
        rv = ev["object"]["metadata"]["resourceVersion"]
    _changes(custom, ns, ["c"])
    custom.delete_namespaced_custom_object(*ISTIO, ns, "destinationrules", "a")
    for ev in watch.Watch().stream(custom.list_namespaced_custom_object, *ISTIO, ns, "destinationrules",
                                   resource_version=rv, timeout_seconds=1):
        seen.append((ev["type"], ev["object"]["metadata"]["name"]))
    assert seen == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c"), ("DELETED", "a")]


def test_watch_sends_bookmarks_when_asked(api: client.ApiClient, ns: str) -> None:
    custom = client.CustomObjectsApi(api)
    rv = custom.list_namespaced_custom_object(*ISTIO, ns, "gateways")["metadata"]["resourceVersion"]
    types = [ev["type"] for ev in watch.Watch().stream(
        custom.list_namespaced_custom_object, *ISTIO, ns, "gateways", resource_version=rv,
        allow_watch_bookmarks=True, timeout_seconds=3)]
    assert "BOOKMARK" in types


def test_watch_from_expired_resource_version_is_410(api: client.ApiClient, sandbox: Sandbox, ns: str) -> None:
    custom = client.CustomObjectsApi(api)
    rv = custom.list_namespaced_custom_object(*ISTIO, ns, "destinationrules")["metadata"]["resourceVersion"]
    sandbox.call(sandbox.store.set_event_window, 3)
    try:
        _changes(custom, ns, ["e1", "e2", "e3", "e4", "e5"])
        with pytest.raises(ApiException) as err:
            list(watch.Watch().stream(custom.list_namespaced_custom_object, *ISTIO, ns, "destinationrules",
                                      resource_version=rv, timeout_seconds=1))
    finally:
        sandbox.call(sandbox.store.set_event_window, 1000)
    assert err.value.status == 410


def test_watch_every_kind_sees_a_change(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "cm"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("cm", ns, {"data": {"a": "2"}})
    events = [(e["type"], e["object"].data["a"]) for e in watch.Watch().stream(
        core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=1)]
    assert events == [("ADDED", "1"), ("MODIFIED", "2")]
    for plural in ISTIO_KINDS:
        got = list(watch.Watch().stream(client.CustomObjectsApi(api).list_cluster_custom_object, *ISTIO, plural,
                                        timeout_seconds=1))
        assert all(e["type"] == "ADDED" for e in got)
