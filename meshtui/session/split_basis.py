"""Where the observed split comes from: Istio's metrics in Prometheus, or the sidecars' logs.

Shared by the Logs screen's split panel, ``meshtui logs SERVICE --split`` and the release gates:

- ``find_prometheus`` picks the Prometheus (``--prometheus URL`` with token / CA, else the
  ``[prometheus]`` table of the settings file, else a ``prometheus`` Service in ``istio-system``
  through the API server's service proxy) and checks it answers; without one the choice is the
  logs basis with a one-line reason;
- ``metrics_split`` asks it for one service's split over a window (requests, share, errors from
  5xx and response flags, p50/p95/p99 from the duration histogram), reporter chosen as Kiali
  does: ``source`` (the client's view, which the weights decide), ``destination`` when no client
  sidecar reported;
- ``logs_split`` is the same ``ObservedSplit`` from a ``LogSession``'s counts;
- ``observed_split(choice, session, index, target, window)`` is "the split the Logs screen would
  show": the metrics basis when ``choice`` has a Prometheus, else the logs basis.

``ObservedSplit.summary()`` is the JSON of ``meshtui logs … --split -o json`` for either basis.
"""

from __future__ import annotations

import math
import os
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshtui.accesslog.flags import split_flags
from meshtui.accesslog.stats import ErrorGroup, ErrorRollups, SplitRow
from meshtui.metrics import promql
from meshtui.metrics.rows import split_rows, vector_values
from meshtui.sources.prometheus import DEFAULT_NAMESPACE, DEFAULT_SERVICE, PrometheusClient, PrometheusError

if TYPE_CHECKING:
    from meshtui.accesslog.target import LogTarget
    from meshtui.model.index import MeshIndex
    from meshtui.session.log_session import LogSession
    from meshtui.sources.base import Source

BASIS_PROMETHEUS = "prometheus"
BASIS_LOGS = "logs"
#: Seconds a reachability check of a found Prometheus may take before the logs basis is used.
PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class PrometheusOptions:
    """How to reach Prometheus: a URL (with bearer token and CA), else a Service in the cluster."""

    url: str | None = None
    token: str | None = None
    ca_file: str | None = None
    namespace: str = DEFAULT_NAMESPACE
    service: str = DEFAULT_SERVICE


def settings_path() -> Path:
    """The settings file (the one the key bindings live in): ``$XDG_CONFIG_HOME/meshtui/keys.toml``."""
    from meshtui.session.keymap import keymap_path

    return keymap_path()


def load_prometheus_settings(path: str | os.PathLike[str] | None = None) -> tuple[PrometheusOptions, list[str]]:
    """The ``[prometheus]`` table of the settings file (``url``, ``namespace``, ``service``,
    ``token_file``, ``ca_file``) and one line per problem in it; a missing file is the defaults."""
    file = Path(path) if path is not None else settings_path()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return PrometheusOptions(), []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return PrometheusOptions(), [f"{file}: {exc}; Prometheus settings left at their defaults"]
    table = data.get("prometheus", {})
    if not isinstance(table, dict):
        return PrometheusOptions(), [f"{file}: [prometheus] must be a table"]
    values: dict[str, str] = {}
    problems = []
    for key in ("url", "namespace", "service", "token_file", "ca_file"):
        value = table.get(key)
        if value is None:
            continue
        if isinstance(value, str) and value.strip():
            values[key] = value.strip()
        else:
            problems.append(f"{file}: prometheus.{key} must be a non-empty string")
    token = None
    if "token_file" in values:
        try:
            token = Path(values["token_file"]).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            problems.append(f"{file}: prometheus.token_file {values['token_file']}: {exc.strerror or exc}")
    return PrometheusOptions(url=values.get("url"), token=token, ca_file=values.get("ca_file"),
                             namespace=values.get("namespace", DEFAULT_NAMESPACE),
                             service=values.get("service", DEFAULT_SERVICE)), problems


@dataclass(frozen=True, slots=True)
class BasisChoice:
    """The basis the observed split is taken from: a Prometheus (``client``) or the logs.

    ``reason`` says which Prometheus, or in one line why there is none.
    """

    client: PrometheusClient | None
    reason: str

    @property
    def basis(self) -> str:
        """``prometheus`` or ``logs``."""
        return BASIS_PROMETHEUS if self.client is not None else BASIS_LOGS

    @property
    def status(self) -> str:
        """One line for a status bar: which basis, and why."""
        if self.client is not None:
            return f"split from Prometheus ({self.reason})"
        return f"split from logs ({self.reason})"


def logs_basis(reason: str) -> BasisChoice:
    """The logs basis, with the reason Prometheus is not used."""
    return BasisChoice(None, reason)


