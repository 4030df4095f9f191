"""The release workflows of the route editor, one key each, each a short form whose defaults
come from the selected rule and destination: canary step, promote, rollback, blue-green switch,
dark launch, A/B split, mirror, fault injection and their removal. Each adds a pending edit
(``meshtui.routing.release`` / ``meshtui.routing.edit``), reviewed with ``enter`` like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from meshtui.routing import edit as rule_edit
from meshtui.routing import release
from meshtui.routing.rules import ReleaseError, default_route_index
from meshtui.screens.edit_form import FormField
from meshtui.widgets.weight_editor import weights_of
from meshtui.write.pending import ref_text, rule_ref

if TYPE_CHECKING:
    from meshtui.screens.route_editor import RouteEditor

BINDINGS = [
    Binding("c", "release('canary')", "Canary", id="canary", tooltip="a step from stable to canary"),
    Binding("p", "release('promote')", "Promote", id="promote", tooltip="all traffic to the canary"),
    Binding("b", "release('rollback')", "Rollback", id="rollback", tooltip="all traffic back to stable"),
    Binding("g", "release('bluegreen')", "Blue-green", show=False, id="blue-green",
            tooltip="switch to another subset"),
    Binding("d", "release('dark')", "Dark launch", show=False, id="dark-launch", tooltip="header rule to a new subset"),
    Binding("s", "release('ab')", "A/B split", show=False, id="ab-split", tooltip="set the exact split"),
    Binding("i", "release('mirror')", "Mirror", show=False, id="mirror", tooltip="copy a % of requests"),
    Binding("I", "release('unmirror')", "Stop mirror", show=False, id="remove-mirror"),
    Binding("f", "release('fault')", "Fault", show=False, id="fault", tooltip="delay/abort a % of requests"),
    Binding("F", "release('unfault')", "Remove fault", show=False, id="remove-fault"),
]

#: How each workflow is named in messages.
TITLES = {"canary": "a canary step", "promote": "a promotion", "rollback": "a rollback",
          "bluegreen": "a blue-green switch", "dark": "a dark launch", "ab": "an A/B split", "mirror": "mirroring",
          "unmirror": "removing the mirror", "fault": "fault injection", "unfault": "removing fault injection"}


def _target_rule(ed: "RouteEditor") -> int:
    """The selected rule, else the only split rule, else the default route, else the first."""
    i = ed.selected_rule()
    if i is not None:
        return i
    rules = ed.rules()
    split = [k for k, r in enumerate(rules) if len(r.get("route") or []) > 1]
    if len(split) == 1:
        return split[0]
    default = default_route_index(ed.vs) if rules else None
    return default if default is not None else 0


def _subsets(rule: dict[str, Any]) -> list[tuple[str, int]]:
    """(subset, weight) of the rule's destinations that have a subset, in route order."""
    out = []
    for d, w in zip(rule.get("route") or [], weights_of(rule)):
        subset = (d.get("destination") or {}).get("subset")
        if subset:
            out.append((str(subset), w))
    return out


def _host(rule: dict[str, Any]) -> str:
    return next((str((d.get("destination") or {}).get("host")) for d in rule.get("route") or []), "")


def _selected_subset(ed: "RouteEditor", i: int) -> str | None:
    data = ed.selected()
    if isinstance(data, tuple) and data[0] == "dest" and data[1] == i:
        route = ed.rules()[i].get("route") or []
        return (route[data[2]].get("destination") or {}).get("subset")
    return None


def _int(text: str, what: str) -> int:
    try:
        return int(text.rstrip("%"))
    except ValueError:
        raise ReleaseError(f"{what}: {text!r} is not a whole number") from None


def _float(text: str, what: str) -> float:
    try:
        return float(text.rstrip("%"))
    except ValueError:
        raise ReleaseError(f"{what}: {text!r} is not a number") from None


