"""``meshtui analyze --files DIR --like-istioctl`` reads files as ``istioctl analyze
--use-kube=false`` does; plain ``--files`` takes them as the whole world."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshtui.cli import main

# A Service whose port name Istio cannot read, and a VirtualService routing to a subset that
# no DestinationRule defines: istioctl on files sees only the second.
MANIFESTS = """\
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: foo, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v9}
"""


def _codes(out: str) -> list[str]:
    return [line.split("]")[0].split("[")[1] for line in out.splitlines() if "[" in line]


def test_like_istioctl_ignores_cluster_kinds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mesh.yaml").write_text(MANIFESTS)
    assert main(["analyze", "--files", str(tmp_path)]) == 1
    whole_world = _codes(capsys.readouterr().out)
    assert "IST0118" in whole_world  # the Service's port name
    assert main(["analyze", "--files", str(tmp_path), "--like-istioctl"]) == 1
    captured = capsys.readouterr()
    assert _codes(captured.out) == ["IST0101"]  # the subset no DestinationRule defines
    assert "service.PortNameAnalyzer" in captured.err  # said to be skipped


def test_like_istioctl_exit_status_follows_istios_analyzers(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # An external host under REGISTRY_ONLY is meshtui's MT0005 (an error): istioctl does not say it.
    (tmp_path / "mesh.yaml").write_text("""\
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
  egress: [{hosts: ["./*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.example.com]
  http:
  - route:
    - destination: {host: api.example.com}
""")
    assert main(["analyze", "--files", str(tmp_path)]) == 1
    assert "MT0005" in _codes(capsys.readouterr().out)
    assert main(["analyze", "--files", str(tmp_path), "--like-istioctl"]) == 0


def test_like_istioctl_needs_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--demo", "--like-istioctl"]) == 2
    assert "--like-istioctl reads manifests" in capsys.readouterr().err
