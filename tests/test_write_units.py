"""The pure parts of the write path: edit functions, rule choice, Istio's weight rules, ownership,
the audit file and the choice of the change to undo. Expectations are written by hand."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from write_helpers import catalog_vs

from meshtui.routing.rules import ReleaseError
from meshtui.sources.files import FilesSource
from meshtui.write.audit import AuditEntry, AuditLog, source_id, state_dir
from meshtui.routing.weights import WeightError, pin_weights
from meshtui.write.checks import istio_problems
from meshtui.write.edit_api import (
    Assignment,
    RuleChoiceError,
    parse_assignment,
    pick_rule,
    promote,
    rollback,
    set_weights,
)
from meshtui.write.ownership import owners
from meshtui.write.plan import ChangePlan, RebaseError
from meshtui.write.undo import UndoConflict, plan_undo, restore, undoable


def three_way() -> dict[str, Any]:
    vs = catalog_vs("shop")
    vs["spec"]["http"][1]["route"] = [
        {"destination": {"host": "catalog", "subset": s}, "weight": w} for s, w in (("v1", 50), ("v2", 30), ("v3", 20))
    ]
    return vs


def route_weights(vs: dict[str, Any], rule: int = 1) -> list[int]:
    return [d["weight"] for d in vs["spec"]["http"][rule]["route"]]


# -- edits ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("v2=30", Assignment("v2", 30, False)),
    ("v2=+10", Assignment("v2", 10, True)),
    ("v2=-5", Assignment("v2", -5, True)),
    ("canary-2=0", Assignment("canary-2", 0, False)),
])
def test_parse_assignment(text: str, expected: Assignment) -> None:
    assert parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["v2", "=30", "v2=ten", "v2=+", "v2=1.5"])
def test_parse_assignment_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="SUBSET=WEIGHT"):
        parse_assignment(text)


def test_shift_weights_by_hand() -> None:
    assert pin_weights([50, 30, 20], {0: 20}) == [20, 48, 32]  # 80 shared 30:20
    assert pin_weights([90, 10], {1: 30}) == [70, 30]
    assert pin_weights([50, 30, 20], {0: 40, 2: 40}) == [40, 20, 40]
    with pytest.raises(WeightError, match="add up to 90, not 100"):
        pin_weights([50, 50], {0: 40, 1: 50})


def test_shift_edit_only_touches_the_weights_of_its_rule() -> None:
    vs = three_way()
    new = set_weights("canary", [Assignment("v3", 10, True)]).edit(vs)
    assert route_weights(new) == [44, 26, 30]  # v3 20->30, 70 shared 50:30
    expected = copy.deepcopy(vs)
    for d, w in zip(expected["spec"]["http"][1]["route"], (44, 26, 30)):
        d["weight"] = w
    assert new == expected and route_weights(vs) == [50, 30, 20]  # the input is untouched


def test_shift_edit_clamps_steps() -> None:
    vs = catalog_vs("shop")
    assert route_weights(set_weights("canary", [Assignment("v2", 200, True)]).edit(vs)) == [0, 100]
    assert route_weights(set_weights("canary", [Assignment("v2", -50, True)]).edit(vs)) == [100, 0]


def test_promote_and_rollback_by_hand() -> None:
    vs = three_way()
    assert route_weights(promote("canary", "v3").edit(vs)) == [0, 0, 100]
    assert route_weights(rollback("canary", "v1").edit(vs)) == [100, 0, 0]
    with pytest.raises(ReleaseError, match="no destination 'v9' in rule canary of shop/catalog"):
        promote("canary", "v9").edit(vs)


def test_pick_rule_defaults() -> None:
    vs = catalog_vs("shop")
    assert pick_rule(vs, None) == "canary"  # the only rule with several destinations
    assert pick_rule(vs, "0") == "internal-cohort"
    unnamed = copy.deepcopy(vs)
    for r in unnamed["spec"]["http"]:
        r.pop("name")
    assert pick_rule(unnamed, None) == 1
    # No split anywhere: the default route (last rule without match).
    single = copy.deepcopy(vs)
    single["spec"]["http"][1]["route"].pop()
    assert pick_rule(single, None) == "canary"
    # Two splits, no default route: ask.
    two = copy.deepcopy(vs)
    two["spec"]["http"][0]["route"] = copy.deepcopy(vs["spec"]["http"][1]["route"])
    two["spec"]["http"][1]["match"] = [{"uri": {"prefix": "/"}}]
    with pytest.raises(RuleChoiceError, match="say which with --rule"):
        pick_rule(two, None)
    with pytest.raises(RuleChoiceError, match="no http rule named 'nope'"):
        pick_rule(vs, "nope")


# -- Istio's weight rules ------------------------------------------------------------------------

def test_webhook_rules_for_weights() -> None:
    vs = catalog_vs("shop")
    assert istio_problems(vs) == []
    vs["spec"]["http"][1]["route"][0]["weight"] = -1
    vs["spec"]["http"][1]["route"][1]["weight"] = 5
    assert [str(e) for e in istio_problems(vs)] == ["[IST0106] spec.http[1].route[0].weight: weight -1 < 0"]
    vs["spec"]["http"][1]["route"][0]["weight"] = 0
    vs["spec"]["http"][1]["route"][1]["weight"] = 0
    assert [str(e) for e in istio_problems(vs)] == ["[IST0106] spec.http[1].route: total destination weight = 0"]


# -- ownership -----------------------------------------------------------------------------------

def test_flagger_canary_and_argo_rollout_are_found() -> None:
    vs = catalog_vs("istioinaction")
    canary = {"apiVersion": "flagger.app/v1beta1", "kind": "Canary",
              "metadata": {"name": "catalog", "namespace": "istioinaction"},
              "spec": {"targetRef": {"kind": "Deployment", "name": "catalog"}}}
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
               "metadata": {"name": "catalog-ro", "namespace": "istioinaction"},
               "spec": {"strategy": {"canary": {"trafficRouting": {"istio": {
                   "virtualService": {"name": "catalog", "routes": ["canary"]}}}}}}}
    elsewhere = copy.deepcopy(canary)
    elsewhere["metadata"]["namespace"] = "other"
    found = owners(vs, [canary, rollout, elsewhere])
    assert [(o.kind, o.name) for o in found] == [("flagger", "istioinaction/catalog"),
                                                 ("argo-rollouts", "istioinaction/catalog-ro")]
    assert found[0].explanation == ("Flagger Canary istioinaction/catalog generates this VirtualService and sets "
                                    "its weights at every analysis step: a manual change is reverted")
    assert "of route canary" in found[1].explanation


def test_metadata_owners() -> None:
    vs = catalog_vs("shop")
    vs["metadata"]["labels"] = {"argocd.argoproj.io/instance": "shop-prod",
                                "kustomize.toolkit.fluxcd.io/name": "apps",
                                "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}
    vs["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] = "{}"
    vs["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "gen", "uid": "1",
                                          "controller": True}]
    assert [(o.kind, o.name) for o in owners(vs)] == [
        ("owner-reference", "ConfigMap gen"), ("argocd", "shop-prod"), ("flux", "flux-system/apps"),
        ("kubectl-apply", "kubectl apply")]
    assert owners(catalog_vs("shop")) == []


# -- audit and undo ------------------------------------------------------------------------------

def test_state_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MESHTUI_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "meshtui"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "meshtui"
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "s"))
    assert AuditLog().path == tmp_path / "s" / "audit.jsonl"


def test_audit_lines_are_json_with_the_documented_fields(tmp_path: Path) -> None:
    src = FilesSource(str(tmp_path))
    log = AuditLog(tmp_path / "a" / "audit.jsonl")
    vs = catalog_vs("shop")
    vs["metadata"]["managedFields"] = [{"manager": "kubectl"}]
    log.record(AuditEntry.of("conflict", src, vs, vs, description="d", error="changed"))
    (line,) = (tmp_path / "a" / "audit.jsonl").read_text().splitlines()
    data = json.loads(line)
    assert list(data) == ["id", "time", "user", "source", "source_id", "object", "description", "result",
                          "error", "undoes", "resolves", "before", "after"]
    assert data["object"] == {"kind": "VirtualService", "namespace": "shop", "name": "catalog",
                              "apiVersion": "networking.istio.io/v1"}
    assert data["source_id"] == source_id(src) == f"files:{tmp_path}"
    assert data["time"].endswith("Z") and data["user"]
    assert "managedFields" not in data["before"]["metadata"]


def test_undo_walks_back_and_skips_other_sources(tmp_path: Path) -> None:
    src = FilesSource(str(tmp_path))
    v0 = catalog_vs("shop")
    v1 = set_weights("canary", [Assignment("v2", 20, False)]).edit(v0)
    v2 = set_weights("canary", [Assignment("v2", 30, False)]).edit(v1)
    first = AuditEntry.of("applied", src, v0, v1, description="first")
    second = AuditEntry.of("applied", src, v1, v2, description="second")
    failed = AuditEntry.of("conflict", src, v2, v0, description="failed")
    other = AuditEntry.of("applied", src, v2, v0, description="other source")
    other.source_id = "kube:elsewhere"
    assert undoable([first, second, failed, other], source_id(src)) is second
    undo_second = AuditEntry.of("applied", src, v2, v1, undoes=second.id)
    assert undoable([first, second, undo_second], source_id(src)) is first
    undo_first = AuditEntry.of("applied", src, v1, v0, undoes=first.id)
    assert undoable([first, second, undo_second, undo_first], source_id(src)) is None


def test_undo_plan_keeps_current_metadata_and_refuses_a_foreign_change(tmp_path: Path) -> None:
    src = FilesSource(str(tmp_path))
    v0 = catalog_vs("shop")
    v1 = set_weights("canary", [Assignment("v2", 20, False)]).edit(v0)
    entry = AuditEntry.of("applied", src, v0, v1, description="shift")
    current = copy.deepcopy(v1)
    current["metadata"]["resourceVersion"] = "42"
    plan = plan_undo(src, entry, current)
    assert plan.new["spec"] == v0["spec"] and plan.new["metadata"]["resourceVersion"] == "42"
    assert plan.base is current and plan.undoes == entry.id
    theirs = copy.deepcopy(current)
    theirs["spec"]["http"][1]["timeout"] = "5s"
    with pytest.raises(UndoConflict, match="changed since shift") as info:
        plan_undo(src, entry, theirs)
    assert "+    timeout: 5s" in info.value.diff
    forced = plan_undo(src, entry, theirs, force=True)
    assert forced.new["spec"] == v0["spec"]
    assert restore(v0, theirs)["metadata"] == theirs["metadata"]


def test_rebase_reapplies_the_edit_and_refuses_a_deleted_object(tmp_path: Path) -> None:
    src = FilesSource(str(tmp_path))
    vs = catalog_vs("shop")
    plan = ChangePlan.build(src, vs, set_weights("canary", [Assignment("v2", 10, True)]).edit, "step")
    theirs = copy.deepcopy(vs)
    theirs["spec"]["http"][1]["route"][0]["weight"] = 60
    theirs["spec"]["http"][1]["route"][1]["weight"] = 40
    rebased = plan.rebase(theirs)
    assert route_weights(rebased.new) == [50, 50] and rebased.base is theirs
    with pytest.raises(RebaseError, match="no longer exists"):
        plan.rebase(None)
    gone = copy.deepcopy(vs)
    gone["spec"]["http"][1]["name"] = "renamed"
    with pytest.raises(RebaseError, match="no http rule named 'canary'"):
        plan.rebase(gone)


def test_plan_diff_is_a_unified_yaml_diff_in_key_order(tmp_path: Path) -> None:
    vs = catalog_vs("shop")
    plan = ChangePlan.build(FilesSource(str(tmp_path)), vs, set_weights("canary", [Assignment("v2", 30, False)]).edit, "s")
    assert plan.diff(context=1) == (
        "--- VirtualService shop/catalog (current)\n"
        "+++ VirtualService shop/catalog (new)\n"
        "@@ -25,3 +25,3 @@\n"
        "         subset: v1\n"
        "-      weight: 90\n"
        "+      weight: 70\n"
        "     - destination:\n"
        "@@ -29,2 +29,2 @@\n"
        "         subset: v2\n"
        "-      weight: 10\n"
        "+      weight: 30\n"
    )


def test_diffs_show_the_change_not_the_servers_bookkeeping() -> None:
    """The conflict view and :history diffed resourceVersion/generation churn (issue 12)."""
    from meshtui.write.plan import unified_diff

    before = catalog_vs("istioinaction")
    before["metadata"].update(resourceVersion="41", generation=3)
    after = copy.deepcopy(before)
    after["metadata"].update(resourceVersion="57", generation=4)
    assert unified_diff(before, after, "a", "b") == ""
    after["spec"]["http"][0]["route"][0]["weight"] = 55
    changed = [ln for ln in unified_diff(before, after, "a", "b").splitlines()
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed and all("weight" in ln for ln in changed)
