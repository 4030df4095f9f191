"""``meshtui history [-o text|json] [--limit N] [--all]``: the audit log, newest first.

Every write attempt meshtui made (applied, dry run, conflict, forbidden, invalid, unavailable,
cancelled) is one line of ``$XDG_STATE_HOME/meshtui/audit.jsonl``. Text output is one line
per entry; ``-o json`` prints a JSON array of the entries as stored, ``before`` and ``after``
objects included. No source is opened.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``history`` subcommand."""
    parser = sub.add_parser(
        "history",
        help="show the audit log of changes meshtui made, newest first",
        description="Show the audit log (every applied and every failed write), newest first.",
    )
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--limit", type=int, metavar="N", help="show at most N entries")
    parser.add_argument("--applied", action="store_true", help="only changes that were applied")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui history``."""
    import json

    from meshtui.commands.common import CommandError
    from meshtui.write.audit import AuditLog
    from meshtui.write.history import history, text_line

    if args.limit is not None and args.limit < 0:
        raise CommandError(f"--limit {args.limit}: must not be negative", 2)
    log = AuditLog()
    try:
        entries = history(log, limit=args.limit, results=("applied",) if args.applied else None)
    except OSError as exc:
        raise CommandError(f"cannot read {log.path}: {exc.strerror or exc}", 2) from None
    if args.output == "json":
        print(json.dumps([e.to_dict() for e in entries], indent=2))
    else:
        for entry in entries:
            print(text_line(entry))
    return 0
