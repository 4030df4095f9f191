"""Server-side printing: ``meta.k8s.io`` Tables for list, get and watch, as ``kubectl get`` asks.

A client that sends ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` gets a ``Table``
(columnDefinitions + rows of cells, each row with its object as ``PartialObjectMetadata``, the full
object or nothing, per ``includeObject=Metadata|Object|None``) instead of the object or list.

Columns and cells follow the API server:

- custom resources: NAME plus the CRD version's ``additionalPrinterColumns`` (an Age column when
  there are none), cells from a small JSONPath evaluator; ``string`` columns print as client-go's
  JSONPath does (lists and maps as compact JSON), ``date`` cells are humanized on the server
  (``ShortHumanDuration``), as apiextensions' table convertor does;
- core kinds: the columns and row logic of ``pkg/printers/internalversion/printers.go`` (pod
  READY/STATUS/RESTARTS, service CLUSTER-IP/PORT(S), ...), ages as ``HumanDuration``;
- anything else (CustomResourceDefinitions): the default convertor, NAME and CREATED AT.

Descriptions of core columns are short paraphrases of the Go swagger docs.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import orjson

from meshtui.sandbox.kinds import ResourceType
from meshtui.sandbox.table_printers import (AGE_DOC, CORE_PRINTERS, NAME_COL, Row, RowFunc, column,
                                            parse_time, short_human_duration)
from meshtui.sandbox.store import Store, StoreError

TABLE_VERSIONS = ("v1", "v1beta1")
INCLUDE_VALUES = ("", "Metadata", "None", "Object")


# -- content negotiation ----------------------------------------------------------------------
@dataclass(frozen=True)
class TableRequest:
    """A request answered with a Table: the ``meta.k8s.io`` version and what each row carries."""

    version: str = "v1"
    include_object: str = "Metadata"


def negotiate(accept: str | None, query: Mapping[str, str]) -> TableRequest | None:
    """The Table a request asks for, or None to answer with plain JSON.

    Accept clauses are taken by preference (q); the first we can serve decides: a JSON
    ``as=Table`` with ``g=meta.k8s.io`` and a served version, or any clause without ``as`` (plain
    JSON, as the sandbox always answers). Clauses we cannot serve (protobuf or YAML Tables, other
    conversions) are skipped; when nothing matches the answer is plain JSON. StoreError 400 for an
    unknown ``includeObject``.
    """
    clauses = []
    for i, raw in enumerate((accept or "").split(",")):
        parts = [p.strip() for p in raw.split(";")]
        params = dict((k.strip().lower(), v.strip().strip('"')) for k, _, v in (p.partition("=") for p in parts[1:]))
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 0.0
        if parts[0] and q > 0:
            clauses.append((-q, i, parts[0].lower(), params))
    for _, _, media, params in sorted(clauses):
        conversion = params.get("as")
        if conversion is None:
            return None
        if (conversion == "Table" and params.get("g") == "meta.k8s.io" and params.get("v") in TABLE_VERSIONS
                and media in ("application/json", "application/*", "*/*")):
            include = query.get("includeObject", "")
            if include not in INCLUDE_VALUES:
                raise StoreError(400, "BadRequest", "Unable to convert to Table as requested: includeObject: "
                                 f'Unsupported value: "{include}": supported values: "", "Metadata", "None", "Object"')
            return TableRequest(params["v"], include or "Metadata")
    return None


# -- Go value formatting ----------------------------------------------------------------------
def _go_float(f: float, exp_form: Callable[[int], bool]) -> str:
    """A float in Go's shortest representation, exponent form when ``exp_form(exponent)``."""
    if f == 0:
        return "0"
    t = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    dp = len(digits) + int(t.exponent)  # value = 0.<digits> x 10^dp
    sign = "-" if f < 0 else ""
    if exp_form(dp - 1):
        e = dp - 1
        return f"{sign}{digits[0]}{'.' + digits[1:] if len(digits) > 1 else ''}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def _go_json(v: Any) -> str:
    """Go's ``json.Marshal`` of a JSON value: compact, map keys sorted, ``<>&`` escaped."""
    if v is None or isinstance(v, bool):
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        out = _go_float(v, lambda e: e < -6 or e >= 21)  # below 1e-6 or from 1e21, as encoding/json
        return re.sub(r"e([+-])0(\d)$", r"e\1\2", out)
    if isinstance(v, str):
        s = json.dumps(v, ensure_ascii=False)
        return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") \
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(v, list):
        return "[" + ",".join(_go_json(x) for x in v) + "]"
    return "{" + ",".join(f"{_go_json(str(k))}:{_go_json(v[k])}" for k in sorted(v)) + "}"


