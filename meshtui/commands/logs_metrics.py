"""``meshtui logs SERVICE --split --basis prometheus|logs``: choosing the basis, and the metrics one.

``--basis prometheus`` takes the split from Istio's metrics in Prometheus (``--prometheus URL``
with ``--prometheus-token-file`` / ``--prometheus-ca``, else the settings file's ``[prometheus]``,
else a ``prometheus`` Service in ``istio-system`` through the API server's service proxy): one
split over ``--window`` (default 60 s) printed at once, or every ``--interval`` until
``--duration`` ends. Any failure (unreachable, a bad query, no requests in the window) is one
line on stderr and exit 1, with nothing on stdout (bad flags exit 2, as every usage error). ``--basis logs`` is the access-log split as
before. Without ``--basis`` a Prometheus that is given or found and answers is used, else the logs,
with one line on stderr saying why.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from meshtui.commands.common import CommandError

if TYPE_CHECKING:
    from meshtui.accesslog.target import LogTarget
    from meshtui.session.live_index import LiveIndex
    from meshtui.session.split_basis import BasisChoice, ObservedSplit
    from meshtui.sources.base import Source

#: The window of the metrics basis without ``--window``.
DEFAULT_WINDOW_S = 60.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The basis flags of ``meshtui logs``."""
    parser.add_argument("--basis", choices=("prometheus", "logs"), default=None,
                        help="live --split: take the split from Istio's metrics in Prometheus or from the access "
                        "logs (default: Prometheus when one is given or found, else the logs)")
    parser.add_argument("--prometheus", metavar="URL", default=None,
                        help="Prometheus's address (default: the settings file's, else Service prometheus in "
                        "istio-system through the API server)")
    parser.add_argument("--prometheus-token-file", metavar="FILE", default=None,
                        help="bearer token for --prometheus, read from FILE")
    parser.add_argument("--prometheus-ca", metavar="FILE", default=None,
                        help="CA bundle that signed --prometheus's certificate")


def check_arguments(args: argparse.Namespace) -> None:
    """Refuse basis flags that cannot apply (``--file``, no ``--split``)."""
    given = [flag for flag, value in (("--basis", args.basis), ("--prometheus", args.prometheus),
                                      ("--prometheus-token-file", args.prometheus_token_file),
                                      ("--prometheus-ca", args.prometheus_ca)) if value]
    if args.file is not None and given and args.basis != "logs":
        # A saved file is the logs basis already; Prometheus knows nothing of it.
        raise CommandError(f"{given[0]}: only for a live SERVICE[.NS], not --file")
    if given and not args.split and args.file is None:
        raise CommandError(f"{given[0]}: only with --split")
    if (args.prometheus_token_file or args.prometheus_ca) and not args.prometheus:
        raise CommandError(f"{given[0]}: only with --prometheus URL")
    if args.basis == "logs" and args.prometheus:
        raise CommandError("--prometheus with --basis logs: choose one basis")


def choose(args: argparse.Namespace, source: "Source") -> "BasisChoice":
    """The basis of a live ``--split``; ``CommandError`` when ``--basis prometheus`` has none."""
    from meshtui.session.split_basis import PrometheusOptions, find_prometheus, load_prometheus_settings, logs_basis

    if args.basis == "logs":
        return logs_basis("--basis logs")
    if args.prometheus:
        token = None
        if args.prometheus_token_file:
            try:
                token = Path(args.prometheus_token_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CommandError(f"--prometheus-token-file {args.prometheus_token_file}: "
                                   f"{exc.strerror or exc}") from None
        options = PrometheusOptions(url=args.prometheus, token=token, ca_file=args.prometheus_ca)
    else:
        options, problems = load_prometheus_settings()
        for line in problems:
            print(f"meshtui: {line}", file=sys.stderr)
    choice = find_prometheus(source, options)
    if choice.client is None and (args.basis == "prometheus" or args.prometheus):
        raise CommandError(f"--basis prometheus: {choice.reason}", exit_code=1)
    return choice


def run_metrics(args: argparse.Namespace, out: TextIO, choice: "BasisChoice", live: "LiveIndex",
                target: "LogTarget") -> int:
    """Print the metrics split once, or every ``--interval`` until ``--duration`` (exit 0)."""
    from meshtui.accesslog.target import configured_weights
    from meshtui.session.split_basis import metrics_split, split_context
    from meshtui.sources.prometheus import PrometheusError

    assert choice.client is not None
    window = args.window if args.window is not None else DEFAULT_WINDOW_S
    deadline = None if args.duration is None else time.monotonic() + args.duration
    while True:
        live.drain()  # weights edited meanwhile are the ones compared with
        weights = configured_weights(live.index, target)
        try:
            split = metrics_split(choice.client, split_context(live.index, target), target, window, weights)
        except PrometheusError as exc:
            raise CommandError(str(exc), exit_code=1) from None
        print_split(split, args.output, out)
        if deadline is None or time.monotonic() + args.interval >= deadline:
            return 0
        time.sleep(args.interval)  # the next refresh; a Prometheus answer is already a window's worth


def print_split(split: "ObservedSplit", output: str, out: TextIO) -> None:
    """One split as JSON (the shared contract) or as a table headed by its basis."""
    if output == "json":
        out.write(json.dumps(split.summary()) + "\n")
        out.flush()
        return
    header = ["CLUSTER", "SUBSET", "REQUESTS", "RATE/S", "SHARE", "WEIGHT", "ERRORS", "ERR%", "P50", "P95", "P99"]
    table = [header]

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.1f}%"

    def ms(value: int | None) -> str:
        return "-" if value is None else f"{value}ms"

    for r in split.rows:
        table.append([r.cluster, r.subset or "-", str(r.requests), "-" if r.rate is None else f"{r.rate:.2f}",
                      pct(r.share), pct(r.weight), str(r.errors), pct(r.error_rate), ms(r.p50_ms), ms(r.p95_ms),
                      ms(r.p99_ms)])
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [f"# {time.strftime('%H:%M:%S')} observed {split.label}, window {split.window:g}s"]
    lines += ["  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(row)).rstrip()
              for row in table]
    if split.rollups.groups:
        lines.append("errors:")
        lines.extend(f"  {g.describe()}" for g in split.rollups.groups)
    out.write("\n".join(lines) + "\n\n")
    out.flush()
