"""Progressive delivery and other writers: Flagger Canaries and Argo Rollouts beside the
VirtualServices they drive, and the marker on objects a controller or GitOps tool manages."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshtui.model.base import GenericResource
from meshtui.model.index import MeshIndex
from meshtui.model.management import managed_by, managed_hosts, managers
from meshtui.model.parse import parse_object
from meshtui.model.rollouts import ArgoRollout, FlaggerCanary
from meshtui.routing.service_view import service_routes
from meshtui.sandbox.server import Sandbox

MANIFEST = Path(str(files("meshtui.demo"))) / "rollouts.yaml"


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def doc(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name))


@pytest.fixture(scope="module")
def index(docs: list[dict[str, Any]]) -> MeshIndex:
    return MeshIndex(copy.deepcopy(docs))


# -- model ------------------------------------------------------------------------------------

def test_flagger_canary_view(docs: list[dict[str, Any]]) -> None:
    raw = doc(docs, "Canary", "payments")
    canary = parse_object(raw)
    assert isinstance(canary, FlaggerCanary) and canary.raw is raw
    assert (canary.target_kind, canary.target_name, canary.service_port) == ("Deployment", "payments", 80)
    # No spec.service.name: Flagger names the apex service after the target.
    assert (canary.apex_name, canary.primary_name, canary.canary_name) == (
        "payments", "payments-primary", "payments-canary")
    assert (canary.step_weight, canary.max_weight, canary.threshold) == (5, 50, 5)
    assert (canary.phase, canary.canary_weight, canary.failed_checks, canary.iterations) == ("Progressing", 10, 1, 2)
    assert canary.summary == ("Flagger Canary rollouts/payments: Progressing, canary weight 10 %, "
                              "failed checks 1, iteration 2")


def test_argo_rollout_view(docs: list[dict[str, Any]]) -> None:
    ro = parse_object(doc(docs, "Rollout", "checkout"))
    assert isinstance(ro, ArgoRollout)
    assert ro.strategy == "Canary" and len(ro.steps) == 4
    assert [(v.name, v.namespace, v.routes) for v in ro.virtual_services] == [("checkout", None, ["primary"])]
    assert ro.destination_rule is not None
    assert (ro.destination_rule.name, ro.destination_rule.canary_subset, ro.destination_rule.stable_subset) == (
        "checkout", "canary", "stable")
    # What `kubectl argo rollouts get rollout` prints: Step 2/4, SetWeight 20, ActualWeight 20.
    assert (ro.step, ro.set_weight, ro.actual_weight, ro.stable_weight) == ("2/4", 20, 20, 80)
    assert "step 2/4, setWeight 20 %, actual 20 %" in ro.summary
    assert ro.summary.startswith("Argo Rollout rollouts/checkout: ")


def _rollout(steps: list[dict[str, Any]], status: dict[str, Any]) -> ArgoRollout:
    raw = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r", "namespace": "n"},
           "spec": {"strategy": {"canary": {"steps": steps}}}, "status": status}
    view = parse_object(raw)
    assert isinstance(view, ArgoRollout)
    return view


def test_set_weight_follows_argo_rules() -> None:
    steps = [{"setWeight": 10}, {"pause": {}}, {"setWeight": 40}, {"pause": {"duration": "1m"}}]
    # Paused after a setWeight step: that weight still holds.
    assert _rollout(steps, {"currentStepIndex": 1}).set_weight == 10
    assert _rollout(steps, {"currentStepIndex": 3}).set_weight == 40
    # Past the last step the canary is fully promoted; an abort sends everything back to stable.
    assert _rollout(steps, {"currentStepIndex": 4}).set_weight == 100
    assert _rollout(steps, {"currentStepIndex": 3, "abort": True}).set_weight == 0
    # No setWeight reached yet.
    assert _rollout([{"pause": {}}, {"setWeight": 50}], {"currentStepIndex": 0}).set_weight == 0
    # No status at all: no step to show, and no actual weight reported.
    fresh = _rollout(steps, {})
    assert (fresh.step, fresh.actual_weight) == (None, None)


def test_odd_input_never_raises() -> None:
    for raw in ({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "spec": [], "status": "x"},
                {"apiVersion": "flagger.app/v1beta1", "kind": "Canary", "spec": {"service": 3, "analysis": []}},
                {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                 "spec": {"strategy": {"canary": {"trafficRouting": {"istio": {"virtualServices": [1, {}]}}}}}}):
        view = parse_object(raw)
        assert view.raw is raw
    # Same kind name in another group is not a Flagger Canary.
    assert isinstance(parse_object({"apiVersion": "example.com/v1", "kind": "Canary"}), GenericResource)


# -- who else writes an object -------------------------------------------------------------------

def test_rollout_and_argocd_manage_the_checkout_virtualservice(index: MeshIndex) -> None:
    vs = index.get("VirtualService", "rollouts", "checkout")
    reasons = managed_by(vs, index)
    assert len(reasons) == 2
    assert reasons[0].startswith("Argo Rollout rollouts/checkout sets the weights of route primary")
    assert reasons[1].startswith("Argo CD application checkout tracks this object")
    assert [m.kind for m in managers(vs, index)] == ["argo-rollouts", "argocd"]
    dr = index.get("DestinationRule", "rollouts", "checkout")
    assert [m.kind for m in managers(dr, index)] == ["argo-rollouts"]
    assert "subsets canary/stable" in managed_by(dr, index)[0]


def test_flagger_manages_its_virtualservice_and_both_destinationrules(index: MeshIndex) -> None:
    for kind, name in (("VirtualService", "payments"), ("DestinationRule", "payments-primary"),
                       ("DestinationRule", "payments-canary")):
        found = managers(index.get(kind, "rollouts", name), index)
        # The owner reference to the Canary says the same thing: not repeated.
        assert [(m.kind, m.name) for m in found] == [("flagger", "rollouts/payments")], (kind, name)


def test_hand_written_objects_have_no_other_writer(index: MeshIndex) -> None:
    demo = MeshIndex(yaml.safe_load_all((MANIFEST.parent / "istioinaction-catalog.yaml").read_text()))
    assert managed_by(demo.get("VirtualService", "istioinaction", "catalog"), demo) == []
    assert managed_by(index.get("Service", "rollouts", "checkout"), index) == []


def _vs(name: str, ns: str = "shop", labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}, "annotations": annotations or {},
                         **meta},
            "spec": {"hosts": [name], "http": [{"route": [{"destination": {"host": name}}]}]}}


def test_gitops_helm_owner_and_kubectl_apply_markers() -> None:
    objs = [
        _vs("a", labels={"kustomize.toolkit.fluxcd.io/name": "apps",
                         "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
        _vs("b", labels={"helm.toolkit.fluxcd.io/name": "shop", "helm.toolkit.fluxcd.io/namespace": "shop"},
            annotations={"meta.helm.sh/release-name": "shop"}),
        _vs("c", annotations={"argocd.argoproj.io/tracking-id": "shop-app:networking.istio.io/VirtualService:shop/c"}),
        _vs("d", annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}"}),
        _vs("e", ownerReferences=[{"apiVersion": "example.com/v1", "kind": "Widget", "name": "w1",
                                   "uid": "1", "controller": True}]),
        _vs("f", annotations={"meta.helm.sh/release-name": "shop", "meta.helm.sh/release-namespace": "shop"}),
    ]
    index = MeshIndex(objs)
    kinds = {o["metadata"]["name"]: [(m.kind, m.name) for m in managers(o, index)] for o in objs}
    assert kinds == {
        "a": [("flux", "flux-system/apps")],
        # A Flux HelmRelease also leaves Helm's annotations: one writer, named once.
        "b": [("flux", "shop/shop")],
        "c": [("argocd", "shop-app")],
        "d": [("kubectl-apply", "kubectl apply")],
        "e": [("owner-reference", "Widget w1")],
        "f": [("helm", "shop/shop")],
    }
    assert managed_by(objs[4], index)[0].startswith("controlled by Widget w1")
    # The ⚙ marker: controllers, GitOps and Helm count; kubectl apply's annotation alone does not.
    assert managed_hosts(index) == {f"{n}.shop.svc.cluster.local" for n in "abcef"}


def test_rollout_in_another_namespace_names_the_virtualservice_as_name_dot_namespace() -> None:
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r", "namespace": "apps"},
               "spec": {"strategy": {"canary": {"trafficRouting": {"istio": {
                   "virtualServices": [{"name": "front.edge", "routes": ["a", "b"]}, {"name": "local"}]}}}}}}
    index = MeshIndex([rollout, _vs("front", "edge"), _vs("front", "apps"), _vs("local", "apps")])
    assert "of routes a, b" in managed_by(index.get("VirtualService", "edge", "front"), index)[0]
    assert managed_by(index.get("VirtualService", "apps", "front"), index) == []
    assert managed_by(index.get("VirtualService", "apps", "local"), index)[0].startswith("Argo Rollout apps/r sets")


def test_service_view_carries_rollout_and_managers(index: MeshIndex) -> None:
    checkout = service_routes(index, index.get("Service", "rollouts", "checkout")).virtual_services
    assert [v.name for v in checkout] == ["checkout"]
    assert checkout[0].rollout is not None and "step 2/4, setWeight 20 %, actual 20 %" in checkout[0].rollout
    assert len(checkout[0].managers) == 2
    payments = service_routes(index, index.get("Service", "rollouts", "payments")).virtual_services
    assert payments[0].rollout == ("Flagger Canary rollouts/payments: Progressing, canary weight 10 %, "
                                   "failed checks 1, iteration 2")
    assert managed_hosts(index) >= {"checkout.rollouts.svc.cluster.local", "payments.rollouts.svc.cluster.local",
                                    "payments-primary.rollouts.svc.cluster.local"}


# -- the kube source on the sandbox --------------------------------------------------------------

@pytest.fixture(scope="module")
def kube_source(sandbox: Sandbox) -> Iterator[Any]:
    from meshtui.sources.kube import KubeSource

    src = KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path))
    yield src
    src.close()


def test_kube_source_reads_canaries_and_rollouts(sandbox: Sandbox, kube_source: Any) -> None:
    from kubernetes import client, config

    snap = kube_source.snapshot()
    assert snap.errors == []
    got = {(o["kind"], o["apiVersion"], o["metadata"]["namespace"], o["metadata"]["name"])
           for o in snap.objects if o["kind"] in ("Canary", "Rollout")}
    assert got == {("Canary", "flagger.app/v1beta1", "rollouts", "payments"),
                   ("Rollout", "argoproj.io/v1alpha1", "rollouts", "checkout")}
    # The same objects, status included, as the official client lists them.
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    try:
        custom = client.CustomObjectsApi(api)
        canary = custom.get_namespaced_custom_object("flagger.app", "v1beta1", "rollouts", "canaries", "payments")
        rollout = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", "rollouts", "rollouts", "checkout")
    finally:
        api.close()
    read = {o["kind"]: o for o in snap.objects if o["kind"] in ("Canary", "Rollout")}
    assert read["Canary"]["status"] == canary["status"]
    assert read["Rollout"]["status"]["canary"]["weights"] == rollout["status"]["canary"]["weights"]
    index = MeshIndex(snap.objects)
    assert managed_by(index.get("VirtualService", "rollouts", "checkout"), index)[0].startswith(
        "Argo Rollout rollouts/checkout")


# -- the mesh screen ---------------------------------------------------------------------------

async def test_route_tree_shows_the_rollout_beside_its_virtualservice(sandbox: Sandbox) -> None:
    from meshtui.app import MeshApp
    from meshtui.sources.kube import KubeSource
    from meshtui.widgets.mesh_tree import MeshTree
    from meshtui.widgets.route_tree import RouteTree
    from ui_helpers import tree_lines, wait_for

    async def select_service(pilot: Any, app: Any, namespace: str, name: str) -> list[str]:
        """Walk the browser with the keyboard onto a service (opening its namespace)."""
        tree = app.screen.query_one(MeshTree)
        tree.focus()
        await pilot.press("home")
        for _ in range(200):
            node = tree.cursor_node
            if node is not None and node.data == ("svc", "Service", namespace, name):
                break
            if node is not None and node.data == ("ns", namespace) and not node.is_expanded:
                await pilot.press("space")
            await pilot.press("down")
        else:
            raise AssertionError(f"service {namespace}/{name} not reachable with the keyboard")
        await pilot.pause()
        return tree_lines(app.screen.query_one(RouteTree))

    app = MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path)))
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None and app.index.count("Rollout") == 1)
        lines = await select_service(pilot, app, "rollouts", "checkout")
        vs_at = next(i for i, line in enumerate(lines) if line.startswith("VirtualService rollouts/checkout"))
        rule_at = next(i for i, line in enumerate(lines) if line.startswith("http[0]"))
        rollout_line = next(line for line in lines if line.startswith("⚙ Argo Rollout rollouts/checkout"))
        assert "step 2/4, setWeight 20 %, actual 20 %" in rollout_line
        # Under the VirtualService node, before its rules.
        assert vs_at < lines.index(rollout_line) < rule_at
        assert any(line.startswith("⚙ managed: Argo CD application checkout") for line in lines)
        tree = app.screen.query_one(MeshTree)
        assert "⚙" in tree.node_for(("Service", "rollouts", "checkout")).label.plain
        assert "⚙" in tree.node_for(("Service", "rollouts", "payments")).label.plain
        assert "⚙" not in tree.node_for(("Service", "istioinaction", "catalog")).label.plain
        lines = await select_service(pilot, app, "rollouts", "payments")
        assert ("⚙ Flagger Canary rollouts/payments: Progressing, canary weight 10 %, failed checks 1, "
                "iteration 2") in lines


async def test_rollout_line_follows_the_controller_live(sandbox: Sandbox, docs: list[dict[str, Any]]) -> None:
    """The Rollout's controller moves to the next step: the open route tree says so, unprompted."""
    from kubernetes import client, config

    from meshtui.app import MeshApp
    from meshtui.sources.kube import KubeSource
    from meshtui.widgets.mesh_tree import MeshTree
    from meshtui.widgets.route_tree import RouteTree
    from ui_helpers import tree_lines, wait_for

    ns = "ro-live"
    api = config.new_client_from_config(str(sandbox.kubeconfig_path), persist_config=False)
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    core.create_namespace({"metadata": {"name": ns}})
    try:
        for kind in ("Service", "VirtualService", "Rollout"):
            obj = doc(docs, kind, "checkout")
            obj["metadata"]["namespace"] = ns
            if kind == "Service":
                core.create_namespaced_service(ns, obj)
            elif kind == "VirtualService":
                custom.create_namespaced_custom_object("networking.istio.io", "v1", ns, "virtualservices", obj)
            else:
                custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", ns, "rollouts", obj)
        app = MeshApp(lambda: KubeSource.from_kubeconfig(str(sandbox.kubeconfig_path)))
        async with app.run_test(size=(160, 50)) as pilot:
            tree = app.screen.query_one(MeshTree)
            await wait_for(pilot, lambda: app.index is not None and app.index.get("Rollout", ns, "checkout") is not None
                           and tree.node_for(("Service", ns, "checkout")) is not None)
            tree.select_node(tree.node_for(("Service", ns, "checkout")))

            def rollout_line() -> str:
                return next((ln for ln in tree_lines(app.screen.query_one(RouteTree))
                             if ln.startswith(f"⚙ Argo Rollout {ns}/checkout")), "")

            await wait_for(pilot, lambda: "step 2/4, setWeight 20 %" in rollout_line())
            # What the controller does after the pause: next step, same weight until step 4.
            custom.patch_namespaced_custom_object_status(
                "argoproj.io", "v1alpha1", ns, "rollouts", "checkout",
                {"status": {"currentStepIndex": 3, "phase": "Paused"}})
            await wait_for(pilot, lambda: "Paused, step 3/4, setWeight 20 %, actual 20 %" in rollout_line())
    finally:
        core.delete_namespace(ns)
        api.close()
