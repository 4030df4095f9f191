"""One row renderer per kind, k9s style: the columns of the `:vs`, `:dr`, ... views.

Each renderer turns a model object into a tuple of strings; the table widget draws them.
"""

from __future__ import annotations

import time
from calendar import timegm
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from meshtui.model.index import K8S_GATEWAY, index_kind
from meshtui.routing.gateway_api_view import is_problem
from meshtui.views.table import Column, LiveCell, Row


@lru_cache(maxsize=65536)
def _epoch(timestamp: str) -> float | None:
    # strptime is slow and a big mesh has thousands of objects created in the same second.
    try:
        return float(timegm(time.strptime(timestamp[:19], "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def age(timestamp: str | None, now: float | None = None) -> str:
    """`5d3h`, `12m`, `40s` from an RFC 3339 time, as kubectl prints ages."""
    if not timestamp:
        return "-"
    t = _epoch(timestamp)
    if t is None:
        return "-"
    return _format_age(int((now if now is not None else time.time()) - t))


def _format_age(secs: int) -> str:
    if secs < 0:
        return "0s"
    days, rem = divmod(secs, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    if days:
        return f"{days}d{hours}h" if days < 10 and hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


class Age(LiveCell):
    """An AGE cell that keeps counting while the view is open, and sorts by age."""

    epoch: float | None = None

    @classmethod
    def of(cls, timestamp: str | None) -> "Age":
        """The age of an RFC 3339 creation time, as kubectl prints it."""
        cell = cls(age(timestamp))
        cell.epoch = _epoch(timestamp) if timestamp else None
        # Youngest first when sorted ascending; unknown ages last.
        cell.sort_value = -cell.epoch if cell.epoch is not None else float("inf")
        return cell

    def live(self) -> str:
        """The age now."""
        if self.epoch is None:
            return str(self)
        return _format_age(int(time.time() - self.epoch))


def _vs(o: Any) -> tuple[str, ...]:
    subsets = sorted({rd.destination.subset for r in o.http for rd in r.route if rd.destination.subset})
    return (o.namespace, o.name, ",".join(o.hosts), ",".join(o.gateways) or "mesh", str(len(o.http)),
            ",".join(subsets), Age.of(o.creation_timestamp))


def _dr(o: Any) -> tuple[str, ...]:
    lb = o.traffic_policy.load_balancer if o.traffic_policy and o.traffic_policy.load_balancer else ""
    return (o.namespace, o.name, o.host, ",".join(s.name for s in o.subsets), lb, Age.of(o.creation_timestamp))


def _gw(o: Any) -> tuple[str, ...]:
    ports = ",".join(f"{s.port.number}/{s.port.protocol}" for s in o.servers)
    hosts = ",".join(sorted({h for s in o.servers for h in s.hosts}))
    selector = ",".join(f"{k}={v}" for k, v in o.selector.items())
    return (o.namespace, o.name, hosts, ports, selector, Age.of(o.creation_timestamp))


def _se(o: Any) -> tuple[str, ...]:
    ports = ",".join(f"{p.number}/{p.protocol}" for p in o.ports)
    return (o.namespace, o.name, ",".join(o.hosts), o.location or "", o.resolution or "", ports,
            Age.of(o.creation_timestamp))


def _svc(o: Any) -> tuple[str, ...]:
    ports = ",".join(f"{p.name + ':' if p.name else ''}{p.port}" for p in o.ports)
    selector = ",".join(f"{k}={v}" for k, v in o.selector.items())
    return (o.namespace, o.name, o.type or "ClusterIP", o.cluster_ip or "", ports, selector,
            Age.of(o.creation_timestamp))


def _pod(o: Any) -> tuple[str, ...]:
    return (o.namespace, o.name, f"{o.ready_containers}/{len(o.containers)}", o.phase or "",
            str(o.restarts or 0), o.ip or "", o.node or "", o.labels.get("version", ""), Age.of(o.creation_timestamp))


def _status(conditions: list[Any], wanted: str) -> str:
    """``Accepted``/``Programmed`` when all is well, or the first condition saying something is
    wrong (``ResolvedRefs=False``, ``Conflicted=True``): what is wrong comes first."""
    bad = next((c for c in conditions if is_problem(c)), None)
    if bad is not None:
        return f"{bad.type}={bad.status}"
    return wanted if any(c.type == wanted for c in conditions) else "-"


def _route(o: Any) -> tuple[str, ...]:
    parents = ",".join(f"{p.kind}/{p.name}" + (f"/{p.section_name}" if p.section_name else "") for p in o.parent_refs)
    backends = sorted({b.name for r in o.rules for b in r.backend_refs})
    conditions = [c for p in o.status_parents for c in p.conditions]
    return (o.namespace, o.name, ",".join(o.hostnames) or "*", parents, str(len(o.rules)), ",".join(backends),
            _status(conditions, "Accepted"), Age.of(o.creation_timestamp))


def _k8s_gw(o: Any) -> tuple[str, ...]:
    listeners = ",".join(f"{x.name}:{x.port}/{x.protocol}" for x in o.listeners)
    return (o.namespace, o.name, o.gateway_class_name, ",".join(o.addresses), listeners,
            _status(o.conditions, "Programmed"), Age.of(o.creation_timestamp))


def _ns(o: Any) -> tuple[str, ...]:
    return (o,)


@dataclass(frozen=True)
class KindView:
    """How one `:kind` view lists its objects."""

    kind: str
    title: str
    columns: tuple[Column, ...]
    row: Callable[[Any], tuple[str, ...]]


_NS, _NAME, _AGE = Column("NAMESPACE", 24), Column("NAME", 48), Column("AGE", 8)
_ROUTE_COLUMNS = (_NS, _NAME, Column("HOSTNAMES", 40), Column("PARENTS", 40), Column("RULES", 5),
                  Column("BACKENDS", 40), Column("STATUS", 18), _AGE)

VIEWS: dict[str, KindView] = {
    "vs": KindView("VirtualService", "VirtualServices", (_NS, _NAME, Column("HOSTS", 50), Column("GATEWAYS", 40),
                   Column("RULES", 5), Column("SUBSETS", 24), _AGE), _vs),
    "dr": KindView("DestinationRule", "DestinationRules", (_NS, _NAME, Column("HOST", 50), Column("SUBSETS", 30),
                   Column("LB", 14), _AGE), _dr),
    "gw": KindView("Gateway", "Gateways", (_NS, _NAME, Column("HOSTS", 50), Column("PORTS", 30),
                   Column("SELECTOR", 30), _AGE), _gw),
    "se": KindView("ServiceEntry", "ServiceEntries", (_NS, _NAME, Column("HOSTS", 50), Column("LOCATION", 14),
                   Column("RESOLUTION", 10), Column("PORTS", 30), _AGE), _se),
    "httproute": KindView("HTTPRoute", "HTTPRoutes", _ROUTE_COLUMNS, _route),
    "grpcroute": KindView("GRPCRoute", "GRPCRoutes", _ROUTE_COLUMNS, _route),
    "gtw": KindView(K8S_GATEWAY, "Gateways (Gateway API)", (_NS, _NAME, Column("CLASS", 16), Column("ADDRESS", 40),
                    Column("LISTENERS", 40), Column("STATUS", 18), _AGE), _k8s_gw),
    "svc": KindView("Service", "Services", (_NS, _NAME, Column("TYPE", 12), Column("CLUSTER-IP", 16),
                    Column("PORTS", 30), Column("SELECTOR", 40), _AGE), _svc),
    "pods": KindView("Pod", "Pods", (_NS, _NAME, Column("READY", 5), Column("STATUS", 10), Column("RESTARTS", 8),
                     Column("IP", 16), Column("NODE", 20), Column("VERSION", 10), _AGE), _pod),
}


def rows_for(view: KindView, index: Any, scope: str | None) -> list[Row]:
    """Every row of ``view`` from ``index``, keyed by (kind, namespace, name)."""
    out = []
    for o in index.objects(view.kind):
        if scope and o.namespace != scope:
            continue
        # The index kind: a Gateway API Gateway is keyed apart from Istio's Gateway.
        out.append(((index_kind(o.kind, o.group), o.namespace, o.name), view.row(o)))
    return out
