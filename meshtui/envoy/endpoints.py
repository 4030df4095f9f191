"""Endpoint tables: ``proxy-config endpoints`` (from ``/clusters?format=json``) and
``proxy-config eds`` (from the EndpointsConfigDump of ``/config_dump?include_eds``).

Follows istioctl/pkg/writer/envoy/clusters/clusters.go (ENDPOINT STATUS OUTLIER CHECK
CLUSTER, sorted by address, port, cluster) and configdump/endpoint.go (NAME STATUS LOCALITY
CLUSTER, load assignments sorted like clusters, endpoints in dump order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.envoy.clusters import cluster_sort_key
from meshtui.envoy.dump import (
    ConfigDump,
    DumpError,
    Json,
    dig,
    get,
    malformed_is_dump_error,
    parse_json_document,
)
from meshtui.envoy.gosort import go_sort_by_key
from meshtui.envoy.table import Table
from meshtui.util.gcpause import gc_paused_call

HEALTH_STATUS = {0: "UNKNOWN", 1: "HEALTHY", 2: "UNHEALTHY", 3: "DRAINING", 4: "TIMEOUT", 5: "DEGRADED"}


def health_name(value: Any) -> str:
    """The HealthStatus enum name of a JSON value (name or number; UNKNOWN when absent)."""
    if isinstance(value, int):
        return HEALTH_STATUS.get(value, str(value))
    return value if isinstance(value, str) and value else "UNKNOWN"


@dataclass(frozen=True)
class EndpointFilter:
    """istioctl's endpoint filter: ``--address``, ``--port``, ``--cluster``, ``--status``
    (all exact, case-insensitive)."""

    address: str = ""
    port: int = 0
    cluster: str = ""
    status: str = ""

    def _rest(self, port: int, cluster: str, status: str) -> bool:
        if self.port and port != self.port:
            return False
        if self.cluster and cluster.casefold() != self.cluster.casefold():
            return False
        if self.status and status.casefold() != self.status.casefold():
            return False
        return True

    def verify(self, address: str, port: int, cluster: str, status: str) -> bool:
        """Whether an endpoint with these fields passes the filter."""
        if self.address and address.casefold() != self.address.casefold():
            return False
        return self._rest(port, cluster, status)


# -- /clusters?format=json ---------------------------------------------------------------------


@dataclass
class ClustersDump:
    """Envoy's ``/clusters?format=json`` output: ``cluster_statuses`` with their hosts."""

    raw: Json

    @classmethod
    def parse(cls, data: bytes | str, source: str = "clusters output") -> "ClustersDump":
        """Decode ``/clusters?format=json`` output; ``DumpError`` when it is not one."""
        doc = parse_json_document(data, source)
        # proto3 JSON leaves an empty repeated field out: "{}" is a proxy with no cluster.
        if isinstance(doc, dict) and not doc:
            return cls({"cluster_statuses": []})
        if not isinstance(doc, dict) or not isinstance(get(doc, "cluster_statuses"), list):
            raise DumpError(f'{source}: not an Envoy clusters dump (no "cluster_statuses" list)')
        return cls(doc)

    def statuses(self) -> list[Json]:
        """The cluster statuses, in Envoy's order."""
        return [c for c in get(self.raw, "cluster_statuses", []) or [] if isinstance(c, dict)]


def host_address(host: Json) -> str:
    """Address of a host status: socket address, ``unix://`` pipe or ``envoy://`` internal."""
    addr = get(host, "address")
    sock = get(addr, "socket_address")
    if isinstance(sock, dict):
        return get(sock, "address", "")
    internal = get(addr, "envoy_internal_address")
    if isinstance(internal, dict):
        return f"envoy://{get(internal, 'server_listener_name', '')}/{get(internal, 'endpoint_id', '')}"
    return "unix://" + (get(get(addr, "pipe"), "path", "") or "")


def host_port(host: Json) -> int:
    """The socket port of a host status (0 for pipes and internal addresses)."""
    return int(dig(host, "address", "socket_address", "port_value") or 0)


def host_status(host: Json) -> str:
    """The EDS health status of a host status."""
    return health_name(dig(host, "health_status", "eds_health_status"))


def host_verify(flt: EndpointFilter, host: Json, cluster: str) -> bool:
    """istioctl's ``EndpointFilter.Verify`` for a ``/clusters`` host."""
    return flt.verify(host_address(host), host_port(host), cluster, host_status(host))


