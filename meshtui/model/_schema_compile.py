"""Translate Kubernetes structural schemas into JSON Schema and validate with API-server wording.

Private helper of :mod:`meshtui.model.schema`: ``translate`` rewrites one ``openAPIV3Schema``
(OpenAPI v3.0 plus ``x-kubernetes-*`` extensions) into a draft-4 JSON Schema with a few custom
keywords, and ``validator_class`` is a ``jsonschema`` validator whose keyword functions phrase
their errors the way ``kube-apiserver`` does.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

from meshtui.model import cel

# Custom keywords added by translate(); the x-kubernetes-* ones keep their CRD names.
KNOWN = "x-meshtui-known-fields"
FORMAT = "x-meshtui-format"
# The string formats the API server checks that CRDs in use rely on (Gateway API addresses).
_CHECKED_FORMATS = frozenset({"ipv4", "ipv6"})
_DROP = frozenset({"description", "format", "example", "externalDocs", "title"})
_SCHEMA_LIST_KEYS = frozenset({"oneOf", "anyOf", "allOf"})
_SCHEMA_KEYS = frozenset({"items", "additionalProperties", "not"})


def translate(node: Any, strict: bool) -> Any:
    """A JSON Schema equivalent of one structural-schema node (a new dict; input untouched)."""
    if isinstance(node, list):
        return [translate(x, strict) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "format" and value in _CHECKED_FORMATS:
            out[FORMAT] = value
        if key in _DROP:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: translate(sub, strict) for name, sub in value.items()}
        elif key in _SCHEMA_KEYS and isinstance(value, dict):
            out[key] = translate(value, strict)
        elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
            out[key] = [translate(sub, strict) for sub in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
    if node.get("nullable"):
        types = out.get("type")
        if isinstance(types, str):
            out["type"] = [types, "null"]
        elif isinstance(types, list):
            out["type"] = [*types, "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [*out["enum"], None]
    # An object without preserve-unknown-fields and without additionalProperties keeps only
    # the listed properties: the API server prunes the rest, or rejects them in Strict mode.
    if (strict and node.get("type") == "object" and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")):
        out[KNOWN] = sorted((node.get("properties") or {}).keys())
    return out


def _quote(value: Any) -> str:
    """A value as the API server prints it after ``Invalid value:``."""
    if isinstance(value, (dict, list)):
        return json.dumps(json_type(value))
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, as the API server names it in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _type_ok(validator: Any, instance: Any, types: Any) -> bool:
    names = types if isinstance(types, list) else [types]
    return any(validator.is_type(instance, t) for t in names)


def _error(message: str, path: tuple[Any, ...] = ()) -> Any:
    from jsonschema.exceptions import ValidationError

    return ValidationError(message, path=list(path))


def _type(validator: Any, types: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not _type_ok(validator, instance, types):
        want = " or ".join(t for t in (types if isinstance(types, list) else [types]) if t != "null")
        yield _error(f"Invalid value: {json.dumps(json_type(instance))}: must be of type {want}")


def _enum(validator: Any, enums: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if instance not in enums or any(type(instance) is bool and e == instance and type(e) is not bool
                                    for e in enums):
        allowed = ", ".join(json.dumps(e) for e in enums if e is not None)
        yield _error(f"Unsupported value: {_quote(instance)}: supported values: {allowed}")


def _required(validator: Any, required: list[str], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if isinstance(instance, dict):
        for name in required:
            if name not in instance:
                yield _error("Required value", (name,))


def _bound(kind: str) -> Any:
    """Keyword functions for minimum/maximum and the length/size limits."""

    def check(validator: Any, limit: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
        if kind in ("minimum", "maximum"):
            if not validator.is_type(instance, "number"):
                return
            exclusive = bool(schema.get("exclusiveMinimum" if kind == "minimum" else "exclusiveMaximum"))
            if kind == "minimum" and (instance < limit or (exclusive and instance == limit)):
                rel = "greater than" if exclusive else "greater than or equal to"
                yield _error(f"Invalid value: {_quote(instance)}: should be {rel} {limit}")
            if kind == "maximum" and (instance > limit or (exclusive and instance == limit)):
                rel = "less than" if exclusive else "less than or equal to"
                yield _error(f"Invalid value: {_quote(instance)}: should be {rel} {limit}")
            return
        sized = {"minLength": str, "maxLength": str, "minItems": list, "maxItems": list,
                 "minProperties": dict, "maxProperties": dict}[kind]
        if not isinstance(instance, sized):
            return
        n = len(instance)
        unit = {str: "bytes", list: "items", dict: "properties"}[sized]
        if kind.startswith("min") and n < limit:
            yield _error(f"Invalid value: {_quote(instance)}: should have at least {limit} {unit}")
        if kind.startswith("max") and n > limit:
            what = "Too long" if sized is str else "Too many"
            yield _error(f"{what}: must have at most {limit} {unit}")

    return check


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if isinstance(instance, str) and not _compiled(pattern).search(instance):
        yield _error(f"Invalid value: {_quote(instance)}: should match '{pattern}'")


def _format(validator: Any, fmt: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    import ipaddress

    if not isinstance(instance, str):
        return
    kind = ipaddress.IPv4Address if fmt == "ipv4" else ipaddress.IPv6Address
    try:
        kind(instance)
    except ValueError:
        yield _error(f"Invalid value: {_quote(instance)}: must be a valid {fmt} address")


def _matches(validator: Any, instance: Any, subschemas: list[Any]) -> int:
    return sum(1 for sub in subschemas if validator.evolve(schema=sub).is_valid(instance))


def _one_of(validator: Any, subschemas: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    n = _matches(validator, instance, subschemas)
    if n != 1:
        why = "more than one" if n > 1 else "none"
        yield _error(f"Invalid value: {_quote(instance)}: must validate one and only one schema "
                     f"(oneOf), {why} matched")


def _any_of(validator: Any, subschemas: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if _matches(validator, instance, subschemas) == 0:
        yield _error(f"Invalid value: {_quote(instance)}: must validate at least one schema (anyOf)")


def _all_of(validator: Any, subschemas: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    for index, sub in enumerate(subschemas):
        yield from validator.descend(instance, sub, schema_path=index)


def _not(validator: Any, sub: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if validator.evolve(schema=sub).is_valid(instance):
        yield _error(f"Invalid value: {_quote(instance)}: must not validate the schema (not)")


def _known_fields(validator: Any, known: list[str], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if isinstance(instance, dict):
        allowed = set(known)
        for name in instance:
            if name not in allowed:
                yield _error(f'unknown field "{name}"', (name,))


def _list_type(validator: Any, list_type: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not isinstance(instance, list):
        return
    seen: list[Any] = []
    keys = schema.get("x-kubernetes-list-map-keys") or []
    for index, item in enumerate(instance):
        if list_type == "map" and isinstance(item, dict):
            ident: Any = tuple(item.get(k) for k in keys)
            shown = json.dumps({k: item.get(k) for k in keys})
        elif list_type == "set":
            ident = item
            shown = _quote(item)
        else:
            continue
        if ident in seen:
            yield _error(f"Duplicate value: {shown}", (index,))
        else:
            seen.append(ident)


def _cel_rules(validator: Any, rules: list[dict[str, Any]], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    # A CEL rule only runs on a value of the declared type (the API server does not evaluate
    # rules on a value that already failed type validation).
    declared = schema.get("type")
    if declared is not None and not _type_ok(validator, instance, declared):
        return
    if instance is None:
        return
    shown = declared if isinstance(declared, str) else json_type(instance)
    for rule in rules:
        text = rule.get("rule")
        if not isinstance(text, str):
            continue
        try:
            ok = cel.evaluate(text, instance)
        except cel.CelUnsupported:
            continue  # our interpreter does not know this construct: do not guess
        except cel.CelError:
            ok = False  # a runtime error (e.g. a malformed duration) fails the rule
        if ok is not True:
            message = rule.get("message") or f"failed rule: {text}"
            yield _error(f'Invalid value: "{shown}": {message}')


@functools.cache
def validator_class() -> Any:
    """The jsonschema validator class used for every compiled CRD schema."""
    from jsonschema import Draft4Validator, validators

    keywords: dict[str, Any] = {
        "type": _type,
        "enum": _enum,
        "required": _required,
        "pattern": _pattern,
        "oneOf": _one_of,
        "anyOf": _any_of,
        "allOf": _all_of,
        "not": _not,
        KNOWN: _known_fields,
        FORMAT: _format,
        "x-kubernetes-list-type": _list_type,
        "x-kubernetes-validations": _cel_rules,
    }
    for name in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
                 "minProperties", "maxProperties"):
        keywords[name] = _bound(name)
    return validators.extend(Draft4Validator, validators=keywords)
