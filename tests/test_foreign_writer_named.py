"""Issue 12 point 3, second half: a change another writer made is named — after the field
manager the API server recorded (kubectl's ``kubectl-patch``…) or, in files mode, after the file
— in the route editor's notice and in a write's conflict; meshtui's own writes carry the field
manager ``meshtui`` (read back with kubectl)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from kubernetes import client
from test_screen_editor import demo_dir, files_app, get_vs, kube_app, notes, open_editor_at, seed_backend  # noqa: F401
from ui_helpers import wait_for

from meshtui.sources.base import ConflictError
from meshtui.sources.kube import KubeSource

_ = demo_dir  # the fixture, imported for the files-mode test


def kubectl(sandbox: Any, *args: str) -> str:
    return subprocess.run(["kubectl", "--kubeconfig", str(sandbox.kubeconfig_path), *args], check=True,
                          capture_output=True, text=True, timeout=30).stdout


def add_timeout_with_kubectl(sandbox: Any, ns: str) -> None:
    """A colleague's change: a timeout on the canary-header rule, with kubectl patch."""
    patch = [{"op": "add", "path": "/spec/http/0/timeout", "value": "5s"}]
    kubectl(sandbox, "patch", "virtualservice", "backend-service", "-n", ns, "--type", "json", "-p", json.dumps(patch))


async def test_the_editor_names_kubectl_as_the_writer_of_a_change_under_pending_edits(sandbox: Any) -> None:
    _api, ns = seed_backend(str(sandbox.kubeconfig_path), "foreign")
    app = kube_app(sandbox)
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, ns, "backend-service", ("dest", 2, 0))
        await pilot.press("right")  # a pending edit: v0 90 -> 95
        pending = app.screen.query_one("#editor-pending")
        await wait_for(pilot, lambda: str(pending.render()).startswith("pending (1)"))
        add_timeout_with_kubectl(sandbox, ns)
        await wait_for(pilot, lambda: "the VirtualService changed at the source by kubectl-patch (Update, "
                       in notes(app))
        assert "your pending edits now apply on top of the new version" in notes(app)
        assert str(pending.render()).startswith("pending (1)")


async def test_the_editor_names_the_file_a_change_was_made_in(demo_dir: Path) -> None:  # noqa: F811
    app = files_app(demo_dir)
    manifest = demo_dir / "default-backend-service.yaml"
    async with app.run_test(notifications=True, size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "default", "backend-service", ("dest", 2, 0))
        await pilot.press("right")
        pending = app.screen.query_one("#editor-pending")
        await wait_for(pilot, lambda: str(pending.render()).startswith("pending (1)"))
        manifest.write_text(manifest.read_text().replace("timeout: 5s", "timeout: 7s"))
        await wait_for(pilot, lambda: "changed at the source in default-backend-service.yaml document " in notes(app))


def test_a_conflict_names_the_other_writer_and_our_writes_carry_our_manager(sandbox: Any) -> None:
    api, ns = seed_backend(str(sandbox.kubeconfig_path), "foreign-cli")
    source = KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path))
    try:
        base = get_vs(api, ns)
        add_timeout_with_kubectl(sandbox, ns)
        edited = json.loads(json.dumps(base))
        edited["spec"]["http"][2]["route"][0]["weight"] = 80
        edited["spec"]["http"][2]["route"][1]["weight"] = 20
        try:
            source.apply(edited, base=base)
        except ConflictError as exc:
            said = str(exc)
        else:
            raise AssertionError("a write over a stale resourceVersion was accepted")
        assert "by kubectl-patch (Update, " in said and "nothing was written" in said
        # Our own write is recorded under the field manager meshtui, beside kubectl's.
        current = get_vs(api, ns)
        edited["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        edited["spec"]["http"][0]["timeout"] = "5s"
        source.apply(edited, base=current)
        managers = kubectl(sandbox, "get", "virtualservice", "backend-service", "-n", ns, "--show-managed-fields",
                           "-o", "jsonpath={.metadata.managedFields[*].manager}").split()
        assert "meshtui" in managers and "kubectl-patch" in managers
    finally:
        source.close()
        client.CoreV1Api(api).delete_namespace(ns)
