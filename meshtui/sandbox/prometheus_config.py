"""A Prometheus configuration that scrapes the sandbox's sidecars through its API server.

``meshtui sandbox --prometheus-config FILE`` writes it: pod discovery (``kubernetes_sd_configs``,
role ``pod``) against the sandbox, keeping the pods whose ``istio-proxy`` declares Istio's
``http-envoy-prom`` port (Istio's own ``kubernetes-pods`` job keys on it too), and scraping each
through the API server's pod proxy ``/api/v1/namespaces/NS/pods/NAME:15020/proxy/stats/prometheus``
(the sandbox's pods have no reachable IPs). The CA and a read-only token are written next to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from meshtui.sandbox.pod_routes import STATS_PORT

SCRAPE_INTERVAL_SECONDS = 2
JOB = "meshtui-sandbox-sidecars"


def scrape_config(url: str, token_file: str, ca_file: str, interval: int = SCRAPE_INTERVAL_SECONDS) -> dict[str, Any]:
    """The Prometheus configuration document for the sandbox at ``url`` (an ``https://`` URL)."""
    host = urlsplit(url).netloc
    auth = {"authorization": {"type": "Bearer", "credentials_file": token_file}, "tls_config": {"ca_file": ca_file}}
    return {
        "global": {"scrape_interval": f"{interval}s", "evaluation_interval": f"{interval}s"},
        "scrape_configs": [{
            "job_name": JOB,
            "scheme": "https",
            **auth,
            "kubernetes_sd_configs": [{"role": "pod", "api_server": url, **auth}],
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


def write(path: str | os.PathLike[str], url: str, token: str, ca_pem: bytes,
          interval: int = SCRAPE_INTERVAL_SECONDS) -> Path:
    """Write the config to ``path`` with ``PATH.token`` and ``PATH.ca.crt`` beside it; returns ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    token_file = target.with_name(target.name + ".token")
    ca_file = target.with_name(target.name + ".ca.crt")
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a credential: owner only
    with os.fdopen(fd, "w") as fh:
        fh.write(token)
    ca_file.write_bytes(ca_pem)
    doc = scrape_config(url, str(token_file.resolve()), str(ca_file.resolve()), interval)
    target.write_text(yaml.safe_dump(doc, sort_keys=False))
    return target
