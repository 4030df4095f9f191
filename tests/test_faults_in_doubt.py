"""Writes whose outcome is unknown: the API server stalls past the read timeout with meshtui's
PUT queued, then applies it late (or never). meshtui must say "unknown", audit it so, resolve it
by reading the object back as soon as the server answers, and let ``undo`` revert it.

The sandbox speaks plain HTTP here so that ``OutageProxy`` can tell the real PUT from the dry
run before it; the server's state is read with the official client straight from the sandbox.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from test_faults_write import canary, is_real_put, seed, shift_plan, stored

from meshtui.cli import main
from meshtui.sandbox.server import Sandbox
from meshtui.sources.kube import KubeSource
from meshtui.write.apply import Writer
from meshtui.write.audit import AuditLog
from outage_proxy import OutageProxy
from test_faults_kube import FAST, proxied_kubeconfig

pytestmark = pytest.mark.timeout(120)
WAIT = 30.0


@pytest.fixture(scope="module")
def plain_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, client.ApiClient]]:
    """A plain-HTTP sandbox of this module's own, and the official client straight to it."""
    sb = Sandbox(scenario=False, traffic=False, tls=False).start()
    path = sb.write_kubeconfig(tmp_path_factory.mktemp("indoubt") / "direct")
    api = config.new_client_from_config(str(path), persist_config=False)
    try:
        yield sb, api
    finally:
        api.close()
        sb.stop()


@pytest.fixture
def proxy(plain_sandbox: tuple[Sandbox, client.ApiClient]) -> Iterator[OutageProxy]:
    p = OutageProxy(plain_sandbox[0].port)
    yield p
    p.close()


@pytest.fixture
def proxied(plain_sandbox: tuple[Sandbox, client.ApiClient], proxy: OutageProxy, tmp_path: Path) -> str:
    return str(proxied_kubeconfig(plain_sandbox[0], proxy, tmp_path / "proxied"))


@pytest.fixture
def audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return AuditLog()


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_write_the_stalled_server_applies_late_is_unknown_exit_8_and_undo_reverts_it(
    plain_sandbox: tuple[Sandbox, client.ApiClient], proxy: OutageProxy, proxied: str, audit: AuditLog,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _sb, api = plain_sandbox
    ns = seed(api, "stall")
    proxy.stall(after=is_real_put)  # the server stops answering with meshtui's PUT queued
    code = main(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", proxied, "--yes", "--request-timeout", "1"])
    err = capsys.readouterr().err
    assert code == 8, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("meshtui: outcome unknown: ") and "meshtui undo" in last
    [entry] = [e for e in audit.entries() if e.result != "dry-run"]
    assert entry.result == "unknown" and "no answer to PUT" in (entry.error or "")
    assert canary(entry.after) == [70, 30]

    main(["history"])
    shown = capsys.readouterr().out
    assert "unknown" in shown and "(outcome not known yet)" in shown

    proxy.resume()  # the server recovers and applies the queued PUT
    wait_until(lambda: canary(stored(api, ns)) == [70, 30], "the late write to land")

    # undo reads the object back, records that the write was applied, and reverts it.
    code = main(["undo", "--kubeconfig", proxied, "--yes"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"the write {entry.id}" in err and "unknown outcome: applied" in err
    assert canary(stored(api, ns)) == [90, 10]
    entries = list(audit.entries())
    assert [e.result for e in entries] == ["unknown", "applied", "applied"]
    assert entries[1].resolves == entry.id and entries[1].undoes is None
    assert entries[2].undoes == entries[1].id

    main(["history"])
    shown = capsys.readouterr().out
    assert f"(outcome of {entry.id})" in shown and "(outcome not known yet)" not in shown


def test_history_with_the_source_flags_resolves_an_unknown_write(
    plain_sandbox: tuple[Sandbox, client.ApiClient], proxy: OutageProxy, proxied: str, audit: AuditLog,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _sb, api = plain_sandbox
    ns = seed(api, "stallhist")
    proxy.stall(after=is_real_put)
    assert main(["shift", f"catalog.{ns}", "v2=40", "--kubeconfig", proxied, "--yes",
                 "--request-timeout", "1"]) == 8
    proxy.resume()
    wait_until(lambda: canary(stored(api, ns)) == [60, 40], "the late write to land")
    capsys.readouterr()
    # Scoped to another namespace, the object is not read: absent there is not "deleted".
    assert main(["history", "--kubeconfig", proxied, "-n", "elsewhere"]) == 0
    assert "(outcome not known yet)" in capsys.readouterr().out
    assert [e.result for e in audit.entries()] == ["unknown"]
    assert main(["history", "--kubeconfig", proxied]) == 0
    captured = capsys.readouterr()
    assert "unknown outcome: applied" in captured.err
    assert [e.result for e in audit.entries()] == ["unknown", "applied"]


def test_a_stalled_write_the_server_never_gets_is_resolved_as_not_applied(
    plain_sandbox: tuple[Sandbox, client.ApiClient], proxy: OutageProxy, proxied: str, audit: AuditLog,
) -> None:
    _sb, api = plain_sandbox
    ns = seed(api, "stalldrop")
    source = KubeSource.from_kubeconfig(proxied, settings=FAST, read_timeout=1.0)
    try:
        plan = shift_plan(source, ns, 30)
        before = stored(api, ns)
        proxy.stall(after=is_real_put)

        def recover_once_unknown() -> None:  # the server comes back, the queued PUT lost
            wait_until(lambda: any(e.result == "unknown" for e in audit.entries()), "the unknown audit line")
            proxy.resume(deliver=False)

        helper = threading.Thread(target=recover_once_unknown, daemon=True)
        helper.start()
        outcome = Writer(audit, resolve_within=WAIT).run(plan)
        helper.join(timeout=WAIT)
    finally:
        source.close()
    assert (outcome.result, outcome.exit_code) == ("unavailable", 2), outcome.message
    assert "not applied" in outcome.message and "\n" not in outcome.message
    assert stored(api, ns)["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    entries = list(audit.entries())
    assert [e.result for e in entries] == ["unknown", "unavailable"]
    assert entries[1].resolves == entries[0].id
