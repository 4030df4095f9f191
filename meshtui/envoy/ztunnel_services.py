"""The SERVICE table of ``istioctl ztunnel-config service``, rendered from a ztunnel config dump."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.tabwriter import tabulate_text
from meshtui.envoy.ztunnel_dump import ZtunnelDump

_HEADER = ("NAMESPACE", "SERVICE NAME", "SERVICE VIP", "WAYPOINT", "ENDPOINTS")


def waypoint_service_name(waypoint: dict[str, Any] | None, services: list[dict[str, Any]]) -> str:
    """The name of the service a waypoint address designates, as istioctl's WAYPOINT column shows it.

    The address is ``namespace/hostname`` or ``network/ip`` (one of a service's VIPs); ``None`` when
    there is no waypoint and ``NA`` when no service in the dump has that address.
    """
    if waypoint is None:
        return "None"
    destination = waypoint.get("destination", "")
    for service in services:
        if f"{service['namespace']}/{service['hostname']}" == destination or destination in (service["vips"] or []):
            return str(service["name"])
    return "NA"


def sorted_services(view: ZtunnelDump, namespace: str | None = None) -> list[dict[str, Any]]:
    """The services of ``view`` (of ``namespace`` when given, any case) in istioctl's order."""
    rows = [s for s in view.services if namespace is None or s["namespace"].casefold() == namespace.casefold()]
    # istioctl sorts by namespace, name, then hostname.
    rows.sort(key=lambda s: (s["namespace"], s["name"], s["hostname"]))
    return rows


def service_table(view: ZtunnelDump, *, namespace: str | None = None) -> str:
    """Render the services of ``view`` as istioctl's table; ENDPOINTS counts healthy over all endpoints."""
    status_by_uid = {w["uid"]: w["status"] for w in view.workloads}
    lines = ["\t".join(_HEADER)]
    for svc in sorted_services(view, namespace):
        endpoints = svc["endpoints"] or {}
        # An endpoint counts as healthy only when its workload is in the dump and Healthy.
        healthy = sum(1 for ep in endpoints.values() if ep and status_by_uid.get(ep["workloadUid"]) == "Healthy")
        vips = ",".join(addr.partition("/")[2] for addr in svc["vips"] or [])
        lines.append("\t".join((svc["namespace"], svc["name"], vips,
                                waypoint_service_name(svc.get("waypoint"), view.services),
                                f"{healthy}/{len(endpoints)}")))
    return tabulate_text("\n".join(lines) + "\n")
