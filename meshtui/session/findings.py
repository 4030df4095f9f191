"""The analysis scheduler: Istio's analyzers over the live mesh, off the event loop, debounced.

Analysing a big mesh takes seconds, so ``FindingsScheduler`` runs the analyzers in a thread, at
most once every ``MIN_INTERVAL`` seconds however fast watch events arrive, over a private index
rebuilt from a snapshot of the raw objects (the live index keeps changing on the owner's thread
while the analysis reads). The owner supplies the clock and the threads (``Runner``): the app
runs them on Textual's timers and workers, a test or a command on anything else.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from meshtui.analysis.finding import Finding
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
        self._load_findings: list[Finding] = []
        self.latest: Findings | None = None

    def set_load_errors(self, errors: list[Any]) -> None:
        """The source's load problems changed: publish the last analysis again with them
        (no new analysis: the objects that loaded did not change because of it)."""
        self._load_findings = load_error_findings(errors)
        if self.latest is not None:
            self._done(self.latest, None)

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

    def _done(self, result: Findings | Exception, started: float | None) -> None:
        """Publish a result; ``started`` is None for a republished one (no analysis ended)."""
        if started is not None:
            self._running = False
            self._last_end = time.monotonic()
            self._last_duration = self._last_end - started
        if isinstance(result, Findings):
            analysed = [f for f in result.findings if f.code != UNREADABLE_CODE]
            result = Findings(sorted(self._load_findings + analysed, key=Finding.sort_key),
                              result.by_service, result.by_namespace)
            self.latest = result
        self._publish_to(result)
        if started is not None:
            self._maybe_start()
