"""Istio's standard request metrics for the sandbox's simulated sidecars.

Each sidecar counts the requests it reports (``reporter="source"`` at the caller, one
``reporter="destination"`` per attempt at the server), and a waypoint those it proxies
(``reporter="waypoint"``: the ambient client and the backend pod it picked), as Istio's stats
extension does, and
serves them as Prometheus text on ``:15020/stats/prometheus``. Buckets are Envoy's default
histogram buckets (``Stats::HistogramSettingsImpl::defaultBuckets``), which Istio keeps for
``istio_request_duration_milliseconds``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from meshtui.model import Pod

#: Envoy's default histogram bucket bounds (ms), used by Istio's request duration histogram.
BUCKETS_MS = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
              300000, 600000, 1800000, 3600000)
_LABEL_NAMES = ("reporter", "source_workload", "source_workload_namespace", "source_app", "source_version",
                "source_canonical_service", "destination_service", "destination_service_name",
                "destination_service_namespace", "destination_workload", "destination_workload_namespace",
                "destination_app", "destination_version", "destination_canonical_service",
                "request_protocol", "response_code", "response_flags", "connection_security_policy")
Labels = tuple[str, ...]


def workload_name(pod: Pod) -> str:
    """The Deployment a pod belongs to (Istio's ``*_workload`` label), else the pod's own name."""
    if "pod-template-hash" in pod.labels:
        parts = pod.name.rsplit("-", 2)
        if len(parts) == 3:
            return parts[0]
    return pod.name


def _peer(pod: Pod | None) -> tuple[str, str, str, str, str]:
    if pod is None:
        return ("unknown",) * 5
    app = pod.labels.get("app", "unknown")
    return (workload_name(pod), pod.namespace, app, pod.labels.get("version", "unknown"),
            pod.labels.get("service.istio.io/canonical-name", app))


def _host_parts(host: str | None) -> tuple[str, str, str]:
    if not host:
        return "unknown", "unknown", "unknown"
    name, _, rest = host.partition(".")
    namespace = rest.partition(".")[0] if rest.endswith("svc.cluster.local") else "unknown"
    return host, name, namespace


@dataclass(slots=True)
class _Series:
    count: int = 0
    total_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS_MS))


class IstioStats:
    """Per-sidecar counters of Istio's ``istio_requests_total`` and duration histogram."""

    def __init__(self) -> None:
        self._by_pod: dict[tuple[str, str], dict[Labels, _Series]] = {}

    def record(self, reporter: str, reporting: Pod, source: Pod | None, destination: Pod | None,
               host: str | None, code: int, flags: str, duration_ms: float, protocol: str) -> None:
        """Count one request as the proxy of ``reporting`` (a sidecar, or a waypoint) reports it."""
        src, dst = _peer(source), _peer(destination)
        svc, svc_name, svc_ns = _host_parts(host)
        labels = (reporter, src[0], src[1], src[2], src[3], src[4], svc, svc_name, svc_ns,
                  dst[0], dst[1], dst[2], dst[3], dst[4], "grpc" if "grpc" in protocol.lower() else "http",
                  str(code), flags or "-", "mutual_tls" if reporter in ("destination", "waypoint") else "unknown")
        series = self._by_pod.setdefault((reporting.namespace, reporting.name), {})
        entry = series.get(labels)
        if entry is None:
            entry = series[labels] = _Series()
        entry.count += 1
        entry.total_ms += duration_ms
        index = bisect.bisect_left(BUCKETS_MS, duration_ms)
        if index < len(BUCKETS_MS):
            entry.buckets[index] += 1

    def forget(self, namespace: str, name: str) -> None:
        """Drop a deleted pod's counters (a new pod starts from zero, as a new sidecar would)."""
        self._by_pod.pop((namespace, name), None)

    def exposition(self, namespace: str, name: str) -> str:
        """The pod's metrics in Prometheus text exposition format 0.0.4."""
        series = self._by_pod.get((namespace, name), {})
        out = ["# TYPE istio_requests_total counter"]
        for labels, entry in series.items():
            out.append(f"istio_requests_total{{{_render(labels)}}} {entry.count}")
        out.append("# TYPE istio_request_duration_milliseconds histogram")
        for labels, entry in series.items():
            rendered = _render(labels)
            cumulative = 0
            for bound, n in zip(BUCKETS_MS, entry.buckets, strict=True):
                cumulative += n
                out.append(f'istio_request_duration_milliseconds_bucket{{{rendered},le="{bound}"}} {cumulative}')
            out.append(f'istio_request_duration_milliseconds_bucket{{{rendered},le="+Inf"}} {entry.count}')
            out.append(f"istio_request_duration_milliseconds_sum{{{rendered}}} {entry.total_ms:.3f}")
            out.append(f"istio_request_duration_milliseconds_count{{{rendered}}} {entry.count}")
        return "\n".join(out) + "\n"


def _render(labels: Labels) -> str:
    def esc(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return ",".join(f'{k}="{esc(v)}"' for k, v in zip(_LABEL_NAMES, labels, strict=True))
