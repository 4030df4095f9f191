"""The analysis scheduler: Istio's analyzers over the live mesh, off the event loop, debounced.

Analysing a big mesh takes seconds, so ``FindingsScheduler`` runs the analyzers in a thread, at
most once every ``MIN_INTERVAL`` seconds however fast watch events arrive, over a private index
rebuilt from a snapshot of the raw objects (the live index keeps changing on the owner's thread
while the analysis reads). The owner supplies the clock and the threads (``Runner``): the app
runs them on Textual's timers and workers, a test or a command on anything else.

Some findings come from observed traffic, not from the configuration: the Logs screen reports
requests to a service whose Host no VirtualService lists (``ObservedBypass``), and the scheduler
adds one ``MT0301`` finding per VirtualService they skipped to every result it publishes, until
the observation is withdrawn.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from meshtui.accesslog.bypass import BypassedHost
from meshtui.analysis.finding import Finding
from meshtui.analysis.messages import MessageType
from meshtui.model.index import MeshIndex

#: Seconds between two analyses: watch bursts coalesce into one run.
MIN_INTERVAL = 2.0
#: An analysis starts once the mesh has been quiet this long after a change, so the repaint of
#: that change does not share the interpreter with it...
SETTLE = 0.3
#: ...and, on a big mesh (an analysis that ran longer than BIG_RUN seconds), once it has been
#: quiet this long: a burst of edits is analysed once, after it, not while it is being shown...
BIG_SETTLE = 1.0
BIG_RUN = 0.5
#: ...but never later than this after the first change it has not analysed yet.
MAX_DELAY = 5.0

#: A browser key: (kind, namespace, name) of a service or ServiceEntry.
ServiceKey = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Findings:
    """One finished analysis: findings sorted errors first, and the worst level ("Error" or
    "Warning") per browser service and per namespace, for the problem markers."""

    findings: list[Finding]
    by_service: dict[ServiceKey, str] = field(default_factory=dict)
    by_namespace: dict[str, str] = field(default_factory=dict)


#: meshtui's finding from observed traffic: a split that the callers' Host headers bypass.
OBSERVED_BYPASS = MessageType(
    "ObservedHostBypassesVirtualService", "MT0301", "Warning",
    "Callers of a service send Hosts its VirtualService does not list: its split does not apply to them.",
    "VirtualService %s splits traffic to %s, but callers of %s send Hosts it does not list: this split "
    "does not apply to them (%s)",
)


@dataclass(frozen=True, slots=True)
class ObservedBypass:
    """Requests to ``service`` seen in its callers' access logs whose Host header no
    VirtualService lists (``meshtui.accesslog.bypass``), with the VirtualServices they skipped."""

    service: ServiceKey
    virtual_services: tuple[str, ...]
    hosts: tuple[BypassedHost, ...]

    def seen(self) -> str:
        """``Host 10.22.12.178:30785 to PassthroughCluster, ... seen in the access logs`` (no counts:
        they move on every refresh, the Logs screen shows them)."""
        shown = ", ".join(f"Host {h.authority} to {h.cluster}" for h in self.hosts[:3])
        more = f"; {len(self.hosts) - 3} more Hosts" if len(self.hosts) > 3 else ""
        return f"{shown}{more}, seen in the access logs"

    def findings(self) -> list[Finding]:
        """One MT0301 finding per VirtualService skipped."""
        _kind, ns, name = self.service
        label = f"{ns}/{name}"
        out = []
        for vs in self.virtual_services:
            vs_ns, _, vs_name = vs.partition("/")
            out.append(Finding(OBSERVED_BYPASS.code, OBSERVED_BYPASS.name, OBSERVED_BYPASS.level,
                               OBSERVED_BYPASS.template % (vs, label, label, self.seen()),
                               "VirtualService", vs_ns, vs_name, "spec.hosts", "meshtui.ObservedHostAnalyzer"))
        return out

    def tree_note(self) -> str:
        """The route tree's marker line under each VirtualService skipped."""
        hosts = ", ".join(h.authority for h in self.hosts[:3]) + (" …" if len(self.hosts) > 3 else "")
        return (f"⚠ bypassed: observed requests with Host {hosts} (not in hosts): "
                "these rules and weights do not apply to them")


class Runner(Protocol):
    """Where the scheduler's timers and threads run (the app: Textual timers and workers)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the owner's thread after ``delay`` seconds."""
        ...

    def run_in_thread(self, work: Callable[[Callable[[], bool]], None], group: str) -> None:
        """Run ``work(cancelled)`` in a thread; ``cancelled()`` turns true when it should stop."""
        ...

    def call_on_owner(self, callback: Callable[[], None]) -> None:
        """From a thread: call ``callback`` on the owner's thread (dropped when it has gone)."""
        ...


#: The code of a finding that says a manifest file does not read (files mode).
UNREADABLE_CODE = "MT0000"


