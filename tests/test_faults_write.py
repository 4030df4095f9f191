"""Faults on the write path: the API server down during an edit, two writers at once, rights
revoked mid-run, old Istio API versions with fields meshtui does not model, and a 10 MB object.

Every result is read back with the official client straight from the sandbox, and the audit
log is read back from its file.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from test_faults_kube import (  # noqa: F401 - fixtures are used by name
    FAST,
    OutageProxy,
    admin,
    fresh_namespace,
    outage_sandbox,
    proxied,
    proxied_kubeconfig,
    proxy,
)
from write_helpers import catalog_vs

from meshtui.cli import main
from meshtui.model.index import MeshIndex
from meshtui.sandbox.server import Sandbox
from meshtui.sources.base import ObjectKey, SourceEvent
from meshtui.sources.kube import KubeSource
from meshtui.sources.kube_kinds import KindSpec
from meshtui.write.apply import Writer, find_object
from meshtui.write.audit import AuditLog
from meshtui.write.edit_api import Assignment, set_weights
from meshtui.write.plan import ChangePlan

pytestmark = pytest.mark.timeout(120)
GROUP = "networking.istio.io"


@pytest.fixture
def audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    """A private audit log, where the commands find it too."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return AuditLog()


def seed(api: client.ApiClient, prefix: str, version: str = "v1", vs: dict[str, Any] | None = None) -> str:
    """A namespace with the catalog VirtualService (90/10 canary), created at ``version``."""
    ns = fresh_namespace(api, prefix)
    body = vs or catalog_vs(ns)
    body = {**body, "apiVersion": f"{GROUP}/{version}"}
    body["metadata"] = {**body["metadata"], "namespace": ns}
    client.CustomObjectsApi(api).create_namespaced_custom_object(GROUP, version, ns, "virtualservices", body)
    return ns


def stored(api: client.ApiClient, ns: str, version: str = "v1", name: str = "catalog") -> dict[str, Any]:
    """The VirtualService as the server holds it, read at ``version``."""
    return client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, version, ns, "virtualservices", name)


def canary(vs: dict[str, Any]) -> list[int]:
    return [d.get("weight") for d in vs["spec"]["http"][1]["route"]]


def shift_plan(source: KubeSource, ns: str, weight: int) -> ChangePlan:
    """``shift catalog v2=<weight> --rule canary`` as read through ``source`` now."""
    objects = source.snapshot().objects
    vs = find_object(objects, ObjectKey("VirtualService", ns, "catalog"))
    assert vs is not None
    return ChangePlan.build(source, vs, set_weights("canary", [Assignment("v2", weight, False)]).edit,
                            f"shift v2={weight}", objects)


# --- the API server goes away in the middle of an edit -------------------------------------------

