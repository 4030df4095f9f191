"""``meshtui rollback NAME[.NS] SUBSET [--rule N|NAME] [--dry-run] [--yes]``: all traffic of a rule
back to SUBSET (the stable version), a destination the rule routes to; the other destinations
stay in the rule at 0. Same write path and exit codes as ``meshtui shift``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``rollback`` subcommand."""
    from meshtui.commands._release import register_release

    register_release(sub, "rollback", run, help="send all traffic of a rule back to SUBSET (roll back)")


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui rollback``."""
    from meshtui.commands._release import run_release
    from meshtui.write import edit_api_gateway
    from meshtui.write.edit_api import rollback

    return run_release(args, rollback, edit_api_gateway.rollback)
