"""An incident bundle as ``kubectl cluster-info dump --output-directory`` leaves it, for the demo's
``default/backend-service``: the demo manifests, ``default/pods.json`` (a PodList) and each
pod's ``default/POD/logs.txt`` with the dump's per-container markers.

The traffic is written out by hand, not produced by meshtui: one client pod calls the service
200 times in 50 s (4 requests a second, inside the default 60 s window) with the default rule's route name. Of the client's
requests, 160 went to v0 and 40 to v1 (80/20 against the configured 90/10), and 6 of v1's
answered 503 with ``UF``. The sidecars of the backend pods log the same requests inbound.
"""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

DEMO = Path(str(files("meshtui.demo")))
CLIENT = "curl-client-6c9f7d8b5-x2x9q"
BACKENDS = {"v0": "backend-service-v0-7d4b9c6f8-k8lmn", "v1": "backend-service-v1-5f6d8c7b9-qr7st"}
IPS = {"v0": "10.244.0.21", "v1": "10.244.0.31", "client": "10.244.0.40"}
HOST = "backend-service.default.svc.cluster.local"
#: Requests per subset, and the subset's 503 (UF) answers among them.
REQUESTS = {"v0": 160, "v1": 40}
FAILED_V1 = 6

_LINE = ('[{ts}] "GET /api/items HTTP/1.1" {code} {flags} {details} - "-" 0 {size} {dur} {ust} "-" '
         '"curl/8.5.0" "{rid}" "{authority}" "{upstream}" {cluster} {local} {dlocal} {remote} - {route}')


def _pod(name: str, labels: dict[str, str], ip: str) -> dict[str, object]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels,
                     "creationTimestamp": "2026-12-01T09:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "example/app:1"},
                                {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.0"}]},
        "status": {"phase": "Running", "podIP": ip,
                   "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0},
                                         {"name": "istio-proxy", "ready": True, "restartCount": 0}]},
    }


def _section(container: str, pod: str, lines: list[str]) -> str:
    body = "".join(line + "\n" for line in lines)
    return (f"==== START logs for container {container} of pod default/{pod} ====\n{body}"
            f"==== END logs for container {container} of pod default/{pod} ====\n")


def write_bundle(root: Path, *, with_backends: bool = True) -> Path:
    """Write the bundle below ``root`` and return its directory. Without ``with_backends`` it
    holds the client pod only (a bundle taken in the callers' namespace; one stream, so the
    order of what arrives is fixed)."""
    bundle = root / "bundle"
    shutil.copytree(DEMO, bundle, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    pods = [_pod(CLIENT, {"app": "curl-client"}, IPS["client"])]
    if with_backends:
        pods += [_pod(name, {"app": "backend-service", "version": v}, IPS[v]) for v, name in BACKENDS.items()]
    (bundle / "default").mkdir(exist_ok=True)
    (bundle / "default" / "pods.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "PodList", "items": pods}, indent=4) + "\n")

    outbound: list[str] = []
    inbound: dict[str, list[str]] = {"v0": [], "v1": []}
    # Every fifth request went to v1 (40 of 200), spread as a weighted balancer spreads them.
    sequence = ["v1" if i % 5 == 4 else "v0" for i in range(sum(REQUESTS.values()))]
    assert sequence.count("v1") == REQUESTS["v1"]
    failed = 0
    for i, subset in enumerate(sequence):
        ts = f"2026-12-01T09:10:{i // 4:02d}.{(i % 4) * 250:03d}Z"
        code, flags, details = "200", "-", "via_upstream"
        if subset == "v1" and failed < FAILED_V1 and i % 3 == 0:
            code, flags, details, failed = "503", "UF", "upstream_reset_before_response_started{connection_failure}", failed + 1
        ip = IPS[subset]
        common = {"ts": ts, "code": code, "flags": flags, "details": details, "rid": f"req-{i:04d}",
                  "size": "0" if code == "503" else "42", "dur": "3", "ust": "-" if code == "503" else "2"}
        outbound.append(_LINE.format(
            **common, authority="backend-service", upstream=f"{ip}:8080",
            cluster=f"outbound|80|{subset}|{HOST}", local=f"{IPS['client']}:4{i % 1000:04d}",
            dlocal="10.96.0.15:80", remote=f"{IPS['client']}:3{i % 1000:04d}", route="default"))
        if code == "200":
            inbound[subset].append(_LINE.format(
                **common, authority="backend-service", upstream=f"{ip}:8080",
                cluster="inbound|8080||", local="127.0.0.6:4" + f"{i % 1000:04d}",
                dlocal=f"{ip}:8080", remote=f"{IPS['client']}:4{i % 1000:04d}", route="default"))
    assert failed == FAILED_V1, failed
    logged = [(CLIENT, outbound)] + ([(BACKENDS[v], inbound[v]) for v in BACKENDS] if with_backends else [])
    for pod, lines in logged:
        (bundle / "default" / pod).mkdir()
        (bundle / "default" / pod / "logs.txt").write_text(
            _section("app", pod, ["started"]) + _section("istio-proxy", pod, lines))
    return bundle
