"""Requests to a service that its routes never saw: the Host-header trap, read from access logs.

A client's sidecar picks the route configuration by the port it dials and the virtual host by
the request's Host header. When the Host names nothing a VirtualService (or the registry)
lists, say a reverse proxy that forwards its own caller's Host ``10.22.12.178:30785``, Envoy
takes the catch-all ``allow_any`` route to ``PassthroughCluster`` (``BlackHoleCluster`` under
REGISTRY_ONLY) and connects to the dialled address as it is: the service's ClusterIP. Those
requests bypass every rule and every weighted split of the service, and the split measured from
the lines that did name the service looks healthy while a share of real traffic goes round-robin.

``BypassTally`` counts such lines per Host, from the outbound lines of the followed clients; a
line is the service's when the address it was sent to (``%UPSTREAM_HOST%``, else
``%DOWNSTREAM_LOCAL_ADDRESS%``) is one of the service's ``ClusterIP:port`` addresses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from meshtui.accesslog.record import Record

#: The clusters Envoy uses for a request that matched no virtual host of the route config.
CATCH_ALL_CLUSTERS = frozenset({"PassthroughCluster", "BlackHoleCluster"})


@dataclass(frozen=True, slots=True)
class BypassedHost:
    """One Host header the service's callers sent that its routes did not apply to."""

    authority: str
    requests: int
    errors: int
    cluster: str  # PassthroughCluster or BlackHoleCluster

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``meshtui logs --split -o json``, key ``bypassed``)."""
        return {"authority": self.authority, "requests": self.requests, "errors": self.errors,
                "cluster": self.cluster}


def service_addresses(service: Any) -> frozenset[str]:
    """``ClusterIP:port`` for every port of ``service`` (empty for a headless service)."""
    ip = getattr(service, "cluster_ip", None)
    if not ip or ip == "None":
        return frozenset()
    return frozenset(f"{ip}:{p.port}" for p in service.ports if p.port)


class BypassTally:
    """Counts, per Host header, the followed clients' requests to the service that took the
    catch-all route instead of the service's (see the module docstring).

    ``window`` (seconds of event time, from ``%START_TIME%``) keeps only the last seconds, as
    the observed split beside it does; ``None`` counts every line.
    """

    def __init__(self, addresses: Iterable[str], window: float | None = None) -> None:
        self.addresses = frozenset(addresses)
        self.window = window
        # second (0 without a window) -> (requests, errors) per (authority, cluster)
        self._slots: dict[int, tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]] = {}
        self._latest: float | None = None

    def qualifies(self, record: Record) -> bool:
        """Whether ``record`` is such a request (without counting it)."""
        if record.upstream_cluster not in CATCH_ALL_CLUSTERS or not self.addresses:
            return False
        return (record.upstream_host or record.downstream_local_address) in self.addresses

    def add(self, record: Record) -> bool:
        """Count ``record`` when it is such a request; whether it was."""
        if not self.qualifies(record):
            return False
        slot = 0
        if self.window is not None:
            t = record.start_epoch
            if t is None:
                t = self._latest if self._latest is not None else 0.0
            if self._latest is None or t > self._latest:
                self._latest = t
                self._expire()
            slot = int(t // 1)
            if slot <= self._latest - self.window:
                return True  # older than the window: a bypass, but no longer counted
        requests, errors = self._slots.get(slot) or self._slots.setdefault(slot, (Counter(), Counter()))
        key = (record.authority or "-", record.upstream_cluster or "")
        requests[key] += 1
        if record.is_error:
            errors[key] += 1
        return True

    def _expire(self) -> None:
        if self.window is None or self._latest is None:
            return
        oldest = self._latest - self.window
        for slot in [s for s in self._slots if s <= oldest]:
            del self._slots[slot]

    def set_window(self, window: float | None) -> None:
        """Change the window; a shorter one drops what falls outside it."""
        self.window = window
        self._expire()

    def _totals(self) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
        requests: Counter[tuple[str, str]] = Counter()
        errors: Counter[tuple[str, str]] = Counter()
        for r, e in self._slots.values():
            requests.update(r)
            errors.update(e)
        return requests, errors

    @property
    def total(self) -> int:
        """Requests counted, over every Host."""
        return sum(self._totals()[0].values())

    def hosts(self) -> list[BypassedHost]:
        """The bypassing Hosts, most requests first."""
        requests, errors = self._totals()
        return [BypassedHost(authority, n, errors[(authority, cluster)], cluster)
                for (authority, cluster), n in sorted(requests.items(), key=lambda kv: (-kv[1], kv[0]))]

    def reset(self) -> None:
        """Forget every count (a new window)."""
        self._slots.clear()


def describe_bypass(service_label: str, routed_by: list[str], hosts: list[BypassedHost],
                    counted: int) -> str:
    """The one-line warning shown beside the observed split.

    ``routed_by`` names the VirtualServices whose rules the bypassing requests skipped;
    ``counted`` is how many requests the split itself rests on.
    """
    total = sum(h.requests for h in hosts)
    shown = ", ".join(f"{h.authority} ({h.requests})" for h in hosts[:3]) + (" …" if len(hosts) > 3 else "")
    share = f"{100 * total / (total + counted):.0f}% of" if total + counted else "all"
    rules = (f"VirtualService {', '.join(routed_by)} splits traffic to {service_label}, but"
             if routed_by else f"{service_label}:")
    return (f"{rules} {total} request(s) ({share} what was seen) were sent with a Host no "
            f"VirtualService lists: {shown}; its rules and weights do not apply to them "
            "(plain Kubernetes load balancing through the catch-all route)")
