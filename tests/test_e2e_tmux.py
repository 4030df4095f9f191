"""End to end: `meshtui --demo` in a real terminal (tmux), driven with keys, read off the screen."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)"),
]

MESHTUI = Path(sys.executable).with_name("meshtui")


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30, check=False).stdout


def _screen(session: str) -> str:
    return _tmux("capture-pane", "-p", "-t", session)


def _wait_for(session: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _screen(session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not on screen after {timeout}s; screen was:\n{screen}")


def test_demo_in_tmux(tmp_path: Path) -> None:
    session = f"meshtui-e2e-{uuid.uuid4().hex[:8]}"
    marker = tmp_path / "exited"
    # Without COLUMNS/LINES: a tmux server started from a test run can carry COLUMNS=80 into the
    # pane, and Textual takes them over the pane's real 120x40 size.
    cmd = f"env -u COLUMNS -u LINES {MESHTUI} --demo; echo $? > {marker}"
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", cmd)
    try:
        _wait_for(session, "● live")
        screen = _wait_for(session, "backend-service")
        for ns in ("bookinfo", "default", "istioinaction"):
            assert ns in screen
        assert "meshtui-sandbox" in screen  # the status bar names the context
        # Walk down to backend-service and read its route tree.
        for _ in range(30):
            if "Service default/backend-service" in _screen(session):
                break
            _tmux("send-keys", "-t", session, "Down")
            time.sleep(0.15)
        screen = _wait_for(session, "Service default/backend-service")
        assert 'header x-canary = "true"' in screen
        assert "uri prefix /test/v1" in screen
        assert "90%" in screen and "10%" in screen
        # A view by kind through the : prompt.
        _tmux("send-keys", "-t", session, ":")
        time.sleep(0.3)
        _tmux("send-keys", "-t", session, "pods", "Enter")
        screen = _wait_for(session, "RESTARTS")  # the :pods table header
        assert "catalog-v2" in screen or "productpage" in screen
        _tmux("send-keys", "-t", session, "Escape")
        time.sleep(0.3)
        _tmux("send-keys", "-t", session, "q")
        deadline = time.monotonic() + 15
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "meshtui did not exit on q"
        assert marker.read_text().strip() == "0"
    finally:
        _tmux("kill-session", "-t", session)


def _descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every live process below ``pid`` (read from /proc)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            names[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out: dict[int, str] = {}
    frontier = {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier and p not in out}
        out.update({p: names.get(p, "") for p in frontier})
    return out


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus is not installed (.ci/run installs it)")
def test_closing_the_terminal_stops_the_demos_prometheus() -> None:
    """tmux kill-session hangs up the terminal: the demo's sandbox and Prometheus go with meshtui."""
    session = f"meshtui-e2e-{uuid.uuid4().hex[:8]}"
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", f"env -u COLUMNS -u LINES {MESHTUI} --demo")
    try:
        _wait_for(session, "● live")
        pane = int(_tmux("display", "-p", "-t", session, "#{pane_pid}").strip())
        deadline = time.monotonic() + 60
        started: list[int] = []
        while not started and time.monotonic() < deadline:
            started = [p for p, cmd in _descendants(pane).items() if "prometheus --config.file" in cmd]
            time.sleep(0.2)
        assert started, "the demo started no Prometheus"
    finally:
        _tmux("kill-session", "-t", session)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in started):
        time.sleep(0.2)
    assert not any(Path(f"/proc/{p}").exists() for p in started), "Prometheus outlived the closed terminal"
