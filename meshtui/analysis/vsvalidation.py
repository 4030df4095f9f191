"""``schema.ValidationAnalyzer.<Kind>``: schema errors, Istio's validation, unreachable rules.

Istio runs its own validation (``pkg/config/validation``) as an analyzer per kind. meshtui
reports:

- IST0106 SchemaValidationError for every error of the CRD OpenAPI schema
  (``meshtui.model.schema.validate``) and of Istio's validation
  (``meshtui.analysis.validation``), and IST0133 SchemaWarning for Istio's warnings;
- IST0130 VirtualServiceUnreachableRule and IST0131 VirtualServiceIneffectiveMatch, with the
  facts of Istio's ``analyzeUnreachableHTTPRules`` / ``TCP`` / ``TLS`` (pkg/config/validation):
  a rule after a rule without matches is never used; a match identical to an earlier one
  (ignoring its name) is ineffective, and a rule whose every match is such is unreachable; an
  HTTP ``uri.prefix`` match covered by an earlier, shorter prefix with the same port, method,
  authority, headers, query parameters and withoutHeaders is ineffective.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from meshtui.analysis.context import ISTIO_GROUP, Context
from meshtui.analysis.validation import validate as istio_validate
from meshtui.model.base import Resource
from meshtui.model.virtualservice import VirtualService

_EXACT = "exact:"
_PREFIX = "prefix:"


def _normal(value: Any) -> Any:
    """Drop what Go's JSON encoder omits (empty, zero, false), so equal matches compare equal."""
    if isinstance(value, dict):
        out = {k: _normal(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", 0, False, {}, [])}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _as_json(match: Any, drop_name: bool) -> str:
    d = dict(match) if isinstance(match, dict) else {}
    if drop_name:
        d.pop("name", None)
    return json.dumps(_normal(d), sort_keys=True)


def _route_name(rule: dict[str, Any], n: int, http: bool) -> str:
    name = rule.get("name") if http else None
    return json.dumps(name) if isinstance(name, str) and name else f"#{n}"


def _request_name(match: Any, n: int, http: bool) -> str:
    name = match.get("name") if http and isinstance(match, dict) else None
    return json.dumps(name) if isinstance(name, str) and name else f"#{n}"


def _exact_or_prefix(sm: Any) -> str:
    if not isinstance(sm, dict):
        return ""
    if sm.get("exact"):
        return _EXACT + str(sm["exact"])
    if sm.get("prefix"):
        return _PREFIX + str(sm["prefix"])
    return ""


def _prefix_record(rule_str: str, match_str: str, match: dict[str, Any]) -> dict[str, Any] | None:
    uri = match.get("uri")
    prefix = uri.get("prefix") if isinstance(uri, dict) else None
    if not prefix:
        return None

    def strings(key: str) -> dict[str, str]:
        raw = match.get(key)
        return {k: _exact_or_prefix(v) for k, v in raw.items()} if isinstance(raw, dict) else {}

    return {
        "route": rule_str, "match": match_str, "prefix": str(prefix), "port": match.get("port") or 0,
        "method": _exact_or_prefix(match.get("method")) or _EXACT + "GET",
        "authority": _exact_or_prefix(match.get("authority")),
        "headers": strings("headers"), "query": strings("queryParams"), "without": strings("withoutHeaders"),
    }


def _covers(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Istio's ``coveredValidation``: whether earlier prefix match ``a`` covers later ``b``."""
    if not b["prefix"].startswith(a["prefix"]) or a["port"] != b["port"]:
        return False
    for key in ("method", "authority"):
        if a[key] != b[key] and not a[key].startswith(b[key]):
            return False
    for key in ("headers", "query", "without"):
        if len(a[key]) != len(b[key]):
            return False
        for k, v in a[key].items():
            if k not in b[key] or (v != b[key][k] and not v.startswith(b[key][k])):
                return False
    return True


def _analyze_rules(ctx: Context, vs: VirtualService, section: str) -> None:
    rules = [r for r in (vs.spec.get(section) or []) if isinstance(r, dict)]
    http = section == "http"
    seen: dict[str, int] = {}
    empty_at = -1
    prefixes: list[dict[str, Any]] = []

    def unreachable(n: int, reason: str) -> None:
        ctx.report("VirtualServiceUnreachableRule", vs, _route_name(rules[n], n, http), reason,
                   path=f"spec.{section}[{n}]")

    def ineffective(n: int, match_str: str, dup_str: str) -> None:
        ctx.report("VirtualServiceIneffectiveMatch", vs, _route_name(rules[n], n, http), match_str, dup_str,
                   path=f"spec.{section}[{n}]")

    for n, rule in enumerate(rules):
        matches = rule.get("match") if isinstance(rule.get("match"), list) else []
        if not matches:
            if empty_at >= 0:
                unreachable(n, "only the last rule can have no matches")
            empty_at = n
            continue
        duplicates = 0
        for m, match in enumerate(matches):
            if empty_at >= 0:
                unreachable(n, "route without matches defined before")
                continue
            key = _as_json(match, drop_name=http)
            if key in seen:
                dup = seen[key]
                ineffective(n, _request_name(match, m, http), _route_name(rules[dup], dup, http))
                duplicates += 1
                continue
            seen[key] = n
            if http and isinstance(match, dict):
                rec = _prefix_record(_route_name(rule, n, http), _request_name(match, m, http), match)
                if rec is not None:
                    rec["index"] = n
                    prefixes.append(rec)
        if duplicates == len(matches):
            unreachable(n, "all matches used by prior rules")
    for i, a in enumerate(prefixes):
        for b in prefixes[i + 1:]:
            if b["prefix"] == a["prefix"]:
                continue
            if _covers(a, b):
                ctx.report("VirtualServiceIneffectiveMatch", vs, b["route"], f"{b['match']} of prefix {b['prefix']}",
                           f"{a['match']} of prefix {a['prefix']} on {a['route']}", path=f"spec.http[{b['index']}]")


# Schema validation is the costliest check (~0.15 ms an object through jsonschema) and the UI
# re-runs the analyzers after every change batch, when almost every object is unchanged. The
# errors depend only on the object without its metadata (schema.validate ignores metadata),
# so they are remembered by that content's repr, across runs; oldest entries go first.
_MEMO: dict[str, tuple[Any, ...]] = {}
_MEMO_LIMIT = 50_000
_memo_lock = threading.Lock()


def content_key(raw: dict[str, Any]) -> str | None:
    """What validation results are remembered by: ``repr`` of the object without its metadata
    (None when the object cannot be printed; it is then validated uncached)."""
    try:
        return repr({k: v for k, v in raw.items() if k != "metadata"})
    except Exception:  # noqa: BLE001 - any object repr() fails on
        return None


def schema_errors(raw: dict[str, Any], key: str | None = None) -> tuple[Any, ...]:
    """``meshtui.model.schema.validate(raw, strict=False)``, remembered by content (``key``:
    :func:`content_key` of ``raw`` when the caller has it)."""
    from meshtui.model.schema import validate

    key = key if key is not None else content_key(raw)
    if key is None:
        return tuple(validate(raw, strict=False))
    found = _MEMO.get(key)
    if found is None:
        found = tuple(validate(raw, strict=False))
        with _memo_lock:
            while len(_MEMO) >= _MEMO_LIMIT:
                del _MEMO[next(iter(_MEMO))]
            _MEMO[key] = found
    return found


def clear_schema_memo() -> None:
    """Forget remembered validation results (benchmarks measure the first run with it)."""
    with _memo_lock:
        _MEMO.clear()


def report_validation(ctx: Context, obj: Resource) -> None:
    """Report the CRD schema's errors and Istio's validation messages of ``obj``.

    CRD schema errors and Istio's errors are IST0106 (SchemaValidationError), Istio's warnings
    IST0133 (SchemaWarning), each message once even where the two layers say the same.
    """
    seen: set[tuple[str, str]] = set()
    key = content_key(obj.raw)
    for err in schema_errors(obj.raw, key):
        text = f"{err.path}: {err.message}" if err.path else err.message
        seen.add(("error", text))
        ctx.report("SchemaValidationError", obj, text, path=err.path or None)
    for msg in istio_validate(obj.raw, key):
        if (msg.level, msg.text) in seen:
            continue
        seen.add((msg.level, msg.text))
        name = "SchemaValidationError" if msg.level == "error" else "SchemaWarning"
        ctx.report(name, obj, msg.text, path=msg.path)


def validation_analyzer(ctx: Context) -> None:
    """``schema.ValidationAnalyzer.VirtualService``."""
    for vs in ctx.objects("VirtualService", ISTIO_GROUP):
        if not isinstance(vs, VirtualService):
            continue
        report_validation(ctx, vs)
        for section in ("http", "tcp", "tls"):
            _analyze_rules(ctx, vs, section)


def schema_analyzer_for(kind: str) -> Callable[[Context], None]:
    """``schema.ValidationAnalyzer.<kind>`` for the other networking kinds."""
    def analyze(ctx: Context) -> None:
        for obj in ctx.objects(kind, ISTIO_GROUP):
            report_validation(ctx, obj)
    analyze.__doc__ = f"``schema.ValidationAnalyzer.{kind}``: CRD schema and Istio validation (IST0106, IST0133)."
    return analyze
