"""The `:pods` view against the sandbox, read as a user reads it, beside `kubectl get pods`."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from kubernetes import client, config

from meshtui.app import MeshApp
from meshtui.widgets.big_table import BigTable
from ui_helpers import wait_for

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not on PATH")


def table_lines(table: BigTable) -> list[str]:
    """Every line the table draws (header first), as text."""
    return ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]


async def test_pods_ready_is_kubectls_and_age_keeps_counting(sandbox: Any) -> None:
    from meshtui.sources.kube import KubeSource

    out = subprocess.run(["kubectl", "--kubeconfig", str(sandbox.kubeconfig_path), "get", "pods", "-n", "bookinfo",
                          "--no-headers"], capture_output=True, text=True, timeout=60, check=True).stdout
    kubectl_ready = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.strip()}
    assert kubectl_ready and all("/" in r for r in kubectl_ready.values())
    app = MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path)))
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        await pilot.press("colon", *"pods", "enter")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
        table = app.screen.query_one(BigTable)
        await pilot.press("slash", *"^bookinfo ", "enter")
        await wait_for(pilot, lambda: table.row_count == len(kubectl_ready))
        header = table_lines(table)[0].replace("▲", "").replace("▼", "").split()
        ready_col = header.index("READY")
        shown = {cells.split()[1]: cells.split()[ready_col] for cells in table_lines(table)[1:]
                 if cells.strip()}
        assert shown == kubectl_ready
        # A pod made now (by the official client, an independent writer): its AGE counts seconds.
        api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
        try:
            core = client.CoreV1Api(api)
            core.create_namespace({"metadata": {"name": "age-view"}})
            core.create_namespaced_pod("age-view", {"metadata": {"name": "fresh"},
                                                    "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
            await pilot.press("escape", "escape")
            await wait_for(pilot, lambda: app.index is not None and app.index.get("Pod", "age-view", "fresh") is not None)
            await pilot.press("colon", *"pods", "enter")
            await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
            table = app.screen.query_one(BigTable)
            await pilot.press("slash", *"^age-view ", "enter")
            await wait_for(pilot, lambda: table.row_count == 1)
            at = table_lines(table)[0].index("AGE")  # empty cells (no IP yet) shift a split()

            def age_shown() -> str:
                return table_lines(table)[1][at:].split()[0]

            first_age = age_shown()
            assert first_age.endswith("s")
            await wait_for(pilot, lambda: age_shown() != first_age, timeout=10)
        finally:
            client.CoreV1Api(api).delete_namespace("age-view")
            api.close()
