"""The CONNECTIONS table of ``istioctl ztunnel-config connections``, rendered from a ztunnel config dump."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.tabwriter import tabulate_text
from meshtui.envoy.ztunnel_dump import ZtunnelDump, load

_HEADER = ("WORKLOAD", "DIRECTION", "LOCAL", "REMOTE", "REMOTE TARGET", "PROTOCOL")


def _split_host_port(addr: str) -> tuple[str, str] | None:
    """``host:port`` (``[v6]:port`` too) split as Go's ``net.SplitHostPort``; None when it has no port."""
    if addr.startswith("["):
        host, sep, rest = addr[1:].partition("]:")
        return (host, rest) if sep else None
    host, sep, port = addr.rpartition(":")
    if not sep or ":" in host:
        return None
    return host, port


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _names_by_ip(view: ZtunnelDump) -> dict[str, str]:
    """Service hostnames and workload ``name.namespace`` by IP; services win, as istioctl looks them up first."""
    names: dict[str, str] = {}
    for w in view.workloads:
        ips = w["workloadIps"] or []
        names[ips[0] or "None" if ips else "None"] = f"{w['name']}.{w['namespace']}"
    for s in view.services:
        vips = s["vips"] or []
        # A VIP is "network/ip"; a service without one is keyed "None", as istioctl does.
        ip = vips[0].partition("/")[2] if vips else ""
        names[ip or "None"] = s["hostname"]
    return names


def connection_table(
    dump: dict[str, Any] | ZtunnelDump,
    *,
    namespace: str | None = None,
    workload: str | None = None,
    direction: str | None = None,
    raw: bool = False,
) -> str:
    """Render the live connections of each local workload in ``dump`` as istioctl's table.

    ``workload`` may be ``name.namespace`` when ``namespace`` is not given; ``direction`` is
    ``inbound`` or ``outbound``; ``raw`` keeps IP addresses instead of service and workload names.
    """
    if workload and not namespace and "." in workload:
        workload, namespace = workload.split(".", 1)
    view = dump if isinstance(dump, ZtunnelDump) else load(dump)
    names = {} if raw else _names_by_ip(view)

    def lookup(addr: Any) -> str:
        text = "" if addr is None else str(addr)
        parts = _split_host_port(text)
        if parts is None or parts[0] not in names:
            return text
        return _join_host_port(names[parts[0]], parts[1])

    states = sorted(view.workload_states, key=lambda s: (s["info"]["namespace"], s["info"]["name"]))
    lines = ["\t".join(_HEADER)]
    for state in states:
        info = state["info"]
        if namespace and info["namespace"] != namespace:
            continue
        if workload and info["name"].casefold() != workload.casefold():
            continue
        name = f"{info['name']}.{info['namespace']}"
        conns = state["connections"]
        if direction != "outbound":
            for c in conns["inbound"] or []:
                # istioctl shows an inbound connection's original destination as recorded.
                lines.append("\t".join((name, "Inbound", lookup(c["actualDst"]), lookup(c["src"]),
                                        c["originalDst"], c["protocol"])))
        if direction != "inbound":
            for c in conns["outbound"] or []:
                lines.append("\t".join((name, "Outbound", lookup(c["src"]), lookup(c["actualDst"]),
                                        lookup(c["originalDst"]), c["protocol"])))
    return tabulate_text("\n".join(lines) + "\n")
