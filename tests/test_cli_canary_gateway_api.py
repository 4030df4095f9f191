"""``meshtui canary httproute/NAME`` and ``--verify`` after ``meshtui shift httproute/NAME`` against
the sandbox: the demo's GAMMA HTTPRoute ``storefront/cart`` (rule ``split``, 90/10 over the
per-version Services cart-v1 / cart-v2) is stepped through the Gateway API edit API, gated on the
per-version Services' traffic; a verdict is given on an HTTPRoute shift; a route Flagger's Gateway
API provider drives is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.cli import main
from meshtui.sandbox.server import Sandbox

pytestmark = pytest.mark.timeout(180)

FAST = ["--step", "20", "--max", "50", "--interval", "1.5s", "--min-requests", "10", "--yes"]


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A demo sandbox of this module's own, busy enough for 1.5 s gates."""
    box = Sandbox(traffic_rps=300, traffic_seed=5).start()
    box.write_kubeconfig(tmp_path_factory.mktemp("canary-gw") / "kubeconfig")
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="module")
def custom(sb: Sandbox) -> client.CustomObjectsApi:
    """The official client, straight to the sandbox."""
    return client.CustomObjectsApi(config.new_client_from_config(str(sb.kubeconfig_path), persist_config=False))


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An audit log of the test's own, for in-process and subprocess runs alike."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return {**os.environ, "MESHTUI_STATE_DIR": str(tmp_path / "state"), "HOME": str(tmp_path)}


def cart(custom: client.CustomObjectsApi) -> dict[str, Any]:
    return custom.get_namespaced_custom_object("gateway.networking.k8s.io", "v1", "storefront", "httproutes", "cart")


def split_weights(custom: client.CustomObjectsApi) -> dict[str, int]:
    """The ``split`` rule's weights by backend."""
    rule = next(r for r in cart(custom)["spec"]["rules"] if r.get("name") == "split")
    return {b["name"]: b.get("weight", 1) for b in rule["backendRefs"]}


@pytest.fixture
def start(custom: client.CustomObjectsApi) -> None:
    """cart's split at 90/10 before each test."""
    route = cart(custom)
    rule = next(r for r in route["spec"]["rules"] if r.get("name") == "split")
    for b in rule["backendRefs"]:
        b["weight"] = 90 if b["name"] == "cart-v1" else 10
    custom.replace_namespaced_custom_object("gateway.networking.k8s.io", "v1", "storefront", "httproutes", "cart",
                                            route)


def applied(env: dict[str, str]) -> list[str]:
    path = Path(env["MESHTUI_STATE_DIR"]) / "audit.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [e["description"] for e in entries if e["result"] == "applied"]


def test_a_healthy_httproute_canary_reaches_max_through_the_edit_api(
        sb: Sandbox, custom: client.CustomObjectsApi, env: dict[str, str], start: None) -> None:
    done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "httproute/cart.storefront", "--to", "cart-v2",
                           "--kubeconfig", str(sb.kubeconfig_path), *FAST, "--threshold", "5"],
                          capture_output=True, text=True, env=env, timeout=150)
    assert done.returncode == 0, done.stderr
    assert split_weights(custom) == {"cart-v1": 50, "cart-v2": 50}
    assert "reached cart-v2=50" in done.stdout and done.stdout.count("— passed") == 2
    assert done.stdout.count("at cart-v2=30 (logs): ") + done.stdout.count("at cart-v2=50 (logs): ") >= 2
    assert "meshtui promote httproute/cart.storefront cart-v2" in done.stdout
    # Gated on the per-version Services' traffic of the rule, as the logs basis counts it.
    assert "measured logs: outbound lines of rule split to cart.storefront.svc.cluster.local" in done.stdout
    assert applied(env) == ["canary step 1/2: cart-v2=30 (rule split)", "canary step 2/2: cart-v2=50 (rule split)"]


def test_verify_after_an_httproute_shift_gives_a_verdict(
        sb: Sandbox, custom: client.CustomObjectsApi, env: dict[str, str], start: None,
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["shift", "httproute/cart.storefront", "cart-v2=40", "--yes", "--verify", "4",
                 "--kubeconfig", str(sb.kubeconfig_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert split_weights(custom) == {"cart-v1": 60, "cart-v2": 40}
    verdict = next(line for line in out.splitlines() if line.startswith("outcome:"))
    assert "converged" in verdict and "cart-v2 " in verdict and "weight 40" in verdict


def test_a_route_flaggers_gateway_api_provider_drives_is_refused(
        sb: Sandbox, custom: client.CustomObjectsApi, env: dict[str, str], start: None) -> None:
    canary = {"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
              "metadata": {"name": "cart", "namespace": "storefront"},
              "spec": {"provider": "gatewayapi:v1", "targetRef": {"kind": "Deployment", "name": "cart"}}}
    custom.create_namespaced_custom_object("flagger.app", "v1beta1", "storefront", "canaries", canary)
    try:
        done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "httproute/cart.storefront", "--to",
                               "cart-v2", "--kubeconfig", str(sb.kubeconfig_path), *FAST],
                              capture_output=True, text=True, env=env, timeout=60)
    finally:
        custom.delete_namespaced_custom_object("flagger.app", "v1beta1", "storefront", "canaries", "cart")
    assert done.returncode == 2
    assert "refused" in done.stderr and "Flagger" in done.stderr and "--ignore-owner" in done.stderr
    assert applied(env) == [] and split_weights(custom) == {"cart-v1": 90, "cart-v2": 10}


def test_an_unknown_backend_is_a_usage_error_naming_the_backends(sb: Sandbox, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "httproute/cart.storefront", "--to", "cart-v9",
                           "--kubeconfig", str(sb.kubeconfig_path), *FAST], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2
    assert "no backendRef 'cart-v9'" in done.stderr and "cart-v1, cart-v2" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_name_both_kinds_share_is_a_usage_error_naming_both(sb: Sandbox, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "meshtui", "canary", "payments.storefront", "--to", "payments-v2",
                           "--kubeconfig", str(sb.kubeconfig_path), *FAST], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 2
    assert "is ambiguous" in done.stderr and "HTTPRoute storefront/payments" in done.stderr
    assert "VirtualService storefront/payments" in done.stderr and applied(env) == []
