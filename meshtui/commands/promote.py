"""``meshtui promote NAME[.NS] SUBSET [--rule N|NAME] [--dry-run] [--yes]``: all traffic of a rule
to SUBSET (the canary becomes the release); the other destinations stay in the rule at 0, so a
rollback is one command. SUBSET must be a destination the rule routes to (a subset it does not
route to is refused, as in the route editor). Same write path and exit codes as ``meshtui shift``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``promote`` subcommand."""
    from meshtui.commands._release import register_release

    register_release(sub, "promote", run, help="send all traffic of a rule to SUBSET (promote the canary)")


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui promote``."""
    from meshtui.commands._release import run_release
    from meshtui.write import edit_api_gateway
    from meshtui.write.edit_api import promote

    return run_release(args, promote, edit_api_gateway.promote)
