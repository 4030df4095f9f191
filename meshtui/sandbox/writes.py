"""The write verbs (create, update, patch, delete) with the API server's admission checks:
apiVersion/kind/namespace/name consistency, name validation, Istio CRD schema validation with
``fieldValidation`` (Ignore/Warn/Strict; unknown fields are pruned as a structural schema does),
``dryRun=All`` and Status errors. Each write records its field manager in
``metadata.managedFields`` as the API server does (one entry per manager and operation, with the
time of its last write; ``fieldsV1`` is left empty: the sandbox does not track field ownership),
so a client can tell who changed an object.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from meshtui.sandbox import patch as patches
from meshtui.sandbox.kinds import GATEWAY_API_GROUP, ISTIO_GROUP, ResourceType
from meshtui.sandbox.listing import Query
from meshtui.sandbox.store import Store, StoreError, copy_obj, not_found

_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_UNKNOWN = re.compile(r'^unknown field "(.*)"$')
_REASONS = (("Required value", "FieldValueRequired"), ("Unsupported value", "FieldValueNotSupported"),
            ("Duplicate value", "FieldValueDuplicate"), ("Forbidden", "FieldValueForbidden"),
            ("Too many", "FieldValueTooMany"), ("Too long", "FieldValueTooLong"))


@dataclass
class WriteContext:
    """The request parameters every write needs."""

    rtype: ResourceType
    version: str
    namespace: str | None
    name: str | None
    dry_run: bool
    field_validation: str  # Ignore | Warn | Strict
    #: ``fieldManager``, else the User-Agent up to its first "/" (the API server's default).
    manager: str = ""

    @classmethod
    def from_request(cls, request: web.Request, t: ResourceType, version: str, namespace: str | None,
                     name: str | None) -> "WriteContext":
        """Read dryRun and fieldValidation from the query; 400 for unknown values."""
        dry = request.query.getall("dryRun", [])
        for d in dry:
            if d != "All":
                raise StoreError(400, "BadRequest", f'Invalid dryRun value: "{d}": supported values: "All"')
        fv = request.query.get("fieldValidation", "Warn") or "Warn"
        if fv not in ("Ignore", "Warn", "Strict"):
            raise StoreError(400, "BadRequest", f"fieldValidation must be one of Ignore, Warn, Strict: got {fv!r}")
        manager = request.query.get("fieldManager") or request.headers.get("User-Agent", "").split("/")[0]
        if len(manager) > 128:
            raise StoreError(422, "Invalid", f"fieldManager: Too long: may not be longer than 128 (got {len(manager)})")
        return cls(t, version, namespace, name, bool(dry), fv, manager or "unknown")


def _record_manager(ctx: WriteContext, obj: dict[str, Any], current: dict[str, Any] | None,
                    subresource: str = "") -> None:
    """Carry the object's ``managedFields`` over and stamp this write's manager (operation
    Update) with the time: what a client reads to name the last writer."""
    from meshtui.sandbox.store import now_rfc3339

    previous = ((current or {}).get("metadata") or {}).get("managedFields") or []
    entry: dict[str, Any] = {"manager": ctx.manager, "operation": "Update", "apiVersion": ctx.rtype.api_version(ctx.version),
                             "time": now_rfc3339(), "fieldsType": "FieldsV1", "fieldsV1": {}}
    if subresource:
        entry["subresource"] = subresource
    kept = [e for e in previous if isinstance(e, dict) and (e.get("manager"), e.get("operation"), e.get("subresource", ""))
            != (ctx.manager, "Update", subresource)]
    obj["metadata"]["managedFields"] = [*kept, entry]


def decode_body(raw: bytes, content_type: str) -> dict[str, Any]:
    """A JSON (or YAML) request body; 400 when it does not decode to an object."""
    if "protobuf" in content_type:
        from meshtui.sandbox.protobuf import decode_object
        return decode_object(raw)
    try:
        if "yaml" in content_type:
            import yaml
            obj = yaml.safe_load(raw)
        else:
            obj = orjson.loads(raw)
    except Exception as exc:
        raise StoreError(400, "BadRequest", f"the body of the request could not be decoded: {exc}") from None
    if not isinstance(obj, dict):
        raise StoreError(400, "BadRequest", "the body of the request must be a JSON object")
    return obj


def with_version(obj: dict[str, Any], api_version: str) -> bytes:
    """The object serialized with the apiVersion of the request URL."""
    return orjson.dumps(obj if obj.get("apiVersion") == api_version else {**obj, "apiVersion": api_version})


def _invalid(t: ResourceType, name: str, errors: list[tuple[str, str]]) -> StoreError:
    causes = []
    for path, msg in errors:
        reason = next((r for prefix, r in _REASONS if msg.startswith(prefix)), "FieldValueInvalid")
        causes.append({"reason": reason, "message": msg, "field": path})
    texts = [f"{p}: {m}" if p else m for p, m in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    kind = f"{t.kind}.{t.group}" if t.group else t.kind
    return StoreError(422, "Invalid", f'{kind} "{name}" is invalid: {joined}',
                      {"name": name, "group": t.group, "kind": t.kind, "causes": causes})


def _check_identity(ctx: WriteContext, obj: dict[str, Any]) -> None:
    t = ctx.rtype
    want = t.api_version(ctx.version)
    obj.setdefault("apiVersion", want)
    obj.setdefault("kind", t.kind)
    if obj["kind"] != t.kind:
        raise StoreError(400, "BadRequest", f"the kind in the data ({obj['kind']}) does not match the "
                         f"expected kind ({t.kind})")
    if obj["apiVersion"] != want:
        raise StoreError(400, "BadRequest", f"the API version in the data ({obj['apiVersion']}) does not "
                         f"match the expected API version ({want})")
    obj["apiVersion"] = t.api_version()  # stored in the storage version
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    if t.namespaced:
        ns = meta.get("namespace") or ctx.namespace
        if ns != ctx.namespace:
            raise StoreError(400, "BadRequest", "the namespace of the provided object does not match the "
                             "namespace sent on the request")
        meta["namespace"] = ns
    if ctx.name is not None and meta.get("name") != ctx.name:
        raise StoreError(400, "BadRequest", f"the name of the object ({meta.get('name')}) does not match "
                         f"the name on the URL ({ctx.name})")


def _validate(ctx: WriteContext, obj: dict[str, Any]) -> dict[str, str] | None:
    """Name and schema checks; prunes unknown fields; returns a Warning header or None."""
    t = ctx.rtype
    name = obj["metadata"].get("name") or ""
    errors: list[tuple[str, str]] = []
    if not name:
        errors.append(("metadata.name", "Required value: name or generateName is required"))
    elif t.plural in ("services", "namespaces"):
        regex, what = ((_DNS1035_LABEL, "a DNS-1035 label") if t.plural == "services"
                       else (_DNS1123_LABEL, "a lowercase RFC 1123 label"))
        if not regex.match(name) or len(name) > 63:
            errors.append(("metadata.name", f'Invalid value: "{name}": {what} must consist of lower case '
                           "alphanumeric characters or '-', and must start and end with an alphanumeric character"))
    elif not _DNS1123_SUBDOMAIN.match(name) or len(name) > 253:
        errors.append(("metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must '
                       "consist of lower case alphanumeric characters, '-' or '.', and must start and end "
                       "with an alphanumeric character (e.g. 'example.com', regex used for validation is "
                       r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
    unknown: list[str] = []
    if t.group in (ISTIO_GROUP, GATEWAY_API_GROUP):
        from meshtui.model.schema import validate

        probe = {**obj, "apiVersion": t.api_version(ctx.version)}
        for e in validate(probe, strict=True):
            m = _UNKNOWN.match(e.message)
            if m:
                unknown.append(e.path)
            else:
                errors.append((e.path, e.message))
    if errors:
        raise _invalid(t, name, errors)
    if t.group == GATEWAY_API_GROUP:
        # The API server stores Gateway API objects with their schema defaults filled in.
        from meshtui.model.schema import defaulted

        obj.update({k: v for k, v in defaulted({**obj, "apiVersion": t.api_version(ctx.version)}).items()
                    if k not in ("apiVersion", "metadata")})
    if not unknown:
        return None
    if ctx.field_validation == "Strict":
        listed = ", ".join(f'unknown field "{p}"' for p in unknown)
        raise StoreError(400, "BadRequest", f"strict decoding error: {listed}")
    for path in unknown:
        _prune(obj, path)
    if ctx.field_validation == "Warn":
        return {"Warning": ", ".join(f'299 - "unknown field \\"{p}\\""' for p in unknown)}
    return None


def _prune(obj: dict[str, Any], path: str) -> None:
    parts = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path)]
    cur: Any = obj
    for p in parts[:-1]:
        try:
            cur = cur[p]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(cur, dict):
        cur.pop(parts[-1], None)


def create(store: Store, ctx: WriteContext, obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str] | None]:
    """POST: a new object (201), or AlreadyExists/Invalid/... errors."""
    _check_identity(ctx, obj)
    meta = obj["metadata"]
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
    if ctx.rtype.group == ISTIO_GROUP:
        obj.pop("status", None)  # the status subresource owns it
    if ctx.rtype.plural == "services":
        from meshtui.sandbox.podgen import default_service
        default_service(obj, f"10.96.{secrets.randbelow(200) + 50}.{secrets.randbelow(250) + 2}")
    warnings = _validate(ctx, obj)
    _record_manager(ctx, obj, None)
    return store.create(obj, dry_run=ctx.dry_run), warnings


def update(store: Store, ctx: WriteContext, obj: dict[str, Any],
           status_only: bool = False) -> tuple[dict[str, Any], dict[str, str] | None]:
    """PUT: replace an object; 409 on a stale resourceVersion."""
    _check_identity(ctx, obj)
    current = store.get(ctx.rtype.key, ctx.namespace, ctx.name or "")
    if current is None:
        raise not_found(ctx.rtype, ctx.name or "")
    if status_only:
        merged = copy_obj(current)
        merged["status"] = obj.get("status")
        merged["metadata"]["resourceVersion"] = obj["metadata"].get("resourceVersion")
        obj = merged
    elif "status" in current and ctx.rtype.group == ISTIO_GROUP:
        obj["status"] = current["status"]  # the status subresource owns it
    warnings = _validate(ctx, obj)
    _record_manager(ctx, obj, current, "status" if status_only else "")
    return store.update(obj, dry_run=ctx.dry_run), warnings


def patch(store: Store, ctx: WriteContext, content_type: str, raw: bytes,
          status_only: bool = False) -> tuple[dict[str, Any], dict[str, str] | None]:
    """PATCH: merge / JSON / strategic merge patch applied to the current object."""
    t = ctx.rtype
    current = store.get(t.key, ctx.namespace, ctx.name or "")
    if current is None:
        raise not_found(t, ctx.name or "")
    accepted = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
    if t.strategic_merge:
        accepted.append("application/strategic-merge-patch+json")
    if content_type not in accepted or content_type == "application/apply-patch+yaml":
        raise StoreError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                         "accepted media types include: " + ", ".join(accepted))
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise StoreError(400, "BadRequest", f"error decoding patch: {exc}") from None
    base = {**current, "apiVersion": t.api_version(ctx.version)}
    try:
        if content_type == "application/json-patch+json":
            result = patches.json_patch(base, body)
        elif content_type == "application/merge-patch+json":
            result = patches.merge_patch(base, body)
        else:
            result = patches.strategic_merge(base, body)
    except patches.PatchError as exc:
        reason = "BadRequest" if exc.code == 400 else "Invalid"
        raise StoreError(exc.code, reason, str(exc)) from None
    if not isinstance(result, dict):
        raise StoreError(422, "Invalid", "the patched object is not a JSON object")
    result = copy_obj(result)
    meta = result.setdefault("metadata", {})
    if not meta.get("resourceVersion"):
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]
    if status_only:
        merged = copy_obj(current)
        merged["status"] = result.get("status")
        result = {**merged, "apiVersion": base["apiVersion"]}
    _check_identity(ctx, result)
    warnings = _validate(ctx, result)
    _record_manager(ctx, result, current, "status" if status_only else "")
    return store.update(result, dry_run=ctx.dry_run), warnings


def delete(store: Store, ctx: WriteContext, options: dict[str, Any]) -> dict[str, Any]:
    """DELETE: remove an object; the deleted object or a Success Status, as the real registry."""
    t = ctx.rtype
    pre = options.get("preconditions") or {}
    dry = ctx.dry_run or "All" in (options.get("dryRun") or [])
    last = store.delete(t.key, ctx.namespace, ctx.name or "", dry_run=dry,
                        precondition_rv=pre.get("resourceVersion"), precondition_uid=pre.get("uid"))
    if t.return_deleted:
        return {**last, "apiVersion": t.api_version(ctx.version)}
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": {"name": ctx.name, "group": t.group, "kind": t.plural,
                        "uid": last.get("metadata", {}).get("uid")}}


def delete_collection(store: Store, ctx: WriteContext, q: Query) -> dict[str, Any]:
    """DELETE on a collection: every selected object; returns the list of deleted objects."""
    t = ctx.rtype
    items = []
    for e in list(store.list_entries(t.key, ctx.namespace)):
        if q.matches(e.obj):
            m = e.obj["metadata"]
            items.append(store.delete(t.key, m.get("namespace"), m["name"], dry_run=ctx.dry_run))
    av = t.api_version(ctx.version)
    return {"kind": f"{t.kind}List", "apiVersion": av,
            "metadata": {"resourceVersion": str(store.resource_version)},
            "items": [{**i, "apiVersion": av} for i in items]}
