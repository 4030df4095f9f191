"""The shared shape of ``meshtui promote`` and ``meshtui rollback``: NAME[.NS] SUBSET."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from meshtui.commands._writing import add_write_arguments


def register_release(sub: argparse._SubParsersAction, name: str, run: Callable[[argparse.Namespace], int],  # type: ignore[type-arg]
                     *, help: str) -> None:
    """Add subcommand ``name`` taking NAME[.NS] SUBSET and the write flags."""
    parser = sub.add_parser(
        name, help=help,
        description=(f"{help[0].upper()}{help[1:]}; the other destinations stay at weight 0. Shows the diff, "
                     "validates, dry-runs, asks, then writes with the version read as precondition. "
                     "Exit: 0 applied, 1 invalid, 3 conflict, 4 read-only, 8 outcome unknown, 2 other."),
    )
    parser.add_argument("name", metavar="NAME[.NS]", help="the VirtualService")
    parser.add_argument("subset", metavar="SUBSET", help="the destination subset (or host) to send traffic to")
    add_write_arguments(parser)
    parser.set_defaults(func=run)


def run_release(args: argparse.Namespace, verb: str, make: Callable[[str, Any], Callable]) -> int:
    """Run promote / rollback: pick the rule, build the edit with ``make(subset, rule)``."""
    from meshtui.commands._writing import edit_and_execute
    from meshtui.write.edits import pick_rule, rule_text

    def make_edit(vs: dict) -> tuple[Callable, str]:
        rule = pick_rule(vs, args.rule)
        return make(args.subset, rule), f"{verb} {args.subset} (rule {rule_text(rule)})"

    return edit_and_execute(args, make_edit, f"{verb} {args.subset}")
