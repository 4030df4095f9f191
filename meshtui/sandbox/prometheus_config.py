"""A Prometheus configuration that scrapes the sandbox's sidecars through its API server.

``meshtui sandbox --prometheus-config FILE`` writes it: pod discovery against the sandbox,
``kubernetes_sd_configs`` (role ``pod``) for a Prometheus built with it, or ``http_sd_configs`` on the
sandbox's ``/meshtui/v1/prometheus-sd`` (the same ``__meta_kubernetes_*`` labels) for one without
it, such as Debian's (``discovery="auto"`` asks ``promtool check config`` which one parses), keeping the pods whose ``istio-proxy`` declares Istio's
``http-envoy-prom`` port (Istio's own ``kubernetes-pods`` job keys on it too), and scraping each
through the API server's pod proxy ``/api/v1/namespaces/NS/pods/NAME:15020/proxy/stats/prometheus``
(the sandbox's pods have no reachable IPs). The CA and a read-only token are written next to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from meshtui.sandbox.pod_routes import STATS_PORT
from meshtui.sandbox.prometheus_routes import SD_PATH

SCRAPE_INTERVAL_SECONDS = 2
JOB = "meshtui-sandbox-sidecars"
#: The pod discovery mechanisms the configuration can use.
DISCOVERY = ("kubernetes", "http", "auto")


def scrape_config(url: str, token_file: str, ca_file: str, interval: int = SCRAPE_INTERVAL_SECONDS,
                  discovery: str = "kubernetes") -> dict[str, Any]:
    """The Prometheus configuration document for the sandbox at ``url`` (an ``https://`` URL).

    ``discovery`` is ``kubernetes`` (``kubernetes_sd_configs``) or ``http`` (``http_sd_configs``).
    """
    host = urlsplit(url).netloc

    def auth() -> dict[str, Any]:  # a fresh copy each time: shared dicts would be written as YAML aliases
        return {"authorization": {"type": "Bearer", "credentials_file": token_file},
                "tls_config": {"ca_file": ca_file}}

    if discovery == "http":
        sd: dict[str, Any] = {"http_sd_configs": [{"url": url + SD_PATH, "refresh_interval": f"{interval}s",
                                                   **auth()}]}
    elif discovery == "kubernetes":
        sd = {"kubernetes_sd_configs": [{"role": "pod", "api_server": url, **auth()}]}
    else:
        raise ValueError(f"discovery must be kubernetes or http, not {discovery!r}")
    return {
        "global": {"scrape_interval": f"{interval}s", "evaluation_interval": f"{interval}s"},
        "scrape_configs": [{
            "job_name": JOB,
            "scheme": "https",
            **auth(),
            **sd,
            "relabel_configs": [
                {"source_labels": ["__meta_kubernetes_pod_container_port_name"], "action": "keep",
                 "regex": ".*-envoy-prom"},
                {"target_label": "__address__", "replacement": host},
                {"source_labels": ["__meta_kubernetes_namespace", "__meta_kubernetes_pod_name"],
                 "regex": "(.+);(.+)", "target_label": "__metrics_path__",
                 "replacement": f"/api/v1/namespaces/$1/pods/$2:{STATS_PORT}/proxy/stats/prometheus"},
                {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
                {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            ],
        }],
    }


def detect_discovery(promtool: str | None = None) -> str:
    """``kubernetes`` when the installed Prometheus parses ``kubernetes_sd_configs`` (asked of
    ``promtool check config``), else ``http``; ``kubernetes`` when no promtool is found."""
    tool = promtool or shutil.which("promtool")
    if tool is None:
        return "kubernetes"
    probe = {"scrape_configs": [{"job_name": "probe",
                                 "kubernetes_sd_configs": [{"role": "pod", "api_server": "https://127.0.0.1:1"}]}]}
    with tempfile.TemporaryDirectory(prefix="meshtui-promtool-") as tmp:
        file = Path(tmp) / "probe.yml"
        file.write_text(yaml.safe_dump(probe))
        try:
            done = subprocess.run([tool, "check", "config", str(file)], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return "kubernetes"
    return "http" if "kubernetes_sd_configs not found" in done.stdout + done.stderr else "kubernetes"


def write(path: str | os.PathLike[str], url: str, token: str, ca_pem: bytes,
          interval: int = SCRAPE_INTERVAL_SECONDS, discovery: str = "kubernetes") -> Path:
    """Write the config to ``path`` with ``PATH.token`` and ``PATH.ca.crt`` beside it; returns ``path``.

    ``discovery``: ``kubernetes``, ``http``, or ``auto`` (``detect_discovery``).
    """
    if discovery == "auto":
        discovery = detect_discovery()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    token_file = target.with_name(target.name + ".token")
    ca_file = target.with_name(target.name + ".ca.crt")
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a credential: owner only
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    ca_file.write_bytes(ca_pem)
    doc = scrape_config(url, str(token_file.resolve()), str(ca_file.resolve()), interval, discovery)
    target.write_text(yaml.safe_dump(doc, sort_keys=False))
    return target
