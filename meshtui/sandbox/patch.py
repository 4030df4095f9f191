"""The three patch formats of PATCH requests: JSON merge patch (RFC 7386), JSON patch
(RFC 6902) and Kubernetes strategic merge patch (core kinds only).

Strategic merge follows the patch strategies of the core types' Go struct tags for the fields
kubectl touches: lists of containers/env/volumes/... merge by their key (``name``,
``containerPort`` for container ports, ``port`` for service ports, ...); other lists are
replaced; ``$patch: replace|delete``, ``$retainKeys``, ``$setElementOrder/<field>`` and
``$deleteFromPrimitiveList/<field>`` directives are honoured.
"""

from __future__ import annotations

from typing import Any

from meshtui.sandbox.store import copy_obj


class PatchError(Exception):
    """A patch that cannot be applied; ``code`` is 400 (malformed) or 422 (does not apply)."""

    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(message)
        self.code = code


# -- RFC 7386 ------------------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    """Apply a JSON merge patch; returns a new value (inputs are not modified)."""
    if not isinstance(patch, dict):
        return copy_obj(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# -- RFC 6902 ------------------------------------------------------------------------------------
def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer must start with '/': {path!r}", 400)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], path: str) -> tuple[Any, str]:
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise PatchError(f"doc is missing path: \"{path}\": missing value")
    return cur, parts[-1]


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent, last = _parent(doc, parts, path)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise PatchError(f"doc is missing path: \"{path}\": missing value")


def _remove(doc: Any, path: str) -> Any:
    parent, last = _parent(doc, _pointer(path), path)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchError(f"Unable to remove nonexistent key: {last}: missing value")


def _add(doc: Any, path: str, value: Any, replace: bool = False) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(doc, parts, path)
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and not replace:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (1 if replace else 0):
            if replace:
                parent[int(last)] = value
            else:
                parent.insert(int(last), value)
        else:
            raise PatchError(f"Unable to access invalid index: {last}: invalid index referenced")
    else:
        raise PatchError(f"doc is missing path: \"{path}\": missing value")
    return doc


def json_patch(target: Any, ops: Any) -> Any:
    """Apply an RFC 6902 JSON patch; returns a new document."""
    if not isinstance(ops, list):
        raise PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400)
    doc = copy_obj(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError("Unexpected kind: missing op", 400)
        kind, path = op["op"], op.get("path", "")
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"Unexpected kind: missing value for {kind}", 400)
        if kind == "add":
            doc = _add(doc, path, copy_obj(op["value"]))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            doc = _add(doc, path, copy_obj(op["value"]), replace=True)
        elif kind == "move":
            value = _remove(doc, op.get("from", ""))
            doc = _add(doc, path, value)
        elif kind == "copy":
            doc = _add(doc, path, copy_obj(_get(doc, op.get("from", ""))))
        elif kind == "test":
            if _get(doc, path) != op["value"]:
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}", 400)
    return doc


# -- strategic merge -----------------------------------------------------------------------------
# patchMergeKey of list fields in the core types, by field name.
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "env": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
    "volumes": "name", "imagePullSecrets": "name", "hostAliases": "ip",
    "conditions": "type", "ownerReferences": "uid", "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name", "readinessGates": None,
}
# Lists of scalars whose patch strategy is "merge" (union).
_PRIMITIVE_MERGE = {"finalizers"}


def _merge_key(field: str, parent: str) -> str | None:
    if field == "ports":
        if parent in ("containers", "initContainers", "ephemeralContainers"):
            return "containerPort"
        if parent == "spec":
            return "port"
        return None
    return _MERGE_KEYS.get(field)


def strategic_merge(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch to a core-kind object; returns a new value."""
    if not isinstance(patch, dict):
        raise PatchError("json: cannot unmarshal into a strategic merge patch: not an object", 400)
    return _smp_map(copy_obj(target) if isinstance(target, dict) else {}, patch, "")


def _smp_map(orig: dict[str, Any], patch: dict[str, Any], field: str) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy_obj(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if "$retainKeys" in patch:
        keep = set(patch["$retainKeys"] or [])
        orig = {k: v for k, v in orig.items() if k in keep}
    orders: dict[str, list[Any]] = {}
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys"):
            continue
        if k.startswith("$setElementOrder/"):
            orders[k.split("/", 1)[1]] = v or []
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            if isinstance(orig.get(name), list):
                orig[name] = [x for x in orig[name] if x not in (v or [])]
            continue
        if v is None:
            orig.pop(k, None)
        elif isinstance(v, dict) and isinstance(orig.get(k), dict):
            merged = _smp_map(orig[k], v, k)
            if merged is None:
                orig.pop(k, None)
            else:
                orig[k] = merged
        elif isinstance(v, dict):
            merged = _smp_map({}, v, k)
            if merged is not None:
                orig[k] = merged
        elif isinstance(v, list):
            orig[k] = _smp_list(orig.get(k), v, k, field)
        else:
            orig[k] = v
    for name, order in orders.items():
        orig[name] = _apply_order(orig.get(name), order, _merge_key(name, field))
    return orig


def _smp_list(orig: Any, patch: list[Any], field: str, parent: str) -> list[Any]:
    if field in _PRIMITIVE_MERGE and isinstance(orig, list):
        return orig + [x for x in patch if x not in orig]
    key = _merge_key(field, parent)
    if key is None or not isinstance(orig, list):
        return [x for x in (copy_obj(patch)) if not (isinstance(x, dict) and "$patch" in x)]
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy_obj(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    out = list(orig)
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"unable to find api field in struct for list field {field}: "
                             "items of a merging list must be objects", 400)
        if key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {key}", 400)
        idx = next((i for i, x in enumerate(out) if isinstance(x, dict) and x.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
        elif idx is None:
            out.append(_smp_map({}, item, field))
        else:
            out[idx] = _smp_map(dict(out[idx]), item, field)
    return out


def _apply_order(items: Any, order: list[Any], key: str | None) -> Any:
    if not isinstance(items, list) or not order:
        return items

    def ident(x: Any) -> Any:
        if key is not None and isinstance(x, dict):
            return x.get(key)
        if isinstance(x, dict) and key is not None:
            return x.get(key)
        return x

    wanted = [o.get(key) if (key and isinstance(o, dict)) else o for o in order]
    pos = {w: i for i, w in enumerate(wanted) if isinstance(w, (str, int, float))}
    return sorted(items, key=lambda x: pos.get(ident(x), len(pos)))
