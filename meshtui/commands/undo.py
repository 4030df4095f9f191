"""``meshtui undo [--dry-run] [--yes] [--force] [source flags]``: revert the last change meshtui
applied to this source (the newest ``applied`` line of the audit log for it that is not yet
undone; repeat to walk further back).

The previous spec is written on top of the object as it is now, through the same write path as
``meshtui shift``. If the object changed since that change (someone else wrote), the undo is
refused with exit 3 and the diff of what changed, unless ``--force``.
"""

from __future__ import annotations

import argparse

from meshtui.commands._writing import add_write_arguments


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``undo`` subcommand."""
    parser = sub.add_parser(
        "undo",
        help="undo the last change meshtui applied to this source",
        description=(
            "Restore the spec an object had before the last change meshtui applied to this source "
            "(see `meshtui history`). Refused (exit 3) when the object changed since, unless --force. "
            "Exit: 0 applied, 1 invalid, 3 conflict, 4 read-only, 8 outcome unknown, 2 other (nothing to undo)."
        ),
    )
    parser.add_argument("--force", action="store_true", help="undo even if the object changed since the change")
    add_write_arguments(parser, rule=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui undo``."""
    import sys

    from meshtui.commands._writing import err, execute, make_writer, with_source
    from meshtui.commands.common import CommandError
    from meshtui.sources.base import RawObject, Source
    from meshtui.write.apply import find_object
    from meshtui.write.audit import AuditEntry
    from meshtui.write.in_doubt import resolve_pending
    from meshtui.write.undo import UndoConflict, UndoError, last_change, plan_undo

    writer = make_writer(args)

    def body(source: Source, objects: list[RawObject]) -> int:
        try:
            # Writes of unknown outcome first: the source just answered, so now we can tell.
            for unknown, verdict in resolve_pending(source, writer.audit, objects):
                err(f"the write {unknown.id} of {unknown.time} had an unknown outcome: {verdict.result} "
                    f"({verdict.message})")
            entry = last_change(source, writer.audit)
        except OSError as exc:
            raise CommandError(f"cannot use the audit log {writer.audit.path}: {exc.strerror or exc}", 2) from None
        except UndoError as exc:
            raise CommandError(str(exc), 2) from None
        finally:
            for problem in writer.audit.damaged:
                err(f"warning: {problem}")
        current = find_object(objects, entry.key)
        err(f"undoing {entry.description or 'a change'} to {entry.key} of {entry.time} (id {entry.id})")
        try:
            plan = plan_undo(source, entry, current, force=args.force, context=objects)
        except UndoConflict as exc:
            err(str(exc))
            if exc.diff:
                err("what changed since that change:")
                sys.stderr.write(exc.diff)
            if current is not None:
                try:
                    writer.audit.record(AuditEntry.of("conflict", source, current, None,
                                                      description=f"undo {entry.description}", error=str(exc),
                                                      undoes=entry.id))
                except OSError as os_exc:
                    err(f"warning: could not write the audit log: {os_exc}")
            raise CommandError("conflict: nothing was written", 3) from None
        except UndoError as exc:
            raise CommandError(str(exc), 2) from None
        return execute(args, plan, writer, rebase=False)

    return with_source(args, body)
