"""``proxy-config routes``: the route table of istioctl, plus meshtui's ``--wide`` columns.

Follows istioctl/pkg/writer/envoy/configdump/route.go: route configurations (dynamic, then
static) sorted with Go's unstable sort on the numeric value of their names (non-numeric names
compare "not less", so they keep istioctl's positions), one row per route of every virtual
host (PassthroughCluster routes left out, a host without routes shown as ``/* 404``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshtui.envoy.dump import ConfigDump, DumpError, Json, dig, get, malformed_is_dump_error
from meshtui.envoy.gosort import go_sort_slice
from meshtui.envoy.table import Table
from meshtui.util.gcpause import gc_paused_call

_ATOI = re.compile(r"[+-]?[0-9]+\Z")
_INT64 = 1 << 63


@dataclass(frozen=True)
class RouteFilter:
    """istioctl's route filter: ``--name`` (exact) and ``--verbose`` (default on)."""

    name: str = ""
    verbose: bool = True

    def verify(self, route: Json) -> bool:
        """Whether the route configuration passes the filter."""
        return not self.name or self.name == get(route, "name", "")


def go_atoi(s: str) -> int | None:
    """Go's ``strconv.Atoi``: the value, or ``None`` where Go returns an error."""
    if not _ATOI.match(s):
        return None
    v = int(s)
    return v if -_INT64 <= v < _INT64 else None


def sorted_route_configs(dump: ConfigDump) -> list[Json]:
    """Route configurations in istioctl's order; ``DumpError`` when there are none."""
    routes = dump.route_configs()
    if not routes:
        raise DumpError("no routes found")
    keyed = [(go_atoi(get(r, "name", "")), r) for r in routes]
    numeric = [k for k, _ in keyed if k is not None]
    if not numeric or len(numeric) < 2:
        # "less" is false for every pair that is not two numbers: Go leaves such input as is.
        return routes
    if len(numeric) == len(keyed) and len(set(numeric)) == len(numeric):
        return [r for _, r in sorted(keyed, key=lambda kr: kr[0])]  # type: ignore[arg-type, return-value]

    def less(a: tuple[int | None, Json], b: tuple[int | None, Json]) -> bool:
        return a[0] is not None and b[0] is not None and a[0] < b[0]

    go_sort_slice(keyed, less)
    return [r for _, r in keyed]


def is_passthrough(route: Json) -> bool:
    """A route whose action forwards to PassthroughCluster (istioctl hides those)."""
    action = get(route, "route")
    return isinstance(action, dict) and get(action, "cluster") == "PassthroughCluster"


def describe_route_domains(domains: list[str]) -> str:
    """The DOMAINS cell: the first domain, or up to two port-less domains (+ N more...)."""
    if not domains:
        return ""
    if len(domains) == 1:
        return domains[0]
    without_port = []
    for d in domains:
        if ":" not in d:
            without_port.append(d)
        elif d.count(":") > 2 and d.endswith("]"):
            without_port.append(d)  # a bare IPv6 address such as [fd00:10:96::7fc7]
    without_port = _unexpand_domains(without_port)
    if len(without_port) > 2:
        return f"{', '.join(without_port[:2])} + {len(without_port) - 2} more..."
    return ", ".join(without_port)


def _unexpand_domains(domains: list[str]) -> list[str]:
    unique = set(domains)
    drop = set()
    for h in domains:
        for suffix in (".svc.cluster.local", ".svc"):
            stripped = h[: -len(suffix)] if h.endswith(suffix) else h
            if stripped != h and stripped in unique:
                drop.add(h)
    return [h for h in domains if h not in drop]


def describe_match(match: Json | None) -> str:
    """The MATCH cell as istioctl writes it (path conditions only; headers ignored)."""
    if not isinstance(match, dict):
        return ""
    conds = []
    prefix = get(match, "prefix")
    if prefix:
        conds.append(f"{prefix}*")
    psp = get(match, "path_separated_prefix")
    if psp:
        conds.append(f"PathPrefix:{psp}")
    path = get(match, "path")
    if path:
        conds.append(path)
    regex = get(match, "safe_regex")
    if isinstance(regex, dict):
        conds.append(f"regex {get(regex, 'regex', '')}")
    return " ".join(conds)


def describe_management(metadata: Any) -> str:
    """The VIRTUAL SERVICE / DESTINATION RULE cell: ``name.namespace`` of the Istio config."""
    istio = dig(metadata, "filter_metadata", "istio")
    if not isinstance(istio, dict) or "config" not in istio:
        return ""
    config = istio["config"]
    return render_config(config if isinstance(config, str) else "")


def render_config(path: str) -> str:
    """``/apis/networking.istio.io/VERSION/namespaces/NS/KIND/NAME`` -> ``NAME.NS``.

    istioctl's goldens show both ``v1alpha3`` and ``v1`` paths rendered this way.
    """
    if path.startswith("/apis/networking.istio.io/") and path.split("/")[4:5] == ["namespaces"]:
        pieces = path.split("/")
        if len(pieces) != 8:
            return ""
        return f"{pieces[7]}.{pieces[5]}"
    return "<unknown>"


