"""What the ``:ztunnel`` view shows: the ztunnel pods of the mesh and the tables of one of them.

The tables are those of ``meshtui ztunnel-config`` (istioctl's columns): the workloads and the
services the ztunnel holds, read from its admin ``/config_dump`` (port 15000) through the
source's port-forward.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from meshtui.envoy.ztunnel_dump import is_ztunnel_dump, load
from meshtui.envoy.ztunnel_services import service_table
from meshtui.envoy.ztunnel_workloads import workload_table
from meshtui.model import Pod
from meshtui.model.ambient import is_ztunnel_pod
from meshtui.model.index import MeshIndex
from meshtui.sources.base import Source

ZTUNNEL_DUMP_PATH = "/config_dump"


@dataclass(frozen=True, slots=True)
class ZtunnelPod:
    """One ztunnel pod: where it runs."""

    namespace: str
    name: str
    node: str


@dataclass(frozen=True, slots=True)
class ZtunnelTables:
    """The tables of one ztunnel, as ``meshtui ztunnel-config workloads|services`` prints them."""

    workloads: str
    services: str


def ztunnel_pods(index: MeshIndex) -> list[ZtunnelPod]:
    """The ztunnel pods (one per node), by node then name."""
    found = [ZtunnelPod(p.namespace, p.name, str((p.raw.get("spec") or {}).get("nodeName") or ""))
             for p in index.pods if isinstance(p, Pod) and is_ztunnel_pod(p)]
    return sorted(found, key=lambda z: (z.node, z.name))


def pick(pods: list[ZtunnelPod], wanted: str) -> ZtunnelPod | None:
    """The pod ``wanted`` names (``POD[.NS]`` or a node name); the first one when ``wanted`` is empty."""
    if not wanted:
        return pods[0] if pods else None
    name, _, namespace = wanted.partition(".")
    return next((z for z in pods if (z.name == name and namespace in ("", z.namespace)) or z.node == wanted), None)


class ZtunnelReadError(ValueError):
    """The pod answered something that is not a ztunnel config dump."""


def read_tables(source: Source, pod: ZtunnelPod) -> ZtunnelTables:
    """Fetch the pod's dump and render its tables (``SourceError`` when unreachable)."""
    data = source.envoy_admin(pod.namespace, pod.name, ZTUNNEL_DUMP_PATH)
    try:
        dump = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ZtunnelReadError(f"{pod.name}.{pod.namespace}: not a ztunnel config dump ({exc})") from None
    if not is_ztunnel_dump(dump):
        raise ZtunnelReadError(f"{pod.name}.{pod.namespace}: not a ztunnel config dump (no workloads object)")
    view = load(dump)
    return ZtunnelTables(workload_table(view), service_table(view))
