"""``meshtui logs``: parse sidecar access logs, from a saved file or live from a service's pods.

``meshtui logs --file PATH|- [--split] [-o text|json] [--log-format FMT] [--duration S]`` reads
a saved log to its end (or for ``--duration`` seconds) and exits; a line longer than 64 KiB is
cut there with one warning, so memory stays bounded whatever the input (``_line_reader``). Without ``--split`` every line is printed parsed (one line each, or one
JSON object each); lines that do not parse are printed raw, marked ``unparsed:``. With
``--split`` the observed split per upstream cluster is printed as a table or one JSON object.

``meshtui logs SERVICE[.NS] [source flags] [--since D] [--tail N] [--split] [--duration S]``
follows the ``istio-proxy`` logs of the pods the Logs screen follows (``plan_follow``: the
service's pods and the client pods in its namespace, plus the gateways that route to it) with
one ``LogFollower``; the source's watch keeps the mesh index current, so pods that appear join
and pods that go away leave. It prints the lines about the service (newest last, each with its
pod), or with ``--split`` the observed split every ``--interval`` seconds (a table, or one JSON
object per line). It stops after ``--duration`` seconds or on Ctrl-C (exit 0). The mesh
config's ``accessLogFormat``/``accessLogEncoding`` are used when the cluster sets them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

from meshtui.commands.common import CommandError, add_source_arguments

if TYPE_CHECKING:
    from meshtui.accesslog.parser import Parser
    from meshtui.accesslog.stats import SplitStats
    from meshtui.session.live_index import LiveIndex
    from meshtui.session.log_session import LogSession

#: How often the live ``--split`` view is reprinted (``--interval``).
LIVE_SPLIT_INTERVAL_S = 2.0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``logs`` subcommand."""
    parser = sub.add_parser(
        "logs",
        help="parse istio-proxy access logs and show the observed traffic split",
        description=(
            "Parse Envoy access logs of Istio sidecars: from a saved file (--file PATH, or - "
            "for stdin) or live from every pod of SERVICE[.NS]. --split shows the observed "
            "split per subset with error rate and p50/p95/p99 latency."
        ),
    )
    parser.add_argument("service", nargs="?", metavar="SERVICE[.NS]", help="follow this service's pods")
    parser.add_argument("--file", metavar="PATH|-", help="read a saved log ('-' for stdin) and exit")
    parser.add_argument("--split", action="store_true", help="show the observed split, not the lines")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    parser.add_argument(
        "--log-format",
        metavar="FMT",
        help="Envoy format string (TEXT) or JSON object of key: %%OPERATOR%% (JSON); "
        "default: the mesh config's, else Istio's default",
    )
    parser.add_argument(
        "--log-encoding",
        choices=("TEXT", "JSON", "text", "json"),
        help="encoding of the lines (default: detected per line)",
    )
    parser.add_argument(
        "--window",
        type=float,
        metavar="SECONDS",
        help="sliding window of the split statistics (default: the whole file with --file, 60 live)",
    )
    parser.add_argument("--since", metavar="D", help="live: only lines newer than D (e.g. 30s, 5m, 1h)")
    parser.add_argument("--tail", type=int, metavar="N", help="live: start with the last N lines of each pod")
    parser.add_argument("--duration", type=float, metavar="S",
                        help="stop after S seconds (live, or reading --file; default: Ctrl-C / end of file)")
    parser.add_argument("--interval", type=float, metavar="S", default=LIVE_SPLIT_INTERVAL_S,
                        help=f"live --split: seconds between refreshes (default {LIVE_SPLIT_INTERVAL_S:g})")
    parser.add_argument("--route", metavar="NAME",
                        help="live --split: count this rule's lines only (%%ROUTE_NAME%%); 'all' counts every "
                        "rule (default: the rule the configured weights come from, when it has a name)")
    from meshtui.commands import logs_metrics

    logs_metrics.add_arguments(parser)
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui logs``."""
    if args.file is not None and args.service:
        raise CommandError("give either SERVICE[.NS] or --file, not both")
    if args.file is None and not args.service:
        raise CommandError("logs needs SERVICE[.NS] or --file PATH|-")
    if args.window is not None and not (args.window > 0 and args.window != float("inf")):
        raise CommandError(f"--window {args.window}: must be a positive number of seconds")
    for flag in ("duration", "interval"):
        value = getattr(args, flag, None)
        if value is not None and not (0 < value < float("inf")):
            raise CommandError(f"--{flag} {value:g}: must be a positive number of seconds")
    from meshtui.commands.logs_metrics import check_arguments

    check_arguments(args)
    if args.file is not None:
        return read_file(args, sys.stdout)
    return follow_service(args, sys.stdout)


def build_parser(args: argparse.Namespace) -> "Parser":
    """The parser ``--log-format``/``--log-encoding`` ask for (Istio's default without them)."""
    from meshtui.accesslog.parser import FormatError, make_parser

    try:
        if args.log_format or args.log_encoding:
            return make_parser(args.log_format, args.log_encoding)
        return make_parser()
    except FormatError as exc:
        raise CommandError(f"--log-format: {exc}") from None


def read_file(args: argparse.Namespace, out: TextIO) -> int:
    """``--file``: parse a saved log to its end and print lines or the split."""
    from meshtui.accesslog.stats import SplitStats

    from meshtui.commands._line_reader import BoundedLines

    parser = build_parser(args)
    stats = SplitStats(window=args.window)
    path = args.file
    deadline = None if args.duration is None else time.monotonic() + args.duration

    def warn(text: str) -> None:
        print(f"meshtui: {text}", file=sys.stderr)

    def read(stream: Any, size: int | None) -> None:
        if args.split:
            from meshtui.commands import logs_parallel

            if size is not None and logs_parallel.can_split(path, size, args):
                logs_parallel.count_in_parts(path, size, parser, stats, args, ReadProgress(path, size), warn)
                return
        reader = BoundedLines(stream, warn, deadline=deadline)
        if args.split:
            count_split(reader, parser, stats, args, out, ReadProgress(path, size))
        else:
            consume(reader, parser, stats, args, out)

    if path == "-":
        read(sys.stdin, None)
    else:
        try:
            handle = open(path, "rb")
        except FileNotFoundError:
            raise CommandError(f"--file {path}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"--file {path}: is a directory") from None
        except OSError as exc:
            raise CommandError(f"--file {path}: {exc.strerror or exc}") from None
        with handle:
            try:
                info = os.fstat(handle.fileno())
                read(handle, info.st_size if stat.S_ISREG(info.st_mode) else None)
            except OSError as exc:
                raise CommandError(f"--file {path}: {exc.strerror or exc}") from None
    if args.split:
        print_split(stats, args.output, out)
    return report_formats(parser, stats, given=bool(args.log_format or args.log_encoding))


#: What to do when lines do not parse.
FORMAT_HINT = ("give the proxy's format with --log-format (the mesh config's accessLogFormat: "
               "kubectl -n istio-system get configmap istio -o jsonpath='{.data.mesh}')")


def report_formats(parser: "Parser", stats: "SplitStats", given: bool) -> int:
    """Say on stderr which formats the lines were in and how many did not parse, with a hint when
    most did not; the exit status: 1 when no line parsed, else 0."""
    from meshtui.accesslog.detect import DetectingParser

    parsed = stats.lines - stats.unparsed
    if isinstance(parser, DetectingParser) and parsed:
        _warn(f"format: {parser.used()}")
    if not stats.unparsed:
        return 0
    known = "the --log-format given" if given else "any known format (Istio's defaults 1.0 to today, Envoy's, JSON)"
    if not parsed:
        _warn(f"none of the {stats.lines:,} lines is an access log line in {known}; {FORMAT_HINT}")
        return 1
    if 2 * stats.unparsed > stats.lines:
        _warn(f"{stats.unparsed:,} of {stats.lines:,} lines did not parse in {known}; {FORMAT_HINT}")
    else:
        _warn(f"{stats.unparsed:,} of {stats.lines:,} lines did not parse")
    return 0


class ReadProgress:
    """A progress line on stderr for a read that takes more than a second: one line a second
    (rewritten in place on a terminal), and a last one saying how long it took."""

    AFTER_S = 1.0

    def __init__(self, path: str, size: int | None, stream: TextIO | None = None) -> None:
        self.label = "stdin" if path == "-" else path
        self.size = size
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._next = self.started + self.AFTER_S
        self._shown = False
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def tick(self, done_bytes: int, lines: int) -> None:
        """Called after each block: print when the next second has come."""
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + 1.0
        mb = done_bytes / 1e6
        where = f"{100 * done_bytes / self.size:.0f}% ({mb:,.0f} of {self.size / 1e6:,.0f} MB)" if self.size else f"{mb:,.0f} MB"
        rate = lines / (now - self.started)
        self._write(f"meshtui: reading {self.label}: {where}, {lines:,} lines, {rate:,.0f} lines/s")

    def done(self, lines: int) -> None:
        """The read ended: say so when progress was shown."""
        if self._shown:
            seconds = time.monotonic() - self.started
            self._write(f"meshtui: read {self.label}: {lines:,} lines in {seconds:.1f} s")
            if self._tty:
                self.stream.write("\n")
            self.stream.flush()

    def _write(self, text: str) -> None:
        self._shown = True
        if self._tty:
            self.stream.write("\r\x1b[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


def count_split(reader: Any, parser: "Parser", stats: "SplitStats", args: argparse.Namespace, out: TextIO,
                progress: Any, *, detect: bool = True) -> None:
    """``--file --split``: count the reader's blocks of lines, in bulk where the format allows
    (``meshtui.accesslog.bulk``), the lines it does not take one by one (``consume``).

    ``progress`` has ``tick(bytes, lines)`` and ``done(lines)`` (a ``ReadProgress``);
    ``detect=False`` keeps the format order the parser already has (one part of a file whose
    format was detected on its first lines).
    """
    from meshtui.accesslog.bulk import BulkSplit
    from meshtui.accesslog.detect import DetectingParser

    detecting = parser if isinstance(parser, DetectingParser) else None
    bulk: BulkSplit | None = None
    bulk_format = ""
    first = True
    for block in reader.blocks():
        if first:
            first = False
            if detecting is not None:
                if detect:
                    detecting.detect(block[:200])  # the bulk pass takes the format of most lines
                bulk_format = detecting.front
            bulk = BulkSplit.for_parser(parser) if stats.window is None else None
        rest = bulk.add(block, stats) if bulk is not None else block
        if rest:
            consume(rest, parser, stats, args, out)
        progress.tick(reader.bytes_read, stats.lines + (bulk.pending if bulk is not None else 0))
    if bulk is not None:
        bulk.flush(stats)
        if detecting is not None:
            detecting.credit(bulk_format, bulk.taken)
    progress.done(stats.lines)


def consume(
    lines: Iterable[str],
    parser: "Parser",
    stats: "SplitStats",
    args: argparse.Namespace,
    out: TextIO,
    *,
    prefix: str = "",
    subset: str | None = None,
) -> None:
    """Parse ``lines``; with ``--split`` feed ``stats``, else print each line (unparsed ones raw).

    Blank lines carry nothing and are skipped; every other line is either counted or shown.
    """
    from meshtui.accesslog.prefix import parse_prefixed
    from meshtui.accesslog.render import record_json, record_line, unparsed_line

    split = args.split
    as_json = args.output == "json"
    parse = parser.parse
    write = out.write
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        record = parse(line)
        if record is None:
            record = parse_prefixed(line, parse)
        if record is None:
            stats.add_unparsed(line)
            if not split:
                if as_json:
                    obj: dict[str, Any] = {"unparsed": line}
                    if prefix:
                        obj["pod"] = prefix
                    write(json.dumps(obj) + "\n")
                else:
                    write((f"{prefix} " if prefix else "") + unparsed_line(line) + "\n")
            continue
        if split:
            stats.add(record, subset=subset if record.cluster.direction == "inbound" else None)
        else:
            stats.lines += 1
            if as_json:
                obj = record_json(record)
                if prefix:
                    obj["pod"] = prefix
                write(json.dumps(obj) + "\n")
            else:
                write((f"{prefix} " if prefix else "") + record_line(record) + "\n")


def print_split(stats: "SplitStats", output: str, out: TextIO) -> None:
    """Print the split as a table or as one JSON object."""
    from meshtui.accesslog.render import split_table

    if output == "json":
        out.write(json.dumps(stats.summary()) + "\n")
    else:
        out.write(split_table(stats) + "\n")
    out.flush()


# --- live --------------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """``30s``, ``5m``, ``1h30m`` or plain seconds -> seconds; ``CommandError`` otherwise."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    parts = re.findall(r"(\d+)([smhd])", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise CommandError(f"--since {text}: not a duration (use e.g. 30s, 5m, 1h)")
    factor = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * factor[u] for n, u in parts)


def split_service(text: str, default_ns: str | None) -> tuple[str, str]:
    """``reviews.bookinfo`` -> (``reviews``, ``bookinfo``); without a namespace, ``default_ns``
    (``-n``) or ``default``."""
    name, _, ns = text.partition(".")
    if not name:
        raise CommandError(f"{text}: not a service name (SERVICE[.NS])")
    return name, ns or default_ns or "default"


# -- following a service live ----------------------------------------------------------------


def _warn(line: str) -> None:
    print(f"meshtui: {line}", file=sys.stderr)


def follow_service(args: argparse.Namespace, out: TextIO) -> int:
    """Follow SERVICE[.NS] live (see the module docstring) until ``--duration`` or Ctrl-C."""
    from meshtui.accesslog.target import LogTarget, plan_follow
    from meshtui.commands.common import open_source, source_failure
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
            raise source_failure(exc) from None
        missing = plan_follow(live.index, target).missing
        if missing:
            raise CommandError(missing)
        if args.split:
            from meshtui.commands import logs_metrics

            choice = logs_metrics.choose(args, source)
            if choice.client is not None:
                return logs_metrics.run_metrics(args, out, choice, live, target)
            if args.basis is None:
                _warn(choice.status)
        if not source.capabilities.logs:
            raise CommandError(f"--files {args.files}: no pod logs saved below it (NS/POD/logs.txt, as kubectl cluster-info dump writes them)")
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

    from meshtui.accesslog.prefix import parse_prefixed

    ingest = session.ingest
    parse, classify, write = ingest.parser.parse, ingest.plan.classify, out.write
    for pod, line in batch:
        if not line or line.isspace():
            continue
        record = parse(line) or parse_prefixed(line, parse)
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
    """One refresh of the live split: the basis shown by the Logs screen, as a table or JSON
    (an ambient service adds its L4 section from ztunnel's logs: ``l4``)."""
    from meshtui.accesslog.l4_window import l4_json, l4_table
    from meshtui.accesslog.render import split_table

    ingest, weights = session.ingest, session.weights
    basis, stats, rule_only = ingest.split_stats("auto")
    panel = ingest.panel("auto", weights)
    if output == "json":
        obj = stats.summary(weights)
        obj["rows"] = [{**row, "basis": "logs"} for row in obj["rows"]]
        obj["unparsed"] = ingest.unparsed
        obj.update(time=round(time.time(), 3), basis=basis, route=ingest.route if rule_only else None,
                   pods=len(ingest.plan.pods), bypassed=[h.to_dict() for h in panel.bypassed])
        if panel.l4 is not None:
            obj["l4"] = l4_json(panel.l4)
        out.write(json.dumps(obj) + "\n")
    else:
        head = f"# {time.strftime('%H:%M:%S')} {ingest.plan.basis_label(basis)}"
        if rule_only:
            head += f"; rule {ingest.route!r} only"
        note = f"bypassed: {panel.bypass_note}\n" if panel.bypass_note else ""
        if panel.l4 is not None:
            note += l4_table(panel.l4) + "\n"
        out.write(head + "\n" + split_table(stats, weights) + "\n" + note + "\n")
    out.flush()
