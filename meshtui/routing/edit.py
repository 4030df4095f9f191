"""Edits of a raw VirtualService's rules: match conditions, rewrite, retries, timeout, fault
injection, order.

Like ``meshtui.routing.release``, every function returns a NEW raw dict (deep copy; only the
edited fields change). Regular expressions are checked as RE2 (what Istio and Envoy accept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshtui.routing.regex import RegexError, check_re2
from meshtui.routing.rules import ReleaseError, RuleRef, copy_vs, http_rules, rule_index, vs_label

#: Conditions with one StringMatch, and the maps of named StringMatches.
SINGLE = {"uri": "uri", "scheme": "scheme", "method": "method", "authority": "authority"}
NAMED = {"headers": "headers", "withoutHeaders": "withoutHeaders", "queryParams": "queryParams",
         "without_headers": "withoutHeaders", "query_params": "queryParams"}
KINDS = ("exact", "prefix", "regex", "present")
_DURATION = re.compile(r"^\d+(\.\d+)?(h|m|s|ms|us)$")


def _string_match(kind: str, value: str | None) -> dict[str, Any]:
    if kind not in KINDS:
        raise ReleaseError(f"match kind {kind!r} must be one of {', '.join(KINDS)}")
    if kind == "present":
        return {}
    if value is None:
        raise ReleaseError(f"a {kind} match needs a value")
    if kind == "regex":
        try:
            check_re2(value)
        except RegexError as exc:
            raise ReleaseError(str(exc)) from None
    return {kind: value}


def _blocks(rule: dict[str, Any], block: int, create: bool) -> dict[str, Any]:
    match = rule.get("match")
    if not isinstance(match, list):
        if not create:
            raise ReleaseError("the rule has no match conditions")
        match = []
        rule["match"] = match
    if block == len(match) and create:
        match.append({})
    if not 0 <= block < len(match):
        raise ReleaseError(f"match block {block} does not exist (the rule has {len(match)})")
    return match[block]


def set_condition(vs: dict[str, Any], field: str, kind: str, value: str | None = None, name: str | None = None,
                  rule: RuleRef = None, block: int = 0, ignore_uri_case: bool | None = None) -> dict[str, Any]:
    """Set one condition of match block ``block`` (``len(match)`` adds a block, which is OR'ed).

    ``field`` is uri / scheme / method / authority, or headers / withoutHeaders / queryParams
    with ``name``; ``kind`` is exact / prefix / regex (RE2) / present (headers and params).
    """
    if field not in SINGLE and field not in NAMED:
        raise ReleaseError(f"unknown match field {field!r}")
    if field in SINGLE and kind == "present":
        raise ReleaseError(f"{field} needs exact, prefix or regex")
    sm = _string_match(kind, value)
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    b = _blocks(r, block, create=True)
    if field in SINGLE:
        b[SINGLE[field]] = sm
        if field == "uri" and ignore_uri_case is not None:
            if ignore_uri_case:
                b["ignoreUriCase"] = True
            else:
                b.pop("ignoreUriCase", None)
    else:
        if not name:
            raise ReleaseError(f"{field} needs a name")
        key = name.lower() if NAMED[field] != "queryParams" else name
        section = b.get(NAMED[field])
        if not isinstance(section, dict):
            section = {}
            b[NAMED[field]] = section
        section[key] = sm
    return new


def remove_condition(vs: dict[str, Any], field: str, name: str | None = None, rule: RuleRef = None,
                     block: int = 0) -> dict[str, Any]:
    """Remove one condition; an emptied block is removed, and a rule left without blocks
    becomes a catch-all (its ``match`` key goes)."""
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    b = _blocks(r, block, create=False)
    if field in SINGLE:
        if SINGLE[field] not in b:
            raise ReleaseError(f"match block {block} has no {field} condition")
        del b[SINGLE[field]]
        if field == "uri":
            b.pop("ignoreUriCase", None)
    elif field in NAMED:
        section = b.get(NAMED[field]) or {}
        key = next((k for k in section if name and k.lower() == name.lower()), None)
        if key is None:
            raise ReleaseError(f"match block {block} has no {field} condition on {name!r}")
        del section[key]
        if not section:
            del b[NAMED[field]]
    else:
        raise ReleaseError(f"unknown match field {field!r}")
    if not b:
        del r["match"][block]
        if not r["match"]:
            del r["match"]
    return new


def remove_match_block(vs: dict[str, Any], block: int, rule: RuleRef = None) -> dict[str, Any]:
    """Remove a whole match block (one OR alternative)."""
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    _blocks(r, block, create=False)
    del r["match"][block]
    if not r["match"]:
        del r["match"]
    return new


def set_rewrite(vs: dict[str, Any], uri: str | None = None, authority: str | None = None,
                uri_regex: tuple[str, str] | None = None, rule: RuleRef = None) -> dict[str, Any]:
    """Set the rule's ``rewrite``: a URI prefix rewrite or a regex rewrite (not both), and/or
    an authority. Fields not given are left as they are."""
    if uri is not None and uri_regex is not None:
        raise ReleaseError("rewrite uri and uriRegexRewrite cannot be combined")
    if uri is not None and not uri.startswith("/"):
        raise ReleaseError(f"rewrite uri {uri!r} must start with '/'")
    if uri_regex is not None:
        try:
            check_re2(uri_regex[0])
        except RegexError as exc:
            raise ReleaseError(str(exc)) from None
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    if r.get("redirect") or r.get("directResponse"):
        raise ReleaseError("a rule with redirect or directResponse cannot rewrite")
    rw = r.get("rewrite")
    if not isinstance(rw, dict):
        rw = {}
        r["rewrite"] = rw
    if uri is not None:
        rw.pop("uriRegexRewrite", None)
        rw["uri"] = uri
    if uri_regex is not None:
        rw.pop("uri", None)
        rw["uriRegexRewrite"] = {"match": uri_regex[0], "rewrite": uri_regex[1]}
    if authority is not None:
        rw["authority"] = authority
    if not rw:
        raise ReleaseError("nothing to rewrite: give a uri, a regex rewrite or an authority")
    return new


def remove_rewrite(vs: dict[str, Any], rule: RuleRef = None) -> dict[str, Any]:
    """Remove the rule's ``rewrite``."""
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    if "rewrite" not in r:
        raise ReleaseError("the rule has no rewrite")
    del r["rewrite"]
    return new


def set_retries(vs: dict[str, Any], attempts: int, per_try_timeout: str | None = None,
                retry_on: str | None = None, rule: RuleRef = None) -> dict[str, Any]:
    """Set the rule's ``retries``: ``attempts`` (0 turns retries off), the timeout of each try
    and the ``retryOn`` conditions; a part given as None is removed. Other retry fields
    (``retryRemoteLocalities`` …) stay as they are."""
    if attempts < 0:
        raise ReleaseError(f"retry attempts {attempts} must be 0 or more")
    if per_try_timeout is not None and not _DURATION.match(per_try_timeout):
        raise ReleaseError(f"per-try timeout {per_try_timeout!r} is not a duration like 500ms or 2s")
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    retries = r.get("retries")
    if not isinstance(retries, dict):
        retries = {}
        r["retries"] = retries
    retries["attempts"] = attempts
    for key, value in (("perTryTimeout", per_try_timeout), ("retryOn", retry_on)):
        if value is None:
            retries.pop(key, None)
        else:
            retries[key] = value
    return new


def set_timeout(vs: dict[str, Any], timeout: str | None, rule: RuleRef = None) -> dict[str, Any]:
    """Set the rule's request ``timeout`` (e.g. ``'5s'``); None removes it (Envoy's default:
    none for HTTP routes in Istio)."""
    if timeout is not None and not _DURATION.match(timeout):
        raise ReleaseError(f"timeout {timeout!r} is not a duration like 500ms or 5s")
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    if timeout is None:
        if "timeout" not in r:
            raise ReleaseError("the rule has no timeout")
        del r["timeout"]
    else:
        r["timeout"] = timeout
    return new


def _percent(value: float, what: str) -> dict[str, float]:
    if not 0 <= value <= 100:
        raise ReleaseError(f"{what} percentage {value} is outside 0..100")
    return {"value": float(value)}


def set_fault(vs: dict[str, Any], delay: str | None = None, delay_percent: float = 100.0,
              abort_status: int | None = None, abort_percent: float = 100.0, rule: RuleRef = None) -> dict[str, Any]:
    """Inject a fixed delay (e.g. ``'5s'``) and/or an HTTP abort status, each for a percentage
    of requests. A part not given is left as it is."""
    if delay is None and abort_status is None:
        raise ReleaseError("give a delay, an abort status, or both")
    if delay is not None and not _DURATION.match(delay):
        raise ReleaseError(f"delay {delay!r} is not a duration like 500ms or 5s")
    if abort_status is not None and not 200 <= abort_status <= 599:
        raise ReleaseError(f"abort status {abort_status} is outside 200..599")
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    fault = r.get("fault")
    if not isinstance(fault, dict):
        fault = {}
        r["fault"] = fault
    if delay is not None:
        fault["delay"] = {"fixedDelay": delay, "percentage": _percent(delay_percent, "delay")}
    if abort_status is not None:
        fault["abort"] = {"httpStatus": abort_status, "percentage": _percent(abort_percent, "abort")}
    return new


def remove_fault(vs: dict[str, Any], which: str = "all", rule: RuleRef = None) -> dict[str, Any]:
    """Remove fault injection: ``which`` is ``delay``, ``abort`` or ``all``."""
    if which not in ("delay", "abort", "all"):
        raise ReleaseError(f"remove which fault? {which!r} is not delay, abort or all")
    new = copy_vs(vs)
    r = http_rules(new)[rule_index(new, rule)]
    fault = r.get("fault")
    if not isinstance(fault, dict) or (which != "all" and which not in fault):
        raise ReleaseError(f"the rule has no {'fault' if which == 'all' else which} injection")
    if which == "all":
        del r["fault"]
    else:
        del fault[which]
        if not fault:
            del r["fault"]
    return new


def move_rule(vs: dict[str, Any], rule: RuleRef, to: int) -> dict[str, Any]:
    """Move a rule to position ``to`` (rules are tried in order). See :func:`unreachable_rules`."""
    new = copy_vs(vs)
    rules = http_rules(new)
    i = rule_index(new, rule)
    if not 0 <= to < len(rules):
        raise ReleaseError(f"position {to} is outside 0..{len(rules) - 1}")
    rules.insert(to, rules.pop(i))
    return new


@dataclass(frozen=True, slots=True)
class Unreachable:
    """A rule no request can reach because an earlier rule takes every request first."""

    index: int
    name: str | None
    shadowed_by: int

    def __str__(self) -> str:
        label = f"http[{self.index}]" + (f" {self.name!r}" if self.name else "")
        return f"{label} is unreachable: http[{self.shadowed_by}] before it matches every request"


def _block_takes_all(block: Any) -> bool:
    if not isinstance(block, dict):
        return False
    rest = {k: v for k, v in block.items() if k not in ("name", "ignoreUriCase", "uri")}
    if rest:
        return False  # headers, method, port, gateways, sourceLabels... narrow it
    uri = block.get("uri")
    if uri is None or uri == {}:
        return True
    return uri.get("prefix") == "/" or uri.get("regex") in (".*", "/.*")


def takes_every_request(rule: dict[str, Any]) -> bool:
    """A rule without match, or with a block that has no narrowing condition (``prefix: /``)."""
    match = rule.get("match")
    return not match or any(_block_takes_all(b) for b in match)


def unreachable_rules(vs: dict[str, Any]) -> list[Unreachable]:
    """The rules behind a catch-all rule (they never match)."""
    rules = ((vs.get("spec") or {}).get("http")) or []
    for i, r in enumerate(rules):
        if isinstance(r, dict) and takes_every_request(r):
            return [Unreachable(j, rules[j].get("name"), i) for j in range(i + 1, len(rules))]
    return []


def newly_unreachable(before: dict[str, Any], after: dict[str, Any]) -> list[Unreachable]:
    """Rules unreachable in ``after`` that were reachable in ``before`` (compared by content)."""
    was = {_key(r) for r in _rules_of(before, unreachable_rules(before))}
    now = unreachable_rules(after)
    after_rules = ((after.get("spec") or {}).get("http")) or []
    return [u for u in now if _key(after_rules[u.index]) not in was]


def _rules_of(vs: dict[str, Any], items: list[Unreachable]) -> list[dict[str, Any]]:
    rules = ((vs.get("spec") or {}).get("http")) or []
    return [rules[u.index] for u in items]


def _key(rule: dict[str, Any]) -> str:
    return repr(rule)


__all__ = [
    "ReleaseError", "Unreachable", "move_rule", "newly_unreachable", "remove_condition", "remove_fault",
    "remove_match_block", "remove_rewrite", "set_condition", "set_fault", "set_rewrite", "takes_every_request",
    "unreachable_rules", "vs_label",
]
