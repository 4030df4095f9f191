"""The WORKLOAD table of ``istioctl ztunnel-config workload``, rendered from a ztunnel config dump."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.tabwriter import tabulate_text

_HEADER = ("NAMESPACE", "POD NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL")


def _waypoint_name(workload: dict[str, Any], services: dict[str, Any]) -> str:
    """Name of the service a workload's waypoint address points at, or ``None`` as istioctl shows it."""
    waypoint = workload.get("waypoint")
    if not waypoint:
        return "None"
    destination = str(waypoint.get("destination", ""))
    # The destination is a "network/ip" address; istioctl shows the service owning that VIP.
    for service in services.values():
        if destination in (service.get("vips") or []):
            return str(service.get("name", ""))
    return destination


def workload_table(dump: dict[str, Any], *, namespace: str | None = None, name: str | None = None) -> str:
    """Render the workloads of ``dump`` as istioctl's table, optionally filtered by namespace and pod name."""
    services: dict[str, Any] = dump.get("services") or {}
    rows: list[dict[str, Any]] = [
        w
        for w in (dump.get("workloads") or {}).values()
        if (namespace is None or w.get("namespace") == namespace) and (name is None or w.get("name") == name)
    ]
    # istioctl sorts by "namespace.name", then node.
    rows.sort(key=lambda w: (f"{w.get('namespace', '')}.{w.get('name', '')}", str(w.get("node", ""))))
    lines = ["\t".join(_HEADER)]
    for w in rows:
        ips = w.get("workloadIps") or []
        lines.append(
            "\t".join(
                (
                    str(w.get("namespace", "")),
                    str(w.get("name", "")),
                    str(ips[0]) if ips else "",
                    str(w.get("node", "")),
                    _waypoint_name(w, services),
                    str(w.get("protocol", "")),
                )
            )
        )
    return tabulate_text("\n".join(lines) + "\n")
