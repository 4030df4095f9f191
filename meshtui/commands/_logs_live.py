"""``meshtui logs SERVICE[.NS]``: follow the sidecar logs of a service's pods live (the pods
the Logs screen follows), printing lines or the observed split until ``--duration`` or Ctrl-C."""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, TextIO

from meshtui.commands.common import CommandError
from meshtui.commands.logs import build_parser, parse_duration, split_service

if TYPE_CHECKING:
    from meshtui.accesslog.ingest import LogIngest
    from meshtui.accesslog.target import FollowPlan, LogTarget
    from meshtui.sources.base import Source

#: Mesh kinds whose change can move the followed pods, the weights or the log format.
_REPLAN_KINDS = frozenset({"Pod", "Service", "Gateway", "VirtualService", "DestinationRule", "ConfigMap"})


class LiveMesh:
    """The mesh index of a live source kept current by its watch (a daemon thread queues the
    events; ``apply`` folds them in on the caller's thread), and what to follow in it."""

    def __init__(self, source: "Source", target: "LogTarget") -> None:
        from meshtui.model.index import MeshIndex

        snapshot = source.snapshot()
        self.source = source
        self.target = target
        self.index = MeshIndex(snapshot.objects)
        self.stop = threading.Event()
        self.events: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._watch, args=(snapshot.resume,), name="logs-watch", daemon=True)
        self._thread.start()

    def _watch(self, resume: dict[str, str]) -> None:
        try:
            for event in self.source.watch(self.stop, resume):
                self.events.put(event)
        except Exception as exc:  # noqa: BLE001 - reported once; the logs keep flowing
            if not self.stop.is_set():
                self.events.put(exc)

    def apply(self) -> tuple[bool, list[str]]:
        """Fold queued watch events into the index: (whether the plan may have changed, problems)."""
        from meshtui.sources.base import ObjectEvent, ResyncEvent

        changed, problems = False, []
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return changed, problems
            if isinstance(event, ObjectEvent):
                obj = event.object
                meta = obj.get("metadata") or {}
                if event.type == "DELETED":
                    self.index.delete(obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))
                else:
                    self.index.upsert(obj)
                changed = changed or obj.get("kind") in _REPLAN_KINDS
            elif isinstance(event, ResyncEvent):
                self.index.replace_kinds(event.kinds, event.objects)
                changed = True
            elif isinstance(event, Exception):
                problems.append(f"watch stopped: {event}; the followed pods no longer change")

    def plan(self) -> "FollowPlan":
        """The pods to follow now; ``CommandError`` when the service is missing."""
        from meshtui.accesslog.target import plan_follow

        plan = plan_follow(self.index, self.target)
        if plan.missing:
            raise CommandError(plan.missing)
        return plan

    def close(self) -> None:
        """Stop the watch (its thread is a daemon: it ends with the source)."""
        self.stop.set()


def follow_service(args: argparse.Namespace, out: TextIO) -> int:
    """Follow SERVICE[.NS] live (see the module docstring) until ``--duration`` or Ctrl-C."""
    from meshtui.accesslog.ingest import LogIngest
    from meshtui.accesslog.target import LogTarget, default_rule
    from meshtui.commands.common import open_source, source_failure, source_kind
    from meshtui.sources.base import SourceError
    from meshtui.sources.log_follow import LogFollower

    since = parse_duration(args.since) if args.since else None
    if args.tail is not None and args.tail < 0:
        raise CommandError(f"--tail {args.tail}: must be 0 or more")
    name, namespace = split_service(args.service, getattr(args, "namespace", None))
    target = LogTarget("Service", namespace, name)
    source = open_source(args)
    mesh: LiveMesh | None = None
    follower: LogFollower | None = None
    try:
        try:
            mesh = LiveMesh(source, target)
        except SourceError as exc:
            raise source_failure(exc) from None
        plan = mesh.plan()
        if source_kind(args) == "files":
            raise CommandError(f"--files {args.files}: manifests on disk have no pod logs to follow")
        mc = mesh.index.mesh_config
        parser = build_parser(args, mc.access_log_format, mc.access_log_encoding)
        rule = default_rule(mesh.index, target)
        route = None if args.route == "all" else (args.route or rule.name)
        ingest = LogIngest(parser, plan, args.window if args.window is not None else 60.0, route=route)
        follower = LogFollower(source, tail_lines=args.tail, since_seconds=since)
        follower.set_pods(plan.pods)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        try:
            _follow_loop(args, out, mesh, follower, ingest,
                         rule.weights if route in (None, rule.name) else {}, deadline)
        except KeyboardInterrupt:
            pass  # Ctrl-C is how a live follow ends
        if args.split:
            rule = default_rule(mesh.index, target)
            _print_live_split(ingest, rule.weights if ingest.route in (None, rule.name) else {}, args.output, out)
        out.flush()
        return 0
    finally:
        if follower is not None:
            follower.close()
        if mesh is not None:
            mesh.close()
        source.close()


def _follow_loop(args: argparse.Namespace, out: TextIO, mesh: LiveMesh, follower: Any, ingest: "LogIngest",
                 weights: dict[str, float], deadline: float | None) -> None:
    """Drain the follower until the deadline: print lines, or the split every ``--interval``."""
    from meshtui.accesslog.target import default_rule

    next_print = time.monotonic() + args.interval
    explicit_route = args.route is not None
    while deadline is None or time.monotonic() < deadline:
        wait = 0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic()))
        batch = follower.drain(10_000, timeout=wait)
        changed, problems = mesh.apply()
        for problem in problems:
            print(f"meshtui: {problem}", file=sys.stderr)
        if changed:
            plan = mesh.plan() if mesh.index.get("Service", mesh.target.namespace, mesh.target.name) else None
            if plan is not None:
                ingest.plan = plan
                follower.set_pods(plan.pods)
            rule = default_rule(mesh.index, mesh.target)
            if not explicit_route:
                ingest.route = rule.name
            # Configured weights are the default rule's: shown next to its lines or every line.
            weights = rule.weights if ingest.route in (None, rule.name) else {}
        for notice in follower.take_notices():
            print(f"meshtui: {notice}", file=sys.stderr)
        if args.split:
            ingest.process(batch)
            if time.monotonic() >= next_print:
                _print_live_split(ingest, weights, args.output, out)
                next_print = time.monotonic() + args.interval
        elif batch:
            _print_lines(batch, ingest, args.output == "json", out)
            out.flush()


def _print_lines(batch: list[tuple[tuple[str, str], str]], ingest: "LogIngest", as_json: bool, out: TextIO) -> None:
    """The lines about the service, each with its pod (unparsed ones raw, marked)."""
    from meshtui.accesslog.render import record_json, record_line, unparsed_line

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


def _print_live_split(ingest: "LogIngest", weights: dict[str, float], output: str, out: TextIO) -> None:
    """One refresh of the live split: the basis shown by the Logs screen, as a table or JSON."""
    from meshtui.accesslog.render import split_table

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
