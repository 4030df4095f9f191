"""``meshtui history [-o text|json] [--limit N] [--applied] [source flags]``: the audit log,
newest first.

Every write attempt meshtui made (applied, dry run, conflict, forbidden, invalid, unavailable,
cancelled, unknown) is one line of ``$XDG_STATE_HOME/meshtui/audit.jsonl``. Text output is one
line per entry; ``-o json`` prints a JSON array of the entries as stored, ``before`` and
``after`` objects included. Without source flags no source is opened and every source's entries
are shown. With them (``--kubeconfig``, ``--context``, ``--demo``, ``--files``) only that
source's entries are shown, and its writes of unknown outcome are read back and resolved first.
A damaged line of the log is reported on stderr and skipped.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from meshtui.commands.common import add_source_arguments

if TYPE_CHECKING:
    from meshtui.write.audit import AuditLog


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``history`` subcommand."""
    parser = sub.add_parser(
        "history",
        help="show the audit log of changes meshtui made, newest first",
        description="Show the audit log (every applied and every failed write), newest first.",
    )
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--limit", type=int, metavar="N", help="show at most N entries")
    parser.add_argument("--applied", action="store_true", help="only changes that were applied")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui history``."""
    import json
    import sys

    from meshtui.commands.common import CommandError, source_given
    from meshtui.write.audit import AuditLog
    from meshtui.write.history import history, text_line
    from meshtui.write.in_doubt import pending

    if args.limit is not None and args.limit < 0:
        raise CommandError(f"--limit {args.limit}: must not be negative", 2)
    log = AuditLog()
    try:
        sid = _resolve(args, log) if source_given(args) else None
        entries = history(log, source_id=sid, limit=args.limit, results=("applied",) if args.applied else None)
        unknown = {e.id for e in pending(log.entries(), sid)}
    except OSError as exc:
        raise CommandError(f"cannot read the audit log {log.path}: {exc.strerror or exc}", 2) from None
    finally:
        for problem in log.damaged:
            print(f"meshtui: warning: {problem}", file=sys.stderr)
    if args.output == "json":
        print(json.dumps([e.to_dict() for e in entries], indent=2))
    else:
        for entry in entries:
            print(text_line(entry, unknown))
    return 0


def _resolve(args: argparse.Namespace, log: "AuditLog") -> str:
    """Open the source the flags name; when it has writes of unknown outcome, read it and record
    their outcomes. Returns the source's id. An unreachable source is a warning: the log is
    still shown, those writes stay unknown."""
    import sys

    from meshtui.commands.common import open_source
    from meshtui.sources.base import SourceError
    from meshtui.write.audit import source_id
    from meshtui.write.in_doubt import pending, resolve_pending

    source = open_source(args)
    try:
        sid = source_id(source)
        if pending(log.entries(), sid):
            try:
                objects = source.snapshot().objects
            except SourceError as exc:
                print(f"meshtui: warning: writes of unknown outcome stay unknown: {exc}", file=sys.stderr)
                return sid
            for unknown, verdict in resolve_pending(source, log, objects):
                print(f"meshtui: the write {unknown.id} of {unknown.time} had an unknown outcome: "
                      f"{verdict.result} ({verdict.message})", file=sys.stderr)
        return sid
    finally:
        source.close()
