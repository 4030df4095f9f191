"""``meshtui shift|promote|rollback httproute/NAME`` on a copy of the demo manifests (files mode,
byte-exact), and the Gateway API writers (Flagger's Gateway API provider, Argo Rollouts' Gateway
API plugin) recognised as managing the weights."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
import yaml

import meshtui
from meshtui.cli import main
from meshtui.model.index import MeshIndex
from meshtui.routing.gateway_api_view import route_view
from meshtui.write.audit import AuditLog

DEMO = Path(meshtui.__file__).parent / "demo"
FILE = "storefront-gateway-api.yaml"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return AuditLog()


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def changed_lines(before: str, after: str) -> list[str]:
    return [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def backend_weights(path: Path, name: str, rule: int) -> list[int | None]:
    route = next(d for d in yaml.safe_load_all(path.read_text())
                 if d["kind"] == "HTTPRoute" and d["metadata"]["name"] == name)
    return [b.get("weight") for b in route["spec"]["rules"][rule]["backendRefs"]]


def test_shift_an_httproute_on_a_100_scale_changes_only_the_weight_lines(demo_dir: Path, state: AuditLog) -> None:
    before = (demo_dir / FILE).read_text()
    assert main(["shift", "httproute/cart.storefront", "cart-v2=+10", "--files", str(demo_dir), "--yes"]) == 0
    after = (demo_dir / FILE).read_text()
    assert changed_lines(before, after) == ["-          weight: 90", "+          weight: 80",
                                            "-          weight: 10", "+          weight: 20"]
    assert [e.result for e in state.entries()] == ["applied"]
    # undo puts the file back byte for byte.
    assert main(["undo", "--files", str(demo_dir), "--yes"]) == 0
    assert (demo_dir / FILE).read_text() == before


def test_a_9_1_route_keeps_its_scale_or_is_written_on_100(demo_dir: Path, state: AuditLog,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = demo_dir / FILE
    assert main(["shift", "httproute/web.storefront", "cart-v2=20", "--files", str(demo_dir), "--yes"]) == 0
    assert backend_weights(path, "web", 0) == [8, 2]
    # 35 % is not expressible on a scale of 10: --scale file refuses, auto and 100 write 65/35.
    assert main(["shift", "httproute/web.storefront", "cart-v2=35", "--scale", "file", "--files", str(demo_dir),
                 "--yes"]) == 1
    assert "cannot be written on the rule's own scale of 10" in capsys.readouterr().err
    assert backend_weights(path, "web", 0) == [8, 2]
    assert main(["shift", "httproute/web.storefront", "cart-v2=30", "--scale", "100", "--files", str(demo_dir),
                 "--yes"]) == 0
    assert backend_weights(path, "web", 0) == [70, 30]


def test_promote_and_rollback_an_httproute(demo_dir: Path, state: AuditLog) -> None:
    path = demo_dir / FILE
    assert main(["promote", "hr/cart.storefront", "cart-v2", "--files", str(demo_dir), "--yes"]) == 0
    assert backend_weights(path, "cart", 1) == [0, 100]
    assert main(["rollback", "httproute/cart.storefront", "cart-v1", "--files", str(demo_dir), "--yes"]) == 0
    assert backend_weights(path, "cart", 1) == [100, 0]


def test_a_name_both_kinds_share_is_a_usage_error_naming_both(demo_dir: Path, state: AuditLog,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    before = (demo_dir / FILE).read_text()
    assert main(["shift", "payments.storefront", "payments-v2=10", "--files", str(demo_dir), "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("meshtui: ") and len(err.strip().splitlines()) == 1
    assert "HTTPRoute storefront/payments" in err and "VirtualService storefront/payments" in err
    assert (demo_dir / FILE).read_text() == before
    # A bare name only an HTTPRoute has is that HTTPRoute.
    assert main(["shift", "cart.storefront", "cart-v2=30", "--files", str(demo_dir), "--yes"]) == 0
    assert backend_weights(demo_dir / FILE, "cart", 1) == [70, 30]


def test_unknown_backend_is_refused_with_the_backends_it_has(demo_dir: Path, state: AuditLog,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shift", "httproute/cart.storefront", "cart-v9=10", "--files", str(demo_dir), "--yes"]) == 1
    assert "no backendRef 'cart-v9'" in capsys.readouterr().err


def _route(name: str) -> dict:
    return {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": name}],
                     "rules": [{"backendRefs": [{"name": f"{name}-primary", "port": 80, "weight": 100},
                                                {"name": f"{name}-canary", "port": 80, "weight": 0}]}]}}


def test_flagger_gateway_api_and_argo_plugin_manage_the_route_weights() -> None:
    canary = {"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "metadata": {"name": "podinfo", "namespace": "shop"},
              "spec": {"provider": "gatewayapi:v1", "targetRef": {"kind": "Deployment", "name": "podinfo"}}}
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "checkout",
                                                                                      "namespace": "shop"},
               "spec": {"strategy": {"canary": {"trafficRouting": {"plugins": {"argoproj-labs/gatewayAPI": {
                   "httpRoute": "checkout", "namespace": "shop"}}}}}}}
    index = MeshIndex([canary, rollout, _route("podinfo"), _route("checkout"), _route("plain")])
    podinfo = route_view(index, index.get("HTTPRoute", "shop", "podinfo"))
    assert any(m.startswith("Flagger Canary shop/podinfo") and "HTTPRoute" in m for m in podinfo.managers)
    checkout = route_view(index, index.get("HTTPRoute", "shop", "checkout"))
    assert any(m.startswith("Argo Rollout shop/checkout (Gateway API plugin)") for m in checkout.managers)
    assert route_view(index, index.get("HTTPRoute", "shop", "plain")).managers == []
    # Flagger with its Istio provider writes a VirtualService, not the HTTPRoute.
    canary["spec"]["provider"] = "istio"
    assert route_view(MeshIndex([canary, _route("podinfo")]),
                      MeshIndex([canary, _route("podinfo")]).get("HTTPRoute", "shop", "podinfo")).managers == []
