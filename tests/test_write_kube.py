"""The write path against the sandbox through the kube source; every result is read back with the
official client, and another writer changes objects with it between our read and our write."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from write_helpers import add_timeout, admin_client, get_vs, seed_catalog, weights

from meshtui.cli import main
from meshtui.sandbox.kubeconfig import READONLY_CONTEXT
from meshtui.sandbox.server import Sandbox
from meshtui.sources.base import ObjectKey
from meshtui.sources.kube import KubeSource
from meshtui.write.apply import Writer, find_object
from meshtui.write.audit import AuditLog
from meshtui.write.edit_api import Assignment, set_weights
from meshtui.write.plan import ChangePlan


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    """A private audit log (MESHTUI_STATE_DIR), as the commands find it."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return AuditLog()


@pytest.fixture
def kubeconfig(sandbox: Sandbox) -> str:
    return str(sandbox.kubeconfig_path)


@pytest.fixture
def api(kubeconfig: str) -> Iterator[client.ApiClient]:
    a = admin_client(kubeconfig)
    yield a
    a.close()


@pytest.fixture
def source(kubeconfig: str) -> Iterator[KubeSource]:
    src = KubeSource.from_kubeconfig(kubeconfig)
    yield src
    src.close()


def plan_for(source: KubeSource, ns: str, *assignments: Assignment) -> ChangePlan:
    objects = source.snapshot().objects
    vs = find_object(objects, ObjectKey("VirtualService", ns, "catalog"))
    assert vs is not None
    return ChangePlan.build(source, vs, set_weights("canary", list(assignments)).edit, "shift", objects)


def test_shift_90_10_to_70_30_is_applied_and_read_back(api: client.ApiClient, kubeconfig: str, state: AuditLog,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    ns = seed_catalog(api)
    before = get_vs(api, ns)
    assert main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", kubeconfig, "--yes"]) == 0
    after = get_vs(api, ns)
    assert weights(after) == [70, 30]
    # Only the weights changed: the dark-launch rule, hosts and annotations are as they were.
    expected = copy.deepcopy(before["spec"])
    expected["http"][1]["route"][0]["weight"] = 70
    expected["http"][1]["route"][1]["weight"] = 30
    assert after["spec"] == expected
    assert after["metadata"]["annotations"] == {"owner": "team-catalog"}
    out = capsys.readouterr().out
    assert "-      weight: 90\n+      weight: 70\n" in out and out.rstrip().endswith("(shift v2=30 (rule canary))")
    [entry] = list(state.entries())
    assert (entry.result, entry.key) == ("applied", ObjectKey("VirtualService", ns, "catalog"))
    assert entry.before["spec"] == before["spec"] and entry.after["spec"] == after["spec"]


def test_step_rebalances_the_others(api: client.ApiClient, kubeconfig: str, state: AuditLog) -> None:
    ns = seed_catalog(api)
    assert main(["shift", f"catalog.{ns}", "v2=+15", "--kubeconfig", kubeconfig, "--yes"]) == 0
    assert weights(get_vs(api, ns)) == [75, 25]
    assert main(["shift", f"catalog.{ns}", "v1=-100", "--kubeconfig", kubeconfig, "--yes"]) == 0
    assert weights(get_vs(api, ns)) == [0, 100]


def test_dry_run_writes_nothing_and_is_audited(api: client.ApiClient, kubeconfig: str, state: AuditLog) -> None:
    ns = seed_catalog(api)
    rv = get_vs(api, ns)["metadata"]["resourceVersion"]
    assert main(["shift", f"catalog.{ns}", "v2=50", "--kubeconfig", kubeconfig, "--dry-run"]) == 0
    assert get_vs(api, ns)["metadata"]["resourceVersion"] == rv
    assert [e.result for e in state.entries()] == ["dry-run"]


def test_concurrent_change_is_a_conflict_then_rebase_loses_no_update(
        api: client.ApiClient, source: KubeSource, state: AuditLog) -> None:
    ns = seed_catalog(api)
    plan = plan_for(source, ns, Assignment("v2", 30, False))
    # Another writer adds a timeout to the canary rule after we read the object.
    add_timeout(api, ns)
    theirs = get_vs(api, ns)
    writer = Writer(state)
    outcome = writer.run(plan)
    assert (outcome.result, outcome.exit_code) == ("conflict", 3)
    assert get_vs(api, ns) == theirs  # nothing written
    assert outcome.conflict is not None and "+    timeout: 5s" in outcome.conflict.their_changes()
    rebased = outcome.conflict.rebase()
    again = writer.run(rebased)
    assert again.result == "applied", again.message
    now = get_vs(api, ns)
    assert weights(now) == [70, 30] and now["spec"]["http"][1]["timeout"] == "5s"
    assert [e.result for e in state.entries()] == ["conflict", "applied"]


def test_read_only_context_exits_4_with_the_reason(api: client.ApiClient, kubeconfig: str, state: AuditLog,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ns = seed_catalog(api)
    before = get_vs(api, ns)
    code = main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", kubeconfig, "--context", READONLY_CONTEXT,
                 "--yes"])
    assert code == 4
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("meshtui: read-only") and "nothing was written" in err
    assert get_vs(api, ns) == before
    assert [e.result for e in state.entries()] == ["forbidden"]


