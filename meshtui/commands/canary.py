"""``meshtui canary [httproute/]ROUTE --to DEST --step N --interval DURATION --max W [--max-error-rate PCT]
[--max-p99 MS] [--min-requests N] [--threshold N] [--basis logs|prometheus [--prometheus URL]] [--rule R]
[--ignore-owner] [--yes]``: the supervised canary autopilot (``meshtui.session.canary_run``).

Steps DEST's weight by N points every DURATION up to W, each step through the one write path,
gating on DEST's and the baseline's error rate and p99 over the interval; after ``--threshold``
failed checks it rolls back to the weights it started from. Exit: 0 reached ``--max``, 5 aborted
and rolled back, 3 conflict (someone else changed the route: stopped, nothing overwritten), 4
read-only, 2 usage / not confirmed / source unreachable (stopped without writing), 1 an edit
the checks refused, 8 a write of unknown outcome, 130 interrupted (Ctrl-C: the last applied
step stays).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from meshtui.commands._verify import add_basis_arguments
from meshtui.commands.common import CommandError, add_source_arguments


def _duration(text: str) -> float:
    from meshtui.session.canary_run import parse_interval

    try:
        return parse_interval(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be positive")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a number") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: must be zero or more")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``canary`` subcommand."""
    parser = sub.add_parser(
        "canary", help="step a destination's weight up, gated on its traffic, with rollback",
        description=(
            "Move DEST's weight by --step points every --interval up to --max, each step through the "
            "write path (diff, validation, dry run, precondition, audit), gated on DEST's and the "
            "baseline's error rate and p99; after --threshold failed checks roll back to the starting "
            "weights. Exit: 0 reached --max, 5 rolled back, 3 conflict, 4 read-only, 2 usage or stopped "
            "without writing, 130 interrupted (the last step stays)."),
    )
    parser.add_argument("name", metavar="ROUTE",
                        help="the VirtualService NAME[.NS], or httproute/NAME[.NS] (grpcroute/NAME) for a GAMMA route")
    parser.add_argument("--to", required=True, metavar="DEST",
                        help="the destination to move traffic to (subset, host or HOST/SUBSET; an HTTPRoute's "
                             "backendRef NAME)")
    parser.add_argument("--step", required=True, type=_positive_int, metavar="N", help="points per step")
    parser.add_argument("--interval", required=True, type=_duration, metavar="DURATION",
                        help="how long each step is watched before its gate (30s, 2m, 500ms)")
    parser.add_argument("--max", required=True, type=_positive_int, dest="max_weight", metavar="W",
                        help="the weight to stop at (promotion stays a separate command)")
    parser.add_argument("--max-error-rate", type=_non_negative, default=1.0, metavar="PCT",
                        help="highest error rate (5xx or failure flag) in percent (default 1)")
    parser.add_argument("--max-p99", type=_non_negative, default=None, metavar="MS",
                        help="highest p99 latency in ms (default: not checked)")
    parser.add_argument("--min-requests", type=_positive_int, default=20, metavar="N",
                        help="fewest requests to DEST a gate rests on (default 20; fewer fails the check)")
    parser.add_argument("--threshold", type=_positive_int, default=2, metavar="N",
                        help="failed checks before the rollback, as Flagger's threshold (default 2)")
    add_basis_arguments(parser, "the gates", "the logs, or Prometheus with --prometheus URL")
    parser.add_argument("--rule", metavar="N|NAME", help="the http rule (default as for meshtui shift)")
    parser.add_argument("--ignore-owner", action="store_true",
                        help="run even on a route that Flagger, Argo Rollouts or a GitOps controller owns")
    parser.add_argument("-y", "--yes", action="store_true", help="start without asking (needed without a terminal)")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui canary``."""
    from meshtui.analysis.canary_gate import GateLimits
    from meshtui.commands._writing import _ask, _interactive, make_writer, split_name, split_route_name
    from meshtui.commands.common import open_source
    from meshtui.session.canary_run import CanaryConfig, CanaryRun

    from meshtui.commands._verify import check_basis_arguments, prometheus_client
    from meshtui.session.observed_split_prometheus import observer_factory

    check_basis_arguments(args)
    if args.max_weight > 100:
        raise CommandError(f"--max {args.max_weight}: a weight is at most 100", 2)
    kind, bare = split_route_name(args.name)
    name, namespace = split_name(bare, getattr(args, "namespace", None))
    limits = GateLimits(args.max_error_rate, args.max_p99, args.min_requests, args.threshold)
    config = CanaryConfig(name, namespace, args.to, args.step, args.interval, args.max_weight, limits,
                          args.rule, args.ignore_owner, kind)
    if not args.yes:
        if not _interactive():
            raise CommandError("not a terminal, so not confirmed: nothing was written (pass --yes to start)", 2)
        if not _ask(f"Run a canary of {args.to} on {namespace}/{name} up to {args.max_weight}%, "
                    f"{args.step} points every {args.interval:g} s?"):
            raise CommandError("cancelled: nothing was written", 2)
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # Ctrl-C ends the run between two checks, never inside a write.
        previous = signal.signal(signal.SIGINT, lambda _sig, _frame: stop.set())
    source = open_source(args)
    try:
        metrics = args.basis == "prometheus" or (args.basis is None and args.prometheus)
        client = prometheus_client(args, source) if metrics else None
        runner = CanaryRun(source, make_writer(args), config, emit=lambda line: print(line, flush=True),
                           cancelled=stop.is_set, observer_factory=observer_factory(client))
        report = runner.run()
    finally:
        source.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    for detail in report.details:
        sys.stderr.write(detail)
    if report.exit_code in (0, 5, 130):
        print(report.message, flush=True)
    else:
        print(f"meshtui: {report.message}", file=sys.stderr, flush=True)
    return report.exit_code
