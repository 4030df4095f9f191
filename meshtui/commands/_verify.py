"""``--verify [SECONDS]`` of the weight-changing commands (shift, promote, rollback): after the
write, wait for the proxies to have it, watch the changed rule's traffic for SECONDS and print
the outcome verdict (``meshtui.session.outcome_check``). Exit 6 when it diverges; otherwise the
command's own exit code (0) stands, with ``no traffic`` said as such."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshtui.sources.base import Source
    from meshtui.sources.prometheus import PrometheusClient
    from meshtui.write.apply import Outcome

#: Exit code of a command whose change was applied but traffic does not follow it.
EXIT_DIVERGING = 6
#: How long ``--verify`` watches when no SECONDS are given (here, not in the outcome check, so
#: building any command's parser does not import the analysis engine).
DEFAULT_VERIFY_SECONDS = 30.0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 < SECONDS <= 3600")
    return value


def add_verify_argument(parser: argparse.ArgumentParser) -> None:
    """``--verify [SECONDS]`` (default 30 s when given without a number)."""
    parser.add_argument("--verify", nargs="?", type=_seconds, const=DEFAULT_VERIFY_SECONDS, default=None,
                        metavar="SECONDS", help="after applying, watch the rule's traffic for SECONDS "
                        f"(default {DEFAULT_VERIFY_SECONDS:g}) and print the outcome: converged, diverging "
                        "(exit 6) or no traffic")
    add_basis_arguments(parser, "--verify", "Prometheus when one is given or found, else the logs")


def add_basis_arguments(parser: argparse.ArgumentParser, applies: str, default: str) -> None:
    """``--basis logs|prometheus`` (not given: ``default`` says what is used) and how to reach
    Prometheus (as ``meshtui logs --split``)."""
    parser.add_argument("--basis", choices=("logs", "prometheus"), default=None,
                        help=f"{applies}: measure the traffic from the sidecars' access logs or from Istio's "
                             f"metrics in Prometheus (default: {default})")
    parser.add_argument("--prometheus", metavar="URL", default=None,
                        help="Prometheus's address for --basis prometheus (default: the settings file's, else "
                             "Service prometheus in istio-system through the API server)")
    parser.add_argument("--prometheus-token-file", metavar="FILE", default=None,
                        help="bearer token for --prometheus, read from FILE")
    parser.add_argument("--prometheus-ca", metavar="FILE", default=None,
                        help="CA bundle that signed --prometheus's certificate")


def check_basis_arguments(args: argparse.Namespace, needs: str | None = None) -> None:
    """Refuse basis flags that cannot apply; ``needs``: the flag they go with (``--verify``),
    when it is not given."""
    from meshtui.commands.common import CommandError

    given = [flag for flag, value in (("--basis", args.basis), ("--prometheus", args.prometheus),
                                      ("--prometheus-token-file", args.prometheus_token_file),
                                      ("--prometheus-ca", args.prometheus_ca)) if value]
    if needs is not None and given and getattr(args, needs.lstrip("-"), None) is None:
        raise CommandError(f"{given[0]}: only with {needs}", 2)
    if (args.prometheus_token_file or args.prometheus_ca) and not args.prometheus:
        raise CommandError(f"{'--prometheus-token-file' if args.prometheus_token_file else '--prometheus-ca'}: "
                           "only with --prometheus URL", 2)
    if args.basis == "logs" and args.prometheus:
        raise CommandError("--prometheus with --basis logs: choose one basis", 2)


def prometheus_client(args: argparse.Namespace, source: "Source") -> "PrometheusClient | None":
    """The Prometheus of ``--basis`` (None: the logs basis); ``CommandError`` (exit 2, nothing
    written) when ``--basis prometheus`` finds none that answers."""
    from meshtui.commands.common import CommandError
    from meshtui.commands.logs_metrics import choose

    try:
        return choose(args, source).client
    except CommandError as exc:
        raise CommandError(f"{exc}; nothing was written", 2) from None


def say(line: str) -> None:
    """A progress line on stderr (stdout keeps the diff and the verdict)."""
    print(f"meshtui: {line}", file=sys.stderr, flush=True)


def run_verify(args: argparse.Namespace, outcome: "Outcome") -> int:
    """Propagation, then the outcome verdict of the applied ``outcome``; the exit code."""
    from meshtui.model.index import MeshIndex
    from meshtui.session.outcome_check import OutcomeError, changed_rule, is_gateway_route, verify_outcome
    from meshtui.sources.base import SourceError
    from meshtui.write.propagation import client_proxies, poll_propagation

    stored = outcome.stored or outcome.plan.new
    rule = changed_rule(outcome.plan.base, stored)
    if rule is None:
        say("verify: the change moved no weight, so there is no split to check")
        return 0
    source = outcome.plan.source
    if not source.capabilities.logs:
        say(f"verify: {source.description} has no traffic to watch (no pod logs); the change is applied")
        return 0
    try:
        index = MeshIndex(source.snapshot().objects)
    except SourceError as exc:
        say(f"verify: cannot read the mesh to watch its traffic: {exc}")
        return 2
    if is_gateway_route(stored):
        # The proxies' routes istiod builds from an HTTPRoute are not compared with it yet.
        say("verify: propagation of a Gateway API route is not checked; watching its traffic from now")
    elif source.capabilities.live_proxies:
        report = poll_propagation(source, outcome.plan.base, stored, client_proxies(index, stored))
        print(report.summary(), flush=True)
    from meshtui.commands.common import CommandError
    from meshtui.commands.logs_metrics import choose
    from meshtui.session.observed_split_prometheus import observer_factory

    try:
        client = choose(args, source).client
    except CommandError as exc:
        say(f"verify: {exc}; the change is applied")
        return 2
    seconds = float(args.verify)
    say(f"verify: watching the traffic of rule #{rule} for {seconds:g} s "
        f"({'from Prometheus' if client is not None else 'from the access logs'})…")
    try:
        verdict = verify_outcome(source, index, stored, rule, seconds, since=time.time(),
                                 observer_factory=observer_factory(client))
    except OutcomeError as exc:
        say(f"verify: {exc}")
        return 0
    print(verdict.summary(), flush=True)
    if verdict.basis:
        say(f"verify: measured {verdict.basis}")
    if verdict.diverging:
        say("verify: the change stays applied; `meshtui undo` (same source flags) reverts it")
        return EXIT_DIVERGING
    return 0
