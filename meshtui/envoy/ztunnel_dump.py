"""A ztunnel config dump read into the shapes istioctl decodes it into, for its ``-o json|yaml``.

istioctl unmarshals ``/config_dump`` into Go structs (``istioctl/pkg/writer/ztunnel/configdump/
api.go``) and prints them with ``json.MarshalIndent(v, "", "    ")``, or converts that JSON with
``sigs.k8s.io/yaml.JSONToYAML``. What a user sees therefore differs from the raw dump: fields
come in struct order, fields the structs lack are dropped, absent fields print as their zero
value unless tagged ``omitempty``, map keys are sorted, and a ``cidrVips`` entry prints as
``"network/cidr"``. Each section may be a JSON list or a map (whose values are taken), as
istioctl's ``unmarshalListOrMap`` allows; JSON keys match struct fields case-insensitively, as
Go's decoder does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# A field type: "str", "int", "bool", "any" (kept as is), ("ptr", T), ("list", T), ("map", T),
# ("struct", FIELDS) or "cidrvip". A field: (JSON name, type, omitempty).
Field = tuple[str, Any, bool]

_LOCALITY: list[Field] = [("region", "str", True), ("zone", "str", True), ("subzone", "str", True)]
_GATEWAY_ADDRESS: list[Field] = [("destination", "str", False)]
_APPLICATION_TUNNEL: list[Field] = [("protocol", "str", False), ("port", ("ptr", "int"), True)]

WORKLOAD: list[Field] = [
    ("uid", "str", False),
    ("workloadIps", ("list", "str"), False),
    ("waypoint", ("ptr", ("struct", _GATEWAY_ADDRESS)), True),
    ("networkGateway", ("ptr", ("struct", _GATEWAY_ADDRESS)), True),
    ("protocol", "str", False),
    ("name", "str", False),
    ("namespace", "str", False),
    ("serviceAccount", "str", False),
    ("workloadName", "str", False),
    ("workloadType", "str", False),
    ("canonicalName", "str", False),
    ("canonicalRevision", "str", False),
    ("clusterId", "str", False),
    ("trustDomain", "str", True),
    # Go's omitempty never omits a struct value: an absent locality prints as {}.
    ("locality", ("struct", _LOCALITY), True),
    ("node", "str", False),
    ("network", "str", True),
    ("status", "str", False),
    ("hostname", "str", False),
    ("capacity", "int", False),
    ("applicationTunnel", ("struct", _APPLICATION_TUNNEL), True),
    ("authorizationPolicies", ("list", "str"), True),
]

_LOAD_BALANCER: list[Field] = [
    ("mode", "str", False), ("routingPreferences", ("list", "str"), False), ("healthPolicy", "str", False),
]
_ENDPOINT: list[Field] = [
    ("workloadUid", "str", False), ("service", "str", False), ("address", "str", True), ("port", ("map", "int"), False),
]

SERVICE: list[Field] = [
    ("name", "str", False),
    ("namespace", "str", False),
    ("hostname", "str", False),
    ("vips", ("list", "str"), False),
    ("cidrVips", ("list", "cidrvip"), True),
    ("ports", ("map", "int"), False),
    ("loadBalancer", ("ptr", ("struct", _LOAD_BALANCER)), True),
    ("waypoint", ("ptr", ("struct", _GATEWAY_ADDRESS)), True),
    ("endpoints", ("map", ("ptr", ("struct", _ENDPOINT))), False),
    ("subjectAltNames", ("list", "str"), True),
    ("ipFamilies", "str", False),
    ("canonical", "bool", True),
    ("visibility", "str", True),
]

_STRING_MATCH: list[Field] = [
    ("Exact", "str", True), ("Suffix", "str", True), ("Prefix", "str", True), ("Presence", "any", True),
]
_SERVICE_ACCOUNT_MATCH: list[Field] = [("namespace", "str", False), ("serviceAccount", "str", False)]
_MATCHES = ("list", ("ptr", ("struct", _STRING_MATCH)))
_POLICY_MATCH: list[Field] = [
    ("namespaces", _MATCHES, True),
    ("notNamespaces", _MATCHES, True),
    ("principals", _MATCHES, True),
    ("notPrincipals", _MATCHES, True),
    ("sourceIps", ("list", "str"), True),
    ("notSourceIps", ("list", "str"), True),
    ("destinationIps", ("list", "str"), True),
    ("notDestinationIps", ("list", "str"), True),
    ("destinationPorts", ("list", "int"), True),
    ("notDestinationPorts", ("list", "int"), True),
    ("serviceAccounts", ("list", ("struct", _SERVICE_ACCOUNT_MATCH)), True),
    ("notServiceAccounts", ("list", ("struct", _SERVICE_ACCOUNT_MATCH)), True),
]

POLICY: list[Field] = [
    ("name", "str", False),
    ("namespace", "str", False),
    ("scope", "str", False),
    ("action", "str", False),
    ("rules", ("list", ("list", ("list", ("ptr", ("struct", _POLICY_MATCH))))), False),
]

_CERT: list[Field] = [
    ("pem", "str", False), ("serialNumber", "str", False), ("validFrom", "str", False), ("expirationTime", "str", False),
]
CERTIFICATE: list[Field] = [
    ("identity", "str", False),
    ("state", "str", False),
    ("certChain", ("list", ("ptr", ("struct", _CERT))), False),
    ("rootCerts", ("list", ("ptr", ("struct", _CERT))), False),
]

_CONNECTION: list[Field] = [
    ("src", "str", False), ("originalDst", "str", False), ("actualDst", "str", False), ("protocol", "str", False),
]
WORKLOAD_STATE: list[Field] = [
    ("state", "str", True),
    ("connections", ("struct", [
        ("inbound", ("list", ("struct", _CONNECTION)), False),
        ("outbound", ("list", ("struct", _CONNECTION)), False),
    ]), True),
    ("info", ("struct", [
        ("name", "str", False), ("namespace", "str", False),
        ("trustDomain", "str", False), ("serviceAccount", "str", False),
    ]), False),
]


class DumpShapeError(ValueError):
    """A dump value has a JSON type the Go struct field cannot take (istioctl fails to load it)."""


def _lookup(obj: dict[str, Any], name: str) -> Any:
    """The value of field ``name``: exact key first, else a case-insensitive match, as Go decodes."""
    if name in obj:
        return obj[name]
    folded = name.casefold()
    for key, value in obj.items():
        if key.casefold() == folded:
            return value
    return None


def _zero(kind: Any) -> Any:
    if kind == "str":
        return ""
    if kind == "int":
        return 0
    if kind == "bool":
        return False
    if isinstance(kind, tuple) and kind[0] == "struct":
        return decode(None, kind[1])
    return None  # nil pointer, slice, map or interface


def _convert(value: Any, kind: Any, where: str) -> Any:
    if value is None:
        return _zero(kind)
    if kind == "any":
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise DumpShapeError(f"{where}: expected a string, got {type(value).__name__}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise DumpShapeError(f"{where}: expected an integer, got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise DumpShapeError(f"{where}: expected a boolean, got {value!r}")
        return value
    if kind == "cidrvip":
        if isinstance(value, str):
            network, sep, cidr = value.partition("/")
            if not sep:
                raise DumpShapeError(f"{where}: invalid cidrVip {value!r}")
            return f"{network}/{cidr}"
        if isinstance(value, dict):
            return f"{_convert(_lookup(value, 'network'), 'str', where)}/{_convert(_lookup(value, 'cidr'), 'str', where)}"
        raise DumpShapeError(f"{where}: invalid cidrVip {value!r}")
    tag, inner = kind
    if tag == "ptr":
        return _convert(value, inner, where)
    if tag == "struct":
        if not isinstance(value, dict):
            raise DumpShapeError(f"{where}: expected an object, got {type(value).__name__}")
        return decode(value, inner, where)
    if tag == "list":
        if not isinstance(value, list):
            raise DumpShapeError(f"{where}: expected a list, got {type(value).__name__}")
        return [_convert(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if tag == "map":
        if not isinstance(value, dict):
            raise DumpShapeError(f"{where}: expected an object, got {type(value).__name__}")
        # Go's encoder writes map keys sorted (as strings, byte order).
        return {k: _convert(value[k], inner, f"{where}.{k}") for k in sorted(value)}
    raise AssertionError(kind)


def _empty(value: Any, kind: Any) -> bool:
    """Whether ``omitempty`` drops ``value`` (Go: false, 0, "", nil, empty slice or map; never a struct)."""
    if isinstance(kind, tuple) and kind[0] == "struct":
        return False
    if isinstance(value, (bool, int, str, list, dict)):
        return not value
    return value is None


def decode(obj: dict[str, Any] | None, fields: list[Field], where: str = "") -> dict[str, Any]:
    """``obj`` as the Go struct described by ``fields`` marshals it (a new dict in field order)."""
    out: dict[str, Any] = {}
    for name, kind, omitempty in fields:
        value = _convert(None if obj is None else _lookup(obj, name), kind, f"{where}.{name}".lstrip("."))
        if omitempty and _empty(value, kind):
            continue
        out[name] = value
    return out


def _section(dump: dict[str, Any], key: str, fields: list[Field]) -> list[dict[str, Any]]:
    """A dump section (a list, or a map whose values are taken) decoded entry by entry."""
    raw = _lookup(dump, key)
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = list(raw.values())
    if not isinstance(raw, list):
        raise DumpShapeError(f"{key}: expected a list or an object, got {type(raw).__name__}")
    return [_convert(v, ("struct", fields), f"{key}[{i}]") for i, v in enumerate(raw)]


@dataclass(frozen=True)
class ZtunnelDump:
    """The sections of a ztunnel config dump, each entry in istioctl's Go shape."""

    workloads: list[dict[str, Any]]
    services: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    certificates: list[dict[str, Any]]
    workload_states: list[dict[str, Any]]


def is_ztunnel_dump(dump: Any) -> bool:
    """Whether ``dump`` looks like a ztunnel's ``/config_dump`` (an Envoy dump has ``configs`` instead)."""
    return isinstance(dump, dict) and isinstance(_lookup(dump, "workloads"), (dict, list))


def load(dump: dict[str, Any]) -> ZtunnelDump:
    """Read ``dump`` (parsed JSON) as istioctl does; :class:`DumpShapeError` where istioctl would fail."""
    states = _lookup(dump, "workloadState")
    if states is not None and not isinstance(states, dict):
        raise DumpShapeError(f"workloadState: expected an object, got {type(states).__name__}")
    return ZtunnelDump(
        workloads=_section(dump, "workloads", WORKLOAD),
        services=_section(dump, "services", SERVICE),
        policies=_section(dump, "policies", POLICY),
        certificates=_section(dump, "certificates", CERTIFICATE),
        workload_states=[_convert(v, ("struct", WORKLOAD_STATE), f"workloadState.{k}") for k, v in (states or {}).items()],
    )
