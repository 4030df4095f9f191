"""The forms of the route editor's own actions: an exact weight, a new destination, a match
condition (added or edited), the URI rewrite, retries and the timeout. Each opens a ``FormScreen`` whose defaults come
from the selection, and on submit adds one pending edit to the editor (or shows in the form why
it cannot, e.g. a regular expression RE2 rejects). The release workflows are in
``meshtui.screens.release_forms``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshtui.model.hosts import fqdn
from meshtui.routing import edit as rule_edit
from meshtui.routing.rules import current_weights, destination_name
from meshtui.screens.edit_form import FormField
from meshtui.write import edit_api as api
from meshtui.write.pending import dest_key, rule_ref

if TYPE_CHECKING:
    from meshtui.screens.route_editor import RouteEditor

#: The condition fields offered by the match form (``header`` stands for ``headers``).
MATCH_FIELDS = ("header", "uri", "method", "queryParams", "withoutHeaders", "authority", "scheme")
_NAMED = ("headers", "queryParams", "withoutHeaders")
_FIELD_KEYS = {"header": "headers", "headers": "headers"}


def exact_weight(ed: "RouteEditor", i: int, j: int) -> None:
    """Ask for the exact weight of destination ``j`` of rule ``i``; the others share the rest."""
    rule = ed.rules()[i]
    current = current_weights(rule)[j]
    label = destination_name(rule, j)

    def submit(values: dict[str, str]) -> str | None:
        try:
            value = int(values["weight"].rstrip("%"))
        except ValueError:
            return f"{values['weight']!r} is not a whole number"
        if not 0 <= value <= 100:
            return f"weight {value} must be an integer between 0 and 100"
        ed.weigh(i, j, lambda ref, name: api.set_weight(ref, name, value))
        return None

    ed.ask(f"Weight of {label} in rule {api.rule_text(rule_ref(ed.vs, i))}",
           [FormField("weight", "weight (0-100)", str(current))], submit,
           "the other destinations share the rest in proportion to their weights")


def subsets_for(ed: "RouteEditor", host: str) -> list[str]:
    """The subsets the DestinationRule of ``host`` (as seen from the editor's namespace) defines."""
    index = ed.mesh_index
    if index is None:
        return []
    dr = index.destination_rule_for(fqdn(host, ed.key[1]), ed.key[1])
    return [s.name for s in dr.subsets] if dr is not None else []


def subset_warning(ed: "RouteEditor", host: str, subset: str) -> str | None:
    """Why sending traffic to ``host``/``subset`` would fail, when no ready pod backs it."""
    index = ed.mesh_index
    if index is None:
        return None
    ns, full = ed.key[1], fqdn(host, ed.key[1])
    fails = "its share of requests would fail (503 UH)"
    if index.count("Pod"):
        pods = index.pods_for_subset(full, subset, ns)
        if not any(p.ready for p in pods):
            why = f"{len(pods)} pod{'s' if len(pods) != 1 else ''}, none ready" if pods else "no pod has its labels"
            return f"subset {subset} of {host} selects no ready pod ({why}): {fails}"
        return None
    deployments = index.deployments_for_subset(full, subset, ns)
    if not deployments:
        return f"subset {subset} of {host} selects no ready pod (no Deployment has its labels): {fails}"
    if all(d.replicas == 0 for d in deployments):
        return f"subset {subset} of {host} selects no ready pod (its Deployments have 0 replicas): {fails}"
    return None


def add_destination(ed: "RouteEditor", i: int) -> None:
    """Ask for a destination (service + subset of its DestinationRule + weight) for rule ``i``."""
    rule = ed.rules()[i]
    route = rule.get("route") or []
    host = next((str((d.get("destination") or {}).get("host")) for d in route), "")
    index = ed.mesh_index
    services = sorted({s.name for s in (index.services if index is not None else [])
                       if s.namespace == ed.key[1]} | {host} - {""})
    present = {dest_key(d) for d in route}
    free = [s for s in ed.subsets_for(host) if (host, s) not in present]
    ref = rule_ref(ed.vs, i)

    def submit(values: dict[str, str]) -> str | None:
        h, subset = values["host"], values["subset"]
        known = ed.subsets_for(h)
        if known and subset not in known:
            return f"subset {subset!r}: the DestinationRule of {h} defines {', '.join(known)}"
        try:
            weight = int(values["weight"].rstrip("%") or 0)
        except ValueError:
            return f"{values['weight']!r} is not a whole number"
        error = ed.push(api.add_destination(ref, h, subset, weight, rule_host=host), ("dest", i, len(route)))
        if error is None:
            warning = subset_warning(ed, h, subset)
            if warning:
                ed.warn(warning)
        return error

    ed.ask(f"Add a destination to rule {api.rule_text(ref)}", [
        FormField("host", "service", host, services, strict=False),
        FormField("subset", "subset (of the service's DestinationRule)", free[0] if free else "",
                  ed.subsets_for(host), strict=False),
        FormField("weight", "weight (the others shrink in proportion)", "0"),
    ], submit)


def edit_match(ed: "RouteEditor", i: int, old: tuple | None) -> None:
    """Ask for a match condition on rule ``i``: a new one, or ``old`` (``("cond", i, block,
    field, name)``) changed."""
    ref = rule_ref(ed.vs, i)
    blocks = ed.rules()[i].get("match") or []
    defaults = {"field": "header", "name": "", "kind": "exact", "value": "", "case": "no",
                "block": "0" if blocks else "new"}
    if old is not None:
        _, _, block, field, name = old
        sm = (blocks[block].get(field) or {}).get(name) if field in _NAMED else blocks[block].get(field)
        kind, value = next(iter(sm.items())) if isinstance(sm, dict) and sm else ("present", "")
        defaults.update(field="header" if field == "headers" else field, name=name or "", kind=kind,
                        value=str(value), block=str(block),
                        case="yes" if blocks[block].get("ignoreUriCase") else "no")

    def submit(values: dict[str, str]) -> str | None:
        field = _FIELD_KEYS.get(values["field"], values["field"])
        block = len(blocks) if values["block"] == "new" else int(values["block"]) if values["block"].isdigit() else -1
        if not 0 <= block <= len(blocks):
            return f"match block must be one of {', '.join(str(b) for b in range(len(blocks)))} or new"
        if field in _NAMED and not values["name"]:
            return f"a {values['field']} condition needs the {'parameter' if field == 'queryParams' else 'header'} name"
        kind, name = values["kind"], values["name"]
        value = values["value"] or None
        case = values["case"] == "yes" if field == "uri" else None
        replacing = (old[2], old[3], old[4]) if old is not None else None
        return ed.push(api.set_condition(ref, field, kind, value, name or None, block, case, replacing=replacing),
                       ("rule", i))

    ed.ask(("Edit" if old else "Add") + f" a match condition on rule {api.rule_text(ref)}", [
        FormField("field", "field", defaults["field"], MATCH_FIELDS),
        FormField("name", "name (of the header or query parameter)", defaults["name"], optional=True),
        FormField("kind", "match", defaults["kind"], rule_edit.KINDS),
        FormField("value", "value (regex: RE2, must match the whole value)", defaults["value"], optional=True),
        FormField("case", "ignore URI case (uri only)", defaults["case"], ("yes", "no")),
        FormField("block", "match block (conditions in a block are AND'ed; blocks are OR'ed)", defaults["block"],
                  [*(str(b) for b in range(len(blocks))), "new"]),
    ], submit)


def rewrite(ed: "RouteEditor", i: int) -> None:
    """Ask for the URI (prefix) rewrite and authority rewrite of rule ``i``."""
    ref = rule_ref(ed.vs, i)
    current = ed.rules()[i].get("rewrite") or {}

    def submit(values: dict[str, str]) -> str | None:
        uri, authority = values["uri"] or None, values["authority"] or None
        return ed.push(api.rewrite(ref, uri, authority), ("rule", i))

    ed.ask(f"URI rewrite of rule {api.rule_text(ref)}", [
        FormField("uri", "replace the matched URI prefix with", str(current.get("uri", "")), optional=True),
        FormField("authority", "rewrite the authority (Host header) to", str(current.get("authority", "")),
                  optional=True),
    ], submit, "Envoy replaces exactly the matched prefix: prefix /a/ → / turns /a/x into /x")


def retries(ed: "RouteEditor", i: int) -> None:
    """Ask for the retry policy of rule ``i`` (attempts, per-try timeout, retryOn)."""
    ref = rule_ref(ed.vs, i)
    current = ed.rules()[i].get("retries") or {}

    def submit(values: dict[str, str]) -> str | None:
        text = values["attempts"].strip()
        if not text.isdigit():
            return f"attempts: {text!r} is not a whole number"
        return ed.push(api.retries(ref, int(text), values["per_try"] or None, values["retry_on"] or None),
                       ("rule", i))

    ed.ask(f"Retries of rule {api.rule_text(ref)}", [
        FormField("attempts", "attempts (0: no retries)", str(current.get("attempts", "2"))),
        FormField("per_try", "timeout of each try (e.g. 2s; empty: the route's)",
                  str(current.get("perTryTimeout", "")), optional=True),
        FormField("retry_on", "retry on (comma-separated)", str(current.get("retryOn", "")),
                  placeholder="connect-failure,refused-stream,unavailable,cancelled,503", optional=True),
    ], submit, "empty retry-on: Istio's default conditions")


def timeout(ed: "RouteEditor", i: int) -> None:
    """Ask for the request timeout of rule ``i`` (empty removes it)."""
    ref = rule_ref(ed.vs, i)
    current = ed.rules()[i].get("timeout")

    def submit(values: dict[str, str]) -> str | None:
        if not values["timeout"] and current is None:
            return "the rule has no timeout: give one (e.g. 5s)"
        return ed.push(api.timeout(ref, values["timeout"] or None), ("rule", i))

    ed.ask(f"Timeout of rule {api.rule_text(ref)}", [
        FormField("timeout", "request timeout (e.g. 5s; empty: none)", str(current or ""), optional=True),
    ], submit, "the whole request, retries included")
