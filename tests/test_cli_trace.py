"""``meshtui trace`` on a directory of manifests: the JSON contract, the text tree, bad flags."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_routing_common import SAMPLES

from meshtui.cli import main

CATALOG = """\
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: istioinaction}
spec:
  selector: {app: catalog}
  ports: [{name: http, port: 80, targetPort: 3000}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: catalog-gateway, namespace: istioinaction}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [catalog.istioinaction.io]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: catalog-vs-from-gw, namespace: istioinaction}
spec:
  hosts: [catalog.istioinaction.io]
  gateways: [catalog-gateway]
  http:
  - route:
    - {destination: {host: catalog, subset: version-v1}, weight: 90}
    - {destination: {host: catalog, subset: version-v2}, weight: 10}
    mirror: {host: catalog, subset: version-v2}
    mirrorPercentage: {value: 5}
"""


@pytest.fixture
def bookinfo_dir(tmp_path: Path) -> Path:
    for name in ("platform/kube/bookinfo.yaml", "networking/destination-rule-all.yaml",
                 "networking/virtual-service-reviews-jason-v2-v3.yaml", "networking/bookinfo-gateway.yaml"):
        shutil.copy(SAMPLES / "bookinfo" / name, tmp_path / Path(name).name)
    return tmp_path


def trace_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["trace", *argv, "-o", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_contract_for_a_header_match(bookinfo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = trace_json(capsys, "--files", str(bookinfo_dir), "--host", "reviews", "--path", "/reviews/0",
                      "-H", "end-user: jason", "--source-namespace", "default")
    assert data["virtual_service"] == "default/reviews"
    assert data["rule_index"] == 0 and data["rule_name"] is None
    assert [{k: d[k] for k in ("host", "subset", "port", "weight")} for d in data["destinations"]] == [
        {"host": "reviews.default.svc.cluster.local", "subset": "v2", "port": 9080, "weight": 100}
    ]
    assert data["rewrite"] is None and data["mirror"] is None
    assert len(data["explanation"]) >= 2 and any("MATCH" in line for line in data["explanation"])


def test_json_no_rule_matches_is_404(bookinfo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = trace_json(capsys, "--files", str(bookinfo_dir), "--host", "bookinfo.example.com",
                      "--path", "/admin", "--gateway", "bookinfo-gateway")
    assert data["virtual_service"] == "default/bookinfo"
    assert data["rule_index"] is None and data["destinations"] == []


def test_text_tree(bookinfo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "--files", str(bookinfo_dir), "--host", "reviews", "-n", "default"]) == 0
    out = capsys.readouterr().out
    assert "VirtualService: default/reviews" in out
    assert "header end-user: absent" in out
    assert "subset v3" in out and "DestinationRule default/reviews" in out


def test_host_header_trap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    at_gw = trace_json(capsys, "--files", str(tmp_path), "--host", "catalog.istioinaction.io",
                       "--gateway", "istioinaction/catalog-gateway")
    assert [(d["subset"], d["weight"]) for d in at_gw["destinations"]] == [("version-v1", 90), ("version-v2", 10)]
    assert at_gw["mirror"] == {"host": "catalog.istioinaction.svc.cluster.local", "subset": "version-v2",
                               "percentage": 5.0}
    mesh = trace_json(capsys, "--files", str(tmp_path), "--host", "catalog.istioinaction.io",
                      "--source-namespace", "istioinaction")
    assert mesh["virtual_service"] is None and mesh["rule_index"] is None
    assert [(d["host"], d["subset"], d["weight"]) for d in mesh["destinations"]] == [
        ("catalog.istioinaction.svc.cluster.local", None, 100)
    ]


def test_bad_flags_exit_2_with_one_line(bookinfo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "--files", str(bookinfo_dir), "--host", "reviews", "-H", "end-user"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("meshtui: ") and "no ':'" in err and "\n" not in err
    assert main(["trace", "--files", str(bookinfo_dir), "--host", "reviews", "--source-labels", "app"]) == 2
    assert "not key=value" in capsys.readouterr().err
    assert main(["trace", "--files", str(bookinfo_dir), "--host", "x", "--gateway", "nope"]) == 2
    assert "gateway 'nope' not found" in capsys.readouterr().err


def test_a_host_header_unlisted_by_the_virtual_service_bypasses_the_split(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The Host-header trap (issue 12): a proxy forwards its caller's Host (a node IP:NodePort)
    while dialling backend-service port 80. The Host picks no VirtualService, so the 90/10
    split does not apply; the listener is the dialled port 80, not the Host's 30785."""
    import meshtui

    demo = Path(meshtui.__file__).parent / "demo"
    assert main(["trace", "--files", str(demo), "--host", "backend-service", "-H", "Host: 10.22.12.178:30785",
                 "--source-namespace", "default", "--path", "/api/orders", "-o", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["virtual_service"] is None
    assert out["request"]["host_header"] == "10.22.12.178:30785"
    assert [(d["host"], d["port"], d["subset"]) for d in out["destinations"]] == [
        ("backend-service.default.svc.cluster.local", 80, None)]
    assert main(["trace", "--files", str(demo), "--host", "backend-service", "-H", "Host: 10.22.12.178:30785",
                 "--source-namespace", "default"]) == 0
    text = capsys.readouterr().out
    assert "Host header 10.22.12.178:30785; dialled Service default/backend-service port 80" in text


REGEX_ROUTES = """\
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: default}
spec:
  hosts: [api]
  http:
  - name: numeric-id
    match: [{headers: {x-id: {regex: "[[:digit:]]+"}}}]
    route: [{destination: {host: api, subset: numeric}}]
  - name: letters
    match: [{headers: {x-id: {regex: "\\\\pL+"}}}]
    route: [{destination: {host: api, subset: letters}}]
  - name: rest
    route: [{destination: {host: api, subset: other}}]
"""


@pytest.mark.parametrize(("value", "rule"), [("123", "numeric-id"), ("abc", "letters"), ("ünï", "letters"),
                                             ("12a", "rest")])
def test_regex_matches_with_re2_classes(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str,
                                        rule: str) -> None:
    """POSIX classes and Unicode classes match as Envoy's RE2 does, always in full."""
    (tmp_path / "api.yaml").write_text(REGEX_ROUTES)
    data = trace_json(capsys, "--files", str(tmp_path), "--host", "api", "-H", f"x-id: {value}",
                      "--source-namespace", "default")
    assert data["rule_name"] == rule
