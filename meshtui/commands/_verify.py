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
    from meshtui.write.apply import Outcome

#: Exit code of a command whose change was applied but traffic does not follow it.
EXIT_DIVERGING = 6


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
    from meshtui.session.outcome_check import DEFAULT_VERIFY_SECONDS

    parser.add_argument("--verify", nargs="?", type=_seconds, const=DEFAULT_VERIFY_SECONDS, default=None,
                        metavar="SECONDS", help="after applying, watch the rule's traffic for SECONDS "
                        f"(default {DEFAULT_VERIFY_SECONDS:g}) and print the outcome: converged, diverging "
                        "(exit 6) or no traffic")


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
    seconds = float(args.verify)
    say(f"verify: watching the traffic of rule #{rule} for {seconds:g} s…")
    try:
        verdict = verify_outcome(source, index, stored, rule, seconds, since=time.time())
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
