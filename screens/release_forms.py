"""The release workflows of the route editor, one key each, each a short form whose defaults
come from the selected rule and destination: canary step, promote, rollback, blue-green switch,
dark launch, A/B split, mirror, fault injection and their removal. Each adds a pending edit
(``meshtui.routing.release`` / ``meshtui.routing.edit``), reviewed with ``enter`` like any other.
The canary autopilot (``A``) is the exception: its form (``meshtui.screens.edit_review``, shared with
the Gateway API route editor) starts a supervised run that writes each step itself through the
write path (``meshtui.screens.canary_timeline``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding

from meshtui.routing.rules import ReleaseError, current_weights, default_route_index
from meshtui.screens.edit_form import FormField
from meshtui.write import edit_api as api
from meshtui.write.pending import rule_ref

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
    Binding("A", "release('autopilot')", "Autopilot", show=False, id="canary-autopilot",
            tooltip="supervised canary: steps gated on traffic, rollback on failure"),
]

#: How each workflow is named in messages.
TITLES = {"canary": "a canary step", "promote": "a promotion", "rollback": "a rollback",
          "bluegreen": "a blue-green switch", "dark": "a dark launch", "ab": "an A/B split", "mirror": "mirroring",
          "unmirror": "removing the mirror", "fault": "fault injection", "unfault": "removing fault injection",
          "autopilot": "a canary autopilot run"}


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
    for d, w in zip(rule.get("route") or [], current_weights(rule)):
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


def _percent_with(values: dict[str, str], kind: str) -> float:
    """The percentage of a delay or abort: no default (100 % would break every request by a slip
    of the enter key), so it is required when the delay or abort itself is given."""
    text = values[f"{kind}_pct"]
    if values[kind] and not text:
        raise ReleaseError(f"{kind} percentage is required with {'a delay' if kind == 'delay' else 'an abort'}")
    return _float(text, f"{kind} percentage") if text else 0.0


def run(ed: "RouteEditor", name: str) -> None:
    """Open the form of workflow ``name`` (or apply it directly when it needs no input)."""
    i = _target_rule(ed)
    rule = ed.rules()[i] if ed.rules() else {}
    ref = rule_ref(ed.vs, i) if ed.rules() else 0
    where = f"rule {api.rule_text(ref)}"
    subsets = _subsets(rule)
    known = ed.subsets_for(_host(rule)) if rule else []
    choices = list(dict.fromkeys([s for s, _ in subsets] + known))
    by_weight = sorted(subsets, key=lambda sw: -sw[1])
    top = by_weight[0][0] if by_weight else (known[0] if known else "")
    chosen = _selected_subset(ed, i)
    low = next((s for s, _ in reversed(by_weight) if s != top), next((s for s in known if s != top), top))
    canary = chosen if chosen and chosen != top else low
    # A mirror or a dark launch to a subset that already takes the rule's traffic does nothing new:
    # offer a known subset the rule does not route to (else one at weight 0, else none), unless
    # the user put the cursor on a destination.
    fresh = chosen or next((s for s in known if s not in dict(subsets)), next((s for s, w in subsets if w == 0), ""))

    def form(title: str, fields: list[FormField], make: Any, note: str = "") -> None:
        def submit(values: dict[str, str]) -> str | None:
            try:
                action = make(values)
            except ReleaseError as exc:
                return str(exc)
            return ed.push(action, ("rule", i))

        ed.ask(title, fields, submit, note)

    def subset_field(default: str, label: str = "subset") -> FormField:
        return FormField("subset", label, default, choices, strict=bool(known))

    if name == "canary":
        stable = top if top != canary else next((s for s, _ in by_weight if s != canary), top)
        form(f"Canary step on {where}", [
            FormField("stable", "from (stable)", stable, choices, strict=bool(known)),
            FormField("canary", "to (canary)", canary, choices, strict=bool(known)),
            FormField("step", "step weight", "10"), FormField("max", "max canary weight", "100"),
        ], lambda v: api.canary_step(ref, v["stable"], v["canary"], _int(v["step"], "step"),
                                     _int(v["max"], "max weight")))
    elif name in ("promote", "rollback"):
        routed = [s for s, _ in subsets]
        default = canary if name == "promote" else (routed[0] if routed else top)
        if routed and default not in routed:  # only a subset the rule routes to can be promoted
            default = routed[-1] if name == "promote" else routed[0]
        op = api.promote if name == "promote" else api.rollback
        form(f"{name.capitalize()} on {where}: all traffic to one subset", [subset_field(default)],
             lambda v: op(ref, v["subset"]),
             "a subset the rule routes to; the others stay in the rule at weight 0")
    elif name == "bluegreen":
        other = next((s for s in choices if s != top), top)
        form(f"Blue-green switch of {where}", [subset_field(other, "switch to subset")],
             lambda v: api.blue_green(ref, v["subset"]))
    elif name == "dark":
        form("Dark launch: a header rule to the new subset, in front of the default route", [
            subset_field(fresh, "new subset"),
            FormField("header", "header", "x-istio-cohort"), FormField("value", "value", "internal"),
            FormField("kind", "match", "exact", ("exact", "prefix", "regex")),
        ], lambda v: api.dark_launch(v["subset"], v["header"], v["value"], v["kind"]))
    elif name == "ab":
        even = 100 // max(1, len(choices))
        parts = [f"{s}={even + (100 - even * len(choices) if k == 0 else 0)}" for k, s in enumerate(choices)]
        form(f"A/B split of {where}", [FormField("split", "split (SUBSET=W …, sums to 100)", " ".join(parts))],
             lambda v: api.ab_split(ref, _split(v["split"])))
    elif name == "mirror":
        form(f"Mirror requests of {where}", [subset_field(fresh, "mirror to subset"),
                                            FormField("percent", "percentage of requests", "10")],
             lambda v: api.mirror(ref, v["subset"], _float(v["percent"], "percentage")))
    elif name == "fault":
        form(f"Fault injection on {where}", [
            FormField("delay", "fixed delay (e.g. 5s; empty: none)", "", optional=True),
            FormField("delay_pct", "delay percentage", "", placeholder="required with a delay", optional=True),
            FormField("abort", "abort HTTP status (e.g. 503; empty: none)", "", optional=True),
            FormField("abort_pct", "abort percentage", "", placeholder="required with an abort", optional=True),
        ], lambda v: api.fault(ref, v["delay"] or None, _percent_with(v, "delay"),
                               _int(v["abort"], "abort status") if v["abort"] else None,
                               _percent_with(v, "abort")))
    elif name == "autopilot":
        ed.review.autopilot(str(ref), api.rule_text(ref), canary, choices, bool(known))
    elif name in ("unmirror", "unfault"):
        error = ed.push((api.remove_mirror if name == "unmirror" else api.remove_fault)(ref), ("rule", i))
        if error:
            ed.notify(error, severity="error")


def _split(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in text.replace(",", " ").split():
        subset, sep, weight = part.partition("=")
        if not sep or not subset:
            raise ReleaseError(f"{part!r}: expected SUBSET=WEIGHT")
        out[subset] = _int(weight, subset)
    return out