@malformed_is_dump_error
@gc_paused_call
def endpoint_table(clusters: ClustersDump, flt: EndpointFilter = EndpointFilter()) -> Table:
    """The endpoints table (``ENDPOINT STATUS OUTLIER CHECK CLUSTER``)."""
    entries = []
    for cs in clusters.statuses():
        name = get(cs, "name", "")
        for host in get(cs, "host_statuses", []) or []:
            if host_verify(flt, host, name):
                failed = bool(dig(host, "health_status", "failed_outlier_check"))
                entries.append((host_address(host), host_port(host), name, host_status(host), failed, host))
    entries = go_sort_by_key(entries, lambda e: (e[0], e[1], e[2]))
    table = Table(["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"])
    for addr, port, name, status, failed, host in entries:
        table.add([f"{addr}:{port}" if port else addr, status, "FAILED" if failed else "OK", name], host)
    return table


@malformed_is_dump_error
def endpoint_dump(clusters: ClustersDump, flt: EndpointFilter = EndpointFilter()) -> list[Json]:
    """The cluster statuses ``-o json`` prints: those with at least one matching host."""
    out = []
    for cs in clusters.statuses():
        name = get(cs, "name", "")
        if any(host_verify(flt, h, name) for h in get(cs, "host_statuses", []) or []):
            out.append(cs)
    return out


# -- EDS (config dump) -------------------------------------------------------------------------


def lb_endpoint_address(ep: Json) -> str:
    """The NAME of an EDS endpoint: ``ip:port``, a pipe path or ``envoy://listener/id``."""
    addr = dig(ep, "endpoint", "address")
    sock = get(addr, "socket_address")
    if isinstance(sock, dict):
        return f"{get(sock, 'address', '')}:{int(get(sock, 'port_value', 0) or 0)}"
    pipe = get(addr, "pipe")
    if isinstance(pipe, dict):
        return get(pipe, "path", "")
    internal = get(addr, "envoy_internal_address")
    if isinstance(internal, dict) and get(internal, "server_listener_name") is not None:
        return f"envoy://{get(internal, 'server_listener_name')}/{get(internal, 'endpoint_id', '')}"
    return "unknown"


def lb_endpoint_port(ep: Json) -> int:
    """The socket port of an EDS endpoint (0 otherwise)."""
    return int(dig(ep, "endpoint", "address", "socket_address", "port_value") or 0)


def locality_text(locality: Any) -> str:
    """``region/zone/subzone`` as Istio's ``LocalityToString`` writes it."""
    if not isinstance(locality, dict):
        return ""
    out = get(locality, "region", "")
    zone = get(locality, "zone", "")
    if not zone:
        return out
    out += "/" + zone
    sub = get(locality, "sub_zone", "")
    return out + "/" + sub if sub else out


def _filtered_assignment(cla: Json, flt: EndpointFilter) -> tuple[Json, int]:
    """A copy of the load assignment keeping only endpoints that pass ``flt``, and their count."""
    name = get(cla, "cluster_name", "")
    out = dict(cla)
    count = 0
    groups = []
    for llb in get(cla, "endpoints", []) or []:
        lb_key = "lb_endpoints" if "lb_endpoints" in llb else "lbEndpoints"
        kept = [
            ep
            for ep in get(llb, "lb_endpoints", []) or []
            if flt.verify(lb_endpoint_address(ep), lb_endpoint_port(ep), name, health_name(get(ep, "health_status")))
        ]
        g = dict(llb)
        if kept:
            g[lb_key] = kept
        else:
            g.pop(lb_key, None)  # an empty repeated field is not printed
        groups.append(g)
        count += len(kept)
    if groups:
        out["endpoints"] = groups
    return out, count


def sorted_assignments(dump: ConfigDump, flt: EndpointFilter = EndpointFilter()) -> list[Json]:
    """Load assignments with at least one endpoint passing ``flt``, filtered, in istioctl's order."""
    kept = []
    for cla in dump.load_assignments():
        filtered, count = _filtered_assignment(cla, flt)
        if count:
            kept.append(filtered)
    return go_sort_by_key(kept, lambda c: cluster_sort_key(get(c, "cluster_name", "")))


@malformed_is_dump_error
@gc_paused_call
def eds_table(dump: ConfigDump, flt: EndpointFilter = EndpointFilter(), *, include_type: bool = False) -> Table:
    """The EDS table (``NAME STATUS LOCALITY CLUSTER``)."""
    table = Table(["NAME", "STATUS", "LOCALITY", "CLUSTER"])
    for cla in sorted_assignments(dump, flt):
        name = get(cla, "cluster_name", "")
        for llb in get(cla, "endpoints", []) or []:
            loc = locality_text(get(llb, "locality"))
            for ep in get(llb, "lb_endpoints", []) or []:
                addr = lb_endpoint_address(ep)
                table.add([f"endpoint/{addr}" if include_type else addr, health_name(get(ep, "health_status")), loc, name], ep)
    return table


@malformed_is_dump_error
def eds_dump(dump: ConfigDump, flt: EndpointFilter = EndpointFilter()) -> list[Json]:
    """The load assignments ``-o json`` prints (filtered copies, sorted)."""
    return sorted_assignments(dump, flt)
