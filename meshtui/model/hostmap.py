"""Building blocks of the mesh index: a host -> objects map, gateway refs, exportTo."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from meshtui.model.hosts import host_matches, is_wildcard

MESH_GATEWAY = "mesh"
Id = tuple[str, str]  # (namespace, name) of an object within one kind


def gateway_ref(ref: str, namespace: str) -> str:
    """A VirtualService's gateway reference as ``namespace/name`` (or ``mesh``), per Istio:
    ``ns/name`` as is, legacy ``name.ns.svc.suffix`` -> ``ns/name``, ``name`` -> own namespace."""
    if ref == MESH_GATEWAY or "/" in ref:
        return ref
    if "." in ref:
        name, _, rest = ref.partition(".")
        return f"{rest.partition('.')[0]}/{name}"
    return f"{namespace}/{ref}"


def visible(export_to: list[str], owner_ns: str, from_ns: str) -> bool:
    """Istio exportTo: ``*`` everyone, ``.`` the owner's namespace, a name that namespace, ``~`` nobody."""
    if "~" in export_to and len(export_to) == 1:
        return False
    return "*" in export_to or from_ns in export_to or ("." in export_to and from_ns == owner_ns)


def labels_match(selector: dict[str, str], labels: dict[str, str]) -> bool:
    """Whether ``labels`` carry every key/value of ``selector`` (an empty selector matches)."""
    return all(labels.get(k) == v for k, v in selector.items())


class HostMap:
    """host -> object ids, split into exact names (dict lookup) and wildcards (short scan)."""

    __slots__ = ("exact", "wild")

    def __init__(self) -> None:
        self.exact: dict[str, set[Id]] = defaultdict(set)
        self.wild: dict[str, set[Id]] = defaultdict(set)

    def add(self, host: str, ident: Id) -> None:
        (self.wild if is_wildcard(host) else self.exact)[host].add(ident)

    def remove(self, host: str, ident: Id) -> None:
        table = self.wild if is_wildcard(host) else self.exact
        ids = table.get(host)
        if ids is not None:
            ids.discard(ident)
            if not ids:
                del table[host]

    def matching(self, host: str) -> Iterator[tuple[str, set[Id]]]:
        """(indexed host, ids) for every indexed host that overlaps ``host``."""
        if is_wildcard(host):
            for h, ids in list(self.exact.items()):
                if host_matches(h, host):
                    yield h, ids
        elif host in self.exact:
            yield host, self.exact[host]
        for h, ids in list(self.wild.items()):
            if host_matches(h, host):
                yield h, ids