def load_error_findings(errors: list[Any]) -> list[Finding]:
    """One error finding per load problem (``LoadError``), located ``file:line:column``, so the
    Analyze screen lists a file that stopped parsing among the other findings."""
    out = []
    for err in errors:
        out.append(Finding(UNREADABLE_CODE, "ManifestUnreadable", "Error", err.message, "File", "",
                           err.location or "-", analyzer="meshtui.LoadErrors"))
    return out


def _worse(a: str | None, b: str) -> str:
    return "Error" if "Error" in (a, b) else b if a is None else a


def problem_map(index: MeshIndex, findings: list[Finding]) -> tuple[dict[ServiceKey, str], dict[str, str]]:
    """The worst level per browser service and per namespace, for errors and warnings only."""
    from meshtui.routing.service_view import service_for_object

    by_service: dict[ServiceKey, str] = {}
    by_namespace: dict[str, str] = {}
    cache: dict[ServiceKey, ServiceKey | None] = {}
    for f in findings:
        if f.level not in ("Error", "Warning"):
            continue
        if f.namespace:
            by_namespace[f.namespace] = _worse(by_namespace.get(f.namespace), f.level)
        obj_key = (f.kind, f.namespace, f.resource_name)
        if obj_key not in cache:
            cache[obj_key] = service_for_object(index, *obj_key)
        target = cache[obj_key]
        if target is not None:
            by_service[target] = _worse(by_service.get(target), f.level)
    return by_service, by_namespace


def release_gradually(obj: object, batch: int = 2000) -> None:
    """Drop what ``obj`` (an object only the caller holds) refers to, ``batch`` entries at a
    time, letting other threads run between batches.

    Only the object's own attributes and the dicts, lists and sets nobody else refers to are
    emptied; anything shared (e.g. raw objects the live index also holds) is merely let go.
    """
    owned = _own_dict(obj)
    if owned is None:
        return
    stack: list[Any] = [owned]
    while stack:
        box = stack[-1]
        if not box:
            stack.pop()
            continue
        for _ in range(min(batch, len(box))):
            value = box.popitem()[1] if isinstance(box, dict) else box.pop()
            # Two references: ``value`` and getrefcount's argument. More: someone else's too.
            if sys.getrefcount(value) <= 2:
                inner = value if isinstance(value, (dict, list, set)) else _own_dict(value)
                if inner is not None and len(inner) > 8:
                    stack.append(inner)
                    # ``value`` (holding ``inner``) goes now; ``inner`` is emptied next.
            del value
        time.sleep(0)  # releases the interpreter lock: the owner's thread may run


def _own_dict(value: object) -> dict[str, Any] | None:
    """The instance dict of a plain object (not a class or module), if it has one."""
    if isinstance(value, type):
        return None
    inner = getattr(value, "__dict__", None)
    return inner if isinstance(inner, dict) else None


def analyze_objects(raws: list[dict[str, Any]], suffix: str, cancelled: Callable[[], bool]) -> Findings | None:
    """Every analyzer over a private index of ``raws``; None when cancelled midway."""
    from meshtui.analysis import ANALYZERS
    from meshtui.analysis.context import Context, all_messages
    from meshtui.util.gcpause import gc_paused

    # The collector stays paused for the run: the analysis builds ~10^6 short-lived objects,
    # and every collection they trigger walks them all while holding the interpreter lock,
    # stalling the event loop for 100-300 ms at 5,000 services (measured). Reference counting
    # frees nearly all of it; the little cyclic garbage waits for the next pass.
    with gc_paused():
        index = MeshIndex(raws, domain_suffix=suffix)
        # ``analyze(index)`` step by step, so that quitting does not wait for every analyzer.
        ctx = Context(index, all_messages())
        for info in ANALYZERS:
            if cancelled():
                return None
            ctx.analyzer = info.name
            info.run(ctx)
        findings = sorted(ctx.findings, key=Finding.sort_key)
        by_service, by_namespace = problem_map(index, findings)
        # Freed in one go, the private index would hold the interpreter ~70 ms at 5,000
        # services (one deallocation cascade); a batch at a time keeps the loop running.
        release_gradually(ctx)
        release_gradually(index)
    return Findings(findings, by_service, by_namespace)


def _same_observation(a: ObservedBypass, b: ObservedBypass) -> bool:
    """Whether two observations read the same: same VirtualServices and Hosts (counts move on
    every panel refresh; republishing for them would repaint the browser twice a second)."""
    return (a.virtual_services == b.virtual_services
            and [(h.authority, h.cluster) for h in a.hosts] == [(h.authority, h.cluster) for h in b.hosts])