def _go_text(v: Any) -> str:
    """client-go JSONPath printing of one value: JSON for lists and maps, else ``fmt.Fprint``."""
    if isinstance(v, (dict, list)):
        return _go_json(v)
    if v is None:
        return "<no value>"  # text/template's rendering of an invalid (nil) reflect.Value
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return _go_float(v, lambda e: e < -4 or e >= 6)  # %v: strconv 'g', shortest
    return str(v)


# -- JSONPath (the subset CRD printer columns use) ----------------------------------------------
_FILTER = re.compile(r"^\s*@((?:\.[^\s=!<>]+)*)\s*(?:(==|!=|<=|>=|<|>)\s*(.+?))?\s*$")


def _literal(text: str) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


@functools.lru_cache(maxsize=512)
def compile_path(path: str) -> tuple[tuple[Any, ...], ...] | None:
    """Steps of a simple JSONPath (``.a.b``, ``['k']``, ``[0]``, ``[*]``, ``[1:3]``,
    ``[?(@.type=="Ready")]``, ``\\.`` escapes), or None when it is not one we evaluate."""
    s = path.strip()
    if s.startswith("{") and s.endswith("}"):
        s = s[1:-1].strip()
    s = s[1:] if s.startswith("$") else s
    steps: list[tuple[Any, ...]] = []
    i = 0
    while i < len(s):
        if s[i] == ".":
            i += 1
            if s[i:i + 1] == "*":
                steps.append(("*",))
                i += 1
                continue
            name: list[str] = []
            while i < len(s) and s[i] not in ".[":
                if s[i] == "\\" and i + 1 < len(s):
                    i += 1
                name.append(s[i])
                i += 1
            if name:
                steps.append(("field", "".join(name)))
            elif i < len(s):
                return None  # ".." (recursive descent) is not supported
        elif s[i] == "[":
            j = s.find("]", i)
            if s.startswith("[?(", i):
                j = s.find(")]", i) + 1
            if j <= i:
                return None
            inner, i = s[i + 1:j].strip(), j + 1
            try:
                if inner == "*":
                    steps.append(("*",))
                elif inner[:1] in ("'", '"'):
                    steps.append(("field", inner[1:-1]))
                elif inner.startswith("?(") and inner.endswith(")"):
                    m = _FILTER.match(inner[2:-1])
                    left = compile_path(m.group(1)) if m else None
                    if m is None or left is None:
                        return None
                    steps.append(("filter", left, m.group(2), _literal(m.group(3) or "")))
                elif ":" in inner:
                    a, _, b = inner.partition(":")
                    steps.append(("slice", int(a) if a.strip() else None, int(b.partition(":")[0]) if b.strip() else None))
                else:
                    steps.append(("index", int(inner)))
            except ValueError:
                return None
        else:
            return None
    return tuple(steps)


