"""The shared shape of ``meshtui promote`` and ``meshtui rollback``: NAME[.NS] SUBSET."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from meshtui.commands._verify import add_verify_argument
from meshtui.commands._writing import add_write_arguments

if TYPE_CHECKING:
    from meshtui.write.edit_api import Action


def register_release(sub: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int],
                     *, help: str) -> None:
    """Add subcommand ``name`` taking NAME[.NS] SUBSET and the write flags."""
    parser = sub.add_parser(
        name, help=help,
        description=(f"{help[0].upper()}{help[1:]}; the other destinations stay at weight 0. Shows the diff, "
                     "validates, dry-runs, asks, then writes with the version read as precondition. "
                     "Exit: 0 applied, 1 invalid, 3 conflict, 4 read-only, 8 outcome unknown, "
                     "6 applied but traffic diverges (--verify), 2 other."),
    )
    parser.add_argument("name", metavar="[KIND/]NAME[.NS]",
                        help="the VirtualService, or httproute/NAME (grpcroute/NAME) for a Gateway API route")
    parser.add_argument("subset", metavar="SUBSET", help="the destination to send traffic to: a subset the rule routes to, "
                        "its host, or HOST/SUBSET")
    add_write_arguments(parser)
    add_verify_argument(parser)
    parser.set_defaults(func=run)


def route_rule(obj: dict, rule: str | None) -> Any:
    """The rule of an HTTPRoute/GRPCRoute a command edits (not knowing which is a usage error)."""
    from meshtui.routing.gateway_api_release import pick_rule
    from meshtui.routing.rules import ReleaseError
    from meshtui.write.edit_api import RuleChoiceError

    try:
        return pick_rule(obj, rule)
    except ReleaseError as exc:
        raise RuleChoiceError(str(exc)) from None


def run_release(args: argparse.Namespace, make: Callable[[Any, str], "Action"],
                make_route: Callable[[Any, str], "Action"] | None = None) -> int:
    """Run promote / rollback: pick the rule, build the action with ``make(rule, subset)``
    (``make_route(rule, backend)`` for an HTTPRoute/GRPCRoute)."""
    from meshtui.commands._verify import check_basis_arguments
    from meshtui.commands._writing import edit_and_execute
    from meshtui.write.edit_api import pick_rule

    check_basis_arguments(args, "--verify")

    def make_edit(vs: dict) -> tuple[Callable, str]:
        if vs.get("kind") in ("HTTPRoute", "GRPCRoute") and make_route is not None:
            action = make_route(route_rule(vs, args.rule), args.subset)
        else:
            action = make(pick_rule(vs, args.rule), args.subset)
        return action.edit, action.description

    return edit_and_execute(args, make_edit, f"{make.__name__} {args.subset}")
