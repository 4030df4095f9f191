"""Decoding Istio's upstream cluster names: ``outbound|9080|v1|reviews.default.svc.cluster.local``.

Istio names its Envoy clusters ``<direction>|<port>|<subset>|<host>`` (``BuildSubsetKey`` in
istio/istio ``pilot/pkg/model/service.go``); inbound clusters are ``inbound|<port>||`` (releases
before 1.8 built ``inbound|<port>|<port name>|<host>``: the third part there is the port's
name, never a subset, since inbound clusters have no subsets). The special clusters
``PassthroughCluster``, ``BlackHoleCluster`` and ``InboundPassthroughCluster`` (with the older
``...Ipv4``/``...Ipv6`` variants) carry traffic that matched no service. The SNI form
``outbound_.9080_.v1_.reviews.default.svc.cluster.local`` seen in ``%REQUESTED_SERVER_NAME%`` is
decoded too. A waypoint (ambient mode) names the cluster of a Service it sends to
``inbound-vip|<port>|<protocol>|<host>`` (the third part is the protocol, never a subset): it is
decoded as ``outbound``, since there the waypoint picks the backend as a client's sidecar would.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

OUTBOUND = "outbound"
INBOUND = "inbound"
PASSTHROUGH = "passthrough"
INBOUND_PASSTHROUGH = "inbound-passthrough"
BLACKHOLE = "blackhole"
OTHER = "other"
NONE = "none"

_SPECIAL = {
    "PassthroughCluster": PASSTHROUGH,
    "BlackHoleCluster": BLACKHOLE,
    "InboundPassthroughCluster": INBOUND_PASSTHROUGH,
    "InboundPassthroughClusterIpv4": INBOUND_PASSTHROUGH,
    "InboundPassthroughClusterIpv6": INBOUND_PASSTHROUGH,
}


@dataclass(frozen=True, slots=True)
class ClusterName:
    """A decoded upstream cluster name.

    ``direction`` is one of ``outbound``, ``inbound``, ``passthrough``, ``inbound-passthrough``,
    ``blackhole``, ``other`` (a name Istio did not build, e.g. a gateway's static cluster) or
    ``none`` (no cluster: ``-`` in the log). ``port`` is ``None`` when the name has none;
    ``subset`` and ``host`` are ``""`` when empty.
    """

    raw: str
    direction: str
    port: int | None = None
    subset: str = ""
    host: str = ""

    @property
    def is_service(self) -> bool:
        """Whether the cluster is a service's (inbound or outbound), not a special one."""
        return self.direction in (OUTBOUND, INBOUND)


@lru_cache(maxsize=4096)
def parse_cluster(name: str | None) -> ClusterName:
    """Decode a cluster name as found in ``%UPSTREAM_CLUSTER%``; never raises.

    The cache matters: a log holds a handful of distinct clusters over millions of lines.
    """
    if name is None or name == "" or name == "-":
        return ClusterName(raw=name or "", direction=NONE)
    special = _SPECIAL.get(name)
    if special is not None:
        return ClusterName(raw=name, direction=special)
    if "|" in name:
        parts = name.split("|")
        if len(parts) == 4 and parts[0] == OUTBOUND:
            return ClusterName(name, OUTBOUND, _port(parts[1]), parts[2], parts[3])
        if len(parts) == 4 and parts[0] == "inbound-vip":
            return ClusterName(name, OUTBOUND, _port(parts[1]), "", parts[3])
        if len(parts) == 4 and parts[0] == INBOUND:
            # Pre-1.8 "inbound|8080|http|host": "http" names the port; the subset stays empty.
            return ClusterName(name, INBOUND, _port(parts[1]), "", parts[3])
        return ClusterName(raw=name, direction=OTHER)
    if name.startswith(("outbound_.", "inbound_.")):
        # SNI form: direction_.port_.subset_.host (the host may itself hold "_." only in theory).
        parts = name.split("_.", 3)
        if len(parts) == 4:
            return ClusterName(name, parts[0], _port(parts[1]), parts[2], parts[3])
    return ClusterName(raw=name, direction=OTHER)


def _port(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 5 else None
