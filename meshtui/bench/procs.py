"""Child processes of the benchmark: the sandbox server, measured clients, kubectl.

Every child is started by this process and ended by its own pid (SIGINT, then SIGTERM, then
SIGKILL), never by name. Children that measure something print one JSON object as the last line
of their stdout.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any


class BenchError(Exception):
    """A step of the benchmark could not run; the message is one line."""


def stop(proc: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """End ``proc`` (one we started): SIGINT, then SIGTERM, then SIGKILL."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


class SandboxProcess:
    """``meshtui sandbox --scale N`` in a subprocess, with its kubeconfig in a private temp dir.

    The server is a separate process so that its CPU time and memory are not the client's.
    """

    def __init__(self, scale: int, *, start_timeout: float = 180.0, httproutes: bool = False) -> None:
        self.scale = scale
        self.httproutes = httproutes  # also an HTTPRoute per service (and a Gateway per namespace)
        self.start_timeout = start_timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="meshtui-bench-")
        self.kubeconfig = Path(self._tmp.name) / "kubeconfig"
        self.proc: subprocess.Popen[str] | None = None
        self.started_in = 0.0
        self._log: IO[str] | None = None

    def __enter__(self) -> "SandboxProcess":
        t0 = time.perf_counter()
        log = open(Path(self._tmp.name) / "sandbox.log", "w+")  # noqa: SIM115 - closed in __exit__
        self._log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "meshtui", "sandbox", "--scale", str(self.scale),
             "--kubeconfig-out", str(self.kubeconfig), *(["--httproutes"] if self.httproutes else [])],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log.seek(0)
                tail = log.read().strip().splitlines()[-1:] or ["no output"]
                self.__exit__()
                raise BenchError(f"sandbox --scale {self.scale} exited: {tail[0]}")
            log.seek(0)
            if "Press Ctrl-C" in log.read():
                self.started_in = time.perf_counter() - t0
                return self
            time.sleep(0.1)
        self.__exit__()
        raise BenchError(f"sandbox --scale {self.scale} did not start within {self.start_timeout:.0f} s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self._tmp.cleanup()


def run_child(module: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run ``python -m module args…`` and return the JSON object on its last stdout line.

    The child is told the wall-clock time it was spawned at (``--spawned``) so it can time
    itself from process start, interpreter and imports included.
    """
    spawned = time.time()
    proc = subprocess.Popen([sys.executable, "-m", module, *args, "--spawned", repr(spawned)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc, grace=5)
        raise BenchError(f"{module} took longer than {timeout:.0f} s") from None
    lines = [line for line in out.strip().splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        cause = (err.strip().splitlines() or out.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"{module} failed (exit {proc.returncode}): {cause}")
    return json.loads(lines[-1])


def timed_command(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``argv`` with stdout to /dev/null; returns (wall seconds, peak RSS in MB).

    Raises ``BenchError`` when it fails or times out.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env)
    deadline = t0 + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            elapsed = time.perf_counter() - t0
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        if time.perf_counter() > deadline:
            stop(proc, grace=5)
            raise BenchError(f"{argv[0]} took longer than {timeout:.0f} s")
        time.sleep(0.005)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv[:3])} failed: {(err.strip().splitlines() or ['?'])[-1][:200]}")
    return elapsed, usage.ru_maxrss / 1024
