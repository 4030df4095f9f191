"""The real Prometheus binary, run beside a sandbox: scraping its sidecars, found as in a cluster.

``PrometheusProcess.start(sandbox, workdir)`` writes the configuration ``meshtui sandbox
--prometheus-config`` writes (pod discovery the installed build parses), starts ``prometheus`` on a
free 127.0.0.1 port with its data under ``workdir``, and exposes it as Service ``prometheus`` in
``istio-system`` (the API server's service proxy forwards to it). ``stop()`` ends it (killed if it
lingers). The demo uses it when the binary is installed; the end-to-end tests too.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import IO, TYPE_CHECKING

from meshtui.sandbox import prometheus_config

if TYPE_CHECKING:
    from meshtui.sandbox.server import Sandbox

#: Seconds ``stop`` waits for a clean exit before killing.
STOP_TIMEOUT_S = 15.0


def binary() -> str | None:
    """The ``prometheus`` executable on PATH, or None."""
    return shutil.which("prometheus")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrometheusProcess:
    """One running ``prometheus`` scraping a sandbox (see the module docstring)."""

    def __init__(self, proc: "subprocess.Popen[bytes]", url: str, config_file: Path, log: IO[bytes]) -> None:
        self.proc = proc
        #: ``http://127.0.0.1:PORT``
        self.url = url
        self.config_file = config_file
        self._log = log

    @classmethod
    def start(cls, sandbox: "Sandbox", workdir: str | Path, *, discovery: str = "auto") -> "PrometheusProcess":
        """Start Prometheus for the running ``sandbox``; raises ``OSError`` when it cannot start."""
        exe = binary()
        if exe is None:
            raise FileNotFoundError("prometheus: not found on PATH")
        assert sandbox.ca_pem is not None, "the sandbox serves HTTPS"
        work = Path(workdir)
        cfg = prometheus_config.write(work / "prometheus.yml", sandbox.url, sandbox.readonly_token, sandbox.ca_pem,
                                      discovery=discovery)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log = open(work / "prometheus.log", "wb")
        try:
            proc = subprocess.Popen([exe, f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{port}",
                                     f"--storage.tsdb.path={work / 'data'}"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        except OSError:
            log.close()
            raise
        sandbox.expose_prometheus(url)
        return cls(proc, url, cfg, log)

    def log_tail(self, chars: int = 2000) -> str:
        """The end of Prometheus's own log (why it exited, say)."""
        path = Path(self._log.name)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def ready(self) -> bool:
        """Whether it answers ``/-/ready``; ``RuntimeError`` when it has exited."""
        if self.proc.poll() is not None:
            raise RuntimeError(f"prometheus exited {self.proc.returncode}: {self.log_tail()}")
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until ready; ``TimeoutError`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"prometheus not ready after {timeout:g}s")
            time.sleep(0.2)

    def stop(self) -> None:
        """End the process (SIGTERM, then SIGKILL after ``STOP_TIMEOUT_S``)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._log.close()
