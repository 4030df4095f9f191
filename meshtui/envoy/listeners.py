"""``proxy-config listeners``: istioctl's listener table (configdump/listener.go).

Listeners (dynamic active, then static) are sorted by port, address and type; with
``--verbose`` (the default) each filter chain (and the default chain) becomes a row,
``MATCH`` describing its filter-chain match and ``DESTINATION`` where it sends traffic,
chains sorted by destination, descending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.envoy.dump import ConfigDump, DumpError, Json, dig, get, malformed_is_dump_error
from meshtui.envoy.gosort import go_sort_by_key, go_sort_slice
from meshtui.envoy.routes import describe_match
from meshtui.envoy.table import Table
from meshtui.util.gcpause import gc_paused_call

HTTP_CONNECTION_MANAGER = "envoy.filters.network.http_connection_manager"
TCP_PROXY = "envoy.filters.network.tcp_proxy"
BLACKHOLE = "BlackHoleCluster"

# Known ALPN lists and their short descriptions (compared as whole lists, in order).
_PROTOCOL_DESCRIPTIONS = {
    ("http/1.0", "http/1.1", "h2c", "istio-http/1.0", "istio-http/1.1", "istio-h2"): "App: HTTP TLS",
    ("istio", "istio-http/1.0", "istio-http/1.1", "istio-h2"): "App: Istio HTTP Plain",
    ("istio-peer-exchange", "istio"): "App: TCP TLS",
    ("http/1.0", "http/1.1", "h2c"): "App: HTTP",
}


@dataclass(frozen=True)
class ListenerFilter:
    """istioctl's listener filter: ``--address`` (any address, case-insensitive), ``--port``,
    ``--type`` (HTTP, TCP, HTTP+TCP, UNKNOWN) and ``--verbose`` (default on)."""

    address: str = ""
    port: int = 0
    type: str = ""
    verbose: bool = True

    def verify(self, listener: Json) -> bool:
        """Whether the listener passes the filter."""
        if self.address:
            wanted = self.address.casefold()
            addresses = [*additional_addresses(listener), listener_address(listener)]
            if not any(a.casefold() == wanted for a in addresses):
                return False
        if self.port and listener_port(listener) != self.port:
            return False
        if self.type and listener_type(listener).casefold() != self.type.casefold():
            return False
        return True


def filter_chains(listener: Json) -> list[Json]:
    """The filter chains, with the default chain last."""
    chains = list(get(listener, "filter_chains", []) or [])
    default = get(listener, "default_filter_chain")
    if isinstance(default, dict):
        chains.append(default)
    return chains


def listener_address(listener: Json) -> str:
    """The socket address (or pipe path) the listener binds; empty for internal listeners."""
    addr = get(listener, "address")
    sock = get(addr, "socket_address")
    if isinstance(sock, dict):
        return get(sock, "address", "")
    pipe = get(addr, "pipe")
    if isinstance(pipe, dict):
        return get(pipe, "path", "")
    return ""


def additional_addresses(listener: Json) -> list[str]:
    """Addresses of ``additional_addresses`` (dual-stack listeners)."""
    return [get(dig(a, "address", "socket_address"), "address", "") for a in get(listener, "additional_addresses", []) or []]


def listener_port(listener: Json) -> int:
    """The socket port (0 for internal and pipe listeners)."""
    return int(dig(listener, "address", "socket_address", "port_value") or 0)


def _mentions(obj: Any, needle: str) -> bool:
    """Whether a string inside ``obj`` contains ``needle`` (istioctl greps the proto bytes)."""
    if isinstance(obj, str):
        return needle in obj
    if isinstance(obj, dict):
        return any(_mentions(v, needle) for k, v in obj.items() if k != "@type")
    if isinstance(obj, list):
        return any(_mentions(v, needle) for v in obj)
    return False


def listener_type(listener: Json) -> str:
    """HTTP, TCP, HTTP+TCP or UNKNOWN from the filters of all chains."""
    n_http = n_tcp = 0
    for chain in filter_chains(listener):
        for f in get(chain, "filters", []) or []:
            name = get(f, "name")
            if name == HTTP_CONNECTION_MANAGER:
                n_http += 1
            elif name == TCP_PROXY and not _mentions(get(f, "typed_config"), BLACKHOLE):
                n_tcp += 1
    if n_http:
        return "HTTP" if n_tcp == 0 else "HTTP+TCP"
    return "TCP" if n_tcp else "UNKNOWN"


def describe_chain_match(match: Json | None) -> str:
    """The MATCH cell of a filter chain (SNI, transport, ALPN, destination address/port)."""
    m = match if isinstance(match, dict) else {}
    descrs = []
    server_names = get(m, "server_names") or []
    if server_names:
        descrs.append(f"SNI: {','.join(server_names)}")
    transport = get(m, "transport_protocol")
    if transport:
        descrs.append(f"Trans: {transport}")
    alpn = get(m, "application_protocols") or []
    if alpn:
        descrs.append(_PROTOCOL_DESCRIPTIONS.get(tuple(alpn), f"App: {','.join(alpn)}"))
    dport = get(m, "destination_port")
    port = f":{dport.get('value', 0) if isinstance(dport, dict) else dport}" if dport is not None else ""
    ranges = get(m, "prefix_ranges") or []
    if ranges:
        pf = []
        for r in ranges:
            plen = get(r, "prefix_len", 0)
            if isinstance(plen, dict):  # UInt32Value written as an object by some encoders
                plen = plen.get("value", 0)
            pf.append(f"{get(r, 'address_prefix', '')}/{plen}")
        descrs.append(f"Addr: {','.join(pf)}{port}")
    elif port:
        descrs.append(f"Addr: *{port}")
    return "; ".join(descrs) if descrs else "ALL"


def _cluster_text(cluster: str) -> str:
    return cluster if "Cluster" in cluster else f"Cluster: {cluster}"


def describe_domains(vh: Json) -> str:
    """Domains of a virtual host joined by '/', empty for the catch-all ``*``."""
    domains = get(vh, "domains", []) or []
    if len(domains) == 1 and domains[0] == "*":
        return ""
    return "/".join(domains)


def _match_all_cluster(rc: Json) -> str:
    vhosts = get(rc, "virtual_hosts", []) or []
    if len(vhosts) != 1 or (get(vhosts[0], "domains", []) or []) != ["*"]:
        return ""
    routes = get(vhosts[0], "routes", []) or []
    if len(routes) != 1 or get(get(routes[0], "match"), "prefix") != "/":
        return ""
    cluster = get(get(routes[0], "route"), "cluster")
    return _cluster_text(cluster) if isinstance(cluster, str) else ""


def describe_route_config(rc: Json) -> str:
    """An inline route configuration: its single cluster, or ``Inline Route: ...``."""
    cluster = _match_all_cluster(rc)
    if cluster:
        return cluster
    vhosts = []
    for vh in get(rc, "virtual_hosts", []) or []:
        routes = ", ".join(describe_match(get(r, "match")) for r in get(vh, "routes", []) or [])
        domains = describe_domains(vh)
        vhosts.append(routes if not domains else f"{domains} {routes}")
    return f"Inline Route: {'; '.join(vhosts)}"


def describe_destination(filters: list[Json]) -> str:
    """The DESTINATION cell: route, inline route or cluster of the chain's proxy filter."""
    for f in filters:
        name = get(f, "name")
        cfg = get(f, "typed_config") or {}
        if name == HTTP_CONNECTION_MANAGER:
            rc = get(cfg, "route_config")
            if isinstance(rc, dict):
                return describe_route_config(rc)
            rds_name = dig(cfg, "rds", "route_config_name")
            if rds_name:
                return f"Route: {rds_name}"
            return "HTTP"
        if name == TCP_PROXY and not _mentions(cfg, BLACKHOLE):
            return _cluster_text(get(cfg, "cluster", "") or "")
    return "Non-HTTP/Non-TCP"


