"""The forms of the route editor's own actions: an exact weight, a new destination, a match
condition (added or edited) and the URI rewrite. Each opens a ``FormScreen`` whose defaults come
from the selection, and on submit adds one pending edit to the editor (or shows in the form why
it cannot, e.g. a regular expression RE2 rejects). The release workflows are in
``meshtui.screens.release_forms``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from meshtui.model.hosts import fqdn
from meshtui.routing import edit as rule_edit
from meshtui.routing import release
from meshtui.routing import weights as wa
from meshtui.screens.edit_form import FormField
from meshtui.widgets.weight_editor import weights_of
from meshtui.write.pending import dest_key, dest_text, ref_text, rule_ref

if TYPE_CHECKING:
    from meshtui.screens.route_editor import RouteEditor

#: The condition fields offered by the match form (``header`` stands for ``headers``).
MATCH_FIELDS = ("header", "uri", "method", "queryParams", "withoutHeaders", "authority", "scheme")
_NAMED = ("headers", "queryParams", "withoutHeaders")
_FIELD_KEYS = {"header": "headers", "headers": "headers"}


def exact_weight(ed: "RouteEditor", i: int, j: int) -> None:
    """Ask for the exact weight of destination ``j`` of rule ``i``; the others share the rest."""
    rule = ed.rules()[i]
    current = weights_of(rule)[j]

    def submit(values: dict[str, str]) -> str | None:
        try:
            value = int(values["weight"].rstrip("%"))
        except ValueError:
            return f"{values['weight']!r} is not a whole number"
        try:
            new = wa.set_weight(weights_of(rule), j, value)
        except wa.WeightError as exc:
            return str(exc)
        ed.set_split(i, j, new)
        return None

    label = dest_text(dest_key((rule.get("route") or [])[j]))
    ed.ask(f"Weight of {label} in rule {ref_text(rule_ref(ed.vs, i))}",
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
        error = ed.push(f"add {h} {subset} ({weight}%) to rule {ref_text(ref)}",
                        lambda vs: release.add_destination(vs, subset, weight, h if h != host else None, ref),
                        ("dest", i, len(route)))
        if error is None:
            warning = subset_warning(ed, h, subset)
            if warning:
                ed.warn(warning)
        return error

    ed.ask(f"Add a destination to rule {ref_text(ref)}", [
        FormField("host", "service", host, services, strict=False),
        FormField("subset", "subset (of the service's DestinationRule)", free[0] if free else "",
                  ed.subsets_for(host), strict=False),
        FormField("weight", "weight (the others shrink in proportion)", "0"),
    ], submit)


def _same_condition(old: tuple, field: str, name: str, block: int) -> bool:
    _, _, old_block, old_field, old_name = old
    if old_field != field or old_block != block:
        return False
    if field in _NAMED:
        return (old_name or "").lower() == name.lower() if field != "queryParams" else old_name == name
    return True


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
        in_place = old is not None and _same_condition(old, field, name, block)

        def apply(vs: dict[str, Any]) -> dict[str, Any]:
            b = block
            if old is not None and not in_place:
                vs = rule_edit.remove_condition(vs, old[3], old[4], ref, old[2])
                # Removing the block's last condition drops the block: write into a new one.
                b = min(block, len(vs["spec"]["http"][rule_edit.rule_index(vs, ref)].get("match") or []))
            return rule_edit.set_condition(vs, field, kind, value, name or None, ref, b, case)

        what = f"{field} {name} {kind} {value or ''}".replace("  ", " ").strip()
        return ed.push(f"{'change' if old else 'add'} match {what} on rule {ref_text(ref)}", apply, ("rule", i))

    ed.ask(("Edit" if old else "Add") + f" a match condition on rule {ref_text(ref)}", [
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
        words = " ".join(w for w in (f"uri {uri}" if uri else "", f"authority {authority}" if authority else "") if w)
        return ed.push(f"rewrite {words} on rule {ref_text(ref)}",
                       lambda vs: rule_edit.set_rewrite(vs, uri, authority, rule=ref), ("rule", i))

    ed.ask(f"URI rewrite of rule {ref_text(ref)}", [
        FormField("uri", "replace the matched URI prefix with", str(current.get("uri", "")), optional=True),
        FormField("authority", "rewrite the authority (Host header) to", str(current.get("authority", "")),
                  optional=True),
    ], submit, "Envoy replaces exactly the matched prefix: prefix /a/ → / turns /a/x into /x")
