"""Has an applied VirtualService change reached the proxies? Poll their config dumps and see.

After a write, istiod pushes new routes to every proxy that imports the VirtualService. meshtui
checks a sample of them (``client_proxies``) by reading each one's ``/config_dump`` through the
source and comparing the routes Istio tagged with this VirtualService (route metadata
``filter_metadata.istio.config``) with what the new spec should produce: per rule, its route
name and the weighted clusters (``outbound|port|subset|host`` -> subset and host, weight). A
proxy is up to date when no route of the old spec that the change removed is left and every
route the change added is there. Changes that do not alter names or weights (a header value,
a timeout) cannot be seen this way: ``observable`` says so and nothing is polled.

Blocking (it reads through the ``Source``): the UI runs ``poll_propagation`` in a thread worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from meshtui.sources.base import ObjectKey, RawObject, SourceError

#: A route as far as propagation is concerned: its name and its (host, subset, weight) set.
Signature = tuple[str, frozenset[tuple[str, str, int]]]

DEFAULT_SAMPLE = 5
DEFAULT_TIMEOUT = 30.0
DEFAULT_INTERVAL = 0.5


def _short(host: str) -> str:
    return host.split(".")[0]


def _catch_all(rule: dict[str, Any]) -> bool:
    match = rule.get("match")
    if not match:
        return True
    return any(isinstance(b, dict) and set(b) <= {"uri", "name"} and (b.get("uri") in (None, {"prefix": "/"}))
               for b in match)


def expected_signatures(vs: RawObject | None) -> set[Signature]:
    """The routes the spec of ``vs`` should produce on a proxy, as signatures (rules after a
    catch-all are dropped, as Istio does; redirects, direct responses and delegates skipped)."""
    out: set[Signature] = set()
    for rule in (((vs or {}).get("spec") or {}).get("http")) or []:
        if not isinstance(rule, dict):
            continue
        route = [d for d in rule.get("route") or [] if isinstance(d, dict)]
        if route and not any(k in rule for k in ("redirect", "directResponse", "delegate")):
            if len(route) > 1:
                route = [d for d in route if isinstance(d.get("weight"), int) and d["weight"] > 0]
            dests = frozenset(
                (_short(str((d.get("destination") or {}).get("host") or "")),
                 str((d.get("destination") or {}).get("subset") or ""),
                 int(d.get("weight") or 0) if len(route) > 1 else 100)
                for d in route)
            name = str(rule.get("name") or "")
            names = set()
            for block in rule.get("match") or [None]:
                block_name = block.get("name") if isinstance(block, dict) else None
                names.add(f"{name}.{block_name}" if name and block_name else (block_name or name))
            out.update((n, dests) for n in names)
        if _catch_all(rule):
            break
    return out


def _cluster(name: str) -> tuple[str, str]:
    parts = name.split("|")
    if len(parts) == 4:
        return _short(parts[3]), parts[2]
    return _short(name), ""


def observed_signatures(dump: Any, key: ObjectKey) -> set[Signature]:
    """The routes of a parsed ``ConfigDump`` that Istio generated from the VirtualService ``key``."""
    from meshtui.envoy.dump import DumpError, dig, get

    suffix = f"/namespaces/{key.namespace}/virtual-service/{key.name}"
    out: set[Signature] = set()
    try:
        configs = dump.route_configs()
    except DumpError:
        return out
    for rc in configs:
        for vh in get(rc, "virtual_hosts", []) or []:
            for r in get(vh, "routes", []) or []:
                config = dig(r, "metadata", "filter_metadata", "istio", "config")
                if not isinstance(config, str) or not config.endswith(suffix):
                    continue
                action = get(r, "route")
                if not isinstance(action, dict):
                    continue
                wc = get(action, "weighted_clusters")
                if isinstance(wc, dict):
                    dests = frozenset((*_cluster(str(get(c, "name", ""))), int(get(c, "weight", 0) or 0))
                                      for c in get(wc, "clusters", []) or [])
                elif get(action, "cluster") is not None:
                    dests = frozenset({(*_cluster(str(get(action, "cluster"))), 100)})
                else:
                    continue
                out.add((str(get(r, "name", "") or ""), dests))
    return out


@dataclass(frozen=True)
class Expectation:
    """What must disappear from and appear in a proxy's routes for the change to have arrived."""

    key: ObjectKey
    gone: frozenset[Signature]
    added: frozenset[Signature]

    @classmethod
    def of(cls, before: RawObject, after: RawObject) -> "Expectation":
        """The expectation of a change from ``before`` to ``after`` (one VirtualService)."""
        old, new = expected_signatures(before), expected_signatures(after)
        return cls(ObjectKey.of(after), frozenset(old - new), frozenset(new - old))

    @property
    def observable(self) -> bool:
        """Whether the change shows in route names or weights at all."""
        return bool(self.gone or self.added)

    def satisfied(self, observed: set[Signature]) -> bool | None:
        """True when ``observed`` carries the change, False when not yet, None when the proxy
        has no route of this VirtualService (it does not import it)."""
        if not observed:
            return None
        return not (observed & self.gone) and self.added <= observed


