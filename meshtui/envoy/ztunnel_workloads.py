"""The WORKLOAD table of ``istioctl ztunnel-config workload``, rendered from a ztunnel config dump."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.tabwriter import tabulate_text
from meshtui.envoy.ztunnel_dump import ZtunnelDump, load
from meshtui.envoy.ztunnel_services import waypoint_service_name

_HEADER = ("NAMESPACE", "POD NAME", "ADDRESS", "NODE", "WAYPOINT", "PROTOCOL")


def _same(value: str, wanted: str | None) -> bool:
    """istioctl's filters compare with ``strings.EqualFold``."""
    return wanted is None or value.casefold() == wanted.casefold()


def filtered_workloads(view: ZtunnelDump, *, namespace: str | None = None, name: str | None = None,
                       node: str | None = None) -> list[dict[str, Any]]:
    """The workloads of ``view`` that pass istioctl's workload filter, in dump order."""
    return [w for w in view.workloads
            if _same(w["namespace"], namespace) and _same(w["name"], name) and _same(w["node"], node)]


def workload_table(dump: dict[str, Any] | ZtunnelDump, *, namespace: str | None = None, name: str | None = None,
                   node: str | None = None) -> str:
    """Render the workloads of ``dump`` as istioctl's table, optionally filtered by namespace, pod name, node."""
    view = dump if isinstance(dump, ZtunnelDump) else load(dump)
    rows = filtered_workloads(view, namespace=namespace, name=name, node=node)
    # istioctl sorts by "namespace.name", then node.
    rows.sort(key=lambda w: (f"{w['namespace']}.{w['name']}", w["node"]))
    lines = ["\t".join(_HEADER)]
    for w in rows:
        # A workload without an IP (a ServiceEntry hostname endpoint) shows its hostname.
        address = ",".join(w["workloadIps"] or []) or w["hostname"]
        lines.append("\t".join((w["namespace"], w["name"], address, w["node"],
                                waypoint_service_name(w.get("waypoint"), view.services), w["protocol"])))
    return tabulate_text("\n".join(lines) + "\n")
