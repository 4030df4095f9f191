"""Cold start of ``meshtui --demo`` in a real terminal (tmux), read off the screen.

The clock starts when tmux is asked to run the command and stops when ``capture-pane`` first
shows (1) the mesh screen painted (its footer or its "Loading the mesh…" placeholder) and (2) the
demo mesh loaded (the status bar says ``● live`` and the ``bookinfo`` namespace is listed).
tmux runs on a private socket; the app is quit with ``q`` and, failing that, its pane process
(the one we started) is killed by pid.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from meshtui.bench.procs import BenchError

SOCKET = "meshtui-bench"
FIRST_PAINT = ("/ Filter", "Loading the mesh", "connecting")
LOADED = ("● live", "bookinfo")
POLL = 0.02


def available() -> bool:
    """Whether tmux is on PATH."""
    return shutil.which("tmux") is not None


def _tmux(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=30, check=False)


def measure_once(timeout: float = 30.0) -> tuple[float, float]:
    """One cold start; returns (seconds to first paint, seconds to the demo mesh shown)."""
    meshtui = Path(sys.executable).with_name("meshtui")
    if not meshtui.exists():
        raise BenchError(f"{meshtui} not found (pip install -e . in this venv)")
    session = f"bench-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    started = _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", f"{meshtui} --demo")
    if started.returncode != 0:
        raise BenchError(f"tmux new-session failed: {started.stderr.strip()[:200]}")
    pane_pid = _tmux("display", "-p", "-t", session, "#{pane_pid}").stdout.strip()
    first = loaded = None
    try:
        while time.perf_counter() - t0 < timeout:
            screen = _tmux("capture-pane", "-p", "-t", session).stdout
            now = time.perf_counter() - t0
            if first is None and any(m in screen for m in FIRST_PAINT):
                first = now
            if all(m in screen for m in LOADED):
                loaded = now
                first = first if first is not None else now
                break
            time.sleep(POLL)
        if loaded is None:
            raise BenchError(f"meshtui --demo did not show the demo mesh within {timeout:.0f} s")
        return first, loaded  # type: ignore[return-value]
    finally:
        _quit(session, pane_pid)


def _quit(session: str, pane_pid: str) -> None:
    _tmux("send-keys", "-t", session, "q")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _tmux("has-session", "-t", session).returncode != 0:
            return
        time.sleep(0.1)
    if pane_pid.isdigit():
        try:
            os.kill(int(pane_pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
    _tmux("kill-session", "-t", session)
