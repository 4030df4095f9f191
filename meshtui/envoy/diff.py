"""What changed between two config dumps, at the level an operator reads them (pure).

Routes are compared per route (route configuration / virtual host / route name, or position
for unnamed routes): weights, matches, and anything else of the route. Clusters and listeners
are compared by name (added / removed / changed; a listener whose filters changed is changed
even when its summary row is the same). Endpoints (the EDS section, or two ``/clusters``
documents) by (cluster, address): added / removed / health changed. Typical uses: a live
dump against the generated one ("is Envoy running what I configured?"), or before / after
a weight shift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from meshtui.envoy.dump import ConfigDump, Json, dig, get
from meshtui.envoy.endpoints import (
    ClustersDump, health_name, host_address, host_port, host_status, lb_endpoint_address,
)
from meshtui.envoy.routes import describe_match_wide, describe_weights
from meshtui.envoy.table import Table

ChangeKind = Literal["added", "removed", "changed"]
_SIGN = {"added": "+", "removed": "-", "changed": "~"}
# Fields that change on every push and say nothing about behaviour.
_VOLATILE = {"version_info", "last_updated"}


@dataclass(frozen=True)
class Change:
    """One difference: what (route / cluster / endpoint), how, which, and a short description."""

    what: Literal["route", "cluster", "listener", "endpoint"]
    change: ChangeKind
    name: str
    detail: str = ""
    before: Any = None
    after: Any = None


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in _VOLATILE}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _routes(dump: ConfigDump) -> dict[str, Json]:
    """Every route keyed ``config/vhost/name`` (``#i`` for unnamed or repeated names)."""
    out: dict[str, Json] = {}
    if not dump.has("RoutesConfigDump"):
        return out
    for rc in dump.route_configs():
        for vh in get(rc, "virtual_hosts", []) or []:
            seen: set[str] = set()
            for i, r in enumerate(get(vh, "routes", []) or []):
                name = get(r, "name", "")
                ident = name if name and name not in seen else f"#{i}"
                seen.add(name)
                out[f"{get(rc, 'name', '')}/{get(vh, 'name', '')}/{ident}"] = r
    return out


def diff_routes(a: ConfigDump, b: ConfigDump) -> list[Change]:
    """Routes added, removed, or changed (weights / match / other settings), in ``b``'s order."""
    before, after = _routes(a), _routes(b)
    out: list[Change] = []
    for key, r in after.items():
        old = before.get(key)
        if old is None:
            out.append(Change("route", "added", key, f"match {describe_match_wide(get(r, 'match'))} -> "
                              f"{describe_weights(r)}", None, r))
            continue
        details = []
        wa, wb = describe_weights(old), describe_weights(r)
        if wa != wb:
            details.append(f"weights {wa} -> {wb}")
        ma, mb = describe_match_wide(get(old, "match")), describe_match_wide(get(r, "match"))
        if ma != mb:
            details.append(f"match {ma} -> {mb}")
        if not details and _strip(old) != _strip(r):
            changed = sorted(k for k in set(old) | set(r) if _strip(old.get(k)) != _strip(r.get(k)))
            changed += sorted(f"route.{k}" for k in set(get(old, "route", {}) or {}) | set(get(r, "route", {}) or {})
                              if k not in ("weighted_clusters", "cluster")
                              and _strip((get(old, "route", {}) or {}).get(k)) != _strip((get(r, "route", {}) or {}).get(k)))
            details.append("changed: " + ", ".join(k for k in changed if k != "route" or len(changed) == 1))
        if details:
            out.append(Change("route", "changed", key, "; ".join(details), old, r))
    out += [Change("route", "removed", key, "", r, None) for key, r in before.items() if key not in after]
    return out


def _clusters(dump: ConfigDump) -> dict[str, Json]:
    if not dump.has("ClustersConfigDump"):
        return {}
    return {get(c, "name", ""): c for c in dump.clusters()}


def diff_clusters(a: ConfigDump, b: ConfigDump) -> list[Change]:
    """Clusters added or removed, and those whose settings (lb, breakers, outlier...) changed."""
    before, after = _clusters(a), _clusters(b)
    out = [Change("cluster", "added", n, get(c, "type", "") or "", None, c) for n, c in after.items() if n not in before]
    for n, c in after.items():
        old = before.get(n)
        if old is not None and _strip(old) != _strip(c):
            keys = sorted(k for k in set(old) | set(c) if _strip(old.get(k)) != _strip(c.get(k)))
            out.append(Change("cluster", "changed", n, "changed: " + ", ".join(keys), old, c))
    out += [Change("cluster", "removed", n, "", c, None) for n, c in before.items() if n not in after]
    return out


def _listeners(dump: ConfigDump) -> dict[str, Json]:
    if not dump.has("ListenersConfigDump"):
        return {}
    return {get(lst, "name", ""): lst for lst in dump.listeners()}


def _differences(a: Any, b: Any, path: str, out: list[str], limit: int = 3) -> None:
    """The paths (``filter_chains[0].filters[0].typed_config.stat_prefix``) where ``a`` and
    ``b`` differ, at most ``limit`` of them, deepest first found."""
    if len(out) >= limit or a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            _differences(a.get(k), b.get(k), f"{path}.{k}" if path else str(k), out, limit)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _differences(x, y, f"{path}[{i}]", out, limit)
        return
    out.append(path or "(whole)")


def diff_listeners(a: ConfigDump, b: ConfigDump) -> list[Change]:
    """Listeners added or removed, and those whose configuration changed anywhere, filters
    included (istioctl's "Listeners Don't Match"), even when their summary row is the same."""
    before, after = _listeners(a), _listeners(b)
    out = [Change("listener", "added", n, "", None, x) for n, x in after.items() if n not in before]
    for n, x in after.items():
        old = before.get(n)
        if old is not None and _strip(old) != _strip(x):
            where: list[str] = []
            _differences(_strip(old), _strip(x), "", where)
            out.append(Change("listener", "changed", n, "changed: " + ", ".join(where), old, x))
    out += [Change("listener", "removed", n, "", x, None) for n, x in before.items() if n not in after]
    return out


def _eds(dump: ConfigDump) -> dict[tuple[str, str], tuple[str, Json]]:
    out: dict[tuple[str, str], tuple[str, Json]] = {}
    if not dump.has("EndpointsConfigDump"):
        return out
    for cla in dump.load_assignments():
        name = get(cla, "cluster_name", "")
        for llb in get(cla, "endpoints", []) or []:
            for ep in get(llb, "lb_endpoints", []) or []:
                out[(name, lb_endpoint_address(ep))] = (health_name(get(ep, "health_status")), ep)
    return out


def _hosts(clusters: ClustersDump) -> dict[tuple[str, str], tuple[str, Json]]:
    out: dict[tuple[str, str], tuple[str, Json]] = {}
    for cs in clusters.statuses():
        for h in get(cs, "host_statuses", []) or []:
            port = host_port(h)
            addr = f"{host_address(h)}:{port}" if port else host_address(h)
            failed = bool(dig(h, "health_status", "failed_outlier_check"))
            out[(get(cs, "name", ""), addr)] = (host_status(h) + (" (outlier FAILED)" if failed else ""), h)
    return out


def _diff_endpoints(before: dict[tuple[str, str], tuple[str, Json]],
                    after: dict[tuple[str, str], tuple[str, Json]]) -> list[Change]:
    out = []
    for key, (status, ep) in after.items():
        old = before.get(key)
        name = f"{key[1]} {key[0]}"
        if old is None:
            out.append(Change("endpoint", "added", name, status, None, ep))
        elif old[0] != status:
            out.append(Change("endpoint", "changed", name, f"{old[0]} -> {status}", old[1], ep))
    out += [Change("endpoint", "removed", f"{k[1]} {k[0]}", s, ep, None) for k, (s, ep) in before.items() if k not in after]
    return out


def diff_endpoints(a: ConfigDump | ClustersDump, b: ConfigDump | ClustersDump) -> list[Change]:
    """Endpoints added, removed or whose health changed: from EDS sections, or ``/clusters`` output."""
    def table(x: ConfigDump | ClustersDump) -> dict[tuple[str, str], tuple[str, Json]]:
        return _hosts(x) if isinstance(x, ClustersDump) else _eds(x)

    return _diff_endpoints(table(a), table(b))


def diff_dumps(a: ConfigDump, b: ConfigDump) -> list[Change]:
    """Routes, clusters, listeners, then endpoints (when both dumps have an EDS section)."""
    out = diff_routes(a, b) + diff_clusters(a, b) + diff_listeners(a, b)
    if a.has("EndpointsConfigDump") and b.has("EndpointsConfigDump"):
        out += diff_endpoints(a, b)
    return out


def diff_table(changes: list[Change]) -> Table:
    """The changes as a table (``KIND  CHANGE  NAME  DETAIL``; ``+`` added, ``-`` removed, ``~`` changed)."""
    table = Table(["KIND", "CHANGE", "NAME", "DETAIL"], padding=2)
    for c in changes:
        table.add([c.what.upper(), _SIGN[c.change], c.name, c.detail], c)
    return table


def diff_snapshots(a: ConfigDump, b: ConfigDump, a_clusters: ClustersDump | None = None,
                   b_clusters: ClustersDump | None = None) -> list[Change]:
    """One pod before and after: routes and clusters from the dumps; endpoints from
    ``/clusters`` when both fetches have it (health and outlier status as Envoy sees them),
    else from the dumps' EDS sections (when both have one)."""
    if a_clusters is None or b_clusters is None:
        return diff_dumps(a, b)
    return diff_routes(a, b) + diff_clusters(a, b) + diff_listeners(a, b) + diff_endpoints(a_clusters, b_clusters)
