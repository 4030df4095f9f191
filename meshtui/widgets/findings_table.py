"""Findings in the UI: the background analysis feed, the table rows, and the findings table.

Analysing a big mesh takes seconds, so ``FindingsFeed`` runs ``meshtui.analysis.analyze`` in a
thread worker, at most once every ``MIN_INTERVAL`` seconds however fast watch events arrive,
over a private index rebuilt from a snapshot of the raw objects (the live index keeps changing
on the event loop while the worker reads). The result reaches every screen of the stack as a
``FindingsUpdated`` message.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from textual.worker import get_current_worker

from meshtui.messages import FindingsUpdated
from meshtui.widgets.big_table import BigTable, Column

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

#: The LEVEL cell of each level. The glyphs sort Info < Warning < Error, so a reversed sort on
#: the column (the table's default) shows errors first; the sort is stable within a level.
LEVEL_CELLS = {"Error": "✖ Error", "Warning": "⚠ Warning", "Info": "ℹ Info"}

COLUMNS = (
    Column("LEVEL", 10),
    Column("CODE", 8),
    Column("ORIGIN", 44),
    Column("MESSAGE", 60),
    Column("PATH", 44),
)

FindingKey = tuple[str, str, str, str, str, str, str]


def finding_key(f: Any) -> FindingKey:
    """A row key that stays the same across analyses, so the cursor survives a refresh."""
    return (f.level, f.code, f.kind, f.namespace, f.resource_name, f.path or "", f.message)


def finding_rows(findings: list[Any]) -> tuple[list[tuple[FindingKey, tuple[str, ...]]], dict[FindingKey, Any]]:
    """Table rows (errors first) and the finding behind each key.

    Two analyzers can report the very same message about the same field (istioctl's gateway
    analyzers do); the table shows it once.
    """
    rows: list[tuple[FindingKey, tuple[str, ...]]] = []
    by_key: dict[FindingKey, Any] = {}
    for f in findings:
        key = finding_key(f)
        if key in by_key:
            continue
        by_key[key] = f
        cells = (LEVEL_CELLS.get(f.level, f.level), f.code, f.origin, f.message, f.path or "")
        rows.append((key, cells))
    return rows, by_key


def level_counts(findings: list[Any]) -> dict[str, int]:
    """How many distinct findings of each level (``Error``, ``Warning``, ``Info``)."""
    counts = {"Error": 0, "Warning": 0, "Info": 0}
    for f in {finding_key(f): f for f in findings}.values():
        counts[f.level] = counts.get(f.level, 0) + 1
    return counts


def _worse(a: str | None, b: str) -> str:
    return "Error" if "Error" in (a, b) else b if a is None else a


def problem_map(index: Any, findings: list[Any]) -> tuple[dict[tuple[str, str, str], str], dict[str, str]]:
    """The worst level per browser service and per namespace, for errors and warnings only."""
    from meshtui.routing.service_view import service_for_object

    by_service: dict[tuple[str, str, str], str] = {}
    by_namespace: dict[str, str] = {}
    cache: dict[tuple[str, str, str], Any] = {}
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


def _kinds(index: Any) -> list[str]:
    """The kinds held by ``index``. ``MeshIndex.keys()`` builds a key per object (40 ms for
    40,000 objects, too long on the loop), so the kind table is read directly when there."""
    kinds = getattr(index, "kinds", None)
    if callable(kinds):
        return list(kinds())
    by_kind = None  # MeshIndex.kinds() (above) replaced reading its private _by_kind here
    if isinstance(by_kind, dict):
        return list(by_kind)
    return list({k.kind for k in index.keys()})


def release_gradually(obj: Any, batch: int = 2000) -> None:
    """Drop what ``obj`` (an object only the caller holds) refers to, ``batch`` entries at a
    time, letting other threads run between batches.

    Only the object's own attributes and the dicts, lists and sets nobody else refers to are
    emptied; anything shared (e.g. raw objects the live index also holds) is merely let go.
    """
    owned = getattr(obj, "__dict__", None)
    if not isinstance(owned, dict):
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
        time.sleep(0)  # releases the interpreter lock: the event loop may run


def _own_dict(value: Any) -> dict[str, Any] | None:
    """The instance dict of a plain object (not a class or module), if it has one."""
    if isinstance(value, type) or not hasattr(value, "__dict__"):
        return None
    inner = getattr(value, "__dict__", None)
    return inner if isinstance(inner, dict) else None


class FindingsFeed:
    """Runs the analyzers off the event loop after mesh changes, debounced, and publishes.

    ``latest`` is the last ``FindingsUpdated`` published (None before the first analysis), so
    a screen opened later starts from it.
    """

    def __init__(self, app: Any, min_interval: float = MIN_INTERVAL, settle: float = SETTLE) -> None:
        self._app = app
        self._min_interval = min_interval
        self._settle = settle
        self._asked = 0.0  # the last change asking for an analysis
        self._first_asked = 0.0  # the first change not analysed yet
        self._index: Any | None = None
        self._dirty = False
        self._running = False
        self._timer: Any | None = None
        self._last_end = 0.0
        self._last_duration = 0.0
        self.latest: FindingsUpdated | None = None

    def schedule(self, index: Any) -> None:
        """Ask for an analysis of ``index`` (on the loop); runs now or when the interval allows."""
        self._index = index
        self._asked = time.monotonic()
        if not self._dirty:
            self._first_asked = self._asked
        self._dirty = True
        self._maybe_start()

    def _on_timer(self) -> None:
        self._timer = None
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
            if self._timer is None:
                self._timer = self._app.set_timer(wait, self._on_timer)
            return
        index = self._index
        # The snapshot is taken on the loop, where the index is consistent; the worker builds
        # its own index from it. Raw dicts are replaced, never mutated, by watch events.
        raws = [obj.raw for kind in _kinds(index) for obj in index.objects(kind)]
        suffix = getattr(index, "domain_suffix", "cluster.local")
        self._dirty = False
        self._running = True
        started = time.monotonic()
        self._app.run_worker(
            lambda: self._analyze(raws, suffix, started), thread=True, group="analyze", exit_on_error=False
        )

    def _analyze(self, raws: list[dict[str, Any]], suffix: str, started: float) -> None:
        from meshtui.util.gcpause import gc_paused

        worker = get_current_worker()
        # The collector stays paused for the run: the analysis builds ~10^6 short-lived objects,
        # and every collection they trigger walks them all while holding the interpreter lock,
        # stalling the event loop for 100-300 ms at 5,000 services (measured). Reference
        # counting frees nearly all of it; the little cyclic garbage waits for the next pass.
        with gc_paused():
            self._analyze_paused(worker, raws, suffix, started)

    def _analyze_paused(self, worker: Any, raws: list[dict[str, Any]], suffix: str, started: float) -> None:
        from meshtui.analysis import ANALYZERS
        from meshtui.analysis.context import Context, all_messages
        from meshtui.analysis.finding import Finding
        from meshtui.model.index import MeshIndex

        try:
            index = MeshIndex(raws, domain_suffix=suffix)
            # ``analyze(index)`` step by step, so that quitting does not wait for every analyzer.
            ctx = Context(index, all_messages())
            for info in ANALYZERS:
                if worker.is_cancelled:
                    return
                ctx.analyzer = info.name
                info.run(ctx)
            findings: list[Any] = sorted(ctx.findings, key=Finding.sort_key)
            by_service, by_namespace = problem_map(index, findings)
            result: FindingsUpdated | Exception = FindingsUpdated(findings, by_service, by_namespace)
            # Freed in one go, the private index would hold the interpreter ~70 ms at 5,000
            # services (one deallocation cascade); a batch at a time keeps the loop running.
            release_gradually(ctx)
            release_gradually(index)
        except Exception as exc:  # noqa: BLE001 - an analyzer bug must not take the UI down
            result = exc
        try:
            self._app.call_from_thread(self._publish, result, started)
        except RuntimeError:  # the app is shutting down
            pass

    def _publish(self, result: FindingsUpdated | Exception, started: float) -> None:
        self._running = False
        self._last_end = time.monotonic()
        self._last_duration = self._last_end - started
        if isinstance(result, Exception):
            self._app.notify(f"analysis failed: {result}", severity="error")
        else:
            self.latest = result
            for screen in list(self._app.screen_stack):
                screen.post_message(FindingsUpdated(result.findings, result.by_service, result.by_namespace))
        self._maybe_start()


class FindingsTable(BigTable):
    """The findings list: a ``BigTable`` whose level column sorts errors first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, **kwargs)
        self.sort_reverse = True

    def action_sort(self) -> None:
        """Sort by the next column; back on LEVEL, errors come first again."""
        super().action_sort()
        if self.sort_column == 0 and not self.sort_reverse:
            self.action_reverse()
