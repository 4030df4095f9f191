"""What the writing subcommands (shift, promote, rollback, undo) share.

Output: the unified diff goes to stdout, so a script can keep it; other writers, warnings,
errors and the prompt go to stderr. A change is written only after a confirmation: ``--yes``,
or ``y`` typed at the prompt when stdin is a terminal. Without a terminal and without ``--yes``
the command shows the diff and the dry-run result, writes nothing, and exits 2 ("not
confirmed"), so a script that forgot ``--yes`` never changes the mesh by accident.

Exit codes: 0 applied (or dry run passed, or nothing to change), 1 validation failed (schema,
Istio's rules, analyzer errors, an impossible edit, or the source rejected the object), 3
conflict (the object changed since it was read; nothing written), 4 read-only (``--read-only``,
read-only credentials or RBAC), 8 outcome unknown (the write went out, no answer came, and
reading the object back failed too), 6 applied but the traffic does not follow it (``--verify``),
2 anything else (usage, not confirmed, source unreachable).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from meshtui.commands.common import CommandError, add_source_arguments

if TYPE_CHECKING:
    from meshtui.sources.base import RawObject, Source
    from meshtui.write.apply import Outcome, Preview, Writer
    from meshtui.write.plan import ChangePlan


def add_write_arguments(parser: argparse.ArgumentParser, *, rule: bool = True) -> None:
    """``--rule``, ``--dry-run``, ``--yes`` and the source flags."""
    if rule:
        parser.add_argument("--rule", metavar="N|NAME", help="the http rule to edit: index (from 0) or name "
                            "(default: the only rule with several destinations, else the default route)")
    parser.add_argument("--dry-run", action="store_true", help="validate and dry-run at the source; write nothing")
    parser.add_argument("-y", "--yes", action="store_true", help="apply without asking (needed without a terminal)")
    add_source_arguments(parser)


def make_writer(args: argparse.Namespace) -> "Writer":
    """The writer of a command: an in-doubt write is read back for as long as one request may
    take (``--request-timeout``, else ``RESOLVE_WITHIN``)."""
    from meshtui.write.apply import RESOLVE_WITHIN, Writer

    return Writer(resolve_within=getattr(args, "request_timeout", None) or RESOLVE_WITHIN)


def split_name(text: str, default_ns: str | None) -> tuple[str, str]:
    """``catalog.istioinaction`` -> (``catalog``, ``istioinaction``); without a namespace, ``-n``
    or ``default``."""
    name, _, ns = text.partition(".")
    if not name:
        raise CommandError(f"{text!r}: not a route name (NAME[.NS])")
    return name, ns or default_ns or "default"


def err(line: str) -> None:
    """One line on stderr, prefixed like every meshtui message."""
    print(f"meshtui: {line}", file=sys.stderr, flush=True)


def with_source(args: argparse.Namespace, body: Callable[["Source", list["RawObject"]], int]) -> int:
    """Open the source, read the mesh once, run ``body(source, objects)``, close the source."""
    from meshtui.commands.common import open_source
    from meshtui.sources.base import SourceError

    source = open_source(args)
    try:
        try:
            snapshot = source.snapshot()
        except SourceError as exc:
            raise CommandError(str(exc), 2) from None
        for problem in snapshot.errors:
            err(f"warning: {problem}")
        return body(source, snapshot.objects)
    finally:
        source.close()


#: ``KIND/`` prefixes of a route name (kubectl's resource names and short names).
ROUTE_PREFIXES = {"virtualservice": "VirtualService", "virtualservices": "VirtualService", "vs": "VirtualService",
                  "httproute": "HTTPRoute", "httproutes": "HTTPRoute", "hr": "HTTPRoute",
                  "grpcroute": "GRPCRoute", "grpcroutes": "GRPCRoute"}


def split_route_name(text: str) -> tuple[str | None, str]:
    """``httproute/cart.storefront`` -> (``HTTPRoute``, ``cart.storefront``); no prefix: None."""
    prefix, slash, rest = text.partition("/")
    if not slash:
        return None, text
    kind = ROUTE_PREFIXES.get(prefix.lower())
    if kind is None:
        raise CommandError(f"{text!r}: unknown kind {prefix!r} (use virtualservice/NAME, httproute/NAME or "
                           "grpcroute/NAME)", 2)
    return kind, rest


def find_route(objects: list["RawObject"], kind: str | None, name: str, namespace: str) -> "RawObject":
    """The VirtualService, HTTPRoute or GRPCRoute ``namespace/name``. Without ``kind`` a name
    two kinds share is a usage error naming both; one kind found is that one."""
    if kind is not None and kind != "VirtualService":
        for obj in objects:
            meta = obj.get("metadata") or {}
            if obj.get("kind") == kind and meta.get("name") == name and (meta.get("namespace") or "default") == namespace \
                    and str(obj.get("apiVersion", "")).startswith("gateway.networking.k8s.io/"):
                return obj
        raise CommandError(f"{kind} {namespace}/{name} not found", 2)
    if kind is None:
        found = [o for o in objects if o.get("kind") in ("VirtualService", "HTTPRoute", "GRPCRoute")
                 and (o.get("metadata") or {}).get("name") == name
                 and ((o.get("metadata") or {}).get("namespace") or "default") == namespace]
        kinds = sorted({str(o["kind"]) for o in found})
        if len(kinds) > 1:
            both = " and ".join(f"{k} {namespace}/{name}" for k in kinds)
            forms = " or ".join(f"{k.lower()}/{name}" for k in kinds)
            raise CommandError(f"{name!r} is ambiguous: {both}; say {forms}", 2)
        if kinds and kinds[0] != "VirtualService":
            return found[0]
    return find_virtual_service(objects, name, namespace)


def find_virtual_service(objects: list["RawObject"], name: str, namespace: str) -> "RawObject":
    """The VirtualService ``namespace/name`` (``CommandError`` naming where else it exists)."""
    elsewhere = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") != "VirtualService" or meta.get("name") != name:
            continue
        if (meta.get("namespace") or "default") == namespace:
            return obj
        elsewhere.append(f"{name}.{meta.get('namespace')}")
    hint = f" (found: {', '.join(sorted(elsewhere))})" if elsewhere else ""
    raise CommandError(f"VirtualService {namespace}/{name} not found{hint}", 2)


def record_invalid(writer: "Writer", source: "Source", base: "RawObject", description: str, error: str) -> None:
    """Audit an edit that could not even be built (e.g. weight 150): a failed write."""
    from meshtui.write.audit import AuditEntry

    try:
        writer.audit.record(AuditEntry.of("invalid", source, base, None, description=description, error=error))
    except OSError as exc:
        err(f"warning: could not write the audit log {writer.audit.path}: {exc.strerror or exc}")


def _ask(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def _interactive() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _show(preview: "Preview") -> None:
    for owner in preview.owners:
        err(f"warning: {owner.explanation}")
    if preview.diff:
        sys.stdout.write(preview.diff)
        sys.stdout.flush()
    for problem in preview.validation.errors:
        err(f"error: {problem}")
    for problem in preview.validation.warnings:
        err(f"warning: {problem}")
    for problem in preview.validation.existing:
        err(f"note: already before this change: {problem}")


def execute(args: argparse.Namespace, plan: "ChangePlan", writer: "Writer", *, rebase: bool = True) -> int:
    """Preview, confirm and write ``plan``; returns the exit code or raises ``CommandError``."""
    preview = writer.check(plan)
    _show(preview)
    if preview.blocked is not None:
        outcome = writer.finish_dry_run(preview) if args.dry_run else writer.commit(preview)
    elif args.dry_run:
        outcome = writer.finish_dry_run(preview)
    elif args.yes:
        outcome = writer.commit(preview)
    elif not _interactive():
        writer.cancel(preview, "not confirmed")
        raise CommandError("not a terminal, so not confirmed: nothing was written (pass --yes to apply)", 2)
    else:
        extra = " anyway" if preview.needs_confirmation else ""
        if not _ask(f"Apply this change to {plan.label} at {plan.source.description}{extra}?"):
            writer.cancel(preview, "cancelled at the prompt")
            raise CommandError("cancelled: nothing was written", 2)
        outcome = writer.commit(preview)
    return finish(args, outcome, writer, rebase=rebase)


def finish(args: argparse.Namespace, outcome: "Outcome", writer: "Writer", *, rebase: bool = True) -> int:
    """Report ``outcome``; after a conflict on a terminal, offer to re-apply the edit on top."""
    from meshtui.write.plan import RebaseError

    if outcome.audit_error:
        err(f"warning: {outcome.audit_error}")
    if outcome.ok:
        print(outcome.message)
        if outcome.result == "applied" and getattr(args, "verify", None) is not None:
            from meshtui.commands._verify import run_verify

            return run_verify(args, outcome)
        return 0
    if outcome.result == "conflict" and outcome.conflict is not None:
        err(outcome.message)
        changes = outcome.conflict.their_changes()
        if changes:
            err("what changed since it was read:")
            sys.stderr.write(changes)
            sys.stderr.flush()
        if rebase and not args.yes and not args.dry_run and _interactive() and outcome.conflict.current is not None:
            if _ask(f"Re-apply {outcome.plan.description!r} on top of the current object?"):
                try:
                    again = outcome.conflict.rebase()
                except RebaseError as exc:
                    raise CommandError(str(exc), 3) from None
                return execute(args, again, writer, rebase=rebase)
        raise CommandError("conflict: nothing was written", outcome.exit_code)
    raise CommandError(outcome.message, outcome.exit_code)


def edit_and_execute(args: argparse.Namespace, make_edit: Callable[["RawObject"], tuple[Callable, str]],
                     what: str) -> int:
    """The body of shift / promote / rollback: find the VirtualService (or, named
    ``httproute/NAME`` or unambiguously, the HTTPRoute/GRPCRoute), build the edit and its
    one-line description with ``make_edit(vs)`` (which picks the rule), and run the pipeline.
    ``what`` describes the request in the audit log when the edit cannot be built."""
    from meshtui.routing.rules import ReleaseError
    from meshtui.model.index import MeshIndex
    from meshtui.write.edit_api import RuleChoiceError
    from meshtui.write.plan import ChangePlan
    from meshtui.write.scope import affected_objects

    kind, bare = split_route_name(args.name)
    name, namespace = split_name(bare, getattr(args, "namespace", None))
    writer = make_writer(args)

    def body(source: "Source", objects: list["RawObject"]) -> int:
        vs = find_route(objects, kind, name, namespace)
        description = what
        try:
            edit, description = make_edit(vs)
            plan = ChangePlan.build(source, vs, edit, description, [])
            # The checks read only what the edit can affect (one index build, not two of the mesh).
            plan.context = affected_objects(MeshIndex(objects), [plan.base, plan.new])
        except RuleChoiceError as exc:
            raise CommandError(str(exc), 2) from None
        except ReleaseError as exc:
            reason = source.read_only_reason()
            if reason:  # read-only wins: nothing could have been written anyway
                said = reason if reason.lower().startswith("read-only") else f"read-only: {reason}"
                raise CommandError(f"{said}; nothing was written", 4) from None
            record_invalid(writer, source, vs, description, str(exc))
            raise CommandError(str(exc), 1) from None
        return execute(args, plan, writer)

    return with_source(args, body)
