"""`meshtui undo` reverts a label-only change (``meshtui waypoint use``): the object's labels and
annotations are part of what an undo restores, not only its spec."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from meshtui.cli import main

MANIFEST = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"istio.io/dataplane-mode": "ambient"}}},
    {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "waypoint", "namespace": "shop"},
     "spec": {"gatewayClassName": "istio-waypoint", "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}]},
     "status": {"addresses": [{"type": "Hostname", "value": "waypoint.shop.svc.cluster.local"}]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "stock", "namespace": "shop", "labels": {"app": "stock"}},
     "spec": {"selector": {"app": "stock"}, "ports": [{"name": "http", "port": 9080}]}},
]


def test_undo_of_waypoint_use_restores_the_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    root = tmp_path / "mesh"
    root.mkdir()
    manifest = root / "shop.yaml"
    manifest.write_text(yaml.safe_dump_all(MANIFEST, sort_keys=False))
    before = manifest.read_text()
    assert main(["waypoint", "use", "stock.shop", "waypoint", "--files", str(root), "--yes"]) == 0
    assert "istio.io/use-waypoint: waypoint" in manifest.read_text()
    assert main(["undo", "--files", str(root), "--yes"]) == 0, capsys.readouterr().err
    assert manifest.read_text() == before
    # Nothing is left to undo after that.
    assert main(["undo", "--files", str(root), "--yes"]) == 2
