"""``meshtui trace`` on Gateway API manifests: HTTPRoute picked for hosts that have one, the
``route`` key of the JSON output (for VirtualService results too), Gateway entry, the mixing trap."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_routing_common import SAMPLES

from meshtui.cli import main
from paths import CONFORMANCE_ROOT

GATEWAY_API_SAMPLES = CONFORMANCE_ROOT / "gateway-api" / "samples" / "istio" / "bookinfo" / "gateway-api"

REVIEWS_VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v3}
"""


@pytest.fixture
def bookinfo(tmp_path: Path) -> Path:
    for name in ("platform/kube/bookinfo.yaml", "platform/kube/bookinfo-versions.yaml"):
        shutil.copy(SAMPLES / "bookinfo" / name, tmp_path / Path(name).name)
    for name in ("bookinfo-gateway.yaml", "route-reviews-90-10.yaml"):
        shutil.copy(GATEWAY_API_SAMPLES / name, tmp_path / name)
    return tmp_path


def _trace(capsys: pytest.CaptureFixture[str], directory: Path, *args: str) -> dict:
    code = main(["trace", "--files", str(directory), *args, "-o", "json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def test_mesh_request_follows_the_gamma_httproute(bookinfo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _trace(capsys, bookinfo, "--host", "reviews", "--source-namespace", "default")
    assert doc["outcome"] == "route"
    assert doc["route"] == {"kind": "HTTPRoute", "name": "default/reviews", "rule_index": 0, "match_index": None}
    shares = {d["host"]: d["probability"] for d in doc["destinations"]}
    assert shares == {"reviews-v1.default.svc.cluster.local": 0.9, "reviews-v2.default.svc.cluster.local": 0.1}
    assert doc["virtual_service"] is None


def test_gateway_request_takes_the_matching_path(bookinfo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _trace(capsys, bookinfo, "--gateway", "default/bookinfo-gateway", "--host", "bookinfo.example",
                 "--path", "/static/css/site.css")
    assert doc["route"] == {"kind": "HTTPRoute", "name": "default/bookinfo", "rule_index": 0, "match_index": 1}
    assert [d["host"] for d in doc["destinations"]] == ["productpage.default.svc.cluster.local"]


def test_gateway_path_prefix_is_element_wise(bookinfo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # PathPrefix /static does not take /staticfoo: no rule matches, Envoy answers 404.
    doc = _trace(capsys, bookinfo, "--gateway", "bookinfo-gateway", "--host", "bookinfo.example",
                 "--path", "/staticfoo")
    assert doc["outcome"] == "no_route" and doc["route"] is None


def test_virtual_service_result_names_its_route_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SAMPLES / "bookinfo" / "platform/kube/bookinfo.yaml", tmp_path / "bookinfo.yaml")
    (tmp_path / "vs.yaml").write_text(REVIEWS_VS)
    doc = _trace(capsys, tmp_path, "--host", "reviews", "--source-namespace", "default")
    assert doc["route"] == {"kind": "VirtualService", "name": "default/reviews", "rule_index": 0, "match_index": None}


def test_mixing_virtual_service_and_httproute_is_called_out(bookinfo: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    (bookinfo / "vs.yaml").write_text(REVIEWS_VS)
    doc = _trace(capsys, bookinfo, "--host", "reviews", "--source-namespace", "default")
    assert doc["route"]["kind"] == "HTTPRoute"
    assert any("mixing VirtualService and HTTPRoute" in line for line in doc["explanation"])


def test_text_output_names_the_httproute_rule(bookinfo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["trace", "--files", str(bookinfo), "--gateway", "default/bookinfo-gateway",
                 "--host", "bookinfo.example", "--path", "/login"])
    out = capsys.readouterr().out
    assert code == 0
    assert "HTTPRoute: default/bookinfo" in out
    assert "rule taken: rules[0] matches[2]" in out
    assert "VirtualService:" not in out