def client_proxies(index: Any, vs: RawObject, limit: int = DEFAULT_SAMPLE) -> list[tuple[str, str]]:
    """A sample of the proxies that route through ``vs``: pods of the gateways it is bound to,
    and (when bound to the mesh) ready sidecar pods, its own namespace first, then one per
    namespace in turn so that the sample is spread out. ``(namespace, pod)`` pairs."""
    spec = vs.get("spec") or {}
    vs_ns = (vs.get("metadata") or {}).get("namespace") or "default"
    gateways = [str(g) for g in spec.get("gateways") or []] or ["mesh"]
    picked: list[tuple[str, str]] = []
    for gw in gateways:
        if gw == "mesh":
            continue
        gw_ns, _, gw_name = gw.rpartition("/")
        obj = index.get("Gateway", gw_ns or vs_ns, gw_name)
        selector = getattr(obj, "selector", None)
        if selector:
            for pod in sorted(index.pods, key=lambda p: (p.namespace, p.name)):
                if pod.ready and all(pod.labels.get(k) == v for k, v in selector.items()):
                    picked.append((pod.namespace, pod.name))
                    break
    if "mesh" in gateways:
        by_ns: dict[str, list[Any]] = {}
        for pod in index.pods:
            if pod.ready and pod.has_sidecar:
                by_ns.setdefault(pod.namespace, []).append(pod)
        order = sorted(by_ns, key=lambda ns: (ns != vs_ns, ns))
        queues = {ns: sorted(by_ns[ns], key=lambda p: p.name) for ns in order}
        while len(picked) < limit and any(queues.values()):
            for ns in order:
                if queues[ns] and len(picked) < limit:
                    pod = queues[ns].pop(0)
                    if (pod.namespace, pod.name) not in picked:
                        picked.append((pod.namespace, pod.name))
    return picked[:limit]


@dataclass
class ProxyStatus:
    """Where one proxy stands: ``state`` is ``current``, ``stale``, ``unaffected`` (has no route
    of the VirtualService) or ``error`` (its config dump could not be read: ``detail``)."""

    namespace: str
    pod: str
    state: str = "stale"
    detail: str = ""
    seconds: float | None = None

    @property
    def name(self) -> str:
        """``ns/pod``."""
        return f"{self.namespace}/{self.pod}"


@dataclass
class PropagationReport:
    """The outcome of polling: per proxy status, how long the last one took, and whether the
    time ran out."""

    proxies: list[ProxyStatus] = field(default_factory=list)
    elapsed: float = 0.0
    timed_out: bool = False
    observable: bool = True
    cancelled: bool = False

    @property
    def relevant(self) -> list[ProxyStatus]:
        """The proxies that route through the VirtualService."""
        return [p for p in self.proxies if p.state != "unaffected"]

    @property
    def current(self) -> list[ProxyStatus]:
        """The proxies that have the change."""
        return [p for p in self.proxies if p.state == "current"]

    @property
    def stale(self) -> list[ProxyStatus]:
        """The proxies that still have the old routes, or could not be read."""
        return [p for p in self.proxies if p.state in ("stale", "error")]

    @property
    def done(self) -> bool:
        """Every relevant proxy has the change."""
        return not self.stale

    def summary(self) -> str:
        """``propagated to 3/3 proxies in 1.2 s`` (+ the stale ones, or why nothing was checked)."""
        if not self.observable:
            return "propagation not checked: the change does not alter route names or weights"
        if not self.proxies:
            return "propagation not checked: no proxy routes through this VirtualService"
        if not self.relevant:
            return f"propagation not checked: none of the {len(self.proxies)} sampled proxies routes through it"
        line = f"propagated to {len(self.current)}/{len(self.relevant)} proxies in {self.elapsed:.1f} s"
        if self.stale:
            why = "; ".join(f"{p.name}" + (f" ({p.detail})" if p.detail else "") for p in self.stale)
            line += f"; {'still stale' if not self.cancelled else 'not yet checked'}: {why}"
        return line


def poll_propagation(
    source: Any,
    before: RawObject,
    after: RawObject,
    proxies: Iterable[tuple[str, str]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    interval: float = DEFAULT_INTERVAL,
    cancelled: Callable[[], bool] = lambda: False,
    progress: Callable[[PropagationReport], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> PropagationReport:
    """Read the config dumps of ``proxies`` until each carries the change ``before`` -> ``after``
    or ``timeout`` seconds pass; ``progress`` gets the report after every round."""
    from meshtui.envoy.dump import ConfigDump, DumpError

    expectation = Expectation.of(before, after)
    report = PropagationReport([ProxyStatus(ns, pod) for ns, pod in proxies], observable=expectation.observable)
    if not expectation.observable or not report.proxies:
        return report
    start = clock()
    first_round = True
    while True:
        for status in report.proxies:
            if status.state in ("current", "unaffected") or cancelled():
                continue
            try:
                data = source.envoy_admin(status.namespace, status.pod, "/config_dump")
                dump = ConfigDump.parse(data, f"{status.name} config dump")
            except (SourceError, DumpError, OSError) as exc:
                status.state, status.detail = "error", str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
                continue
            verdict = expectation.satisfied(observed_signatures(dump, expectation.key))
            if verdict is None and first_round:
                status.state, status.detail = "unaffected", "no route of this VirtualService"
            elif verdict:
                status.state, status.detail, status.seconds = "current", "", clock() - start
            else:
                status.state, status.detail = "stale", "old routes"
        first_round = False
        report.elapsed = max([p.seconds or 0.0 for p in report.current], default=0.0)
        if progress is not None:
            progress(report)
        if report.done:
            return report
        if cancelled():
            report.cancelled = True
            return report
        if clock() - start >= timeout:
            report.timed_out = True
            report.elapsed = clock() - start
            return report
        sleep(interval)
