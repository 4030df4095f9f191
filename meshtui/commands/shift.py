"""``meshtui shift NAME[.NS] SUBSET=W|SUBSET=+N|SUBSET=-N … [--rule N|NAME] [--dry-run] [--yes]``

Set (``v2=30``) or step (``v2=+10``, ``v1=-5``) the weights of one http rule of a
VirtualService, or (``httproute/NAME``) the shares of the backendRefs of one HTTPRoute rule,
written on the rule's own scale where exact (``--scale``); the destinations not named share the rest in proportion, so the rule keeps
summing to 100. A destination is named by subset, by host, or as ``HOST/SUBSET`` when two
hosts of the rule share a subset name (a bare subset name is then refused as ambiguous). The change goes through meshtui's one write path (``meshtui.write``): the
unified diff, schema / Istio / analyzer validation, a dry run at the source, confirmation, a
write that fails rather than overwrite a change made since the read, and the audit log.
Exit codes are those of every writing command (see ``meshtui.commands._writing``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from meshtui.commands._verify import add_verify_argument
from meshtui.commands._writing import add_write_arguments
from meshtui.commands.common import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``shift`` subcommand."""
    parser = sub.add_parser(
        "shift",
        help="shift traffic between the destinations of a VirtualService rule",
        description=(
            "Set or step destination weights of one http rule; the others are rebalanced so the "
            "rule sums to 100. Shows the diff, validates, dry-runs, asks, then writes with the "
            "version read as precondition. Exit: 0 applied, 1 invalid, 3 conflict, 4 read-only, "
            "8 outcome unknown, 6 applied but traffic diverges (--verify), "
            "2 other (also: not confirmed without a terminal and without --yes)."
        ),
    )
    parser.add_argument("name", metavar="[KIND/]NAME[.NS]",
                        help="the VirtualService, or httproute/NAME (grpcroute/NAME) for a Gateway API route")
    parser.add_argument("weights", nargs="+", metavar="SUBSET=W",
                        help="SUBSET=W sets W%%, SUBSET=+N / SUBSET=-N moves N points; HOST/SUBSET=W "
                             "names a destination when two hosts share a subset name; for an HTTPRoute "
                             "BACKEND=W gives the backendRef W%% of the rule")
    parser.add_argument("--scale", choices=["auto", "file", "100"], default="auto",
                        help="HTTPRoute weights: on the rule's own scale when exact, else 100 (auto); always "
                             "its own scale (file); or summing to 100 (100)")
    add_write_arguments(parser)
    add_verify_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui shift``."""
    from meshtui.commands._verify import check_basis_arguments
    from meshtui.commands._writing import edit_and_execute
    from meshtui.write.edit_api import parse_assignment, pick_rule, set_weights

    check_basis_arguments(args, "--verify")
    try:
        assignments = [parse_assignment(text) for text in args.weights]
    except ValueError as exc:
        raise CommandError(str(exc), 2) from None
    shown = " ".join(str(a) for a in assignments)

    def make_edit(vs: dict) -> tuple[Callable[[dict], dict], str]:
        if vs.get("kind") in ("HTTPRoute", "GRPCRoute"):
            from meshtui.commands._release import route_rule
            from meshtui.routing.gateway_api_release import Scale
            from meshtui.write import edit_api_gateway

            action = edit_api_gateway.set_weights(route_rule(vs, args.rule), assignments, Scale(args.scale))
        else:
            action = set_weights(pick_rule(vs, args.rule), assignments)
        return action.edit, action.description

    return edit_and_execute(args, make_edit, f"shift {shown}")
