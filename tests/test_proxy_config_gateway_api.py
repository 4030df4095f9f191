"""What the sandbox's Envoy (and the generated config of files mode) holds for a mesh HTTPRoute:
the routes istiod converts it to, so `proxy-config routes` shows the HTTPRoute split."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import meshtui
from meshtui.cli import main
from meshtui.envoy.generate import generate_config_dump
from meshtui.model.index import MeshIndex
from meshtui.sandbox import scenario
from meshtui.sandbox.kinds import BY_PLURAL
from meshtui.sandbox.store import Store

DEMO = Path(meshtui.__file__).parent / "demo"
V1 = "outbound|8080||cart-v1.storefront.svc.cluster.local"
V2 = "outbound|8080||cart-v2.storefront.svc.cluster.local"


def _cart_routes(dump: dict[str, Any]) -> list[dict[str, Any]]:
    for config in dump["configs"]:
        for rc in config.get("dynamic_route_configs") or []:
            for vh in rc["route_config"].get("virtual_hosts") or []:
                if vh["name"] == "cart.storefront.svc.cluster.local:8080":
                    return vh["routes"]
    raise AssertionError("no virtual host for cart:8080")


def test_generated_routes_of_a_gamma_httproute_are_istios_conversion() -> None:
    store = Store()
    scenario.load_demo(store)
    index = MeshIndex(o for t in BY_PLURAL.values() for o in store.list(t.key))
    web = next(p for p in index.pods if p.namespace == "storefront" and p.labels.get("app") == "web")
    routes = _cart_routes(generate_config_dump(index, "storefront", web.name))
    # Header match first (Gateway API precedence), named as the rules are; the split weighted.
    assert [r.get("name") for r in routes] == ["canary-header", "split"]
    assert routes[0]["match"]["headers"][0]["name"] == "x-canary"
    assert routes[0]["route"]["cluster"] == V2
    weighted = {c["name"]: c["weight"] for c in routes[1]["route"]["weighted_clusters"]["clusters"]}
    assert weighted == {V1: 90, V2: 10}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")
def test_proxy_config_routes_wide_shows_the_httproute_split(sandbox: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pod = subprocess.run(["kubectl", "--kubeconfig", str(sandbox.kubeconfig_path), "get", "pods", "-n", "storefront",
                          "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert main(["proxy-config", "routes", f"{pod}.storefront", "--kubeconfig", str(sandbox.kubeconfig_path),
                 "--wide"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "cart.storefront.svc.cluster.local:8080" in line]
    split = next(line for line in lines if f"{V1}:90" in line)
    assert f"{V2}:10" in split
    assert any("x-canary=true" in line and f"{V2}:100" in line for line in lines)
    assert main(["proxy-config", "routes", f"{pod}.storefront", "--kubeconfig", str(sandbox.kubeconfig_path),
                 "-o", "json"]) == 0
    names = {r.get("name") for rc in json.loads(capsys.readouterr().out) for vh in rc["virtualHosts"]
             if vh["name"] == "cart.storefront.svc.cluster.local:8080" for r in vh["routes"]}
    assert names == {"canary-header", "split"}