def run(ed: "RouteEditor", name: str) -> None:
    """Open the form of workflow ``name`` (or apply it directly when it needs no input)."""
    i = _target_rule(ed)
    rule = ed.rules()[i] if ed.rules() else {}
    ref = rule_ref(ed.vs, i) if ed.rules() else 0
    where = f"rule {ref_text(ref)}"
    subsets = _subsets(rule)
    known = ed.subsets_for(_host(rule)) if rule else []
    choices = list(dict.fromkeys([s for s, _ in subsets] + known))
    by_weight = sorted(subsets, key=lambda sw: -sw[1])
    top = by_weight[0][0] if by_weight else (known[0] if known else "")
    chosen = _selected_subset(ed, i)
    low = next((s for s, _ in reversed(by_weight) if s != top), next((s for s in known if s != top), top))
    canary = chosen if chosen and chosen != top else low

    def form(title: str, fields: list[FormField], make: Any, note: str = "") -> None:
        def submit(values: dict[str, str]) -> str | None:
            try:
                description, edit = make(values)
            except ReleaseError as exc:
                return str(exc)
            return ed.push(description, edit, ("rule", i))

        ed.ask(title, fields, submit, note)

    def subset_field(default: str, label: str = "subset") -> FormField:
        return FormField("subset", label, default, choices, strict=bool(known))

    if name == "canary":
        stable = top if top != canary else next((s for s, _ in by_weight if s != canary), top)
        form(f"Canary step on {where}", [
            FormField("stable", "from (stable)", stable, choices, strict=bool(known)),
            FormField("canary", "to (canary)", canary, choices, strict=bool(known)),
            FormField("step", "step weight", "10"), FormField("max", "max canary weight", "100"),
        ], lambda v: (f"canary step {v['stable']}→{v['canary']} +{v['step']} (max {v['max']}) on {where}",
                      _bind(release.canary_step, stable=v["stable"], canary=v["canary"],
                            step=_int(v["step"], "step"), max_weight=_int(v["max"], "max weight"), rule=ref)))
    elif name in ("promote", "rollback"):
        default = canary if name == "promote" else (subsets[0][0] if subsets else top)
        op = release.promote if name == "promote" else release.rollback
        form(f"{name.capitalize()} on {where}: all traffic to one subset", [subset_field(default)],
             lambda v: (f"{name} {v['subset']} on {where}", _bind(op, v["subset"], rule=ref)),
             "the other destinations stay in the rule at weight 0")
    elif name == "bluegreen":
        other = next((s for s in choices if s != top), top)
        form(f"Blue-green switch of {where}", [subset_field(other, "switch to subset")],
             lambda v: (f"blue-green switch to {v['subset']} on {where}", _bind(release.blue_green_switch,
                                                                                 v["subset"], rule=ref)))
    elif name == "dark":
        form("Dark launch: a header rule to the new subset, in front of the default route", [
            subset_field(canary, "new subset"),
            FormField("header", "header", "x-istio-cohort"), FormField("value", "value", "internal"),
            FormField("kind", "match", "exact", ("exact", "prefix", "regex")),
        ], lambda v: (f"dark launch {v['subset']} for {v['header']}: {v['value']}",
                      _bind(release.dark_launch, v["subset"], v["header"], v["value"], v["kind"])))
    elif name == "ab":
        even = 100 // max(1, len(choices))
        parts = [f"{s}={even + (100 - even * len(choices) if k == 0 else 0)}" for k, s in enumerate(choices)]
        form(f"A/B split of {where}", [FormField("split", "split (SUBSET=W …, sums to 100)", " ".join(parts))],
             lambda v: (f"A/B split {v['split']} on {where}", _bind(release.ab_split, _split(v["split"]), rule=ref)))
    elif name == "mirror":
        form(f"Mirror requests of {where}", [subset_field(canary, "mirror to subset"),
                                            FormField("percent", "percentage of requests", "10")],
             lambda v: (f"mirror {v['percent']}% to {v['subset']} on {where}",
                        _bind(release.set_mirror, v["subset"], _float(v["percent"], "percentage"), rule=ref)))
    elif name == "fault":
        form(f"Fault injection on {where}", [
            FormField("delay", "fixed delay (e.g. 5s; empty: none)", "", optional=True),
            FormField("delay_pct", "delay percentage", "100"),
            FormField("abort", "abort HTTP status (e.g. 503; empty: none)", "", optional=True),
            FormField("abort_pct", "abort percentage", "100"),
        ], lambda v: (f"fault {'delay ' + v['delay'] if v['delay'] else ''} "
                      f"{'abort ' + v['abort'] if v['abort'] else ''} on {where}".replace("  ", " "),
                      _bind(rule_edit.set_fault, v["delay"] or None, _float(v["delay_pct"], "delay percentage"),
                            _int(v["abort"], "abort status") if v["abort"] else None,
                            _float(v["abort_pct"], "abort percentage"), rule=ref)))
    elif name in ("unmirror", "unfault"):
        op = release.remove_mirror if name == "unmirror" else rule_edit.remove_fault
        error = ed.push(f"remove {'mirror' if name == 'unmirror' else 'fault injection'} of {where}",
                        _bind(op, rule=ref), ("rule", i))
        if error:
            ed.notify(error, severity="error")


def _bind(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """An edit calling ``fn(vs, *args, **kwargs)`` (the arguments are fixed now)."""
    return lambda vs: fn(vs, *args, **kwargs)


def _split(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.replace(",", " ").split():
        subset, sep, weight = part.partition("=")
        if not sep or not subset:
            raise ReleaseError(f"{part!r}: expected SUBSET=WEIGHT")
        out[subset] = _int(weight, subset)
    return out
