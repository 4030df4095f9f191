"""``meshtui logs SERVICE[.NS]``: follow the sidecar logs of a service's pods live (the pods
the Logs screen follows), printing lines or the observed split until ``--duration`` or Ctrl-C."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from meshtui.commands.common import CommandError
from meshtui.commands.logs import build_parser, parse_duration, split_service

if TYPE_CHECKING:
    from meshtui.session.live_index import LiveIndex
    from meshtui.session.log_session import LogSession


def _warn(line: str) -> None:
    print(f"meshtui: {line}", file=sys.stderr)


def follow_service(args: argparse.Namespace, out: TextIO) -> int:
    """Follow SERVICE[.NS] live (see the module docstring) until ``--duration`` or Ctrl-C."""
    from meshtui.accesslog.target import LogTarget, plan_follow
    from meshtui.commands.common import open_source, source_kind
    from meshtui.session.live_index import LiveIndex
    from meshtui.session.log_session import DEFAULT_ROUTE, LogSession, RouteChoice
    from meshtui.sources.base import SourceError

    since = parse_duration(args.since) if args.since else None
    if args.tail is not None and args.tail < 0:
        raise CommandError(f"--tail {args.tail}: must be 0 or more")
    name, namespace = split_service(args.service, getattr(args, "namespace", None))
    target = LogTarget("Service", namespace, name)
    source = open_source(args)
    live: LiveIndex | None = None
    session: LogSession | None = None
    try:
        try:
            live = LiveIndex.load(source)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        missing = plan_follow(live.index, target).missing
        if missing:
            raise CommandError(missing)
        if source_kind(args) == "files":
            raise CommandError(f"--files {args.files}: manifests on disk have no pod logs to follow")
        # --log-format/--log-encoding fix the parser; else the mesh config chooses (and may change).
        fixed = build_parser(args) if args.log_format or args.log_encoding else None
        route: RouteChoice = None if args.route == "all" else (args.route or DEFAULT_ROUTE)
        session = LogSession(source, live.index, target, tail_lines=args.tail, since_seconds=since,
                             window=args.window if args.window is not None else 60.0, route=route,
                             parser=fixed, notify=_warn)
        live.start_watch()
        deadline = None if args.duration is None else time.monotonic() + args.duration
        try:
            _follow_loop(args, out, live, session, deadline)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a live follow ends
        if args.split:
            _print_live_split(session, args.output, out)
        out.flush()
        return 0
    finally:
        if session is not None:
            session.close()
        if live is not None:
            live.stop()
        source.close()


def _follow_loop(args: argparse.Namespace, out: TextIO, live: "LiveIndex", session: "LogSession",
                 deadline: float | None) -> None:
    """Follow until the deadline: print lines, or the split every ``--interval``; re-plan when
    the mesh changes (pods come and go, weights move, the log format changes)."""
    next_print = time.monotonic() + args.interval
    while deadline is None or time.monotonic() < deadline:
        wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
        batch, _changed = session.take(10_000, timeout=wait)
        mesh = live.drain()
        if mesh.failure is not None:
            _warn(f"watch stopped: {mesh.failure}; the followed pods no longer change")
        if mesh.mesh_changed:
            session.mesh_changed(live.index, None if mesh.resynced else mesh.kinds())
        for notice in session.notices():
            _warn(notice)
        if args.split:
            session.process(batch)
            if time.monotonic() >= next_print:
                _print_live_split(session, args.output, out)
                next_print = time.monotonic() + args.interval
        elif batch:
            _print_lines(batch, session, args.output == "json", out)
            out.flush()


def _print_lines(batch: list[tuple[tuple[str, str], str]], session: "LogSession", as_json: bool, out: TextIO) -> None:
    """The lines about the service, each with its pod (unparsed ones raw, marked)."""
    from meshtui.accesslog.render import record_json, record_line, unparsed_line

    ingest = session.ingest
    parse, classify, write = ingest.parser.parse, ingest.plan.classify, out.write
    for pod, line in batch:
        if not line or line.isspace():
            continue
        record = parse(line)
        show, _basis, _subset = classify(pod, record)
        ingest.lines_in += 1
        if not show:
            continue
        ingest.lines_shown += 1
        if record is None:
            ingest.unparsed += 1
            if as_json:
                write(json.dumps({"pod": pod[1], "namespace": pod[0], "unparsed": line}) + "\n")
            else:
                write(f"{pod[1]} {unparsed_line(line)}\n")
        elif as_json:
            write(json.dumps({**record_json(record), "pod": pod[1], "namespace": pod[0]}) + "\n")
        else:
            write(f"{pod[1]} {record_line(record)}\n")


def _print_live_split(session: "LogSession", output: str, out: TextIO) -> None:
    """One refresh of the live split: the basis shown by the Logs screen, as a table or JSON."""
    from meshtui.accesslog.render import split_table

    ingest, weights = session.ingest, session.weights
    basis, stats, rule_only = ingest.split_stats("auto")
    if output == "json":
        obj = stats.summary(weights)
        obj["unparsed"] = ingest.unparsed
        obj.update(time=round(time.time(), 3), basis=basis, route=ingest.route if rule_only else None,
                   pods=len(ingest.plan.pods))
        out.write(json.dumps(obj) + "\n")
    else:
        head = f"# {time.strftime('%H:%M:%S')} {ingest.plan.basis_label(basis)}"
        if rule_only:
            head += f"; rule {ingest.route!r} only"
        out.write(head + "\n" + split_table(stats, weights) + "\n\n")
    out.flush()