def test_read_only_flag_exits_4(api: client.ApiClient, kubeconfig: str, state: AuditLog) -> None:
    ns = seed_catalog(api)
    assert main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", kubeconfig, "--read-only", "--yes"]) == 4
    assert weights(get_vs(api, ns)) == [90, 10]


def test_weight_over_100_exits_1_and_writes_nothing(api: client.ApiClient, kubeconfig: str, state: AuditLog,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ns = seed_catalog(api)
    assert main(["shift", f"catalog.{ns}", "v2=150", "--kubeconfig", kubeconfig, "--yes"]) == 1
    assert "weight 150" in capsys.readouterr().err
    assert weights(get_vs(api, ns)) == [90, 10]
    assert [(e.result, e.after) for e in state.entries()] == [("invalid", None)]


def test_negative_weight_is_blocked_by_istio_validation(api: client.ApiClient, source: KubeSource,
                                                        state: AuditLog) -> None:
    ns = seed_catalog(api)
    objects = source.snapshot().objects
    vs = find_object(objects, ObjectKey("VirtualService", ns, "catalog"))
    assert vs is not None

    def negative(obj: dict) -> dict:
        new = copy.deepcopy(obj)
        new["spec"]["http"][1]["route"][0]["weight"] = -10
        new["spec"]["http"][1]["route"][1]["weight"] = 110
        return new

    outcome = Writer(state).run(ChangePlan.build(source, vs, negative, "negative", objects))
    assert (outcome.result, outcome.exit_code) == ("invalid", 1)
    assert "weight -10 < 0" in outcome.message
    assert weights(get_vs(api, ns)) == [90, 10]
    assert [e.result for e in state.entries()] == ["invalid"]


def test_analyzer_error_introduced_by_the_edit_blocks(api: client.ApiClient, source: KubeSource,
                                                      state: AuditLog) -> None:
    ns = seed_catalog(api)
    objects = source.snapshot().objects
    vs = find_object(objects, ObjectKey("VirtualService", ns, "catalog"))
    assert vs is not None

    def to_v3(obj: dict) -> dict:  # a subset the DestinationRule does not define
        new = copy.deepcopy(obj)
        new["spec"]["http"][1]["route"][1]["destination"]["subset"] = "v3"
        return new

    outcome = Writer(state).run(ChangePlan.build(source, vs, to_v3, "to v3", objects))
    assert outcome.result == "invalid"
    assert outcome.validation is not None and any("v3" in p.message for p in outcome.validation.errors)
    assert weights(get_vs(api, ns)) == [90, 10]


def test_undo_restores_the_previous_spec_exactly(api: client.ApiClient, kubeconfig: str, state: AuditLog) -> None:
    ns = seed_catalog(api)
    original = get_vs(api, ns)["spec"]
    assert main(["shift", f"catalog.{ns}", "v2=40", "--kubeconfig", kubeconfig, "--yes"]) == 0
    assert main(["shift", f"catalog.{ns}", "v2=+20", "--kubeconfig", kubeconfig, "--yes"]) == 0
    assert weights(get_vs(api, ns)) == [40, 60]
    assert main(["undo", "--kubeconfig", kubeconfig, "--yes"]) == 0
    assert weights(get_vs(api, ns)) == [60, 40]
    assert main(["undo", "--kubeconfig", kubeconfig, "--yes"]) == 0
    assert get_vs(api, ns)["spec"] == original
    undos = [e for e in state.entries() if e.undoes]
    assert len(undos) == 2 and all(e.result == "applied" for e in undos)


def test_undo_refuses_when_someone_changed_the_object_unless_forced(
        api: client.ApiClient, kubeconfig: str, state: AuditLog, capsys: pytest.CaptureFixture[str]) -> None:
    ns = seed_catalog(api)
    original = get_vs(api, ns)["spec"]
    assert main(["shift", f"catalog.{ns}", "v2=40", "--kubeconfig", kubeconfig, "--yes"]) == 0
    add_timeout(api, ns)
    theirs = get_vs(api, ns)
    capsys.readouterr()
    assert main(["undo", "--kubeconfig", kubeconfig, "--yes"]) == 3
    err = capsys.readouterr().err
    assert "changed since" in err and "+    timeout: 5s" in err
    assert get_vs(api, ns) == theirs
    assert main(["undo", "--kubeconfig", kubeconfig, "--yes", "--force"]) == 0
    assert get_vs(api, ns)["spec"] == original


def test_history_lists_every_attempt_newest_first(api: client.ApiClient, kubeconfig: str, state: AuditLog,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ns = seed_catalog(api)
    main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", kubeconfig, "--yes"])
    main(["shift", f"catalog.{ns}", "v2=150", "--kubeconfig", kubeconfig, "--yes"])
    main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", kubeconfig, "--context", READONLY_CONTEXT, "--yes"])
    capsys.readouterr()
    assert main(["history", "-o", "json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["result"] for e in entries] == ["forbidden", "invalid", "applied"]
    assert all(e["object"] == {"kind": "VirtualService", "namespace": ns, "name": "catalog",
                               "apiVersion": "networking.istio.io/v1"} for e in entries)
    assert entries[2]["source"] == "meshtui-sandbox" and entries[0]["source"] == READONLY_CONTEXT
    assert entries[1]["error"] and entries[2]["error"] is None
    assert main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and "forbidden" in lines[0] and "applied" in lines[2]
