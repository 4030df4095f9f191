"""The CONNECTIONS table of ``istioctl ztunnel-config connections``, rendered from a ztunnel config dump."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.tabwriter import tabulate_text

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


def _names_by_ip(dump: dict[str, Any]) -> dict[str, str]:
    """Service hostnames and workload ``name.namespace`` by IP; services win, as istioctl looks them up first."""
    names: dict[str, str] = {}
    for w in (dump.get("workloads") or {}).values():
        ips = w.get("workloadIps") or []
        names[str(ips[0]) if ips else "None"] = f"{w.get('name', '')}.{w.get('namespace', '')}"
    for s in (dump.get("services") or {}).values():
        vips = s.get("vips") or []
        # A VIP is "network/ip"; a service without one is keyed "None", as istioctl does.
        ip = str(vips[0]).partition("/")[2] if vips else ""
        names[ip or "None"] = str(s.get("hostname", ""))
    return names


def connection_table(
    dump: dict[str, Any],
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
    names = {} if raw else _names_by_ip(dump)

    def lookup(addr: Any) -> str:
        text = "" if addr is None else str(addr)
        parts = _split_host_port(text)
        if parts is None or parts[0] not in names:
            return text
        return _join_host_port(names[parts[0]], parts[1])

    states = sorted(
        (dump.get("workloadState") or {}).values(),
        key=lambda s: (str(s.get("info", {}).get("namespace", "")), str(s.get("info", {}).get("name", ""))),
    )
    lines = ["\t".join(_HEADER)]
    for state in states:
        info = state.get("info") or {}
        if namespace and info.get("namespace") != namespace:
            continue
        if workload and info.get("name") != workload:
            continue
        name = f"{info.get('name', '')}.{info.get('namespace', '')}"
        conns = state.get("connections") or {}
        if direction != "outbound":
            for c in conns.get("inbound") or []:
                # istioctl shows an inbound connection's original destination as recorded.
                target = "" if c.get("originalDst") is None else str(c["originalDst"])
                lines.append("\t".join((name, "Inbound", lookup(c.get("actualDst")), lookup(c.get("src")),
                                        target, str(c.get("protocol", "")))))
        if direction != "inbound":
            for c in conns.get("outbound") or []:
                lines.append("\t".join((name, "Outbound", lookup(c.get("src")), lookup(c.get("actualDst")),
                                        lookup(c.get("originalDst")), str(c.get("protocol", "")))))
    return tabulate_text("\n".join(lines) + "\n")
