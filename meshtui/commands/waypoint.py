"""``meshtui waypoint use|remove|canary|promote|rollback TARGET …``: enrol a Service, a
ServiceEntry or a namespace in an ambient waypoint, or shift it between two waypoints.

``TARGET`` is ``SERVICE[.NS]``, ``serviceentry/NAME[.NS]`` or ``namespace/NS``; ``WAYPOINT`` is
``NAME[.NS]`` (the namespace only when the waypoint is in another one). The labels are edited by
:mod:`meshtui.write.edit_api_waypoint` and written through meshtui's one write path: the diff,
validation (schema, Istio's rules, the analyzers: a waypoint that does not exist or does not
serve services is reported), a dry run, confirmation (``--yes``), the write with the version
read as precondition, and the audit log. Exit codes are those of every writing command
(``meshtui.commands._writing``); a waypoint that is not a Gateway of class ``istio-waypoint``
in the mesh read is refused before anything is shown (exit 1).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from meshtui.commands._writing import add_write_arguments
from meshtui.commands.common import CommandError

if TYPE_CHECKING:
    from meshtui.sources.base import RawObject, Source
    from meshtui.write.edit_api import Action

_TARGET_PREFIXES = {"service": "Service", "svc": "Service", "serviceentry": "ServiceEntry", "se": "ServiceEntry",
                    "namespace": "Namespace", "ns": "Namespace"}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``waypoint`` subcommand and its actions."""
    parser = sub.add_parser(
        "waypoint",
        help="enrol a service or namespace in an ambient waypoint (istio.io/use-waypoint), or canary a waypoint",
        description=(
            "Edit the istio.io/use-waypoint labels (and Istio 1.31's waypoint canary label and weight) of a "
            "Service, ServiceEntry or Namespace through the write path: diff, validation, dry run, confirmation. "
            "Exit: 0 applied, 1 invalid, 3 conflict, 4 read-only, 8 outcome unknown, 2 other."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    target_help = "SERVICE[.NS], serviceentry/NAME[.NS] or namespace/NS"
    use = actions.add_parser("use", help="use WAYPOINT for TARGET's traffic ('none' opts out of the namespace's)")
    use.add_argument("target", metavar="TARGET", help=target_help)
    use.add_argument("waypoint", metavar="WAYPOINT[.NS]", help="the waypoint Gateway, or none")
    remove = actions.add_parser("remove", help="drop TARGET's istio.io/use-waypoint labels")
    remove.add_argument("target", metavar="TARGET", help=target_help)
    canary = actions.add_parser("canary", help="send WEIGHT %% of new connections to a canary waypoint")
    canary.add_argument("target", metavar="TARGET", help=target_help)
    canary.add_argument("weight", metavar="WEIGHT", type=int, help="percent of new connections, 0 to 100")
    canary.add_argument("--waypoint", metavar="NAME[.NS]", help="the canary waypoint (needed the first time)")
    for name, what in (("promote", "make the canary waypoint the primary and drop the canary"),
                       ("rollback", "drop the canary: all traffic through the primary waypoint")):
        p = actions.add_parser(name, help=what)
        p.add_argument("target", metavar="TARGET", help=target_help)
    for p in (use, remove, canary, *[actions.choices[n] for n in ("promote", "rollback")]):
        add_write_arguments(p, rule=False)
        p.set_defaults(func=run)


def _target(text: str, default_ns: str | None) -> tuple[str, str, str]:
    """(kind, namespace, name) of a TARGET; a Namespace's namespace is ``""``."""
    prefix, slash, rest = text.partition("/")
    kind = "Service"
    if slash:
        found = _TARGET_PREFIXES.get(prefix.lower())
        if found is None:
            raise CommandError(f"{text!r}: unknown kind {prefix!r} (use SERVICE[.NS], serviceentry/NAME[.NS] or "
                               "namespace/NS)", 2)
        kind, text = found, rest
    if kind == "Namespace":
        if not text or "." in text:
            raise CommandError(f"namespace/{text}: not a namespace name", 2)
        return kind, "", text
    name, _, ns = text.partition(".")
    if not name:
        raise CommandError(f"{text!r}: not a name (NAME[.NS])", 2)
    return kind, ns or default_ns or "default", name


def _waypoint(text: str) -> tuple[str, str | None]:
    name, _, ns = text.partition(".")
    if not name:
        raise CommandError(f"{text!r}: not a waypoint name (NAME[.NS])", 2)
    return name, ns or None


def _find(objects: list["RawObject"], kind: str, namespace: str, name: str) -> "RawObject":
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == kind and meta.get("name") == name and (meta.get("namespace") or "") == namespace:
            return obj
    where = f"{namespace}/{name}" if namespace else name
    raise CommandError(f"{kind} {where} not found", 2)


def _check_waypoint(objects: list["RawObject"], name: str, namespace: str) -> None:
    """A waypoint is a Gateway API Gateway of class istio-waypoint (``CommandError`` 1 if none)."""
    from meshtui.model.ambient import WAYPOINT_CLASS

    for obj in objects:
        meta = obj.get("metadata") or {}
        if (obj.get("kind") == "Gateway" and str(obj.get("apiVersion", "")).startswith("gateway.networking.k8s.io/")
                and meta.get("name") == name and meta.get("namespace") == namespace):
            if (obj.get("spec") or {}).get("gatewayClassName") != WAYPOINT_CLASS:
                raise CommandError(f"Gateway {namespace}/{name} is not a waypoint (gatewayClassName is not "
                                   f"{WAYPOINT_CLASS}); nothing was written", 1)
            return
    raise CommandError(f"waypoint {namespace}/{name} not found (no Gateway of class {WAYPOINT_CLASS}); "
                       "nothing was written", 1)


def _action(args: argparse.Namespace, objects: list["RawObject"], own_ns: str) -> "Action":
    from meshtui.write import edit_api_waypoint as wp

    if args.action == "use":
        name, ns = _waypoint(args.waypoint)
        if name != "none":
            _check_waypoint(objects, name, ns or own_ns)
        return wp.use(name, ns)
    if args.action == "remove":
        return wp.remove()
    if args.action == "canary":
        if args.waypoint is None:
            return wp.canary(args.weight)
        name, ns = _waypoint(args.waypoint)
        _check_waypoint(objects, name, ns or own_ns)
        return wp.canary(args.weight, name, ns)
    return wp.promote() if args.action == "promote" else wp.rollback()


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui waypoint ACTION``."""
    from meshtui.commands._writing import execute, make_writer, record_invalid, with_source
    from meshtui.routing.rules import ReleaseError
    from meshtui.write.plan import ChangePlan

    kind, namespace, name = _target(args.target, getattr(args, "namespace", None))
    writer = make_writer(args)

    def body(source: "Source", objects: list["RawObject"]) -> int:
        target = _find(objects, kind, namespace, name)
        description = f"waypoint {args.action}"
        try:
            action = _action(args, objects, namespace or name)
            description = action.description
            plan = ChangePlan.build(source, target, action.edit, description, objects)
        except ReleaseError as exc:
            record_invalid(writer, source, target, description, str(exc))
            raise CommandError(str(exc), 1) from None
        if not plan.changed():
            print(f"{plan.label}: already so, nothing to change")
            return 0
        return execute(args, plan, writer)

    return with_source(args, body)
