"""``proxy-config ecds``: extension configurations (filters delivered by ECDS), as istioctl shows them."""

from __future__ import annotations

from meshtui.envoy.dump import ECDS, ConfigDump, DumpError, Json, get, malformed_is_dump_error
from meshtui.envoy.gosort import go_sort_by_key
from meshtui.envoy.protojson import to_proto_json
from meshtui.envoy.table import Table

_TYPE_URL_PREFIX = "type.googleapis.com/"


def ecds_filters(dump: ConfigDump) -> list[Json]:
    """The ``ecds_filters`` entries of every EcdsConfigDump section, in dump order."""
    if not dump.has(ECDS):
        raise DumpError(f"{dump.source}: config dump has no {ECDS}")
    out: list[Json] = []
    for sec in dump.all_sections(ECDS):
        out.extend(f for f in get(sec, "ecds_filters", []) or [] if isinstance(f, dict))
    return out


def _type_url(config: Json) -> str:
    typed = get(config, "typed_config")
    return typed.get("@type", "") if isinstance(typed, dict) else ""


@malformed_is_dump_error
def ecds_table(dump: ConfigDump) -> Table:
    """``ECDS NAME  TYPE``, sorted by type URL, then name."""
    configs = [get(f, "ecds_filter") or {} for f in ecds_filters(dump)]
    configs = go_sort_by_key(configs, lambda c: (_type_url(c), get(c, "name", "")))
    table = Table(["ECDS NAME", "TYPE"])
    for c in configs:
        url = _type_url(c)
        table.add([get(c, "name", ""), url[len(_TYPE_URL_PREFIX):] if url.startswith(_TYPE_URL_PREFIX) else url], c)
    return table


@malformed_is_dump_error
def ecds_dump(dump: ConfigDump) -> Json:
    """The merged EcdsConfigDump as ``-o json`` prints it."""
    return {"ecdsFilters": [to_proto_json(f) for f in ecds_filters(dump)]}