def _compare(left: Any, op: str, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return op in ("==", "!=") and (left == right) == (op == "==")
    numbers = isinstance(left, (int, float)) and isinstance(right, (int, float))
    if not numbers and not (isinstance(left, str) and isinstance(right, str)):
        return False
    return {"==": left == right, "!=": left != right, "<": left < right, ">": left > right,
            "<=": left <= right, ">=": left >= right}[op]


def find(steps: tuple[tuple[Any, ...], ...], obj: Any) -> list[Any]:
    """Every value ``steps`` select in ``obj`` (missing keys select nothing; a present null is kept)."""
    cur = [obj]
    for step in steps:
        nxt: list[Any] = []
        for v in cur:
            kind = step[0]
            if kind == "field":
                if isinstance(v, dict) and step[1] in v:
                    nxt.append(v[step[1]])
            elif kind == "*":
                nxt.extend(v if isinstance(v, list) else [v[k] for k in sorted(v)] if isinstance(v, dict) else [])
            elif not isinstance(v, list):
                continue
            elif kind == "index":
                if -len(v) <= step[1] < len(v):
                    nxt.append(v[step[1]])
            elif kind == "slice":
                nxt.extend(v[step[1]:step[2]])
            else:  # filter
                for item in v:
                    found = find(step[1], item)
                    if found and (step[2] is None or _compare(found[0], step[2], step[3])):
                        nxt.append(item)
        cur = nxt
    return cur


# -- columns and rows -----------------------------------------------------------------------------
DEFAULT_COLUMNS = [NAME_COL, column("Created At", "date", AGE_DOC)]


def _name(obj: dict[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _default_row(obj: dict[str, Any], now: datetime) -> Row:
    """The generic registry's row: name and the creation time as RFC 3339 (kubectl prints it as is)."""
    t = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
    stamp = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if t else "0001-01-01T00:00:00Z"
    return [_name(obj), stamp], None


def _cell(type_: str, steps: tuple[tuple[Any, ...], ...] | None, obj: dict[str, Any], now: datetime) -> Any:
    """One custom-resource cell, as apiextensions' table convertor computes it."""
    found = find(steps, obj) if steps is not None else []
    if not found:
        return None
    v = found[0]  # only simple paths are supported upstream too: the first result counts
    if type_ == "string":
        return _go_text(v)
    numeric = isinstance(v, (int, float)) and not isinstance(v, bool)
    if type_ == "integer" and numeric:
        return int(v)
    if type_ == "number" and numeric:
        return float(v)
    if type_ == "boolean" and isinstance(v, bool):
        return v
    if type_ == "date" and isinstance(v, str):
        t = parse_time(v)
        return "<invalid>" if t is None else short_human_duration(now - t)
    return None


def custom_resource_printer(crd_columns: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], RowFunc]:
    """Column definitions and row function for a CRD version's ``additionalPrinterColumns``."""
    cols = crd_columns or [{"name": "Age", "type": "date", "description": AGE_DOC,
                            "jsonPath": ".metadata.creationTimestamp"}]
    defs = [NAME_COL] + [column(c.get("name", ""), c.get("type", "string"),
                              c.get("description") or f"Custom resource definition column (in JSONPath format): "
                                                       f"{c.get('jsonPath', '')}",
                              int(c.get("priority") or 0), c.get("format", "")) for c in cols]
    paths = [(c.get("type", "string"), compile_path(c.get("jsonPath", ""))) for c in cols]

    def row(obj: dict[str, Any], now: datetime) -> Row:
        return [_name(obj)] + [_cell(t, steps, obj, now) for t, steps in paths], None

    return defs, row


def _crd_columns(store: Store, rtype: ResourceType, version: str) -> list[dict[str, Any]] | None:
    """The printer columns of the stored CRD of ``rtype`` (None when it is not a custom resource)."""
    crd = store.get("customresourcedefinitions", None, rtype.qualified) if rtype.group else None
    if crd is None:
        from meshtui.sandbox import discovery

        return discovery.printer_columns().get((rtype.group, rtype.kind, version))
    for v in (crd.get("spec") or {}).get("versions") or []:
        if v.get("name") == version:
            return list(v.get("additionalPrinterColumns") or [])
    return []


def printer_for(store: Store, rtype: ResourceType, version: str) -> tuple[list[dict[str, Any]], RowFunc]:
    """Column definitions and row function for one resource type at one version."""
    if rtype.plural in CORE_PRINTERS and rtype.group in ("", "apps", "discovery.k8s.io"):
        return CORE_PRINTERS[rtype.plural]
    cols = _crd_columns(store, rtype, version)
    if cols is None:
        return DEFAULT_COLUMNS, _default_row
    return custom_resource_printer(cols)


# -- Table documents ------------------------------------------------------------------------------
class TableConverter:
    """Turns objects of one resource type into ``Table`` JSON for one request.

    For a watch, ``watch_object`` includes the column definitions in the first event only, as the
    API server's watch encoder does.
    """

    def __init__(self, store: Store, rtype: ResourceType, version: str, request: TableRequest) -> None:
        self.request = request
        self.api_version = rtype.api_version(version)
        self.columns, self._row = printer_for(store, rtype, version)
        self._headers_sent = False

    def _object(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        include = self.request.include_object
        if include == "None":
            return None
        if include == "Object":
            return obj if obj.get("apiVersion") == self.api_version else {**obj, "apiVersion": self.api_version}
        return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{self.request.version}",
                "metadata": obj.get("metadata") or {}}

    def table(self, objs: list[dict[str, Any]], meta: dict[str, Any], headers: bool = True) -> bytes:
        """A Table of ``objs`` with list metadata ``meta``, as JSON bytes."""
        now = datetime.now(timezone.utc)
        rows = []
        for obj in objs:
            cells, conditions = self._row(obj, now)
            row: dict[str, Any] = {"cells": cells}
            if conditions:
                row["conditions"] = conditions
            row["object"] = self._object(obj)
            rows.append(row)
        return orjson.dumps({"kind": "Table", "apiVersion": f"meta.k8s.io/{self.request.version}",
                             "metadata": meta, "columnDefinitions": self.columns if headers else None,
                             "rows": rows})

    def object_table(self, obj: dict[str, Any], headers: bool = True) -> bytes:
        """A one-row Table for a single object (get, or one watch event)."""
        rv = (obj.get("metadata") or {}).get("resourceVersion")
        return self.table([obj], {"resourceVersion": rv} if rv else {}, headers)

    def watch_object(self, obj: dict[str, Any]) -> bytes:
        """The Table carried by one watch event; column definitions only in the first."""
        first, self._headers_sent = not self._headers_sent, True
        return self.object_table(obj, first)

    def bookmark(self, rv: int) -> bytes:
        """A BOOKMARK's object in Table form: no rows, just the resourceVersion."""
        first, self._headers_sent = not self._headers_sent, True
        return self.table([], {"resourceVersion": str(rv)}, first)
