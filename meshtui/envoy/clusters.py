"""``proxy-config clusters``: istioctl's cluster table (configdump/cluster.go).

Clusters (dynamic active, then static) are sorted by the parts of their subset key
``direction|port|subset|fqdn`` (fqdn, subset, port, direction); names that are not subset
keys sort by name with empty other parts. Ties keep Go's unstable order (see ``gosort``).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshtui.envoy.dump import ConfigDump, DumpError, Json, get, malformed_is_dump_error
from meshtui.envoy.gosort import go_sort_by_key
from meshtui.envoy.routes import describe_management, go_atoi
from meshtui.envoy.table import Table
from meshtui.util.gcpause import gc_paused_call

_DISCOVERY_TYPES = {0: "STATIC", 1: "STRICT_DNS", 2: "LOGICAL_DNS", 3: "EDS", 4: "ORIGINAL_DST"}


@dataclass(frozen=True)
class ClusterFilter:
    """istioctl's cluster filter: substrings of the name (``--fqdn``, ``--direction``,
    ``--subset``) and ``|PORT|`` in it (``--port``)."""

    fqdn: str = ""
    port: int = 0
    subset: str = ""
    direction: str = ""

    def verify(self, cluster: Json) -> bool:
        """Whether the cluster passes the filter."""
        name = get(cluster, "name", "")
        if self.fqdn and self.fqdn not in name:
            return False
        if self.direction and self.direction not in name:
            return False
        if self.subset and self.subset not in name:
            return False
        if self.port and f"|{self.port}|" not in name:
            return False
        return True


def _go_atoi_lenient(s: str) -> int:
    """``strconv.Atoi`` with the error ignored (0), as ParseSubsetKey does."""
    v = go_atoi(s)
    return v if v is not None else 0


def parse_subset_key(key: str) -> tuple[str, str, str, int]:
    """Istio's ``model.ParseSubsetKey``: (direction, subset, hostname, port) of a cluster name."""
    sep = "_." if key.startswith("outbound_") or key.startswith("inbound_") else "|"
    direction, found, rest = key.partition(sep)
    if not found:
        return "", "", "", 0
    p, found, rest = rest.partition(sep)
    if not found:
        return direction, "", "", 0
    port = _go_atoi_lenient(p)
    subset, found, rest = rest.partition(sep)
    if not found:
        return direction, "", "", port
    if sep in rest:
        return direction, subset, "", port
    return direction, subset, rest, port


def safely_parse_subset_key(key: str) -> tuple[str, str, str, int]:
    """Subset-key parts of names with more than three ``|``-separated parts, else (name only)."""
    if len(key.split("|")) > 3:
        return parse_subset_key(key)
    return "", "", key, 0


def cluster_sort_key(name: str) -> tuple[str, str, int, str]:
    """istioctl's cluster order: fqdn, subset, port, direction."""
    direction, subset, fqdn, port = safely_parse_subset_key(name)
    return (fqdn, subset, port, direction)


def cluster_type(cluster: Json) -> str:
    """The TYPE cell: the discovery type (STATIC when unset, as Go's getter returns)."""
    t = get(cluster, "type")
    if isinstance(t, int):
        return _DISCOVERY_TYPES.get(t, str(t))
    return t if isinstance(t, str) and t else "STATIC"


def sorted_clusters(dump: ConfigDump) -> list[Json]:
    """Clusters in istioctl's order; ``DumpError`` when there are none."""
    clusters = dump.clusters()
    if not clusters:
        raise DumpError("no clusters found")
    return go_sort_by_key(clusters, lambda c: cluster_sort_key(get(c, "name", "")))


@malformed_is_dump_error
@gc_paused_call
def cluster_table(dump: ConfigDump, flt: ClusterFilter = ClusterFilter(), *, include_type: bool = False) -> Table:
    """The clusters table (``SERVICE FQDN  PORT  SUBSET  DIRECTION  TYPE  DESTINATION RULE``)."""
    cols = ["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"]
    table = Table(["NAME", *cols] if include_type else cols)
    for c in sorted_clusters(dump):
        if not flt.verify(c):
            continue
        name = get(c, "name", "")
        dr = describe_management(get(c, "metadata"))
        if len(name.split("|")) > 3:
            direction, subset, fqdn, port = parse_subset_key(name)
            row = [fqdn, str(port), subset or "-", direction, cluster_type(c), dr]
        else:
            shown = f"cluster/{name}" if include_type else name
            row = [shown, "-", "-", "-", cluster_type(c), dr]
        table.add([f"cluster/{name}", *row] if include_type else row, c)
    return table


@malformed_is_dump_error
def cluster_dump(dump: ConfigDump, flt: ClusterFilter = ClusterFilter()) -> list[Json]:
    """The clusters ``-o json`` prints (sorted, filtered; raw dump objects)."""
    return [c for c in sorted_clusters(dump) if flt.verify(c)]
