"""Render dump objects the way istioctl's ``-o json`` / ``-o yaml`` print them.

istioctl decodes each resource into its Go protobuf type and prints it with the protobuf JSON
printer, then re-indents it with ``json.MarshalIndent(..., "", "    ")`` (and, for yaml,
``sigs.k8s.io/yaml.JSONToYAML``). The visible effect on an Envoy dump (written with proto
field names) is that field names become lowerCamelCase, while the *contents* of
``google.protobuf.Struct`` values and the keys of proto maps are left as they are. We have no
schemas, so the fields that hold Structs or maps are listed here; this covers what Envoy and
Istio put in dumps (metadata, TypedStruct, Wasm env, RBAC policies, JWT providers, ...).
Output compares equal to istioctl's once parsed; key order follows the dump, which Envoy
writes in proto field order, as protojson does.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from meshtui.envoy.dump import camel

# Fields whose value is a google.protobuf.Struct (or a map to Structs / scalars): kept verbatim.
_VERBATIM = frozenset(
    {
        "filter_metadata", "filterMetadata",
        "key_values", "keyValues",
        "static_layer", "staticLayer",
        "per_filter_config", "perFilterConfig",
        "extension_protocol_options", "extensionProtocolOptions",
        "source_codes", "sourceCodes",
    }
)
# Map fields whose keys are kept but whose values are messages (converted).
_MAP_OF_MESSAGES = frozenset(
    {
        "typed_filter_metadata", "typedFilterMetadata",
        "typed_per_filter_config", "typedPerFilterConfig",
        "typed_extension_protocol_options", "typedExtensionProtocolOptions",
        "policies",
        "providers",
        "requirement_map", "requirementMap",
    }
)
# The fields of the messages that are also called "metadata" but are not Structs.
_METADATA_MESSAGE_FIELDS = frozenset(
    {
        "filter_metadata", "filterMetadata", "typed_filter_metadata", "typedFilterMetadata",
        "kind", "metadata_key", "metadataKey", "default_value", "defaultValue",
    }
)


def to_proto_json(obj: Any) -> Any:
    """A copy of ``obj`` with proto field names turned into protobuf JSON names."""
    if isinstance(obj, list):
        return [to_proto_json(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    type_url = obj.get("@type")
    verbatim_value = isinstance(type_url, str) and (
        type_url.endswith("TypedStruct") or type_url.endswith("protobuf.Struct") or type_url.endswith("protobuf.Value")
    )
    out: dict[str, Any] = {}
    for k, v in obj.items():
        if k.startswith("@"):
            out[k] = v
            continue
        nk = camel(k) if "_" in k else k
        if k in _VERBATIM:
            out[nk] = _sorted_struct(v)
        elif k in _MAP_OF_MESSAGES and isinstance(v, dict):
            out[nk] = {mk: to_proto_json(v[mk]) for mk in sorted(v)}
        elif k == "metadata" and isinstance(v, dict) and not (v.keys() & _METADATA_MESSAGE_FIELDS):
            out[nk] = _sorted_struct(v)  # a Struct (node metadata, build metadata), not a Metadata message
        elif k == "value" and verbatim_value:
            out[nk] = _sorted_struct(v)
        else:
            out[nk] = to_proto_json(v)
    return out


def _sorted_struct(v: Any) -> Any:
    """A Struct (or map) as protojson prints it: map entries and Struct fields in key order."""
    if isinstance(v, dict):
        return {k: _sorted_struct(v[k]) for k in sorted(v)}
    if isinstance(v, list):
        return [_sorted_struct(x) for x in v]
    return v


def without_type(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without its ``@type`` (a typed message, not an Any, has none when printed)."""
    return {k: v for k, v in obj.items() if k != "@type"}


def message_json(obj: Any) -> Any:
    """A dump resource (an ``Any`` with ``@type``) printed as its typed message, as istioctl does."""
    return to_proto_json(without_type(obj) if isinstance(obj, dict) else obj)


def dumps_json(value: Any) -> str:
    """JSON text as Go's ``json.MarshalIndent(v, "", "    ")`` writes it (HTML-safe escapes)."""
    text = json.dumps(value, indent=4, ensure_ascii=False)
    # Go escapes these even inside strings; they only ever occur inside strings in JSON text.
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


class _GoYamlDumper(yaml.SafeDumper):
    """PyYAML's emitter (libyaml's algorithm, as go-yaml's) with go-yaml's string styles:
    double quotes for strings that would otherwise read back as another type, literal
    blocks for multi-line strings, and the emitter's own choice (plain or single) otherwise."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None
    if "\n" in value:
        style = "|"
    elif dumper.resolve(yaml.ScalarNode, value, (True, False)) != "tag:yaml.org,2002:str":
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_GoYamlDumper.add_representer(str, _represent_str)


def dumps_yaml(value: Any, *, sort_keys: bool = True) -> str:
    """YAML as ``sigs.k8s.io/yaml.JSONToYAML`` produces it: block style, sorted keys.

    ``sort_keys=False`` keeps the order of ``value``'s dicts, for callers that order keys themselves.
    """
    return yaml.dump(value, Dumper=_GoYamlDumper, default_flow_style=False, sort_keys=sort_keys, allow_unicode=True)


def render(value: Any, output: str) -> str:
    """``value`` as istioctl prints it for ``-o json`` or ``-o yaml`` (with its final newline)."""
    if output == "yaml":
        return dumps_yaml(value) + "\n"  # Fprintln after YAML that already ends in a newline
    return dumps_json(value) + "\n"