def sorted_listeners(dump: ConfigDump, flt: ListenerFilter) -> list[Json]:
    """Listeners that pass ``flt`` in the table's order (port, address, type)."""
    listeners = dump.listeners()
    if not listeners:
        raise DumpError("no listeners found")
    kept = [x for x in listeners if flt.verify(x)]
    return go_sort_by_key(kept, lambda x: (listener_port(x), listener_address(x), listener_type(x)))


@malformed_is_dump_error
@gc_paused_call
def listener_table(dump: ConfigDump, flt: ListenerFilter = ListenerFilter(), *, include_type: bool = False) -> Table:
    """The listeners table (``ADDRESSES PORT MATCH DESTINATION``, or ``TYPE`` when not verbose)."""
    cols = ["ADDRESSES", "PORT", *(["MATCH", "DESTINATION"] if flt.verbose else ["TYPE"])]
    table = Table(["NAME", *cols] if include_type else cols, padding=1)
    for x in sorted_listeners(dump, flt):
        addresses = ",".join([listener_address(x), *additional_addresses(x)])
        port = str(listener_port(x))
        prefix = [f"listener/{get(x, 'name', '')}"] if include_type else []
        if flt.verbose:
            chains = [(describe_chain_match(get(c, "filter_chain_match")), describe_destination(get(c, "filters", []) or []), c) for c in filter_chains(x)]
            go_sort_slice(chains, lambda a, b: a[1] > b[1])
            for match, dest, chain in chains:
                table.add([*prefix, addresses, port, match, dest], chain)
        else:
            table.add([*prefix, addresses, port, listener_type(x)], x)
    return table


@malformed_is_dump_error
def listener_dump(dump: ConfigDump, flt: ListenerFilter = ListenerFilter()) -> list[Json]:
    """The listeners ``-o json`` prints (dump order, filtered; raw dump objects)."""
    listeners = dump.listeners()
    if not listeners:
        raise DumpError("no listeners found")
    return [x for x in listeners if flt.verify(x)]
