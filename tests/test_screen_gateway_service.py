"""A gateway's own Service in the browser: its traffic is routed by the Gateways whose servers
its pods carry, so the tree names them instead of claiming round-robin to its pods."""

from __future__ import annotations

import shutil
from importlib.resources import files
from pathlib import Path

import yaml

from meshtui.app import MeshApp
from meshtui.sources.files import FilesSource
from test_screen_mesh import select_service
from ui_helpers import wait_for

DEMO = Path(str(files("meshtui.demo")))


def demo_copy(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


async def test_the_ingress_gateway_service_names_the_gateways_that_route_it(tmp_path: Path) -> None:
    app = MeshApp(lambda: FilesSource(str(demo_copy(tmp_path))))
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        text = "\n".join(await select_service(pilot, app, "istio-system", "istio-ingressgateway"))
        assert "No VirtualService routes" not in text and "round-robin" not in text
        assert "istio-ingressgateway is a gateway proxy: it routes by its Gateways' servers" in text
        assert "Gateway bookinfo/bookinfo-gateway" in text
        assert "Gateway istioinaction/catalog-gateway" in text


async def test_a_gateway_no_gateway_selects_says_it_has_nothing_to_route_by(tmp_path: Path) -> None:
    root = demo_copy(tmp_path)
    # Every Istio Gateway now selects another workload: the ingress pods carry no server.
    for path in root.rglob("*.yaml"):
        docs = list(yaml.safe_load_all(path.read_text()))
        if not any(isinstance(d, dict) and d.get("kind") == "Gateway"
                   and d.get("apiVersion", "").startswith("networking.istio.io") for d in docs):
            continue
        for d in docs:
            if isinstance(d, dict) and d.get("kind") == "Gateway" and d["apiVersion"].startswith("networking.istio.io"):
                d["spec"]["selector"] = {"istio": "egressgateway"}
        path.write_text(yaml.safe_dump_all(docs))
    app = MeshApp(lambda: FilesSource(str(root)))
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        text = "\n".join(await select_service(pilot, app, "istio-system", "istio-ingressgateway"))
        assert "no Gateway selects its pods: it has no listener to route by" in text
        assert "round-robin" not in text


async def test_a_service_of_application_pods_is_not_called_a_gateway(tmp_path: Path) -> None:
    app = MeshApp(lambda: FilesSource(str(demo_copy(tmp_path))))
    async with app.run_test(size=(160, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        text = "\n".join(await select_service(pilot, app, "istio-system", "istio-ingressgateway"))
        assert "gateway proxy" in text
        lines = await select_service(pilot, app, "bookinfo", "details")
        assert not any("gateway proxy" in line for line in lines)
