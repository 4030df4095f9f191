"""Parse an Envoy admin ``/config_dump`` into its sections, fast and with one-line errors.

A config dump is ``{"configs": [{"@type": "...BootstrapConfigDump", ...}, ...]}``. Decoding
is done by orjson with the garbage collector paused: a 20 MB dump allocates millions of small
objects and the collector would otherwise rescan them repeatedly while they are created.

Field names: Envoy writes ``snake_case`` (proto field names) but protobuf JSON also accepts
``lowerCamelCase`` and istioctl reads both, so every reader here goes through ``get`` which
tries the proto name first and the JSON name second.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import orjson

from meshtui.util.gcpause import gc_paused

Json = dict[str, Any]

# Section type names, matched on the part after the package so that v3 and v2alpha both work.
BOOTSTRAP = "BootstrapConfigDump"
CLUSTERS = "ClustersConfigDump"
LISTENERS = "ListenersConfigDump"
ROUTES = "RoutesConfigDump"
SECRETS = "SecretsConfigDump"
ENDPOINTS = "EndpointsConfigDump"
ECDS = "EcdsConfigDump"

_CAMEL_CACHE: dict[str, str] = {}


class DumpError(ValueError):
    """The input is not a usable Envoy dump; ``str()`` is a one-line cause for the user."""


def camel(name: str) -> str:
    """The protobuf JSON name of a proto field name (``port_value`` -> ``portValue``)."""
    c = _CAMEL_CACHE.get(name)
    if c is None:
        head, *rest = name.split("_")
        c = head + "".join(p[:1].upper() + p[1:] for p in rest)
        _CAMEL_CACHE[name] = c
    return c


def get(obj: Any, name: str, default: Any = None) -> Any:
    """``obj[name]`` for a proto field given by its proto name, accepting its JSON name too."""
    try:
        v = obj.get(name)
    except AttributeError:  # not an object (None, a list, a scalar where a message belongs)
        return default
    if v is None:
        c = _CAMEL_CACHE.get(name) or camel(name)
        if c == name:
            return default
        v = obj.get(c)
        if v is None:
            return default
    return v


def dig(obj: Any, *names: str) -> Any:
    """Follow a path of proto field names; ``None`` as soon as one is missing."""
    for n in names:
        obj = get(obj, n)
        if obj is None:
            return None
    return obj


P = ParamSpec("P")
R = TypeVar("R")


def malformed_is_dump_error(func: Callable[P, R]) -> Callable[P, R]:
    """Report a dump whose parts have the wrong shape as a one-line ``DumpError``.

    Table builders read what Envoy writes; a list where an object belongs or a number where a
    string belongs (another Envoy version, a hand-edited or truncated file) surfaces deep inside
    them as TypeError, KeyError and the like. Those are a malformed dump, not a bug to show as a
    traceback: the CLI prints the message and exits 2, the screen shows it in the tab.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except DumpError:
            raise
        except (TypeError, AttributeError, ValueError, KeyError, IndexError, OverflowError, RecursionError) as exc:
            source = getattr(args[0], "source", None) if args else None
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise DumpError(f"{source or 'config dump'}: malformed Envoy dump ({type(exc).__name__}: {detail})") from None

    return wrapper


def loads(data: bytes | str) -> Any:
    """Decode JSON with orjson while the garbage collector is paused."""
    with gc_paused():
        return orjson.loads(data)


def type_name(type_url: str) -> str:
    """The message name of an ``@type`` URL (``type.googleapis.com/envoy.admin.v3.X`` -> ``X``)."""
    return type_url.rsplit("/", 1)[-1].rsplit(".", 1)[-1]


@dataclass
class ConfigDump:
    """The sections of one config dump, keyed by message name (``ClustersConfigDump`` ...).

    ``raw`` is the decoded document; sections are the very dicts inside it (nothing copied).
    A dump may hold a section type more than once (ECDS does); ``sections`` keeps them all.
    """

    raw: Json
    sections: dict[str, list[Json]] = field(default_factory=dict)
    source: str = "config dump"

    @classmethod
    def parse(cls, data: bytes | str, source: str = "config dump") -> "ConfigDump":
        """Decode and index a dump; raises ``DumpError`` naming ``source`` on bad input."""
        try:
            doc = loads(data)
        except orjson.JSONDecodeError as exc:
            raise DumpError(f"{source}: not valid JSON ({exc})") from None
        return cls.from_json(doc, source)

    @classmethod
    def from_json(cls, doc: Any, source: str = "config dump") -> "ConfigDump":
        """Index an already decoded dump."""
        configs = doc.get("configs") if isinstance(doc, dict) else None
        if not isinstance(configs, list):
            raise DumpError(f'{source}: not an Envoy config dump (no "configs" list)')
        sections: dict[str, list[Json]] = {}
        for c in configs:
            if isinstance(c, dict) and isinstance(c.get("@type"), str):
                sections.setdefault(type_name(c["@type"]), []).append(c)
        return cls(raw=doc, sections=sections, source=source)

    def section(self, name: str) -> Json:
        """The first section of that type; ``DumpError`` when the dump has none."""
        found = self.sections.get(name)
        if not found:
            raise DumpError(f"{self.source}: config dump has no {name} (was it taken with the right mask?)")
        return found[0]

    def has(self, name: str) -> bool:
        """Whether the dump has a section of that type."""
        return bool(self.sections.get(name))

    def all_sections(self, name: str) -> list[Json]:
        """Every section of that type, in dump order (empty when there is none)."""
        return self.sections.get(name, [])

    # -- the typed resources each table reads ---------------------------------------------

    def clusters(self) -> list[Json]:
        """Clusters as istioctl collects them: dynamic active ones, then static ones."""
        sec = self.section(CLUSTERS)
        out = [c for c in (get(e, "cluster") for e in get(sec, "dynamic_active_clusters", [])) if c]
        out += [c for c in (get(e, "cluster") for e in get(sec, "static_clusters", [])) if c]
        return out

    def listeners(self) -> list[Json]:
        """Listeners: active state of the dynamic ones, then the static ones."""
        sec = self.section(LISTENERS)
        out = [x for x in (dig(e, "active_state", "listener") for e in get(sec, "dynamic_listeners", [])) if x]
        out += [x for x in (get(e, "listener") for e in get(sec, "static_listeners", [])) if x]
        return out

    def route_configs(self) -> list[Json]:
        """Route configurations: dynamic ones, then static ones."""
        sec = self.section(ROUTES)
        out = [r for r in (get(e, "route_config") for e in get(sec, "dynamic_route_configs", [])) if r]
        out += [r for r in (get(e, "route_config") for e in get(sec, "static_route_configs", [])) if r]
        return out

    def load_assignments(self) -> list[Json]:
        """ClusterLoadAssignments of the EDS section: dynamic, then static."""
        sec = self.section(ENDPOINTS)
        out = [x for x in (get(e, "endpoint_config") for e in get(sec, "dynamic_endpoint_configs", [])) if x]
        out += [x for x in (get(e, "endpoint_config") for e in get(sec, "static_endpoint_configs", [])) if x]
        return out

def parse_json_document(data: bytes | str, source: str) -> Any:
    """Decode any admin JSON output (e.g. ``/clusters?format=json``) with a one-line error."""
    try:
        return loads(data)
    except orjson.JSONDecodeError as exc:
        raise DumpError(f"{source}: not valid JSON ({exc})") from None
