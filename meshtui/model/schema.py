"""Validate Istio and Gateway API objects against the CRD OpenAPI schemas shipped with meshtui.

The schemas are the ``openAPIV3Schema`` of each served version in
``meshtui/data/networking.istio.io.crds.yaml`` (Istio's own CRDs) and
``meshtui/data/gateway.networking.k8s.io.crds.yaml`` (the Gateway API v1.5.1 standard channel,
plus TCPRoute ``v1`` of v1.6.1). They are Kubernetes
*structural* schemas, i.e. OpenAPI v3.0 with Kubernetes extensions, so each one is translated
once into a JSON Schema (draft 4 semantics) and compiled into a ``jsonschema`` validator cached
per (kind, version, strict). Error paths and messages follow the API server's wording
(``spec.hosts: Required value``, ``spec.x: Invalid value: ...``) so a user sees here what
``kubectl apply`` would say.

What is and is not checked, compared to a real API server:

- ``nullable: true`` admits ``null``; ``x-kubernetes-int-or-string`` admits integers and strings.
- ``x-kubernetes-preserve-unknown-fields`` keeps unknown fields below it. Elsewhere the API
  server *prunes* unknown fields (the default, ``strict=False``: they are not errors) or rejects
  them with ``fieldValidation=Strict`` (``strict=True``: one error per unknown field).
- ``x-kubernetes-list-type: map`` rejects duplicate map keys; ``set`` rejects duplicate items.
- ``x-kubernetes-validations`` (CEL rules) are evaluated by :mod:`meshtui.model.cel`, a small
  interpreter for the subset of CEL Istio's CRDs use; a rule it cannot evaluate is skipped
  rather than reported, so validation never fails on our own limitation.
- ``format`` (int32, int64, double, date-time, byte) is not checked: the API server does not
  enforce integer widths either, and string formats only matter for ``status``.
- ``metadata`` is not validated (the API server checks ObjectMeta with its own rules).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

GROUP = "networking.istio.io"
GATEWAY_API_GROUP = "gateway.networking.k8s.io"
#: API group -> the shipped file holding its CRDs.
_CRD_FILES = {GROUP: "networking.istio.io.crds.yaml", GATEWAY_API_GROUP: "gateway.networking.k8s.io.crds.yaml"}
# Keys every object may carry at the top level besides what the CRD schema lists.
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One validation failure: a dotted field path and an API-server style message."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


_lock = threading.Lock()


@functools.cache
def _group_schemas(group: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, version) -> openAPIV3Schema for every served version of ``group``'s shipped CRDs.

    Loaded on first use: the files are ~1 MB each and most commands never validate.
    """
    import yaml  # PyYAML: its C loader reads the file ~20x faster than ruamel.yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    text = resources.files("meshtui.data").joinpath(_CRD_FILES[group]).read_text(encoding="utf-8")
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in yaml.load_all(text, Loader=loader):
        if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc.get("spec") or {}
        if spec.get("group") != group:
            continue
        kind = (spec.get("names") or {}).get("kind", "")
        for version in spec.get("versions") or []:
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            if version.get("served", True) and isinstance(schema, dict):
                out[(kind, version["name"])] = schema
    return out


def _crd_schemas(group: str = GROUP) -> dict[tuple[str, str], dict[str, Any]]:
    """The shipped schemas of ``group`` (empty for a group meshtui has no CRDs of)."""
    return _group_schemas(group) if group in _CRD_FILES else {}


def supported_kinds(group: str = GROUP) -> dict[str, list[str]]:
    """Kinds of ``group`` (default ``networking.istio.io``) with a shipped schema, each with its
    served versions."""
    kinds: dict[str, list[str]] = {}
    for kind, version in _crd_schemas(group):
        kinds.setdefault(kind, []).append(version)
    return kinds


def has_schema(api_version: str, kind: str) -> bool:
    """Whether ``validate`` has a schema for this apiVersion and kind."""
    group, _, version = api_version.rpartition("/")
    return (kind, version) in _crd_schemas(group)


