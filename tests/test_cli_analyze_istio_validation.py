"""``meshtui analyze --files``: what istiod's webhook would refuse is reported (IST0106) before
deploy time, its warnings too (IST0133), and each istioctl line is printed once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

MANIFESTS = """\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v1, labels: {version: v2}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: edge, namespace: shop}
spec:
  servers:
  - port: {number: 66000, name: http, protocol: HTTP}
    hosts: ["*.example.com"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: api, namespace: shop}
spec:
  hosts: ["*api.example.com"]
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
  endpoints: [{address: "not a host!"}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress:
  - hosts: ["./foo*.com"]
"""


def test_istio_rejections_and_warnings_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mesh.yaml").write_text(MANIFESTS)
    code = main(["analyze", "--files", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    for line in (
        "Error [IST0106] (DestinationRule shop/reviews) Schema validation error: duplicate subset names: v1",
        "Error [IST0106] (VirtualService shop/reviews) Schema validation error: "
        "http, tcp or tls must be provided in virtual service",
        "Error [IST0106] (Gateway shop/edge) Schema validation error: port number 66000 must be in the range 1..65535",
        'Error [IST0106] (ServiceEntry shop/api) Schema validation error: endpoint address "not a host!" is not a '
        "valid FQDN or an IP address",
        'Warning [IST0133] (ServiceEntry shop/api) Schema validation warning: partial wildcard "*api.example.com" '
        "not allowed",
        'Error [IST0106] (Sidecar shop/default) Schema validation error: partial wildcard "foo*.com" not allowed',
    ):
        assert line in out


def test_a_message_two_analyzers_give_is_printed_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A Gateway whose selector matches no pod: IngressGatewayPortAnalyzer and SecretAnalyzer both say so.
    shutil.copy(CONFORMANCE_ROOT / "analyze" / "inputs" / "gateway-no-workload.yaml", tmp_path)
    main(["analyze", "--files", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    line = 'Error [IST0101] (Gateway default/httpbin-gateway) Referenced selector not found: "istio=ingresstypo"'
    assert out.count(line) == 1
