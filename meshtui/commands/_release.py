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
    parser.add_argument("name", metavar="NAME[.NS]", help="the VirtualService")
    parser.add_argument("subset", metavar="SUBSET", help="the destination to send traffic to: a subset the rule routes to, "
                        "its host, or HOST/SUBSET")
    add_write_arguments(parser)
    add_verify_argument(parser)
    parser.set_defaults(func=run)


def run_release(args: argparse.Namespace, make: Callable[[Any, str], "Action"]) -> int:
    """Run promote / rollback: pick the rule, build the action with ``make(rule, subset)``."""
    from meshtui.commands._writing import edit_and_execute
    from meshtui.write.edit_api import pick_rule

    def make_edit(vs: dict) -> tuple[Callable, str]:
        action = make(pick_rule(vs, args.rule), args.subset)
        return action.edit, action.description

    return edit_and_execute(args, make_edit, f"{make.__name__} {args.subset}")
