"""``meshtui shift`` / ``promote`` / ``rollback`` on a copy of the demo manifests, and the
interactive prompt in a real pseudo-terminal against the sandbox (conflict, then re-apply)."""

from __future__ import annotations

import difflib
import os
import pty
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from write_helpers import add_timeout, admin_client, get_vs, seed_catalog, weights

import meshtui
from meshtui.cli import main
from meshtui.sandbox.server import Sandbox
from meshtui.write.audit import AuditLog

DEMO = Path(meshtui.__file__).parent / "demo"
CATALOG = "istioinaction-catalog.yaml"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return AuditLog()


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    target = tmp_path / "manifests"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def changed_lines(before: str, after: str) -> list[str]:
    return [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def test_shift_on_a_commented_manifest_changes_only_the_weight_lines(demo_dir: Path, state: AuditLog) -> None:
    before = (demo_dir / CATALOG).read_text()
    assert main(["shift", "catalog.istioinaction", "v2=+10", "--files", str(demo_dir), "--yes"]) == 0
    after = (demo_dir / CATALOG).read_text()
    assert changed_lines(before, after) == [
        "-          weight: 90",
        "+          weight: 80",
        "-          weight: 10   # raise in steps of 10 while the error rate stays flat",
        "+          weight: 20   # raise in steps of 10 while the error rate stays flat",
    ]
    assert [e.result for e in state.entries()] == ["applied"]


def test_without_a_terminal_and_without_yes_nothing_is_written(demo_dir: Path, state: AuditLog,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    before = (demo_dir / CATALOG).read_text()
    assert main(["shift", "catalog.istioinaction", "v2=30", "--files", str(demo_dir)]) == 2
    captured = capsys.readouterr()
    assert "+      weight: 30" in captured.out  # the diff is still shown
    assert captured.err.strip().splitlines()[-1] == (
        "meshtui: not a terminal, so not confirmed: nothing was written (pass --yes to apply)")
    assert (demo_dir / CATALOG).read_text() == before
    assert [e.result for e in state.entries()] == ["cancelled"]


@pytest.mark.parametrize("flag", ["--read-only", "--readonly"])
def test_read_only_in_either_spelling_refuses_with_exit_4(demo_dir: Path, state: AuditLog, flag: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    before = (demo_dir / CATALOG).read_text()
    assert main(["shift", "catalog.istioinaction", "v2=30", "--files", str(demo_dir), flag, "--yes"]) == 4
    assert "read-only" in capsys.readouterr().err
    assert (demo_dir / CATALOG).read_text() == before


def test_promote_then_rollback_by_hand_written_expectation(demo_dir: Path, state: AuditLog) -> None:
    import yaml

    def canary_route() -> list[dict]:
        docs = list(yaml.safe_load_all((demo_dir / CATALOG).read_text()))
        vs = next(d for d in docs if d and d["kind"] == "VirtualService")
        assert vs["spec"]["http"][0]["route"] == [{"destination": {"host": "catalog", "subset": "v2"}}]
        return vs["spec"]["http"][1]["route"]

    assert main(["promote", "catalog.istioinaction", "v2", "--files", str(demo_dir), "--yes"]) == 0
    assert canary_route() == [{"destination": {"host": "catalog", "subset": "v1"}, "weight": 0},
                              {"destination": {"host": "catalog", "subset": "v2"}, "weight": 100}]
    assert main(["rollback", "catalog.istioinaction", "v1", "--files", str(demo_dir), "--yes"]) == 0
    assert canary_route() == [{"destination": {"host": "catalog", "subset": "v1"}, "weight": 100},
                              {"destination": {"host": "catalog", "subset": "v2"}, "weight": 0}]


def test_several_assignments_and_an_explicit_rule(demo_dir: Path, state: AuditLog) -> None:
    # bookinfo reviews: rule 0 matches end-user jason, rule 1 is the default 80/20 (v1/v2) route.
    assert main(["shift", "reviews.bookinfo", "v1=35", "v2=65", "--rule", "1", "--files", str(demo_dir),
                 "--yes"]) == 0
    import yaml

    docs = [d for f in demo_dir.glob("*.yaml") for d in yaml.safe_load_all(f.read_text()) if d]
    vs = next(d for d in docs if d["kind"] == "VirtualService" and d["metadata"]["name"] == "reviews")
    assert [d["weight"] for d in vs["spec"]["http"][1]["route"]] == [35, 65]


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["shift", "catalog.istioinaction", "v2"], 2, "expected SUBSET=WEIGHT"),
    (["shift", "catalog.istioinaction", "v3=20"], 1, "no destination 'v3' in rule canary"),
    (["shift", "catalog.istioinaction", "v1=50", "v2=60"], 1, "add up to 110"),
    (["shift", "catalog.istioinaction", "v2=20", "--rule", "9"], 2, "rule 9 does not exist"),
    (["shift", "catalog.istioinaction", "v2=20", "--rule", "internal-cohort"], 1, "has one destination"),
    (["shift", "nope.istioinaction", "v2=20"], 2, "VirtualService istioinaction/nope not found"),
    (["shift", "catalog", "v2=20"], 2, "not found (found: catalog.istioinaction)"),
    (["promote", "catalog.istioinaction", "v9"], 1, "no destination 'v9'"),
])
def test_bad_requests_are_one_line_errors(demo_dir: Path, state: AuditLog, capsys: pytest.CaptureFixture[str],
                                          argv: list[str], code: int, message: str) -> None:
    before = (demo_dir / CATALOG).read_text()
    assert main([*argv, "--files", str(demo_dir), "--yes"]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("meshtui: ") and message in err[-1]
    assert (demo_dir / CATALOG).read_text() == before


def test_promote_with_nothing_to_change_exits_0(demo_dir: Path, state: AuditLog,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["promote", "catalog.istioinaction", "v2", "--files", str(demo_dir), "--yes"]) == 0
    capsys.readouterr()
    assert main(["promote", "catalog.istioinaction", "v2", "--files", str(demo_dir), "--yes"]) == 0
    assert capsys.readouterr().out.startswith("no change:")
    assert [e.result for e in state.entries()] == ["applied"]


# -- a real terminal ----------------------------------------------------------------------------

class Terminal:
    """``meshtui`` as a child process whose stdin is a pseudo-terminal (stdout, stderr: pipes)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        self.master = master
        self.proc = subprocess.Popen([sys.executable, "-m", "meshtui", *argv], stdin=slave,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        os.close(slave)
        self.err = b""

    def wait_for(self, text: str, count: int = 1, limit: float = 60.0) -> str:
        """Read stderr until ``text`` appeared ``count`` times (bounded in time, so a broken
        child cannot hang the test)."""
        assert self.proc.stderr is not None
        deadline = time.monotonic() + limit
        while self.err.count(text.encode()) < count:
            assert time.monotonic() < deadline, f"never saw {text!r}; stderr: {self.err.decode()}"
            chunk = os.read(self.proc.stderr.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"exited before {text!r}; stderr: {self.err.decode()}")
            self.err += chunk
        return self.err.decode()

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def finish(self) -> tuple[int, str, str]:
        out, rest = self.proc.communicate(timeout=60)
        os.close(self.master)
        return self.proc.returncode, out.decode(), (self.err + rest).decode()


@pytest.fixture
def child_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "MESHTUI_STATE_DIR": str(tmp_path / "state")}


@pytest.mark.parametrize("reapply", [False, True])
def test_a_change_made_while_the_prompt_waits_is_a_conflict(sandbox: Sandbox, child_env: dict[str, str],
                                                            reapply: bool) -> None:
    api = admin_client(str(sandbox.kubeconfig_path))
    try:
        ns = seed_catalog(api, "tty")
        term = Terminal(["shift", f"catalog.{ns}", "v2=30", "--kubeconfig", str(sandbox.kubeconfig_path)], child_env)
        term.wait_for("[y/N]")
        theirs = add_timeout(api, ns)  # another writer, between our read and our write
        term.type("y")
        term.wait_for("Re-apply 'shift v2=30 (rule canary)' on top of the current object? [y/N]")
        if not reapply:
            term.type("n")
            code, _, err = term.finish()
            assert code == 3
            assert "changed since it was read" in err and "+    timeout: 5s" in err
            assert get_vs(api, ns) == theirs
            return
        term.type("y")
        # The rebased change is shown and must be confirmed again.
        term.wait_for("Apply this change", count=2)
        term.type("y")
        code, out, err = term.finish()
        assert code == 0, err
        now = get_vs(api, ns)
        assert weights(now) == [70, 30] and now["spec"]["http"][1]["timeout"] == "5s"
        results = [e.result for e in AuditLog(Path(child_env["MESHTUI_STATE_DIR"]) / "audit.jsonl").entries()]
        assert results == ["conflict", "applied"]
    finally:
        api.close()