# -- meshtui's additions (--wide) --------------------------------------------------------------


def _string_match(m: Json) -> str:
    for key, op in (("exact", "="), ("prefix", "^="), ("suffix", "$="), ("contains", "*=")):
        v = get(m, key)
        if v is not None:
            return f"{op}{v}"
    regex = get(m, "safe_regex")
    if isinstance(regex, dict):
        return f"~={get(regex, 'regex', '')}"
    return "=?"


def _header_condition(h: Json) -> str:
    name = get(h, "name", "")
    sm = get(h, "string_match")
    if isinstance(sm, dict):
        cond = _string_match(sm)
    elif get(h, "exact_match") is not None:
        cond = f"={get(h, 'exact_match')}"
    elif get(h, "prefix_match") is not None:
        cond = f"^={get(h, 'prefix_match')}"
    elif get(h, "suffix_match") is not None:
        cond = f"$={get(h, 'suffix_match')}"
    elif get(h, "contains_match") is not None:
        cond = f"*={get(h, 'contains_match')}"
    elif isinstance(get(h, "safe_regex_match"), dict):
        cond = f"~={get(get(h, 'safe_regex_match'), 'regex', '')}"
    elif isinstance(get(h, "range_match"), dict):
        rm = get(h, "range_match")
        cond = f"=[{get(rm, 'start', 0)},{get(rm, 'end', 0)})"
    else:
        cond = ""  # present_match: the name alone
    if get(h, "present_match") is False:
        return f"!{name}"
    return f"{'!' if get(h, 'invert_match') else ''}{name}{cond}"


def describe_match_wide(match: Json | None) -> str:
    """MATCH with the header and query conditions istioctl drops (``name=value``, ``?q=v``)."""
    conds = [describe_match(match)] if describe_match(match) else []
    if isinstance(match, dict):
        for h in get(match, "headers", []) or []:
            conds.append(_header_condition(h))
        for q in get(match, "query_parameters", []) or []:
            sm = get(q, "string_match")
            conds.append(f"?{get(q, 'name', '')}{_string_match(sm) if isinstance(sm, dict) else ''}")
    return " ".join(conds)


def describe_weights(route: Json) -> str:
    """WEIGHT: ``cluster:weight`` for each weighted cluster (``cluster:100`` for a single one)."""
    action = get(route, "route")
    if isinstance(action, dict):
        wc = get(action, "weighted_clusters")
        if isinstance(wc, dict):
            return ", ".join(f"{get(c, 'name', '')}:{get(c, 'weight', 0)}" for c in get(wc, "clusters", []) or [])
        if get(action, "cluster") is not None:
            return f"{get(action, 'cluster')}:100"
        if get(action, "cluster_header") is not None:
            return f"header {get(action, 'cluster_header')}"
        return "-"
    if get(route, "redirect") is not None:
        return "redirect"
    dr = get(route, "direct_response")
    if isinstance(dr, dict):
        return f"direct_response {get(dr, 'status', '')}"
    return "-"


@malformed_is_dump_error
@gc_paused_call
def route_table(
    dump: ConfigDump, flt: RouteFilter = RouteFilter(), *, include_type: bool = False, wide: bool = False
) -> Table:
    """The routes table (``--verbose`` rows per route, else one row per configuration)."""
    routes = sorted_route_configs(dump)
    if not flt.verbose:
        table = Table(["NAME", "VIRTUAL HOSTS"])
        for rc in routes:
            if flt.verify(rc):
                name = get(rc, "name", "")
                table.add([f"route/{name}" if include_type else name, str(len(get(rc, "virtual_hosts", []) or []))], rc)
        return table
    cols = ["NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"]
    table = Table(cols + ["WEIGHT"] if wide else cols)
    match_fn = describe_match_wide if wide else describe_match
    for rc in routes:
        if not flt.verify(rc):
            continue
        name = get(rc, "name", "")
        if include_type:
            name = f"route/{name}"
        for vh in get(rc, "virtual_hosts", []) or []:
            vname = get(vh, "name", "")
            domains = describe_route_domains(get(vh, "domains", []) or [])
            vroutes = get(vh, "routes", []) or []
            for r in vroutes:
                if is_passthrough(r):
                    continue
                row = [name, vname, domains, match_fn(get(r, "match")), describe_management(get(r, "metadata"))]
                if wide:
                    row.append(describe_weights(r))
                table.add(row, r)
            if not vroutes:
                row = [name, vname, domains, "/*", "404"]
                if wide:
                    row.append("-")
                table.add(row, vh)
    return table


@malformed_is_dump_error
def route_dump(dump: ConfigDump, flt: RouteFilter = RouteFilter()) -> list[Json]:
    """The route configurations ``-o json`` prints (sorted, filtered; raw dump objects)."""
    return [r for r in sorted_route_configs(dump) if flt.verify(r)]