class FindingsScheduler:
    """Runs the analyzers after mesh changes, debounced, and hands each result to ``publish``.

    ``latest`` is the last result (None before the first analysis), so a screen opened later
    starts from it. Every method but the thread's body runs on the owner's thread.
    """

    def __init__(
        self,
        runner: Runner,
        publish: Callable[[Findings | Exception], None],
        min_interval: float = MIN_INTERVAL,
        settle: float = SETTLE,
    ) -> None:
        self._runner = runner
        self._publish_to = publish
        self._min_interval = min_interval
        self._settle = settle
        self._asked = 0.0  # the last change asking for an analysis
        self._first_asked = 0.0  # the first change not analysed yet
        self._index: MeshIndex | None = None
        self._dirty = False
        self._running = False
        self._timer_set = False
        self._last_end = 0.0
        self._last_duration = 0.0
        self._analysed: Findings | None = None
        self._observed: dict[ServiceKey, ObservedBypass] = {}
        self._load_findings: list[Finding] = []
        self.latest: Findings | None = None

    @property
    def idle(self) -> bool:
        """Whether no analysis is running or waiting to run (every change has been analysed)."""
        return not (self._running or self._dirty)

    def observe(self, service: ServiceKey, bypass: ObservedBypass | None) -> None:
        """Record (or, with None, withdraw) what the logs showed about ``service`` and publish
        the findings again with it, without analysing anew. No change: nothing published."""
        old = self._observed.get(service)
        if bypass is None or not bypass.hosts or not bypass.virtual_services:
            if old is None:
                return
            del self._observed[service]
        elif old is not None and _same_observation(old, bypass):
            return
        else:
            self._observed[service] = bypass
        self._republish()

    def set_load_errors(self, errors: list[Any]) -> None:
        """The source's load problems changed: publish the last analysis again with them
        (no new analysis: the objects that loaded did not change because of it)."""
        self._load_findings = load_error_findings(errors)
        self._republish()

    def tree_notes(self) -> dict[tuple[str, str], str]:
        """(namespace, name) of each VirtualService that observed traffic bypasses -> marker line."""
        out: dict[tuple[str, str], str] = {}
        for bypass in self._observed.values():
            for vs in bypass.virtual_services:
                ns, _, name = vs.partition("/")
                out[(ns, name)] = bypass.tree_note()
        return out

    def _republish(self) -> None:
        if self._analysed is not None:
            self.latest = self._compose(self._analysed)
            self._publish_to(self.latest)

    def _compose(self, analysed: Findings) -> Findings:
        """The analysis with the source's load problems and what the logs observed added."""
        findings = [f for f in analysed.findings if f.code != UNREADABLE_CODE] + self._load_findings
        by_service, by_namespace = dict(analysed.by_service), dict(analysed.by_namespace)
        extra = [f for b in self._observed.values() for f in b.findings()]
        for f in extra:
            by_namespace[f.namespace] = _worse(by_namespace.get(f.namespace), f.level)
        for service in self._observed:
            by_service[service] = _worse(by_service.get(service), OBSERVED_BYPASS.level)
        return Findings(sorted([*findings, *extra], key=Finding.sort_key), by_service, by_namespace)

    def schedule(self, index: MeshIndex) -> None:
        """Ask for an analysis of ``index``; runs now or when the interval allows."""
        self._index = index
        self._asked = time.monotonic()
        if not self._dirty:
            self._first_asked = self._asked
        self._dirty = True
        self._maybe_start()

    def _on_timer(self) -> None:
        self._timer_set = False
        self._maybe_start()

    def _maybe_start(self) -> None:
        if not self._dirty or self._running or self._index is None:
            return
        # A slow analysis (a big mesh) waits at least as long as it ran before it runs again,
        # so the worker never takes more than about half of the CPU from the UI.
        now = time.monotonic()
        quiet = self._settle if self._last_duration < BIG_RUN else max(self._settle, BIG_SETTLE)
        settled = min(self._asked + quiet, self._first_asked + MAX_DELAY)
        wait = max(self._last_end + max(self._min_interval, self._last_duration), settled) - now
        if wait > 0:
            if not self._timer_set:
                self._timer_set = True
                self._runner.call_later(wait, self._on_timer)
            return
        index = self._index
        # The snapshot is taken on the owner's thread, where the index is consistent; the
        # thread builds its own index from it. Raw dicts are replaced, never mutated, by events.
        raws = [obj.raw for kind in index.kinds() for obj in index.objects(kind)]
        suffix = index.domain_suffix
        self._dirty = False
        self._running = True
        started = time.monotonic()

        def work(cancelled: Callable[[], bool]) -> None:
            result: Findings | Exception | None
            try:
                result = analyze_objects(raws, suffix, cancelled)
            except Exception as exc:  # noqa: BLE001 - an analyzer bug must not take the UI down
                result = exc
            if result is not None:
                self._runner.call_on_owner(lambda: self._done(result, started))

        self._runner.run_in_thread(work, "analyze")

    def _done(self, result: Findings | Exception, started: float) -> None:
        self._running = False
        self._last_end = time.monotonic()
        self._last_duration = self._last_end - started
        if isinstance(result, Findings):
            self._analysed = result
            result = self.latest = self._compose(result)
        self._publish_to(result)
        self._maybe_start()
