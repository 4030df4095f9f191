"""Match edits on a raw HTTPRoute or GRPCRoute: the conditions of a rule's ``matches`` (path,
method, query parameters, headers; gRPC service/method), and adding or removing a whole match.

The matches of a rule are alternatives (OR); the conditions of one match must all hold (AND).
An edit addresses one match by its index, or every match of the rule (``match=None``), a rule
without matches getting one. Each function takes the object as read and returns an edited deep
copy (the key order of untouched parts survives). Values are checked against the CRD by the
write path (:mod:`meshtui.write.edit_api_gateway`), so the messages are the API server's.

:func:`parse_match` reads a match written the way the editor shows it
(``PathPrefix /api, method GET, header x-canary=true, query v~^2``).
"""

from __future__ import annotations

from typing import Any

from meshtui.routing.gateway_api_release import copy_route, route_label, rule_index, rule_label, rules_of
from meshtui.routing.rules import ReleaseError, RuleRef

PATH_TYPES = ("Exact", "PathPrefix", "RegularExpression")
VALUE_TYPES = ("Exact", "RegularExpression")


def _is_grpc(obj: dict[str, Any]) -> bool:
    return obj.get("kind") == "GRPCRoute"


def _selected(obj: dict[str, Any], ref: RuleRef, match: int | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The rule ``ref`` of ``obj`` and the matches an edit changes (all of them, created as one
    empty match when the rule has none; or match ``match``)."""
    index = rule_index(obj, ref)
    rule = rules_of(obj)[index]
    matches = rule.get("matches")
    if not isinstance(matches, list) or not matches:
        if match not in (None, 0):
            raise ReleaseError(f"rule {rule_label(rule, index)} of {route_label(obj)} has no matches")
        matches = [{}]
        _put_matches(rule, matches)
    if match is None:
        return rule, matches
    if not 0 <= match < len(matches):
        raise ReleaseError(f"rule {rule_label(rule, index)} of {route_label(obj)} has no match #{match} "
                           f"(it has {len(matches)})")
    return rule, [matches[match]]


def _put_matches(rule: dict[str, Any], matches: list[dict[str, Any]]) -> None:
    """Give ``rule`` its ``matches``; a new key goes right after ``name`` (where the Gateway API
    documents and writes it), so a file reads rule name, matches, filters, backends."""
    if "matches" in rule:
        rule["matches"] = matches
        return
    items = list(rule.items())
    rule.clear()
    if items and items[0][0] == "name":
        rule["name"] = items.pop(0)[1]
    rule["matches"] = matches
    rule.update(items)


def _value_condition(name: str, value: str, regex: bool) -> dict[str, Any]:
    condition: dict[str, Any] = {"name": name, "value": value}
    if regex:
        condition["type"] = "RegularExpression"
    return condition


def _tidy(rule: dict[str, Any], edited: list[dict[str, Any]]) -> None:
    """Drop the matches an edit emptied of conditions (an empty match written by the user
    stays: it takes every request); a rule left with none loses ``matches``."""
    kept = [m for m in rule.get("matches") or [] if m or not any(m is e for e in edited)]
    if kept:
        rule["matches"] = kept
    else:
        rule.pop("matches", None)


def add_header_match(obj: dict[str, Any], ref: RuleRef, header: str, value: str, regex: bool = False,
                     match: int | None = None) -> dict[str, Any]:
    """Require ``header`` (exact ``value``, or a RegularExpression) in the selected matches (a
    rule without matches gets one); a condition on the same header (any case) is replaced."""
    if not header:
        raise ReleaseError("a header match needs a header name")
    new = copy_route(obj)
    _, targets = _selected(new, ref, match)
    for m in targets:
        kept = [h for h in m.get("headers") or [] if str(h.get("name", "")).lower() != header.lower()]
        m["headers"] = [*kept, _value_condition(header, value, regex)]
    return new


def remove_header_match(obj: dict[str, Any], ref: RuleRef, header: str, match: int | None = None) -> dict[str, Any]:
    """Drop the conditions on ``header`` from the selected matches (an emptied match goes; a rule
    left without matches takes every request)."""
    new = copy_route(obj)
    index = rule_index(new, ref)
    rule, targets = _selected(new, ref, match)
    found = False
    for m in targets:
        kept = [h for h in m.get("headers") or [] if str(h.get("name", "")).lower() != header.lower()]
        found |= len(kept) != len(m.get("headers") or [])
        if kept:
            m["headers"] = kept
        else:
            m.pop("headers", None)
    if not found:
        raise ReleaseError(f"rule {rule_label(rule, index)} of {route_label(obj)} has no match on header {header!r}")
    _tidy(rule, targets)
    return new


def set_path(obj: dict[str, Any], ref: RuleRef, path_type: str, value: str, match: int | None = None) -> dict[str, Any]:
    """Match the path ``value`` (``Exact``, ``PathPrefix`` or ``RegularExpression``); an empty
    value drops the path condition. HTTPRoute only."""
    if _is_grpc(obj):
        raise ReleaseError(f"{route_label(obj)}: a GRPCRoute matches a gRPC service/method, not a path")
    if value and path_type not in PATH_TYPES:
        raise ReleaseError(f"path match type {path_type!r} must be one of {', '.join(PATH_TYPES)}")
    new = copy_route(obj)
    rule, targets = _selected(new, ref, match)
    for m in targets:
        if value:
            m["path"] = {"type": path_type, "value": value}
        else:
            m.pop("path", None)
    _tidy(rule, targets)
    return new


def set_method(obj: dict[str, Any], ref: RuleRef, method: str, match: int | None = None) -> dict[str, Any]:
    """Match the HTTP ``method`` (``GET``...); empty drops the condition. HTTPRoute only."""
    if _is_grpc(obj):
        raise ReleaseError(f"{route_label(obj)}: a GRPCRoute matches a gRPC service/method, not an HTTP method")
    new = copy_route(obj)
    rule, targets = _selected(new, ref, match)
    for m in targets:
        if method:
            m["method"] = method.upper()
        else:
            m.pop("method", None)
    _tidy(rule, targets)
    return new


def set_grpc_method(obj: dict[str, Any], ref: RuleRef, service: str, method: str, regex: bool = False,
                    match: int | None = None) -> dict[str, Any]:
    """Match the gRPC ``service`` and/or ``method`` (``Exact``, or ``RegularExpression``); both
    empty drops the condition. GRPCRoute only."""
    if not _is_grpc(obj):
        raise ReleaseError(f"{route_label(obj)}: only a GRPCRoute matches a gRPC service/method")
    new = copy_route(obj)
    rule, targets = _selected(new, ref, match)
    condition: dict[str, Any] = {}
    if regex:
        condition["type"] = "RegularExpression"
    if service:
        condition["service"] = service
    if method:
        condition["method"] = method
    for m in targets:
        if service or method:
            m["method"] = dict(condition)
        else:
            m.pop("method", None)
    _tidy(rule, targets)
    return new


def set_query_match(obj: dict[str, Any], ref: RuleRef, name: str, value: str, regex: bool = False,
                    match: int | None = None) -> dict[str, Any]:
    """Require query parameter ``name`` (exact ``value``, or a RegularExpression); a condition on
    the same parameter (names are case-sensitive) is replaced. HTTPRoute only."""
    if _is_grpc(obj):
        raise ReleaseError(f"{route_label(obj)}: a GRPCRoute has no query parameter matches")
    if not name:
        raise ReleaseError("a query parameter match needs a parameter name")
    new = copy_route(obj)
    rule, targets = _selected(new, ref, match)
    for m in targets:
        kept = [q for q in m.get("queryParams") or [] if q.get("name") != name]
        m["queryParams"] = [*kept, _value_condition(name, value, regex)]
    return new


def remove_query_match(obj: dict[str, Any], ref: RuleRef, name: str, match: int | None = None) -> dict[str, Any]:
    """Drop the conditions on query parameter ``name`` (an emptied match goes; a rule left
    without matches takes every request)."""
    new = copy_route(obj)
    index = rule_index(new, ref)
    rule, targets = _selected(new, ref, match)
    found = False
    for m in targets:
        kept = [q for q in m.get("queryParams") or [] if q.get("name") != name]
        found |= len(kept) != len(m.get("queryParams") or [])
        if kept:
            m["queryParams"] = kept
        else:
            m.pop("queryParams", None)
    if not found:
        raise ReleaseError(f"rule {rule_label(rule, index)} of {route_label(obj)} has no match on query "
                           f"parameter {name!r}")
    _tidy(rule, targets)
    return new


def add_match(obj: dict[str, Any], ref: RuleRef, condition: dict[str, Any]) -> dict[str, Any]:
    """Add ``condition`` (a raw match) as one more alternative of the rule. A rule without
    matches took every request: it then takes only the new match."""
    if not condition:
        raise ReleaseError("a match needs at least one condition")
    new = copy_route(obj)
    rule = rules_of(new)[rule_index(new, ref)]
    written = rule.get("matches")
    matches: list[dict[str, Any]] = written if isinstance(written, list) else []
    _put_matches(rule, [*matches, dict(condition)])
    return new


def remove_match(obj: dict[str, Any], ref: RuleRef, match: int) -> dict[str, Any]:
    """Drop match ``match`` of the rule; a rule left without matches takes every request."""
    new = copy_route(obj)
    index = rule_index(new, ref)
    rule = rules_of(new)[index]
    matches = rule.get("matches") or []
    if not 0 <= match < len(matches):
        raise ReleaseError(f"rule {rule_label(rule, index)} of {route_label(obj)} has no match #{match} "
                           f"(it has {len(matches)})")
    del matches[match]
    if not matches:
        rule.pop("matches", None)
    return new


def _name_value(word: str, what: str) -> tuple[str, str, bool]:
    """``NAME=VALUE`` (exact) or ``NAME~REGEX``."""
    at = min((i for i in (word.find("="), word.find("~")) if i >= 0), default=-1)
    if at <= 0:
        raise ReleaseError(f"{what} {word!r}: expected NAME=VALUE or NAME~REGEX")
    return word[:at], word[at + 1:], word[at] == "~"


def parse_match(kind: str, text: str) -> dict[str, Any]:
    """A raw match from its text, comma-separated conditions as the editor shows them:
    ``PathPrefix /api`` (or ``Exact``, ``RegularExpression``), ``method GET``, ``header N=V``
    or ``header N~REGEX``, ``query N=V`` / ``query N~REGEX``; for a GRPCRoute ``grpc SVC/METHOD``
    (``grpc RegularExpression SVC/METHOD``; ``*`` or nothing for either side: any)."""
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        word, _, rest = part.partition(" ")
        rest = rest.strip()
        if word in PATH_TYPES:
            if kind == "GRPCRoute":
                raise ReleaseError("a GRPCRoute matches a gRPC service/method, not a path")
            out["path"] = {"type": word, "value": rest}
        elif word == "method" and kind != "GRPCRoute":
            out["method"] = rest.upper()
        elif word in ("header", "query"):
            if word == "query" and kind == "GRPCRoute":
                raise ReleaseError("a GRPCRoute has no query parameter matches")
            name, value, regex = _name_value(rest, word)
            out.setdefault("headers" if word == "header" else "queryParams", []).append(
                _value_condition(name, value, regex))
        elif word in ("grpc", "method") and kind == "GRPCRoute":
            kind_word, _, names = rest.partition(" ") if rest.split(" ", 1)[0] in VALUE_TYPES else ("", "", rest)
            service, _, method = names.strip().partition("/")
            condition: dict[str, Any] = {"type": kind_word} if kind_word and kind_word != "Exact" else {}
            names_given = {k: v for k, v in (("service", service), ("method", method)) if v and v != "*"}
            if names_given:  # "grpc *": any method, no condition
                out["method"] = {**condition, **names_given}
        else:
            allowed = ("grpc SVC/METHOD, header N=V" if kind == "GRPCRoute"
                       else "PathPrefix|Exact|RegularExpression PATH, method M, header N=V, query N=V")
            raise ReleaseError(f"{part!r}: expected one of {allowed}")
    return out
