"""One service's endpoints as every client sidecar sees them, with health and outlier status (pure).

``istioctl proxy-config endpoints`` answers for one pod; during an incident the question is
wider: *which clients have ejected this backend, and is it all of them?* This module

* picks the client sidecars of a service from the mesh index (:func:`plan_clients`): pods with
  an Envoy that are running, have an IP and to whose namespace the service is exported, capped;
* runs a caller-supplied fetch of each client's ``/clusters?format=json`` in a small thread
  pool (:func:`fetch_clients`). The fetch does the I/O (the CLI and the UI pass
  ``source.envoy_admin``); this module only schedules it and never touches a network itself;
* tabulates, per (client, cluster, endpoint), the EDS health and the outlier check, with one
  summary per endpoint ("ejected by 3/12 clients") (:func:`service_endpoints`,
  :func:`service_endpoints_table`, :func:`service_endpoints_json`).

A fetched client whose Envoy has none of the service's ``outbound|PORT|SUBSET|FQDN`` clusters
(a Sidecar resource scoping it out, say) is not a client and is listed apart. Outlier
detection is per cluster: a client counts as having ejected an endpoint when any of its
clusters of the service reports ``failed_outlier_check``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from meshtui.envoy.dump import Json, dig, get
from meshtui.envoy.endpoints import ClustersDump, EndpointFilter, host_address, host_port, host_status, host_verify
from meshtui.envoy.table import Table
from meshtui.model.index import MeshIndex
from meshtui.model.kube import Service

CLIENT_CAP = 50
FETCH_WORKERS = 4
SUMMARY_CLIENT = "*"  # the CLIENT cell of an endpoint's summary row
COLUMNS = ["ENDPOINT", "CLIENT", "STATUS", "OUTLIER CHECK", "CLUSTER"]
# Worst first: a client's status for an endpoint is the worst over its clusters of the service.
_SEVERITY = {"UNHEALTHY": 0, "TIMEOUT": 1, "DRAINING": 2, "DEGRADED": 3, "UNKNOWN": 4, "HEALTHY": 5}


@dataclass(frozen=True, order=True)
class ClientPod:
    """A client sidecar: the pod whose Envoy is asked."""

    namespace: str
    name: str

    @property
    def label(self) -> str:
        """``name.namespace``, as the proxy-config commands name pods."""
        return f"{self.name}.{self.namespace}"


@dataclass
class ClientPlan:
    """Which sidecars to ask about ``host``: ``clients`` (at most the cap) and how many were left out."""

    host: str
    clients: list[ClientPod]
    not_queried: int = 0


def plan_clients(index: MeshIndex, namespace: str, name: str, cap: int = CLIENT_CAP) -> ClientPlan:
    """The client sidecars of Service ``namespace/name``; ``LookupError`` when there is no such Service.

    Candidates are running pods with an Envoy (sidecar or gateway) and an IP, in namespaces the
    service is exported to; the service's own namespace first, then by namespace and name.
    """
    svc = index.get("Service", namespace, name)
    if not isinstance(svc, Service):
        raise LookupError(f"no Service {name} in namespace {namespace}")
    host = svc.fqdn(index.domain_suffix)
    candidates = sorted(
        (ClientPod(p.namespace or "default", p.name) for p in index.pods
         if p.has_sidecar and p.ip and p.phase in (None, "Running")
         and index.visible_from(svc, p.namespace or "default")),
        key=lambda c: (c.namespace != namespace, c.namespace, c.name))
    cap = max(cap, 0)
    return ClientPlan(host, candidates[:cap], max(len(candidates) - cap, 0))


@dataclass
class ClientResult:
    """One client's answer: its ``/clusters`` document, or the one-line reason there is none."""

    client: ClientPod
    clusters: ClustersDump | None = None
    error: str = ""


def _fetch_one(client: ClientPod, fetch: Callable[[ClientPod], bytes | str]) -> ClientResult:
    try:
        return ClientResult(client, ClustersDump.parse(fetch(client), client.label))
    except Exception as exc:  # noqa: BLE001 - one client's failure is a row of the report, not a crash
        return ClientResult(client, error=str(exc) or type(exc).__name__)


