"""``meshtui --demo``: the sandbox cluster started in-process, read through the kube source.

The demo runs exactly the code path of a real cluster: a generated kubeconfig, the official
client, list/watch, dry-run and preconditioned writes, logs and port-forward.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING

from meshtui.sources.base import SourceError
from meshtui.sources.kube import KubeSource
from meshtui.sources.kube_watch import WatchSettings

if TYPE_CHECKING:
    from meshtui.sandbox.prometheus_process import PrometheusProcess


def open_demo(
    read_only: bool = False,
    *,
    context: str | None = None,
    namespace: str | None = None,
    scale: int = 0,
    settings: WatchSettings | None = None,
    prometheus: bool = False,
) -> KubeSource:
    """Start the sandbox (demo scenario, free port on 127.0.0.1), write its kubeconfig to a
    private temp dir and return a ``KubeSource`` on it. The source's ``close()`` stops the
    sandbox and deletes the temp dir, leaving no thread or port behind.

    ``context`` picks a kubeconfig context (default: the admin one; the sandbox also writes a
    ``...-readonly`` context whose token gets 403 on writes). ``scale`` adds a generated mesh.
    With ``prometheus`` and the ``prometheus`` binary installed, a real Prometheus scrapes the
    sandbox's sidecars and is found as Service ``istio-system/prometheus`` (the split's metrics
    basis); it stops with the sandbox. Without the binary the demo simply has none.
    Raises ``SourceError`` with a one-line cause when the sandbox cannot start.
    """
    from meshtui.sandbox import prometheus_process
    from meshtui.sandbox.prometheus_process import PrometheusProcess
    from meshtui.sandbox.server import Sandbox, SandboxError

    sandbox = Sandbox(port=0, scale=scale)
    try:
        sandbox.start()
    except SandboxError as exc:
        raise SourceError(f"demo: {exc}") from exc
    tmp = tempfile.mkdtemp(prefix="meshtui-demo-")
    prom: list[PrometheusProcess] = []

    starter: threading.Thread | None = None

    def start_prometheus() -> None:
        try:
            prom.append(PrometheusProcess.start(sandbox, tmp))
        except (OSError, RuntimeError):
            pass  # the demo works without it: the split comes from the logs, the panel says why

    def cleanup() -> None:
        atexit.unregister(cleanup)
        try:
            if starter is not None:
                starter.join(timeout=30)
            for process in prom:
                process.stop()
            sandbox.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    # A process that exits without close() still removes the kubeconfig (it holds tokens).
    atexit.register(cleanup)

    try:
        path = sandbox.write_kubeconfig(os.path.join(tmp, "kubeconfig"))
        if prometheus and prometheus_process.binary() is not None:
            # Started beside the mesh load, not before it (asking promtool which discovery the
            # build parses takes a few hundred ms); until it has scraped twice, the split comes
            # from the logs and the panel says why.
            starter = threading.Thread(target=start_prometheus, name="demo-prometheus", daemon=True)
            starter.start()
        return KubeSource.from_kubeconfig(
            str(path), context=context, read_only=read_only, namespace=namespace,
            settings=settings, on_close=cleanup,
        )
    except BaseException:
        cleanup()
        raise
