"""``meshtui waypoint use|remove|canary|promote|rollback``: enrolling a Service or a namespace in
an ambient waypoint, and a weighted waypoint canary, written through the write path to a sandbox
of this module's own and read back with the official client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.cli import main
from meshtui.sandbox.server import Sandbox

USE = "istio.io/use-waypoint"
CANARY = "istio.io/use-waypoint-canary"
WEIGHT = "istio.io/use-waypoint-canary-weight"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox of this module's own (its labels are changed)."""
    sandbox = Sandbox(traffic=False).start()
    sandbox.write_kubeconfig(tmp_path_factory.mktemp("waypoint") / "kubeconfig")
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def api(sb: Sandbox) -> Iterator[client.ApiClient]:
    """The official client on the sandbox."""
    api = config.new_client_from_config(str(sb.kubeconfig_path), persist_config=False)
    yield api
    api.close()


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit log in a temporary directory."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))


def waypoint(sb: Sandbox, *argv: str) -> int:
    """Run ``meshtui waypoint ARGV`` against the sandbox."""
    return main(["waypoint", *argv, "--kubeconfig", str(sb.kubeconfig_path)])


def service_meta(api: client.ApiClient, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """Labels and annotations of Service shop/NAME."""
    svc = client.CoreV1Api(api).read_namespaced_service(name, "shop")
    return dict(svc.metadata.labels or {}), dict(svc.metadata.annotations or {})


def test_use_enrols_the_trap_service_in_the_waypoint(sb: Sandbox, api: client.ApiClient,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert USE not in service_meta(api, "stock")[0]
    assert waypoint(sb, "use", "stock.shop", "waypoint", "--yes") == 0
    out = capsys.readouterr().out
    assert "+    istio.io/use-waypoint: waypoint" in out  # the previewed diff
    assert service_meta(api, "stock")[0][USE] == "waypoint"
    assert waypoint(sb, "remove", "stock.shop", "--yes") == 0
    assert USE not in service_meta(api, "stock")[0]


def test_a_waypoint_that_does_not_exist_is_refused(sb: Sandbox, api: client.ApiClient,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    before = service_meta(api, "stock")
    assert waypoint(sb, "use", "stock.shop", "nosuch", "--yes") == 1
    err = capsys.readouterr().err
    assert err == ("meshtui: waypoint shop/nosuch not found (no Gateway of class istio-waypoint); "
                   "nothing was written\n")
    assert service_meta(api, "stock") == before


def test_a_namespace_is_enrolled_and_a_dry_run_writes_nothing(sb: Sandbox, api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    assert waypoint(sb, "use", "namespace/shop", "waypoint", "--dry-run") == 0
    assert USE not in (core.read_namespace("shop").metadata.labels or {})
    assert waypoint(sb, "use", "namespace/shop", "waypoint", "--yes") == 0
    labels = core.read_namespace("shop").metadata.labels
    assert labels[USE] == "waypoint" and labels["istio.io/dataplane-mode"] == "ambient"
    assert waypoint(sb, "remove", "namespace/shop", "--yes") == 0
    assert USE not in (core.read_namespace("shop").metadata.labels or {})


def second_waypoint(api: client.ApiClient) -> None:
    """A second waypoint Gateway in shop (what ``istioctl waypoint apply --name waypoint-v2`` makes)."""
    body: dict[str, Any] = {
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "waypoint-v2", "namespace": "shop", "labels": {"istio.io/waypoint-for": "service"}},
        "spec": {"gatewayClassName": "istio-waypoint",
                 "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]}}
    client.CustomObjectsApi(api).create_namespaced_custom_object("gateway.networking.k8s.io", "v1", "shop",
                                                                 "gateways", body)


def test_canary_weight_then_promote(sb: Sandbox, api: client.ApiClient, capsys: pytest.CaptureFixture[str]) -> None:
    second_waypoint(api)
    assert waypoint(sb, "canary", "basket.shop", "10", "--waypoint", "waypoint-v2", "--yes") == 0
    labels, annotations = service_meta(api, "basket")
    assert (labels[USE], labels[CANARY], annotations[WEIGHT]) == ("waypoint", "waypoint-v2", "10")
    assert waypoint(sb, "canary", "basket.shop", "30", "--yes") == 0
    assert service_meta(api, "basket")[1][WEIGHT] == "30"
    capsys.readouterr()
    assert waypoint(sb, "canary", "basket.shop", "150", "--yes") == 1
    assert capsys.readouterr().err == "meshtui: canary weight 150 must be an integer from 0 to 100\n"
    assert waypoint(sb, "promote", "basket.shop", "--yes") == 0
    labels, annotations = service_meta(api, "basket")
    assert labels[USE] == "waypoint-v2" and CANARY not in labels and WEIGHT not in annotations


def test_a_canary_on_a_service_without_a_waypoint_is_refused(sb: Sandbox, api: client.ApiClient,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert waypoint(sb, "canary", "storefront.shop", "10", "--waypoint", "waypoint", "--yes") == 1
    assert "has no istio.io/use-waypoint label" in capsys.readouterr().err
    assert CANARY not in service_meta(api, "storefront")[0]


@pytest.mark.parametrize("argv, message", [
    (["use", "pod/x", "waypoint"], "'pod/x': unknown kind 'pod' (use SERVICE[.NS], serviceentry/NAME[.NS] or "
                                   "namespace/NS)"),
    (["use", "nosuch.shop", "waypoint"], "Service shop/nosuch not found"),
])
def test_bad_targets_are_one_line_errors(sb: Sandbox, argv: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert waypoint(sb, *argv, "--yes") == 2
    assert capsys.readouterr().err == f"meshtui: {message}\n"
