"""Just enough of Kubernetes' protobuf encoding to read what kubectl sends that way.

kubectl's typed commands (``create namespace``, ``create configmap``, ``auth can-i``) send
``application/vnd.kubernetes.protobuf`` bodies: ``k8s\\0`` + runtime.Unknown{typeMeta=1,
raw=2, contentEncoding=3, contentType=4}. This module decodes those few types into the JSON
form; anything else is answered with 415 by the caller.
"""

from __future__ import annotations

from typing import Any

from meshtui.sandbox.store import StoreError


def fields(data: bytes) -> dict[int, list[bytes | int]]:
    """Decode one protobuf message level: field number -> values (bytes or varints)."""
    out: dict[int, list[bytes | int]] = {}
    i = 0

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            out.setdefault(field, []).append(varint())
        elif wire == 2:
            n = varint()
            out.setdefault(field, []).append(data[i:i + n])
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise StoreError(400, "BadRequest", "unsupported protobuf wire type")
    return out


def ssar_spec(raw: bytes) -> dict[str, Any]:
    """The spec of a SelfSubjectAccessReview sent as protobuf (kubectl auth can-i does that).

    Kubernetes' protobuf envelope is ``k8s\\0`` + runtime.Unknown{typeMeta=1, raw=2}; the review
    has spec=2 with resourceAttributes=1 {namespace, verb, group, version, resource,
    subresource, name} and nonResourceAttributes=2 {path, verb}.
    """
    if not raw.startswith(b"k8s\x00"):
        raise StoreError(400, "BadRequest", "the protobuf body lacks the k8s envelope")
    try:
        unknown = fields(raw[4:])
        review = fields(unknown[2][0])  # type: ignore[arg-type]
        spec = fields(review.get(2, [b""])[0])  # type: ignore[arg-type]
    except (IndexError, KeyError):
        raise StoreError(400, "BadRequest", "malformed protobuf SelfSubjectAccessReview") from None
    out: dict[str, Any] = {}
    if 1 in spec:
        attrs = fields(spec[1][0])  # type: ignore[arg-type]
        names = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
        out["resourceAttributes"] = {n: attrs[i + 1][0].decode() for i, n in enumerate(names)  # type: ignore[union-attr]
                                     if i + 1 in attrs}
    if 2 in spec:
        attrs = fields(spec[2][0])  # type: ignore[arg-type]
        out["nonResourceAttributes"] = {n: attrs[i + 1][0].decode() for i, n in enumerate(("path", "verb"))  # type: ignore[union-attr]
                                        if i + 1 in attrs}
    return out


def _str(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _map(entries: list[Any]) -> dict[str, str]:
    out = {}
    for e in entries:
        f = fields(e)
        out[_str(f.get(1, [b""])[0])] = _str(f.get(2, [b""])[0])
    return out


def _meta(raw: bytes) -> dict[str, Any]:
    f = fields(raw)
    meta: dict[str, Any] = {}
    for num, name in ((1, "name"), (2, "generateName"), (3, "namespace"), (6, "resourceVersion")):
        if num in f and f[num][0]:
            meta[name] = _str(f[num][0])
    if 11 in f:
        meta["labels"] = _map(f[11])
    if 12 in f:
        meta["annotations"] = _map(f[12])
    if 14 in f:
        meta["finalizers"] = [_str(v) for v in f[14]]
    return meta


def decode_object(raw: bytes) -> dict[str, Any]:
    """A Namespace or ConfigMap sent as protobuf, as its JSON dict; StoreError 415 otherwise."""
    if not raw.startswith(b"k8s\x00"):
        raise StoreError(400, "BadRequest", "the protobuf body lacks the k8s envelope")
    unknown = fields(raw[4:])
    tm = fields(unknown.get(1, [b""])[0])  # type: ignore[arg-type]
    api_version, kind = _str(tm.get(1, [b""])[0]), _str(tm.get(2, [b""])[0])
    body = fields(unknown.get(2, [b""])[0])  # type: ignore[arg-type]
    obj: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": _meta(body.get(1, [b""])[0])}  # type: ignore[arg-type]
    if kind == "Namespace" and api_version == "v1":
        spec = fields(body.get(2, [b""])[0])  # type: ignore[arg-type]
        if 1 in spec:
            obj["spec"] = {"finalizers": [_str(v) for v in spec[1]]}
        return obj
    if kind == "ConfigMap" and api_version == "v1":
        if 2 in body:
            obj["data"] = _map(body[2])
        if 4 in body:
            obj["immutable"] = bool(body[4][0])
        return obj
    raise StoreError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                     "accepted media types include: application/json, application/yaml")