def test_an_edit_while_the_server_is_down_fails_clearly_is_kept_and_is_written_once(
    admin: client.ApiClient, proxy: OutageProxy, proxied: str, audit: AuditLog,
) -> None:
    ns = seed(admin, "down")
    source = KubeSource.from_kubeconfig(proxied, settings=FAST)
    try:
        plan = shift_plan(source, ns, 30)  # read while the server was up
        before = stored(admin, ns)
        writer = Writer(audit)

        proxy.down()
        outcome = writer.run(plan)
        assert (outcome.result, outcome.exit_code) == ("unavailable", 2)
        assert "\n" not in outcome.message and f"127.0.0.1:{proxy.port}" in outcome.message
        assert stored(admin, ns)["metadata"] == before["metadata"]  # nothing written, not even half
        # The edit is still there to retry: the plan is unchanged and still applies to the base.
        assert canary(plan.new) == [70, 30] and plan.base["metadata"]["resourceVersion"] == \
            before["metadata"]["resourceVersion"]

        proxy.up()
        retried = writer.run(plan)
        assert retried.result == "applied", retried.message
        after = stored(admin, ns)
        assert canary(after) == [70, 30]
        assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1

        # Retrying once more cannot write a second time: the base is stale now.
        again = writer.run(plan)
        assert (again.result, again.exit_code) == ("conflict", 3)
        assert stored(admin, ns)["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]
    finally:
        proxy.up()
        source.close()
    results = [(e.result, e.key) for e in audit.entries()]
    key = ObjectKey("VirtualService", ns, "catalog")
    assert results == [("unavailable", key), ("applied", key), ("conflict", key)]
    entries = list(audit.entries())
    assert entries[0].error and "127.0.0.1" in entries[0].error
    assert entries[1].after["metadata"]["resourceVersion"] == after["metadata"]["resourceVersion"]


def is_real_put(head: bytes) -> bool:
    """The request head of a write that is not a dry run."""
    line = head.split(b"\r\n", 1)[0]
    return line.startswith(b"PUT ") and b"dryRun" not in line


def test_a_write_whose_answer_is_lost_is_read_back_reported_applied_and_never_written_twice(
    tmp_path: Path, audit: AuditLog,
) -> None:
    # Plain HTTP, so that the proxy can tell the real PUT from the dry run before it.
    sb = Sandbox(scenario=False, traffic=False, tls=False).start()
    proxy = OutageProxy(sb.port)
    api = config.new_client_from_config(str(sb.write_kubeconfig(tmp_path / "direct")), persist_config=False)
    source = KubeSource.from_kubeconfig(str(proxied_kubeconfig(sb, proxy, tmp_path / "proxied")), settings=FAST)
    try:
        ns = seed(api, "lost")
        plan = shift_plan(source, ns, 30)
        before = stored(api, ns)
        writer = Writer(audit)
        proxy.lose_reply_to = is_real_put  # the PUT reaches the server; its answer is lost
        try:
            outcome = writer.run(plan)
        finally:
            proxy.lose_reply_to = None
        # The answer is lost, but the object read back holds the change: applied, and said so.
        assert (outcome.result, outcome.exit_code) == ("applied", 0), outcome.message
        assert "answer was lost" in outcome.message and "\n" not in outcome.message
        landed = stored(api, ns)
        assert canary(landed) == [70, 30]  # it did land, once
        assert landed["metadata"]["generation"] == before["metadata"]["generation"] + 1
        # The user retries the same edit: the precondition stops a second write.
        retried = writer.run(plan)
        assert (retried.result, retried.exit_code) == ("conflict", 3)
        assert retried.conflict is not None and retried.conflict.current is not None
        assert canary(retried.conflict.current) == [70, 30]  # what is there now is already the edit
        assert stored(api, ns)["metadata"]["resourceVersion"] == landed["metadata"]["resourceVersion"]
    finally:
        source.close()
        api.close()
        proxy.close()
        sb.stop()
    entries = list(audit.entries())
    assert [e.result for e in entries] == ["unknown", "applied", "conflict"]
    assert entries[1].resolves == entries[0].id  # the read-back resolves the unknown write
    assert entries[1].after["metadata"]["resourceVersion"] == landed["metadata"]["resourceVersion"]


def test_the_cli_reports_a_down_server_in_one_line_with_exit_2(
    admin: client.ApiClient, proxy: OutageProxy, proxied: str, audit: AuditLog,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ns = seed(admin, "downcli")
    proxy.down()
    try:
        code = main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", proxied, "--yes"])
    finally:
        proxy.up()
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meshtui: ") and "Traceback" not in err
    assert f"127.0.0.1:{proxy.port}" in lines[0]
    assert canary(stored(admin, ns)) == [90, 10]


# --- two writers at once ---------------------------------------------------------------------------

def test_concurrent_writers_never_lose_an_update(
    outage_sandbox: Sandbox, admin: client.ApiClient, audit: AuditLog,
) -> None:
    ns = seed(admin, "race")
    kubeconfig = str(outage_sandbox.kubeconfig_path)
    sources = [KubeSource.from_kubeconfig(kubeconfig) for _ in range(6)]
    try:
        # Six operators read the same object, then all press apply at the same moment.
        plans = [shift_plan(src, ns, 20 + 10 * i) for i, src in enumerate(sources)]
        writer = Writer(audit)
        previews = [writer.check(p) for p in plans]
        assert all(p.blocked is None for p in previews)
        go = threading.Barrier(len(plans))
        outcomes: list[Any] = [None] * len(plans)

        def commit(i: int) -> None:
            go.wait(timeout=10)
            outcomes[i] = writer.commit(previews[i])

        threads = [threading.Thread(target=commit, args=(i,)) for i in range(len(plans))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        results = sorted(o.result for o in outcomes)
        assert results == ["applied"] + ["conflict"] * (len(plans) - 1)
        winner = next(i for i, o in enumerate(outcomes) if o.result == "applied")
        now = stored(admin, ns)
        assert canary(now) == canary(plans[winner].new)
        assert now["metadata"]["generation"] == 2  # exactly one write landed

        # A loser sees what the winner changed, re-applies on top, and both changes stand.
        loser = next(o for o in outcomes if o.result == "conflict")
        assert loser.conflict is not None and "weight" in loser.conflict.their_changes()
        client.CustomObjectsApi(admin).patch_namespaced_custom_object(
            GROUP, "v1", ns, "virtualservices", "catalog", {"metadata": {"labels": {"team": "catalog"}}})
        rebased = loser.conflict.rebase()
        done = writer.run(rebased)
        assert done.result in ("conflict", "applied")
        if done.result == "conflict":  # the label patch landed after the reload: once more
            done = writer.run(done.conflict.rebase())
        assert done.result == "applied", done.message
        final = stored(admin, ns)
        assert canary(final) == canary(loser.plan.new)
        assert final["metadata"]["labels"] == {"team": "catalog"}  # the other writer's change kept
    finally:
        for src in sources:
            src.close()
    assert sum(1 for e in audit.entries() if e.result == "applied") == 2


# --- rights revoked while meshtui runs -------------------------------------------------------------

@pytest.fixture
def revocable(tmp_path: Path) -> Iterator[Sandbox]:
    """A sandbox of the test's own: revoking its admin token must not affect other tests."""
    sb = Sandbox(scenario=False, traffic=False).start()
    sb.write_kubeconfig(tmp_path / "kubeconfig")
    try:
        yield sb
    finally:
        sb.stop()


def test_a_token_that_loses_its_rights_gets_a_clear_403_and_nothing_is_written(
    revocable: Sandbox, audit: AuditLog, capsys: pytest.CaptureFixture[str],
) -> None:
    kubeconfig = str(revocable.kubeconfig_path)
    api = config.new_client_from_config(kubeconfig, persist_config=False)
    source = KubeSource.from_kubeconfig(kubeconfig, settings=FAST)
    try:
        ns = seed(api, "revoke")
        assert source.read_only_reason() is None  # may write when meshtui starts
        plan = shift_plan(source, ns, 30)

        revocable.call(revocable.api.revoke_writes, revocable.admin_token)
        outcome = Writer(audit).run(plan)
        assert (outcome.result, outcome.exit_code) == ("forbidden", 4)
        assert "forbidden" in outcome.message and "\n" not in outcome.message
        assert canary(stored(api, ns)) == [90, 10]
        # From now on the source says why writes are off (the UI disables its write keys).
        reason = source.read_only_reason()
        assert reason and "forbidden" in reason
        [entry] = list(audit.entries())
        assert entry.result == "forbidden"

        # Reading still works: the mesh is still shown.
        assert find_object(source.snapshot().objects, ObjectKey("VirtualService", ns, "catalog")) is not None
        # The CLI, starting afresh with the revoked token, refuses up front: exit 4, one line.
        code = main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", kubeconfig, "--yes"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 4
        assert [ln for ln in err if ln.startswith("meshtui: ") and "read-only" in ln]
        assert all("Traceback" not in ln for ln in err)
        assert canary(stored(api, ns)) == [90, 10]
    finally:
        source.close()
        api.close()


# --- old API versions and fields meshtui does not model ---------------------------------------------

def exotic_vs(ns: str) -> dict[str, Any]:
    """The catalog canary with every kind of field the route editor does not touch."""
    vs = catalog_vs(ns)
    vs["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "hand", "tier": "edge"}
    vs["metadata"]["annotations"]["example.com/ticket"] = "OPS-1234 ü ✓"
    vs["metadata"]["finalizers"] = ["example.com/keep"]
    spec = vs["spec"]
    spec["exportTo"] = ["."]
    spec["gateways"] = ["mesh"]
    canary_rule = spec["http"][1]
    canary_rule["corsPolicy"] = {"allowOrigins": [{"exact": "https://example.com"}], "maxAge": "24h"}
    canary_rule["headers"] = {"response": {"add": {"x-served-by": "catalog"}}}
    canary_rule["mirror"] = {"host": "catalog-shadow"}
    canary_rule["mirrorPercentage"] = {"value": 12.5}
    canary_rule["retries"] = {"attempts": 3, "perTryTimeout": "2s", "retryOn": "5xx,reset"}
    canary_rule["route"][0]["headers"] = {"request": {"set": {"x-subset": "v1"}}}
    spec["tcp"] = [{"match": [{"port": 9000}], "route": [{"destination": {"host": "catalog", "port": {"number": 9000}}}]}]
    return vs


@pytest.mark.parametrize("version", ["v1alpha3", "v1beta1"])
def test_old_api_versions_are_read_shown_and_round_tripped_intact(
    admin: client.ApiClient, proxied: str, audit: AuditLog, version: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    ns = seed(admin, f"ver-{version.lower()}", version, exotic_vs("x"))
    custom = client.CustomObjectsApi(admin)
    custom.patch_namespaced_custom_object_status(  # a status from a controller meshtui knows nothing of
        GROUP, version, ns, "virtualservices", "catalog",
        {"status": {"observedGeneration": 1, "validationMessages": [{"type": {"code": "IST0000"}}],
                    "example.com/controller": {"synced": True}}})
    before = stored(admin, ns, version)
    # A cluster whose Istio serves only this version (an older release).
    monkeypatch.setattr("meshtui.sources.kube_kinds.ISTIO_VERSION_PREFERENCE", (version,))
    source = KubeSource.from_kubeconfig(proxied, settings=FAST)
    try:
        assert next(s for s in source.specs() if s.kind == "VirtualService") == \
            KindSpec("VirtualService", GROUP, version, "virtualservices")
        snap = source.snapshot()
        read = find_object(snap.objects, ObjectKey("VirtualService", ns, "catalog"))
        assert read is not None and read["apiVersion"] == f"{GROUP}/{version}"
        shown = MeshIndex(snap.objects).get("VirtualService", ns, "catalog")
        assert shown is not None and shown.api_version == f"{GROUP}/{version}"
        assert [[d.weight for d in r.route] for r in shown.http][1] == [90, 10]

        plan = ChangePlan.build(source, read, set_weights("canary", [Assignment("v2", 30, False)]).edit,
                                "shift v2=30", snap.objects)
        outcome = Writer(audit).run(plan)
        assert outcome.result == "applied", outcome.message
        assert outcome.stored["apiVersion"] == f"{GROUP}/{version}"
    finally:
        source.close()
    after = stored(admin, ns, version)
    expected = copy.deepcopy(before)
    expected["spec"]["http"][1]["route"][0]["weight"] = 70
    expected["spec"]["http"][1]["route"][1]["weight"] = 30
    for field in ("resourceVersion", "generation", "managedFields"):
        expected["metadata"].pop(field, None)
        after["metadata"].pop(field, None)
    assert after == expected  # every field but the two weights exactly as before, status included


# --- a 10 MB object --------------------------------------------------------------------------------

def huge_vs(ns: str, rules: int, annotation_bytes: int = 0) -> dict[str, Any]:
    """The catalog canary behind ``rules`` header-matched rules (about 250 bytes of JSON each),
    with an annotation of ``annotation_bytes`` (a generated config blob, say)."""
    vs = catalog_vs(ns)
    if annotation_bytes:
        blob = "".join(f"{i:08x}" for i in range(annotation_bytes // 8))
        vs["metadata"]["annotations"]["example.com/generated-config"] = blob
    extra = [{"name": f"tenant-{i:05d}",
              "match": [{"headers": {"x-tenant": {"exact": f"tenant-{i:05d}-{'x' * 40}"}},
                         "uri": {"prefix": f"/tenants/{i:05d}/"}}],
              "route": [{"destination": {"host": "catalog", "subset": "v1"}}],
              "timeout": "5s"}
             for i in range(rules)]
    vs["spec"]["http"] = [vs["spec"]["http"][0], *extra, vs["spec"]["http"][1]]
    return vs


def test_a_10mb_virtual_service_is_listed_watched_and_applied(
    admin: client.ApiClient, proxied: str, audit: AuditLog,
) -> None:
    import json

    ns = fresh_namespace(admin, "huge")
    # Schema validation costs about 0.4 ms per rule (at the sandbox and in meshtui), so the bulk
    # is a 9.5 MB annotation on top of 2,000 rules.
    body = huge_vs(ns, 2_000, 9_500_000)
    assert len(json.dumps(body)) > 10_000_000
    source = KubeSource.from_kubeconfig(proxied, settings=FAST)
    stop = threading.Event()
    events: list[SourceEvent] = []
    try:
        source.snapshot()
        watcher = threading.Thread(target=lambda: events.extend(source.watch(stop)), daemon=True)
        watcher.start()
        client.CustomObjectsApi(admin).create_namespaced_custom_object(GROUP, "v1", ns, "virtualservices", body)

        snap = source.snapshot()  # listed
        read = find_object(snap.objects, ObjectKey("VirtualService", ns, "catalog"))
        assert read is not None and len(read["spec"]["http"]) == 2_002

        plan = ChangePlan.build(source, read, set_weights("canary", [Assignment("v2", 30, False)]).edit,
                                "shift v2=30", snap.objects)
        outcome = Writer(audit, analyzer=None).run(plan)  # applied
        assert outcome.result == "applied", outcome.message
        rv = outcome.stored["metadata"]["resourceVersion"]

        def seen_modified() -> bool:  # watched: the change arrives whole
            return any(getattr(e, "type", "") == "MODIFIED"
                       and e.object["metadata"].get("resourceVersion") == rv for e in list(events))

        deadline = threading.Event()
        for _ in range(300):
            if seen_modified():
                break
            deadline.wait(0.1)
        assert seen_modified()
        added = [e for e in events if getattr(e, "type", "") == "ADDED"
                 and e.object["metadata"]["namespace"] == ns]
        assert len(added) == 1 and len(added[0].object["spec"]["http"]) == 2_002
    finally:
        stop.set()
        source.close()
    now = stored(admin, ns)
    assert now["spec"]["http"][-1]["route"][0]["weight"] == 70
    assert now["spec"]["http"][1:-1] == body["spec"]["http"][1:-1]
    assert now["metadata"]["annotations"] == body["metadata"]["annotations"]
