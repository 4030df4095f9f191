"""``kubectl get … -A -o json`` of the kinds meshtui reads, from the same sandbox: the baseline.

kubectl lists in chunks of 500 (``--chunk-size`` default), as meshtui does, and prints the JSON
to /dev/null here; its time and peak RSS come from ``wait4`` of the process.
"""

from __future__ import annotations

import shutil

from meshtui.bench.procs import timed_command

# The kinds meshtui's kube source lists (the mesh ConfigMap, a single object, aside).
KINDS = ",".join((
    "namespaces", "services", "pods", "endpoints",
    "virtualservices.networking.istio.io", "destinationrules.networking.istio.io",
    "gateways.networking.istio.io", "serviceentries.networking.istio.io", "sidecars.networking.istio.io",
))


def available() -> bool:
    """Whether a kubectl binary is on PATH."""
    return shutil.which("kubectl") is not None


def command(kubeconfig: str) -> list[str]:
    """The kubectl command line that is timed."""
    return ["kubectl", "--kubeconfig", kubeconfig, "get", KINDS, "-A", "-o", "json"]


def get_all(kubeconfig: str, timeout: float = 300.0) -> tuple[float, float]:
    """Run it once; (seconds, peak RSS MB). Raises ``BenchError``."""
    return timed_command(command(kubeconfig), timeout)
