"""Readable one-line text for routing objects: match conditions, rule extras (rewrite,
retries, fault, mirror, CORS, headers) and traffic policies. Pure; shared by every view."""

from __future__ import annotations

from typing import Any


def string_match(what: str, match: Any) -> str:
    """`uri prefix /test/v1`, `header x-istio-cohort = "internal"` for a StringMatch."""
    kind = getattr(match, "kind", None) or "exact"
    value = getattr(match, "value", "")
    if kind == "exact":
        return f'{what} = "{value}"'
    if kind == "prefix":
        return f"{what} prefix {value}"
    return f"{what} regex {value}"


def match_conditions(m: Any) -> list[str]:
    """Every condition of one HTTPMatchRequest as readable text (AND'ed together)."""
    out: list[str] = []
    if getattr(m, "uri", None) is not None:
        text = string_match("uri", m.uri)
        out.append(text + " (ignore case)" if getattr(m, "ignore_uri_case", False) else text)
    for attr in ("scheme", "method", "authority"):
        value = getattr(m, attr, None)
        if value is not None:
            out.append(string_match(attr, value))
    for name, sm in (getattr(m, "headers", None) or {}).items():
        out.append(string_match(f"header {name}", sm))
    for name, sm in (getattr(m, "without_headers", None) or {}).items():
        out.append("without " + string_match(f"header {name}", sm))
    for name, sm in (getattr(m, "query_params", None) or {}).items():
        out.append(string_match(f"query {name}", sm))
    if getattr(m, "port", None):
        out.append(f"port {m.port}")
    for gw in getattr(m, "gateways", None) or []:
        out.append(f"gateway {gw}")
    labels = getattr(m, "source_labels", None) or {}
    if labels:
        out.append("source " + ",".join(f"{k}={v}" for k, v in labels.items()))
    if getattr(m, "source_namespace", None):
        out.append(f"source namespace {m.source_namespace}")
    return out or ["(every request)"]


def _pct(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value")
    return "100%" if value is None else f"{float(value):g}%"


def rule_extras(raw_rule: dict[str, Any]) -> list[str]:
    """Rewrite, redirect, timeout, retries, fault, mirror, CORS and header manipulation."""
    out: list[str] = []
    rw = raw_rule.get("rewrite") or {}
    if rw:
        parts = [f"uri → {rw['uri']}" for _ in [0] if "uri" in rw]
        if "authority" in rw:
            parts.append(f"authority → {rw['authority']}")
        if "uriRegexRewrite" in rw:
            r = rw["uriRegexRewrite"] or {}
            parts.append(f"uri regex {r.get('match')} → {r.get('rewrite')}")
        out.append("rewrite " + ", ".join(parts))
    if raw_rule.get("redirect"):
        r = raw_rule["redirect"]
        out.append("redirect " + " ".join(f"{k}={v}" for k, v in r.items()))
    if raw_rule.get("directResponse"):
        d = raw_rule["directResponse"]
        out.append(f"direct response {d.get('status')}")
    if raw_rule.get("timeout"):
        out.append(f"timeout {raw_rule['timeout']}")
    if raw_rule.get("retries"):
        r = raw_rule["retries"]
        text = f"retries {r.get('attempts', '?')}"
        if r.get("perTryTimeout"):
            text += f" × {r['perTryTimeout']}"
        if r.get("retryOn"):
            text += f" on {r['retryOn']}"
        out.append(text)
    fault = raw_rule.get("fault") or {}
    if fault.get("delay"):
        d = fault["delay"]
        out.append(f"fault delay {d.get('fixedDelay')} for {_pct(d.get('percentage', d.get('percent')))}")
    if fault.get("abort"):
        a = fault["abort"]
        code = a.get("httpStatus") or a.get("grpcStatus")
        out.append(f"fault abort {code} for {_pct(a.get('percentage'))}")
    mirrors = list(raw_rule.get("mirrors") or [])
    if raw_rule.get("mirror"):
        mirrors.insert(0, {"destination": raw_rule["mirror"], "percentage": raw_rule.get("mirrorPercentage")})
    for m in mirrors:
        d = m.get("destination") or {}
        out.append(f"mirror → {d.get('host')} {d.get('subset') or ''} {_pct(m.get('percentage'))}".replace("  ", " "))
    if raw_rule.get("corsPolicy"):
        c = raw_rule["corsPolicy"]
        origins = [next(iter(o.values())) for o in c.get("allowOrigins") or [] if isinstance(o, dict) and o]
        out.append("CORS " + (", ".join(map(str, origins)) or "policy"))
    headers = raw_rule.get("headers") or {}
    for side in ("request", "response"):
        ops = headers.get(side) or {}
        for op in ("set", "add"):
            for k, v in (ops.get(op) or {}).items():
                out.append(f"{side} header {op} {k}: {v}")
        for k in ops.get("remove") or []:
            out.append(f"{side} header remove {k}")
    if raw_rule.get("delegate"):
        d = raw_rule["delegate"]
        out.append(f"delegate → {d.get('namespace') or ''}/{d.get('name')}")
    return out


def policy_lines(tp: dict[str, Any]) -> list[str]:
    """A traffic policy as readable lines: load balancer, hash key, pools, outlier, TLS."""
    out: list[str] = []
    lb = tp.get("loadBalancer") or {}
    if lb.get("simple"):
        out.append(f"load balancer {lb['simple']}")
    ch = lb.get("consistentHash") or {}
    if ch:
        key = next((f"{k} {v}" for k, v in ch.items() if k != "minimumRingSize"), "consistent hash")
        out.append(f"consistent hash on {key}")
    pool = tp.get("connectionPool") or {}
    for proto, settings in pool.items():
        if isinstance(settings, dict) and settings:
            out.append(f"connection pool {proto}: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    od = tp.get("outlierDetection") or {}
    if od:
        out.append("outlier detection " + ", ".join(f"{k}={v}" for k, v in od.items()))
    tls = tp.get("tls") or {}
    if tls.get("mode"):
        out.append(f"TLS {tls['mode']}")
    return out