def validate(raw: dict[str, Any], strict: bool = False) -> list[SchemaError]:
    """Check ``raw`` against the CRD schema of its apiVersion and kind, as the API server would.

    Objects outside ``networking.istio.io`` and ``gateway.networking.k8s.io`` have no shipped
    schema and give no errors; an unknown kind or version of those groups gives one error on
    ``apiVersion``. With
    ``strict=True`` unknown fields are errors (``fieldValidation=Strict``); otherwise they are
    accepted, as the API server prunes them. ``raw`` is not modified.
    """
    if not isinstance(raw, dict):
        from meshtui.model._schema_compile import json_type

        return [SchemaError("", f"object must be a mapping, got {json_type(raw)}")]
    api_version = raw.get("apiVersion")
    kind = raw.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return [SchemaError("apiVersion" if not isinstance(api_version, str) else "kind", "Required value")]
    group, _, version = api_version.rpartition("/")
    if group not in _CRD_FILES:
        return []
    if (kind, version) not in _crd_schemas(group):
        known = supported_kinds(group).get(kind)
        why = (f"{kind} is served as {', '.join(group + '/' + v for v in sorted(known))}"
               if known else f"no kind {kind!r} in {group}")
        return [SchemaError("apiVersion", f"Unsupported value: {api_version!r}: {why}")]
    validator = _validator(group, kind, version, strict)
    # metadata is validated by the API server's ObjectMeta rules, not by the CRD schema.
    body = {k: v for k, v in raw.items() if k != "metadata"}
    # The API server fills in schema defaults before it validates (CEL rules rely on them, e.g.
    # a backendRef's kind ``Service``); the caller's object is not changed.
    body = apply_defaults(body, _crd_schemas(group)[(kind, version)])
    errors = [_to_schema_error(e) for e in validator.iter_errors(body)]
    errors.sort(key=lambda e: (e.path, e.message))
    return errors


@functools.cache
def _validator(group: str, kind: str, version: str, strict: bool) -> Any:
    """The compiled validator for one (group, kind, version, strict); built once and reused."""
    from meshtui.model import _schema_compile

    with _lock:  # the translation walks a shared dict; keep two threads from racing on it
        schema = _schema_compile.translate(_crd_schemas(group)[(kind, version)], strict=strict)
        schema.setdefault("properties", {})
        for name in _ROOT_FIELDS:
            schema["properties"].setdefault(name, {})
        if _schema_compile.KNOWN in schema:
            schema[_schema_compile.KNOWN] = sorted({*schema[_schema_compile.KNOWN], *_ROOT_FIELDS})
    return _schema_compile.validator_class()(schema)


def apply_defaults(value: Any, schema: dict[str, Any]) -> Any:
    """``value`` with the structural schema's ``default`` values filled in where a field is
    absent, as the API server defaults an object before validating and storing it. Containers
    that gain a default are copied; ``value`` itself is never modified."""
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        out = dict(value)
        if isinstance(props, dict):
            for name, sub in props.items():
                if name not in out and isinstance(sub, dict) and "default" in sub:
                    out[name] = _copy(sub["default"])
            for name, sub in props.items():
                if name in out and isinstance(sub, dict):
                    out[name] = apply_defaults(out[name], sub)
        elif isinstance(extra, dict):
            out = {k: apply_defaults(v, extra) for k, v in out.items()}
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(v, schema["items"]) for v in value]
    return value


def defaulted(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with its CRD schema's defaults filled in (what the API server stores); ``raw``
    itself when it has no shipped schema. ``raw`` is not modified."""
    api_version, kind = raw.get("apiVersion"), raw.get("kind")
    group, _, version = api_version.rpartition("/") if isinstance(api_version, str) else ("", "", "")
    schema = _crd_schemas(group).get((kind, version)) if isinstance(kind, str) else None
    if schema is None:
        return raw
    body = apply_defaults({k: v for k, v in raw.items() if k != "metadata"}, schema)
    return {**body, "metadata": raw.get("metadata")} if "metadata" in raw else body


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


def _to_schema_error(error: Any) -> SchemaError:
    """Turn a jsonschema ValidationError (whose message we wrote) into a SchemaError."""
    return SchemaError(format_path(error.absolute_path), error.message)


def format_path(parts: Iterable[str | int]) -> str:
    """``['spec', 'http', 0, 'route']`` -> ``spec.http[0].route`` (the API server's notation)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        else:
            out.append(f".{part}" if out else str(part))
    return "".join(out)


def iter_errors(raw: dict[str, Any], strict: bool = False) -> Iterator[SchemaError]:
    """Like :func:`validate` but lazily; convenient for "is there any error" checks."""
    yield from validate(raw, strict=strict)


def prune(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` without the fields its CRD schema does not know, as the API server
    stores it (default field validation). Objects without a shipped schema are copied as is."""
    import copy

    api_version = raw.get("apiVersion")
    kind = raw.get("kind")
    group, _, version = api_version.rpartition("/") if isinstance(api_version, str) else ("", "", "")
    schema = _crd_schemas(group).get((kind, version)) if isinstance(kind, str) else None
    if schema is None:
        return copy.deepcopy(raw)
    out = _prune(raw, schema)
    for name in _ROOT_FIELDS:
        if name in raw:
            out[name] = copy.deepcopy(raw[name])
    return out


def _prune(value: Any, schema: dict[str, Any]) -> Any:
    import copy

    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return copy.deepcopy(value)
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if isinstance(props, dict):
            return {k: _prune(v, props[k]) for k, v in value.items() if k in props}
        if isinstance(extra, dict):
            return {k: _prune(v, extra) for k, v in value.items()}
        return {} if schema.get("type") == "object" else copy.deepcopy(value)
    if isinstance(value, list):
        items = schema.get("items")
        return [_prune(v, items) if isinstance(items, dict) else copy.deepcopy(v) for v in value]
    return value
