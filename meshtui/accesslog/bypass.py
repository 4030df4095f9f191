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
    catch-all route instead of the service's (see the module docstring)."""

    def __init__(self, addresses: Iterable[str]) -> None:
        self.addresses = frozenset(addresses)
        self._requests: Counter[tuple[str, str]] = Counter()
        self._errors: Counter[tuple[str, str]] = Counter()

    def add(self, record: Record) -> bool:
        """Count ``record`` when it is such a request; whether it was."""
        cluster = record.upstream_cluster
        if cluster not in CATCH_ALL_CLUSTERS or not self.addresses:
            return False
        sent_to = record.upstream_host or record.downstream_local_address
        if sent_to not in self.addresses:
            return False
        key = (record.authority or "-", cluster)
        self._requests[key] += 1
        if record.is_error:
            self._errors[key] += 1
        return True

    @property
    def total(self) -> int:
        """Requests counted, over every Host."""
        return sum(self._requests.values())

    def hosts(self) -> list[BypassedHost]:
        """The bypassing Hosts, most requests first."""
        return [BypassedHost(authority, n, self._errors[(authority, cluster)], cluster)
                for (authority, cluster), n in sorted(self._requests.items(), key=lambda kv: (-kv[1], kv[0]))]

    def reset(self) -> None:
        """Forget every count (a new window)."""
        self._requests.clear()
        self._errors.clear()


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
