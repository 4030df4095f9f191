"""From followed ``(pod, line)`` batches to ring rows and split statistics (pure, one owner).

``LogIngest`` parses each line, asks the ``FollowPlan`` whether it is shown and in which split
basis it counts, feeds that basis's ``SplitStats`` and returns the ring rows to show. It is
meant to be owned by one thread (the Logs screen's ingest worker): the other side changes it
only through ``plan``/``parser``/``route`` (replaced whole, read once per batch) and
``request_window`` (applied at the next batch), and reads ``panel`` results, which are immutable
snapshots.

``route`` names the rule whose configured weights the split is compared with (its
``%ROUTE_NAME%``): client lines of that rule are also counted apart, so the shares of the
default rule are not skewed by the header or prefix rules before it. The panel shows that
rule's counts unless asked for every rule, or when no line carried the name.

A client line sent to the service's address through the catch-all route (a Host no
VirtualService lists: ``meshtui.accesslog.bypass``) is shown and counted apart, in ``bypass``:
``routed_by`` names the VirtualServices it skipped, for the panel's warning.

Lines of the plan's ztunnel pods (an ambient service) are not Envoy lines: they go to the L4
window (``meshtui.accesslog.l4_window``), neither shown nor counted as unparsed, and the panel
carries their L4 split.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meshtui.accesslog.bypass import CATCH_ALL_CLUSTERS, BypassedHost, BypassTally, describe_bypass
from meshtui.accesslog.detect import CURRENT, DetectingParser
from meshtui.accesslog.l4_window import L4Window
from meshtui.accesslog.prefix import parse_prefixed
from meshtui.accesslog.stats import ErrorRollups, SplitRow, SplitStats
from meshtui.accesslog.tail import entry_row
from meshtui.accesslog.target import BASIS_CLIENT, BASIS_SERVER, FollowPlan
from meshtui.accesslog.ztunnel import L4Split


@dataclass(frozen=True, slots=True)
class PanelData:
    """What the split panel draws, computed in one go."""

    basis: str
    label: str
    window: float | None
    rows: list[SplitRow]
    rollups: ErrorRollups
    lines: int
    unparsed: int
    #: Requests to the service whose Host no VirtualService lists, per Host (most first).
    bypassed: tuple[BypassedHost, ...] = ()
    #: The one-line warning about them ("" when none).
    bypass_note: str = ""
    #: The L4 split from ztunnel's connection logs (None unless the service is ambient).
    l4: L4Split | None = None


class LogIngest:
    """Parse, classify and count followed lines (see the module docstring)."""

    def __init__(self, parser: Any, plan: FollowPlan, window: float = 60.0, route: str | None = None) -> None:
        self.parser = parser
        self.plan = plan
        self.route = route
        self.stats = {BASIS_CLIENT: SplitStats(window), BASIS_SERVER: SplitStats(window)}
        #: Client lines of ``route`` only.
        self.rule_stats = SplitStats(window)
        self.bypass = BypassTally(plan.addresses, window)
        self.l4 = L4Window(plan.host, window)
        self.routed_by: tuple[str, ...] = ()
        self._window_request: float | None = None
        self._reset_request = False
        self.lines_in = 0
        self.lines_shown = 0
        self.lines_ignored = 0
        self.unparsed = 0

    @property
    def window(self) -> float | None:
        """The split window in seconds."""
        return self.stats[BASIS_CLIENT].window

    def request_window(self, window: float) -> None:
        """Ask for a new window; applied by the owner at its next batch."""
        self._window_request = window

    def request_reset(self) -> None:
        """Ask to forget every counted request (the window starts again, e.g. after a weight
        change); applied by the owner at its next batch."""
        self._reset_request = True

    def _apply_requests(self) -> None:
        window, self._window_request = self._window_request, None
        if window is not None:
            for stats in (*self.stats.values(), self.rule_stats):
                stats.set_window(window)
            self.bypass.set_window(window)
            self.l4.set_window(window)
        if self._reset_request:
            self._reset_request = False
            self.stats = {basis: SplitStats(stats.window) for basis, stats in self.stats.items()}
            self.rule_stats = SplitStats(self.rule_stats.window)
            self.bypass.reset()
            self.l4.reset()

    def set_plan(self, plan: FollowPlan, parser: Any, route: str | None, routed_by: tuple[str, ...] = ()) -> None:
        """Take a new plan (the owner re-planned); the bypass counts restart when the service's
        addresses changed."""
        self.plan, self.parser, self.route, self.routed_by = plan, parser, route, routed_by
        if plan.addresses != self.bypass.addresses:
            self.bypass = BypassTally(plan.addresses, self.window)
        if plan.host != self.l4.host:
            self.l4 = L4Window(plan.host, self.window)

    def process(self, items: list[tuple[tuple[str, str], str]]) -> list[tuple[Any, ...]]:
        """Count a batch of ``(pod, line)``; return the ring rows of the lines to show."""
        self._apply_requests()
        parse = self.parser.parse
        classify = self.plan.classify
        client, server = self.stats[BASIS_CLIENT], self.stats[BASIS_SERVER]
        route, rule = self.route, self.rule_stats
        bypass = self.bypass if self.bypass.addresses else None
        ztunnels, l4 = self.plan.ztunnels, self.l4
        rows: list[tuple[Any, ...]] = []
        unparsed = 0
        l4_lines = 0
        for pod, line in items:
            if not line or line.isspace():
                continue
            if pod in ztunnels:
                l4.add(line)
                l4_lines += 1
                continue
            record = parse(line)
            if record is None:  # a collector's prefix (a log shipped through journald, say)?
                record = parse_prefixed(line, parse)
            show, basis, subset = classify(pod, record)
            if record is None:
                unparsed += 1
            elif basis == BASIS_CLIENT:
                # subset: a per-version Service's name, for lines to one (else None).
                client.add(record, subset=subset)
                if route is not None and record.route_name == route:
                    rule.add(record, subset=subset)
            elif basis == BASIS_SERVER:
                server.add(record, subset=subset)
            elif bypass is not None and record.upstream_cluster in CATCH_ALL_CLUSTERS and bypass.add(record):
                show = True
            if show:
                rows.append(entry_row(pod[1], line, record))
        self.unparsed += unparsed
        self.lines_in += len(items)
        self.lines_shown += len(rows)
        self.lines_ignored += len(items) - len(rows) - l4_lines
        return rows

    def basis(self, mode: str) -> str:
        """The basis to show: ``mode`` unless ``auto``; in auto, the clients' once any client
        line was counted (or always, for a pod/workload target), else the server pods'."""
        if mode != "auto":
            return mode
        if self.plan.host is not None and not self.stats[BASIS_CLIENT].lines and self.stats[BASIS_SERVER].lines:
            return BASIS_SERVER
        return BASIS_CLIENT

    def split_stats(self, mode: str, all_rules: bool = False) -> tuple[str, SplitStats, bool]:
        """(basis, the statistics to show, whether they are ``route``'s lines only)."""
        basis = self.basis(mode)
        if (basis == BASIS_CLIENT and not all_rules and self.route is not None
                and self.plan.host is not None and self.rule_stats.lines):
            return basis, self.rule_stats, True
        return basis, self.stats[basis], False

    def panel(self, mode: str, weights: Mapping[str, float], all_rules: bool = False) -> PanelData:
        """A snapshot of the split for the panel."""
        self._apply_requests()
        basis, stats, rule_only = self.split_stats(mode, all_rules)
        rows = stats.rows(weights, self.plan.group_hosts)
        if self.plan.host is None and basis == BASIS_CLIENT:
            rows += self.stats[BASIS_SERVER].rows(weights)  # a pod's view: its calls and its inbound
        label = self.plan.basis_label(basis)
        if rule_only:
            label += f"; rule {self.route!r} only"
        elif basis == BASIS_CLIENT and self.route is not None and self.plan.host is not None:
            label += "; every rule"
        if mode != "auto":
            label += f" [{mode}; o changes]"
        parser = self.parser
        if isinstance(parser, DetectingParser) and parser.counts and set(parser.counts) != {CURRENT}:
            label += f"; lines in {parser.used()}"
        bypassed = tuple(self.bypass.hosts())
        note = ""
        if bypassed:
            counted = sum(r.requests for r in rows if not r.mirrored and r.host == self.plan.host)
            target = self.plan.target
            note = describe_bypass(f"{target.namespace}/{target.name}", list(self.routed_by), list(bypassed), counted)
        l4 = self.l4.split() if self.plan.ztunnels else None
        return PanelData(basis, label, stats.window, rows, stats.error_rollups(limit=5),
                         stats.lines, self.unparsed, bypassed, note, l4)
