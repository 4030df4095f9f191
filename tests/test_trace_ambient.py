"""``meshtui trace`` says which hops an ambient service's request takes and which L7 rules nothing applies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.cli import main


def _objs(with_waypoint: bool) -> list[dict[str, Any]]:
    svc_labels = {"istio.io/use-waypoint": "wp"} if with_waypoint else {}
    out: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio.io/dataplane-mode": "ambient"}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "cart", "namespace": "shop", "labels": svc_labels},
         "spec": {"selector": {"app": "cart"}, "ports": [{"name": "http", "port": 80}]}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "cart", "namespace": "shop"},
         "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "cart", "port": 80}],
                  "rules": [{"backendRefs": [{"name": "cart", "port": 80}]}]}},
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "wp", "namespace": "shop"},
         "spec": {"gatewayClassName": "istio-waypoint", "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
         "status": {"addresses": [{"type": "Hostname", "value": "wp.shop.svc.cluster.local"}]}},
    ]
    return out


def _trace(tmp_path: Path, objs: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> list[str]:
    (tmp_path / "mesh.yaml").write_text(yaml.safe_dump_all(objs))
    assert main(["trace", "--files", str(tmp_path), "--host", "cart.shop.svc.cluster.local",
                 "--source-namespace", "shop", "-o", "json"]) == 0
    notes: list[str] = json.loads(capsys.readouterr().out)["explanation"]
    return notes


def test_without_a_waypoint_the_traced_httproute_is_applied_by_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = _trace(tmp_path, _objs(with_waypoint=False), capsys)
    assert ("ambient service shop/cart has no waypoint: ztunnel forwards at L4 only, so HTTPRoute shop/cart is not "
            "applied by anything; the rules traced are what a waypoint would do") in notes


def test_with_a_waypoint_the_hops_go_through_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = _trace(tmp_path, _objs(with_waypoint=True), capsys)
    assert ("ambient: client ztunnel → waypoint shop/wp (HBONE 15008), which applies HTTPRoute shop/cart → ztunnel "
            "of the destination pod") in notes


def test_a_sidecar_service_gets_no_ambient_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    objs = _objs(with_waypoint=False)
    objs[0]["metadata"]["labels"] = {"istio-injection": "enabled"}
    assert not any("ztunnel" in n for n in _trace(tmp_path, objs, capsys))
