"""Files-mode write faults with real files, permissions, symlinks and a second process holding
the lock: nothing a user had is lost, and every refusal is one line with its exit code."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import meshtui
from meshtui.cli import main
from meshtui.write.audit import AuditLog

pytestmark = pytest.mark.timeout(120)
DEMO = Path(meshtui.__file__).parent / "demo"
CATALOG = "catalog.yaml"
SHIFT = ["shift", "catalog.istioinaction", "v2=+10"]


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditLog:
    """A private audit log, where the commands find it too."""
    monkeypatch.setenv("MESHTUI_STATE_DIR", str(tmp_path / "state"))
    return AuditLog()


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    """A copy of the demo manifests."""
    target = tmp_path / "manifests"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def catalog_file(root: Path) -> Path:
    """The manifest holding the catalog VirtualService."""
    return next(p for p in root.rglob("*.yaml") if "name: catalog" in p.read_text() and "VirtualService" in p.read_text())


def test_a_read_only_file_is_refused_with_exit_4_and_left_untouched(
    demo_dir: Path, state: AuditLog, capsys: pytest.CaptureFixture[str]
) -> None:
    target = catalog_file(demo_dir)
    before = target.read_bytes()
    target.chmod(0o444)
    assert main([*SHIFT, "--files", str(demo_dir), "--yes"]) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("meshtui: ") and "not writable" in err[-1]
    assert target.read_bytes() == before and (target.stat().st_mode & 0o777) == 0o444


def test_a_file_symlink_is_written_through_and_stays_a_link(demo_dir: Path, state: AuditLog) -> None:
    target = catalog_file(demo_dir)
    real = demo_dir / "real" / "catalog-real.yaml"
    real.parent.mkdir()
    target.rename(real)
    target.symlink_to(real)
    assert main([*SHIFT, "--files", str(demo_dir), "--yes"]) == 0
    assert target.is_symlink()
    assert "weight: 20" in real.read_text()


def test_a_symlink_out_of_the_directory_is_not_written_and_loops_end(tmp_path: Path, state: AuditLog) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(DEMO, outside, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    before = catalog_file(outside).read_bytes()
    root = tmp_path / "root"
    root.mkdir()
    (root / "out").symlink_to(outside, target_is_directory=True)
    (root / "loop1").symlink_to(root, target_is_directory=True)
    (root / "loop2").symlink_to(root, target_is_directory=True)
    # The link out is not walked, so the object is simply not there; the links back end.
    assert main([*SHIFT, "--files", str(root), "--yes"]) == 2
    assert catalog_file(outside).read_bytes() == before


def test_a_file_locked_by_another_process_is_not_written(demo_dir: Path, state: AuditLog) -> None:
    target = catalog_file(demo_dir)
    before = target.read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl,sys,os; fd=os.open(sys.argv[1],os.O_RDONLY); fcntl.flock(fd,fcntl.LOCK_EX);"
         "print('locked',flush=True); sys.stdin.read()", str(target)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        run = subprocess.run([sys.executable, "-m", "meshtui", *SHIFT, "--files", str(demo_dir), "--yes"],
                             capture_output=True, text=True, timeout=60, env=os.environ.copy())
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    assert run.returncode == 3, run.stderr
    assert "locked by another program" in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith("meshtui: ")
    assert target.read_bytes() == before
    fd = os.open(target, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released again
    os.close(fd)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any directory")
def test_an_os_write_failure_exits_7_with_an_audit_record(
    demo_dir: Path, state: AuditLog, capsys: pytest.CaptureFixture[str]
) -> None:
    target = catalog_file(demo_dir)
    before = target.read_bytes()
    target.parent.chmod(0o555)
    try:
        code = main([*SHIFT, "--files", str(demo_dir), "--yes"])
    finally:
        target.parent.chmod(0o755)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 7
    assert err[-1].startswith("meshtui: ") and "cannot write" in err[-1]
    assert target.read_bytes() == before
    assert [e.result for e in state.entries()] == ["write-failed"]


def test_an_os_write_failure_exits_7_with_an_audit_record_as_root_too(demo_dir: Path, state: AuditLog) -> None:
    # A file-size limit (RLIMIT_FSIZE) makes the kernel refuse the write with EFBIG for any user,
    # root included: the manifest is padded past the limit, the audit log stays far below it.
    import resource

    target = catalog_file(demo_dir)
    with open(target, "a") as fh:
        fh.write("".join(f"# padding line {i:06d} keeps this manifest above the size limit\n" for i in range(4000)))
    before = target.read_bytes()
    limit = len(before) // 2
    assert limit > 64 * 1024

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run([sys.executable, "-m", "meshtui", *SHIFT, "--files", str(demo_dir), "--yes"],
                         capture_output=True, text=True, timeout=120, env=os.environ.copy(), preexec_fn=limited)
    assert run.returncode == 7, run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("meshtui: ") and "cannot write" in last and "Traceback" not in run.stderr
    assert target.read_bytes() == before
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".meshtui-")]
    assert [e.result for e in state.entries()] == ["write-failed"]


def test_a_huge_file_is_skipped_with_a_warning(demo_dir: Path, state: AuditLog,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    huge = demo_dir / "dump.yaml"
    with open(huge, "wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # sparse: costs no disk, but is 64 MiB long
    assert main(["analyze", "--files", str(demo_dir)]) in (0, 1)
    err = capsys.readouterr().err.strip().splitlines()
    assert any(line.startswith("meshtui: ") and "dump.yaml" in line and "larger than" in line for line in err)
    assert main([*SHIFT, "--files", str(demo_dir), "--yes"]) == 0
    assert "weight: 20" in catalog_file(demo_dir).read_text()


def test_a_change_by_a_program_ignoring_locks_is_kept_not_renamed_over(tmp_path: Path) -> None:
    # meshtui checked the file when it held "checked"; another program then rewrote it without a
    # lock. The replace must notice that what it swapped out is not what it checked.
    import hashlib

    from meshtui.sources.yamlio import ChangedUnderneathError, atomic_write

    target = tmp_path / "vs.yaml"
    target.write_text("weight: 70  # colleague's change\n")
    checked = hashlib.sha256(b"weight: 90\n").hexdigest()
    with pytest.raises(ChangedUnderneathError):
        atomic_write(str(target), "weight: 80\n", expected_sha256=checked)
    assert target.read_text() == "weight: 70  # colleague's change\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vs.yaml"]  # no temp file left behind