def fetch_clients(clients: Iterable[ClientPod], fetch: Callable[[ClientPod], bytes | str], *,
                  workers: int = FETCH_WORKERS, on_result: Callable[[ClientResult], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> list[ClientResult]:
    """Run ``fetch`` (which returns ``/clusters?format=json``) for every client, ``workers`` at a time.

    ``on_result`` is called (from the calling thread) as each answer arrives, for progress;
    ``cancelled`` is polled between answers and stops the remaining fetches. Results come back
    in the order of ``clients``; a failed fetch or a body that is not a clusters dump is a
    result with ``error`` set.
    """
    todo = list(clients)
    done: dict[ClientPod, ClientResult] = {}
    pool = ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="envoy-clusters")
    try:
        pending: set[Future[ClientResult]] = {pool.submit(_fetch_one, c, fetch) for c in todo}
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in finished:
                result = fut.result()
                done[result.client] = result
                if on_result is not None:
                    on_result(result)
            if cancelled is not None and cancelled():
                break
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [done[c] for c in todo if c in done]


def service_clusters(clusters: ClustersDump, host: str) -> list[Json]:
    """The cluster statuses of ``host``'s outbound clusters (``outbound|PORT|SUBSET|host``)."""
    out = []
    for cs in clusters.statuses():
        parts = str(get(cs, "name", "")).split("|")
        if len(parts) == 4 and parts[0] == "outbound" and parts[3] == host:
            out.append(cs)
    return out


@dataclass(frozen=True)
class ClientEndpoint:
    """One (client, cluster, endpoint): EDS health and whether the outlier check failed."""

    endpoint: str
    client: ClientPod
    cluster: str
    status: str
    ejected: bool
    raw: Json


@dataclass
class EndpointSummary:
    """One endpoint over all clients that list it: how many, their health, how many ejected it."""

    endpoint: str
    seen_by: int
    clients: int
    ejected_by: int
    statuses: dict[str, int]

    def status_text(self) -> str:
        """``HEALTHY 11/12, UNHEALTHY 1/12`` (worst first)."""
        order = sorted(self.statuses, key=lambda s: (_SEVERITY.get(s, -1), s))
        return ", ".join(f"{s} {self.statuses[s]}/{self.seen_by}" for s in order)

    def outlier_text(self) -> str:
        """``ejected by 3/12 clients``."""
        return f"ejected by {self.ejected_by}/{self.seen_by} client{'s' if self.seen_by != 1 else ''}"


@dataclass
class ServiceEndpoints:
    """The whole report: detail rows, one summary per endpoint, and who could not be asked."""

    host: str
    rows: list[ClientEndpoint] = field(default_factory=list)
    summaries: list[EndpointSummary] = field(default_factory=list)
    clients: list[ClientPod] = field(default_factory=list)
    not_clients: list[ClientPod] = field(default_factory=list)
    errors: list[tuple[ClientPod, str]] = field(default_factory=list)
    not_queried: int = 0

    def notes(self) -> list[str]:
        """One line per thing the tables do not show: clients left out, failed or without clusters."""
        out = [f"{len(self.clients)} client sidecar{'s' if len(self.clients) != 1 else ''} of {self.host}"]
        if self.not_clients:
            out.append(f"{len(self.not_clients)} sidecar(s) without a cluster of {self.host}: "
                       + ", ".join(c.label for c in self.not_clients))
        for client, error in self.errors:
            out.append(f"{client.label}: {error}")
        if self.not_queried:
            out.append(f"{self.not_queried} more client sidecar(s) not asked (at most {CLIENT_CAP})")
        return out


def _endpoint_key(endpoint: str) -> tuple[str, int]:
    address, sep, port = endpoint.rpartition(":")
    return (address, int(port)) if sep and port.isdigit() else (endpoint, 0)


def _cluster_key(name: str) -> tuple[int, str, str]:
    """``outbound|80||h`` before ``outbound|80|v1|h``: by port, then subset (none first)."""
    parts = name.split("|")
    if len(parts) == 4 and parts[1].isdigit():
        return int(parts[1]), parts[2], name
    return 0, "", name


def service_endpoints(host: str, results: Iterable[ClientResult], flt: EndpointFilter = EndpointFilter(),
                      not_queried: int = 0) -> ServiceEndpoints:
    """Tabulate the answers of ``host``'s clients (``flt`` as istioctl's endpoint filter)."""
    report = ServiceEndpoints(host, not_queried=not_queried)
    by_endpoint: dict[str, dict[ClientPod, list[ClientEndpoint]]] = {}
    for result in results:
        if result.clusters is None:
            report.errors.append((result.client, result.error))
            continue
        mine = service_clusters(result.clusters, host)
        if not mine:
            report.not_clients.append(result.client)
            continue
        report.clients.append(result.client)
        for cs in mine:
            name = get(cs, "name", "")
            for h in get(cs, "host_statuses", []) or []:
                if not isinstance(h, dict) or not host_verify(flt, h, name):
                    continue
                port = host_port(h)
                endpoint = f"{host_address(h)}:{port}" if port else host_address(h)
                row = ClientEndpoint(endpoint, result.client, name, host_status(h),
                                     bool(dig(h, "health_status", "failed_outlier_check")), h)
                by_endpoint.setdefault(endpoint, {}).setdefault(result.client, []).append(row)
    for endpoint in sorted(by_endpoint, key=_endpoint_key):
        per_client = by_endpoint[endpoint]
        statuses: dict[str, int] = {}
        ejected = 0
        for client in sorted(per_client):
            rows = sorted(per_client[client], key=lambda r: _cluster_key(r.cluster))
            report.rows += rows
            worst = min((r.status for r in rows), key=lambda s: (_SEVERITY.get(s, -1), s))
            statuses[worst] = statuses.get(worst, 0) + 1
            ejected += any(r.ejected for r in rows)
        report.summaries.append(EndpointSummary(endpoint, len(per_client), len(report.clients), ejected, statuses))
    return report


def service_endpoints_table(report: ServiceEndpoints) -> Table:
    """``ENDPOINT CLIENT STATUS OUTLIER CHECK CLUSTER``: per endpoint a summary row (CLIENT ``*``,
    CLUSTER ``seen by N/M clients``), then one row per (client, cluster). Raw: the summary or
    the host status."""
    table = Table(list(COLUMNS), padding=2)
    rows_by_endpoint: dict[str, list[ClientEndpoint]] = {}
    for r in report.rows:
        rows_by_endpoint.setdefault(r.endpoint, []).append(r)
    for s in report.summaries:
        table.add([s.endpoint, SUMMARY_CLIENT, s.status_text(), s.outlier_text(),
                   f"seen by {s.seen_by}/{s.clients} clients"], summary_json(s))
        for r in rows_by_endpoint.get(s.endpoint, []):
            table.add([r.endpoint, r.client.label, r.status, "FAILED" if r.ejected else "OK", r.cluster], r.raw)
    return table


def summary_json(s: EndpointSummary) -> Json:
    """One endpoint's summary as JSON."""
    return {"endpoint": s.endpoint, "seen_by": s.seen_by, "clients": s.clients,
            "ejected_by": s.ejected_by, "statuses": dict(s.statuses)}


def service_endpoints_json(report: ServiceEndpoints) -> Json:
    """The report as JSON (``-o json``): per endpoint its summary and per-client rows."""
    endpoints: list[Json] = []
    by_endpoint: dict[str, list[Any]] = {}
    for r in report.rows:
        by_endpoint.setdefault(r.endpoint, []).append(
            {"client": r.client.label, "cluster": r.cluster, "status": r.status,
             "outlier_check": "FAILED" if r.ejected else "OK"})
    for s in report.summaries:
        endpoints.append({**summary_json(s), "per_client": by_endpoint.get(s.endpoint, [])})
    return {"service": report.host, "clients": [c.label for c in report.clients], "endpoints": endpoints,
            "not_clients": [c.label for c in report.not_clients],
            "errors": [{"client": c.label, "error": e} for c, e in report.errors],
            "not_queried": report.not_queried}