def find_prometheus(source: "Source", options: PrometheusOptions, *, probe: bool = True) -> BasisChoice:
    """The Prometheus ``options`` point at (a URL, else the Service through ``source``'s API server).

    With ``probe`` the found Prometheus must answer a trivial query within ``PROBE_TIMEOUT_S``.
    Never raises: a bad URL, a missing Service or an unreachable Prometheus is the logs basis
    with the reason.
    """
    from meshtui.sources.prometheus import discover

    try:
        if options.url:
            client = PrometheusClient.direct(options.url, token=options.token, ca_file=options.ca_file)
            where = options.url
        else:
            rest = getattr(source, "rest", None)
            if rest is None:
                return logs_basis("no Prometheus for manifests on disk (give --prometheus URL)")
            found, where = discover(rest, options.namespace, options.service)
            if found is None:
                return logs_basis(where)
            client = found
        if probe:
            client.query("vector(1)", time.time(), timeout=PROBE_TIMEOUT_S)
    except PrometheusError as exc:
        return logs_basis(str(exc))
    return BasisChoice(client, where)


# -- one split, either basis ---------------------------------------------------------------------


@dataclass(slots=True)
class ObservedSplit:
    """The observed split of one service over a window, from one basis (what the panel draws)."""

    basis: str
    #: Where the numbers come from, in words (the panel's "observed …" line).
    label: str
    window: float | None
    rows: list[SplitRow]
    rollups: ErrorRollups
    #: Log lines counted / not parsed (``None`` for the metrics basis).
    lines: int | None
    unparsed: int | None
    #: ``client`` or ``server``: where the requests were seen (reporter source / destination).
    seen_at: str = "client"
    route: str | None = None
    pods: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The JSON of ``meshtui logs SERVICE --split -o json``; each row says its ``basis``."""
        return {
            "lines": self.lines,
            "unparsed": self.unparsed,
            "window_s": self.window,
            "rows": [{**r.to_dict(), "basis": self.basis} for r in self.rows],
            "errors": self.rollups.to_dict(),
            "time": round(time.time(), 3),
            "basis": self.seen_at,
            "route": self.route,
            "pods": self.pods,
            **self.extra,
        }


def logs_split(session: "LogSession") -> ObservedSplit:
    """The logs basis: the split ``session`` counted (what the Logs screen's panel shows)."""
    ingest = session.ingest
    panel = session.panel()
    _basis, _stats, rule_only = ingest.split_stats("auto")
    return ObservedSplit(BASIS_LOGS, panel.label, panel.window, panel.rows, panel.rollups, panel.lines,
                         ingest.unparsed, seen_at=panel.basis, route=ingest.route if rule_only else None,
                         pods=len(ingest.plan.pods))


@dataclass(frozen=True, slots=True)
class SplitContext:
    """What the mesh says about the rows of a metrics split: subset per ``version`` label value
    (from the DestinationRule), and the Service's port (for the Envoy-style cluster name)."""

    subsets: Mapping[str, str]
    port: int | None
    #: Per-version Services a Gateway API route splits over: host -> the name their rows show.
    backends: Mapping[str, str] = field(default_factory=dict)
    #: An ambient service behind a waypoint: only the waypoint reports (``reporter="waypoint"``).
    waypoint: bool = False


def split_context(index: "MeshIndex", target: "LogTarget") -> SplitContext:
    """The ``SplitContext`` of ``target`` in the current mesh."""
    from meshtui.accesslog.target import plan_follow
    from meshtui.model.kube import Service
    from meshtui.routing.ambient_path import served_by_waypoint

    host = f"{target.name}.{target.namespace}.svc.cluster.local"
    subsets: dict[str, str] = {}
    dr = index.destination_rule_for(host, target.namespace)
    for s in dr.subsets if dr is not None else []:
        version = (s.labels or {}).get("version")
        if version is not None:
            subsets.setdefault(version, s.name)
    service = index.get("Service", target.namespace, target.name)
    ports = getattr(service, "ports", None) or []
    port = getattr(ports[0], "port", None) if len(ports) == 1 else None
    backends = dict(plan_follow(index, target, max_pods=1).backends) if service is not None else {}
    waypoint = isinstance(service, Service) and served_by_waypoint(index, service)
    return SplitContext(subsets, port if isinstance(port, int) else None, backends, waypoint)


def metrics_split(client: PrometheusClient, context: SplitContext, target: "LogTarget", window: float,
                  weights: Mapping[str, float] | None = None, *, at: float | None = None,
                  seen_at: str = "auto") -> ObservedSplit:
    """The metrics basis: ``target``'s split over the ``window`` seconds before ``at`` (now).

    ``seen_at``: ``client`` (``reporter="source"``), ``server`` (``reporter="destination"``) or
    ``auto`` (the clients', else the servers' when no client reported). Raises ``PrometheusError``
    when Prometheus fails or has no requests to the service in the window.
    """
    host = f"{target.name}.{target.namespace}.svc.cluster.local"
    when = time.time() if at is None else at
    hosts = (host, *context.backends)

    def each(query: Callable[[str], str]) -> dict[Any, float]:
        # Rows are keyed by (destination_service, version, workload): the hosts never collide.
        return {k: v for h in hosts for k, v in vector_values(client.query(query(h), when)).items()}

    if context.waypoint:
        reporter = "waypoint"  # ambient: no sidecar sees the requests, the waypoint does
    else:
        reporter = "destination" if seen_at == "server" else "source"
    requests = each(lambda h: promql.requests_query(h, window, reporter))
    if seen_at == "auto" and not context.waypoint and not any(round(v) > 0 for v in requests.values()):
        # No client sidecar reported (callers outside the mesh): the servers' view, as Kiali falls back.
        reporter = "destination"
        requests = each(lambda h: promql.requests_query(h, window, reporter))
    if not any(round(v) > 0 for v in requests.values()):
        raise PrometheusError(f"{client.description}: no istio_requests_total for {host} in the last {window:g}s")
    errors = each(lambda h: promql.errors_query(h, window, reporter))
    quantiles: dict[float, dict[Any, float]] = {}
    for q in (0.5, 0.95, 0.99):
        quantiles[q] = each(lambda h: promql.latency_query(h, window, q, reporter))  # noqa: B023 (called now)
    groups = [g for h in hosts for g in client.query(promql.error_groups_query(h, window, reporter), when)]
    subsets, port = context.subsets, context.port
    weights = weights or {}
    rows = []
    metric_rows = split_rows(requests, errors, quantiles)
    per_host: Counter[str] = Counter()
    for m in metric_rows:
        # A route's per-version Services share one split: the service's.
        per_host[host if m.host in context.backends else m.host] += m.requests
    total = sum(per_host.values())
    for m in metric_rows:
        backend = context.backends.get(m.host)
        subset = backend or subsets.get(m.subset, "")
        weight = weights.get(subset) if m.host == host or backend else None
        group = host if backend else m.host
        rows.append(SplitRow(
            cluster=f"outbound|{port or ''}|{subset}|{m.host}", direction="outbound", port=port, subset=subset,
            host=m.host, mirrored=False, requests=m.requests, rate=m.requests / window, share=m.requests / total,
            host_share=m.requests / per_host[group] if per_host[group] else 0.0,
            weight=None if weight is None else weight / 100.0, errors=m.errors,
            error_rate=m.errors / m.requests if m.requests else 0.0,
            p50_ms=m.p50_ms, p95_ms=m.p95_ms, p99_ms=m.p99_ms))
    rows.sort(key=lambda r: (r.host, r.subset, r.cluster))
    # The waypoint applies the route's weights, as a client sidecar does: the clients' side.
    seen_at = "server" if reporter == "destination" else "client"
    view = {"source": "the clients'", "destination": "the servers'", "waypoint": "the waypoint's"}[reporter]
    label = f"from Prometheus, reporter={reporter} ({view} view; every rule), {client.description}"
    return ObservedSplit(BASIS_PROMETHEUS, label, window, rows, _rollups(groups, subsets, port),
                         None, None, seen_at=seen_at)


def _rollups(groups: list[dict[str, Any]], subsets: Mapping[str, str], port: int | None) -> ErrorRollups:
    """Error rollups (by cluster, flag, code+flags) from the ``error_groups_query`` answer."""
    by_cluster: Counter[str] = Counter()
    by_flag: Counter[str] = Counter()
    combos: Counter[tuple[int | None, str, str]] = Counter()
    for sample in groups:
        metric = sample.get("metric", {})
        value = float(sample["value"][1])
        if math.isnan(value) or round(value) <= 0:
            continue
        count = round(value)
        subset = subsets.get(str(metric.get("destination_version", "")), "")
        cluster = f"outbound|{port or ''}|{subset}|{metric.get('destination_service', '')}"
        code_text = str(metric.get("response_code", ""))
        code = int(code_text) if code_text.isdigit() else None
        flags = "" if metric.get("response_flags") in (None, "-") else str(metric["response_flags"])
        by_cluster[cluster] += count
        for flag in split_flags(flags) or ["-"]:
            by_flag[flag] += count
        combos[(code, flags, cluster)] += count
    return ErrorRollups(
        by_cluster=by_cluster.most_common(), by_flag=by_flag.most_common(),
        by_route=[],  # Istio's metrics carry no route name
        groups=[ErrorGroup(code, flags, cluster, "", n) for (code, flags, cluster), n in combos.most_common(5)])


def observed_split(choice: BasisChoice, session: "LogSession | None", index: "MeshIndex", target: "LogTarget",
                   window: float, weights: Mapping[str, float] | None = None) -> ObservedSplit:
    """The split the Logs screen would show: from ``choice``'s Prometheus, else from ``session``'s logs.

    Raises ``PrometheusError`` when the metrics basis fails, ``ValueError`` when the logs basis is
    chosen without a session.
    """
    if choice.client is not None:
        return metrics_split(choice.client, split_context(index, target), target, window, weights)
    if session is None:
        raise ValueError(f"the logs basis needs a LogSession ({choice.reason})")
    return logs_split(session)
