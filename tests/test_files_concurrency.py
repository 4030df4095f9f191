"""Files mode against other writers, with real processes: two ``meshtui shift`` at once on one
manifest, and a program that ignores locks changing the file inside meshtui's write window.
The window is made observable without sleeps or hooks: a process is seen waiting for the lock
through ``/proc/PID/fd``, and a writer stops meshtui (SIGSTOP) once its temporary file exists."""

from __future__ import annotations

import difflib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import meshtui
from meshtui.write.audit import AuditLog

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")]
DEMO = Path(meshtui.__file__).parent / "demo"
VS = "catalog.istioinaction"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    """A private audit log, shared with the meshtui processes through the environment."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return AuditLog()


def copy_demo(target: Path) -> Path:
    """A copy of the demo manifests; returns the file holding the catalog VirtualService."""
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target / "istioinaction-catalog.yaml"


def canary_weights(path: Path) -> dict[str, int]:
    """subset -> weight of the catalog VirtualService's canary rule, as any YAML reader sees it."""
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc.get("kind") == "VirtualService" and doc["metadata"]["name"] == "catalog":
            rule = next(r for r in doc["spec"]["http"] if r.get("name") == "canary")
            return {r["destination"]["subset"]: r["weight"] for r in rule["route"]}
    raise AssertionError("no catalog VirtualService")


def shift(root: Path, *weights: str) -> subprocess.Popen[str]:
    """``meshtui shift`` as its own process."""
    return subprocess.Popen([sys.executable, "-m", "meshtui", "shift", VS, *weights, "--files", str(root), "--yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())


def wait_for(condition, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until true (fail after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)  # a poll interval, not a wait for an assumed duration


def has_open(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (it read it, or waits for its lock)."""
    real = str(path.resolve())
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except FileNotFoundError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == real:
                return True
        except OSError:
            continue
    return False


def test_two_shifts_at_once_one_applies_the_other_conflicts_and_nothing_is_lost(
    tmp_path: Path, state: AuditLog
) -> None:
    root = tmp_path / "manifests"
    target = copy_demo(root)
    before = target.read_text()
    assert canary_weights(target) == {"v1": 90, "v2": 10}
    # A third process holds the lock while both shifts start, so both read the same before;
    # it lets go once both have the file open (each then waits for the lock).
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,sys,os; fd=os.open(sys.argv[1],os.O_RDONLY); fcntl.flock(fd,fcntl.LOCK_EX);"
         "print('locked',flush=True); sys.stdin.read()", str(target)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    first, second = shift(root, "v2=+10"), shift(root, "v2=+30")
    try:
        wait_for(lambda: has_open(first.pid, target) and has_open(second.pid, target), "both shifts to read")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    codes = {first.returncode: (out1, err1, {"v1": 80, "v2": 20}), second.returncode: (out2, err2, {"v1": 60, "v2": 40})}
    assert sorted([first.returncode, second.returncode]) == [0, 3], (err1, err2)
    won_out, _, won_weights = codes[0]
    _, lost_err, _ = codes[3]
    assert "applied:" in won_out
    assert "changed on disk since it was read" in lost_err or "changed since it was read" in lost_err
    assert lost_err.strip().splitlines()[-1] == "meshtui: conflict: nothing was written"
    # The file holds the winner's change and nothing else: only the two weight lines differ.
    assert canary_weights(target) == won_weights
    changed = [ln for ln in difflib.unified_diff(before.splitlines(), target.read_text().splitlines(), lineterm="", n=0)
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert len(changed) == 4 and all("weight:" in ln for ln in changed), changed
    assert sorted(e.result for e in state.entries()) == ["applied", "conflict"]
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".meshtui-")]


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "T"


def _temp_files(directory: Path) -> list[str]:
    return [n for n in os.listdir(directory) if n.startswith(".meshtui-") and n.endswith(".tmp")]


COLLEAGUE = b"\n# a colleague's change, made while meshtui was writing\n"


def _interfere(root: Path, target: Path, how: str) -> tuple[bool, subprocess.CompletedProcess[str]]:
    """Run a shift; once meshtui has checked the file (under its lock) and made its temporary
    file, stop it there and change the file as an editor, `git pull` or a script would, ignoring
    locks. Returns whether the change landed inside the window, and how the shift ended."""
    original = target.read_bytes()
    inode = target.stat().st_ino
    proc = shift(root, "v2=+10")
    caught = False
    try:
        wait_for(lambda: bool(_temp_files(root)) or proc.poll() is not None, "a temporary file")
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGSTOP)
            wait_for(lambda: _stopped(proc.pid), "meshtui to stop")
            # Still inside the window only when the file is the one meshtui checked.
            caught = target.stat().st_ino == inode and target.read_bytes() == original
            if caught and how == "rename":
                (root / "incoming.tmp").write_bytes(original + COLLEAGUE)
                os.replace(root / "incoming.tmp", target)
            elif caught:
                with open(target, "r+b") as fh:
                    fh.seek(0, os.SEEK_END)
                    fh.write(COLLEAGUE)
            os.kill(proc.pid, signal.SIGCONT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
            proc.wait()
    return caught, subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.mark.parametrize("how", ["rename", "in-place"])
def test_a_lock_ignoring_writer_inside_the_write_window_is_never_reported_applied_over(
    tmp_path: Path, state: AuditLog, how: str
) -> None:
    for attempt in range(20):
        root = tmp_path / f"try{attempt}"
        target = copy_demo(root)
        original = target.read_bytes()
        caught, run = _interfere(root, target, how)
        if not caught:
            assert run.returncode == 0, run.stderr  # too late to interfere: an ordinary write; try again
            continue
        assert run.returncode == 3, (run.stdout, run.stderr)
        assert "applied" not in run.stdout
        assert "changed by another program while meshtui wrote it" in run.stderr
        assert run.stderr.strip().splitlines()[-1].startswith("meshtui: ")
        assert target.read_bytes() == original + COLLEAGUE  # theirs, whole; nothing of ours
        assert not _temp_files(root)
        assert [e.result for e in state.entries()][-1] == "conflict"
        return
    pytest.fail("meshtui never stopped inside its write window in 20 attempts")
