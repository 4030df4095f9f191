"""Headless load test of the Logs screen: ``python -m meshtui.bench.logs_load [--seconds S] [--rate R]``.

Feeds the Logs screen (``meshtui.screens.logs.LogsScreen``) ``--rate`` lines/s (default 10,000)
for ``--seconds`` (default 30) through the real path: a synthetic ``Source`` whose ``logs()``
streams Istio default-format lines for ``--pods`` pods at a paced rate, the ``LogFollower``
threads and bounded queue, the screen's ingest worker, batched flush, ring buffer, split
statistics and rendering, all inside ``App.run_test()`` (headless, 160x50). It reports:

- event-loop lag: the largest gap between turns of the loop (a 10 ms ticker measures how late
  it wakes), its p99, and the number of stalls over 50 ms and 100 ms ("dropped frames");
- what the stalls are made of: garbage-collector pauses by generation (``gc.callbacks``), the
  longest flush of lines into the view, the longest split-panel draw, the longest screen
  repaint (compositor + ``render_line``), and the objects the collector tracks at the end;
- lines generated vs taken in by the screen vs kept in the ring (its capacity bounds it);
- RSS: peak, and at a quarter of the run vs at the end (bounded memory means no growth once
  the ring is full).

Exit status 1 when a line was lost, the ring exceeded its capacity, or the loop stalled for more
than ``--max-lag-ms`` (default 100).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from meshtui.accesslog.synth import HOST, demo_objects, istio_line


class SyntheticSource:
    """A ``Source`` whose client pods' logs carry ``rate`` lines/s in total for ``seconds``:
    90 % to subset v0, 10 % to v1, a few 503 UH / 504 UT. Other methods are not needed here."""

    description = "load test"

    def __init__(self, rate: int, seconds: float, clients: list[str]) -> None:
        self.rate = rate
        self.seconds = seconds
        self.clients = clients
        self.generated = 0
        self._lock = threading.Lock()
        self.t0: float | None = None  # the first stream starts the clock

    def logs(self, namespace: str, pod: str, *, container: str = "istio-proxy", follow: bool = True,
             tail_lines: int | None = None, since_seconds: int | None = None,
             stop: threading.Event | None = None) -> Iterator[str]:
        """Paced lines for a client pod; a quiet stream for any other pod."""
        stop = stop or threading.Event()
        if pod not in self.clients:
            stop.wait(self.seconds + 60)
            return
        with self._lock:
            if self.t0 is None:
                self.t0 = time.monotonic()
            t0 = self.t0
        rng = random.Random(pod)
        per_pod = self.rate / len(self.clients)
        tick = 0.01
        sent = 0
        n = 0
        while not stop.is_set():
            elapsed = time.monotonic() - t0
            if elapsed >= self.seconds:
                break
            due = int(min(elapsed, self.seconds) * per_pod)
            now = time.time()
            with self._lock:
                self.generated += due - sent  # counted before they are handed out
            for _ in range(due - sent):
                n += 1
                v1 = rng.random() < 0.10
                roll = rng.random()
                code, flags = (503, "UH") if roll < 0.01 else (504, "UT") if roll < 0.015 else (200, "-")
                yield istio_line(
                    start=now, cluster=f"outbound|80|{'v1' if v1 else 'v0'}|{HOST}", code=code, flags=flags,
                    path=f"/items/{rng.randrange(500)}", duration=rng.randrange(2, 60 if not v1 else 400),
                    upstream_host="10.244.0.20:8080" if v1 else "10.244.0.17:8080",
                    request_id=f"{pod}-{n}",
                )
            sent = due
            stop.wait(tick)
        stop.wait(self.seconds + 60)  # a finished pod stays connected and quiet



def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class GcPauses:
    """The collector's passes by generation (installed in ``gc.callbacks``): wall time, and the
    CPU time of the collecting thread (wall minus CPU is time the machine gave to others)."""

    def __init__(self) -> None:
        self.by_gen: dict[int, list[tuple[float, float]]] = {0: [], 1: [], 2: []}
        self._t0 = self._c0 = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._t0, self._c0 = time.perf_counter(), time.thread_time()
        else:
            self.by_gen[info["generation"]].append(((time.perf_counter() - self._t0) * 1000,
                                                    (time.thread_time() - self._c0) * 1000))

    def report(self) -> dict[str, Any]:
        """Count, longest pause (ms) and the most CPU one pass took (ms) per generation."""
        return {f"gen{g}": {"count": len(d), "max_ms": round(max((w for w, _c in d), default=0.0), 1),
                            "max_cpu_ms": round(max((c for _w, c in d), default=0.0), 1)}
                for g, d in self.by_gen.items()}


def _timed(fn: Callable[..., Any], into: list[float]) -> Callable[..., Any]:
    """``fn`` wrapped to append each call's duration (ms) to ``into``."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            into.append((time.perf_counter() - t) * 1000)
    return wrapper


async def run_load(seconds: float, rate: int, pods: int, capacity: int) -> dict[str, Any]:
    """Run the screen under load; return the measurements."""
    import asyncio
    from importlib.resources import files

    from textual.app import App

    from meshtui.accesslog.target import LogTarget
    from meshtui.model.index import MeshIndex
    from meshtui.screens.logs import LogsScreen

    clients = [f"client-{i}" for i in range(pods)]
    index = MeshIndex(demo_objects(pods))
    source = SyntheticSource(rate, seconds, clients)
    screen = LogsScreen(LogTarget("Service", "default", "backend-service"), source=source,  # type: ignore[arg-type]
                        index=index,
                        tail_lines=None, since_seconds=None, capacity=capacity)
    flushes: list[float] = []
    panels: list[float] = []
    paints: list[float] = []
    layouts: list[float] = []
    screen.flush = _timed(screen.flush, flushes)  # type: ignore[method-assign]
    screen.refresh_panel = _timed(screen.refresh_panel, panels)  # type: ignore[method-assign]

    class LoadApp(App[None]):
        CSS_PATH = [str(files("meshtui.styles").joinpath("app.tcss")),
                    str(files("meshtui.styles").joinpath("logs.tcss"))]

        def on_mount(self) -> None:
            self.push_screen(screen)

    app = LoadApp()
    gaps: list[float] = []
    gap_cpu: list[float] = []
    rss: list[tuple[float, float]] = []
    pauses = GcPauses()
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.pause()
        # Time every repaint (the compositor and the widgets' render_line calls) and relayout.
        screen._compositor_refresh = _timed(screen._compositor_refresh, paints)  # type: ignore[method-assign]
        screen._refresh_layout = _timed(screen._refresh_layout, layouts)  # type: ignore[method-assign]
        gc.callbacks.append(pauses)
        start = time.monotonic()
        cpu0 = time.process_time()
        last_rss = 0.0
        try:
            while time.monotonic() - start < seconds:
                t, c = time.perf_counter(), time.thread_time()
                await asyncio.sleep(0.01)
                gaps.append(time.perf_counter() - t - 0.01)
                gap_cpu.append(time.thread_time() - c)
                if time.monotonic() - last_rss >= 0.5:
                    last_rss = time.monotonic()
                    rss.append((last_rss - start, _rss_mb()))
        finally:
            gc.callbacks.remove(pauses)
        # Let the queue drain: everything generated should reach the screen.
        deadline = time.monotonic() + 10
        while (screen.lines_in < source.generated or screen.pending()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await pilot.pause()
        result: dict[str, Any] = {
            "seconds": seconds,
            "rate_target": rate,
            "lines_generated": source.generated,
            "lines_taken_in": screen.lines_in,
            "lines_shown_total": screen.lines_shown,
            "lines_kept": len(screen.buffer),
            "ring_capacity": capacity,
            "view_rows": len(screen.visible_lines()) if capacity <= 200_000 else None,
            "split_rows": [(r.subset, r.requests, round((r.host_share or 0) * 100, 1)) for r in screen.split_rows()],
            "gc_tracked_objects": len(gc.get_objects()),
        }
    gaps.sort()
    ms = [g * 1000 for g in gaps] or [0.0]
    cpu_ms = sorted(c * 1000 for c in gap_cpu) or [0.0]
    quarter = [m for t, m in rss if t >= seconds / 4][:1]
    result.update({
        "loop_gap_max_ms": round(ms[-1], 1),
        "loop_gap_p99_ms": round(ms[int(len(ms) * 0.99) - 1 if len(ms) > 1 else 0], 1),
        "stalls_over_50ms": sum(1 for m in ms if m > 50),
        "stalls_over_100ms": sum(1 for m in ms if m > 100),
        # The loop thread's own CPU between two ticks: its work, without the time the machine or
        # the other threads (the GIL) kept it waiting.
        "loop_cpu_max_ms": round(cpu_ms[-1], 1),
        "loop_cpu_p99_ms": round(cpu_ms[int(len(cpu_ms) * 0.99) - 1 if len(cpu_ms) > 1 else 0], 1),
        "loop_cpu_share": round(sum(cpu_ms) / 1000 / seconds, 3),
        "process_cpu_s": round(time.process_time() - cpu0, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "gc_pauses": pauses.report(),
        "flush_max_ms": round(max(flushes, default=0.0), 1),
        "panel_max_ms": round(max(panels, default=0.0), 1),
        "paint_max_ms": round(max(paints, default=0.0), 1),
        "layout_max_ms": round(max(layouts, default=0.0), 1),
        "rss_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_at_quarter_mb": round(quarter[0], 1) if quarter else None,
        "rss_at_end_mb": round(rss[-1][1], 1) if rss else None,
    })
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; prints the report (text or ``--json``)."""
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m meshtui.bench.logs_load", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to feed lines (default 30)")
    parser.add_argument("--rate", type=int, default=10_000, help="lines per second in total (default 10000)")
    parser.add_argument("--pods", type=int, default=4, help="client pods the lines come from (default 4)")
    parser.add_argument("--capacity", type=int, default=100_000, help="ring buffer size (default 100000)")
    parser.add_argument("--max-lag-ms", type=float, default=100.0, help="fail above this loop stall")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 600) or not (0 < args.rate <= 100_000) or not (1 <= args.pods <= 64):
        print("meshtui: --seconds must be in (0, 600], --rate in (0, 100000], --pods in [1, 64]", file=sys.stderr)
        return 2
    if args.capacity <= 0:
        print("meshtui: --capacity must be positive", file=sys.stderr)
        return 2
    result = asyncio.run(run_load(args.seconds, args.rate, args.pods, args.capacity))
    problems = []
    if result["lines_taken_in"] != result["lines_generated"]:
        problems.append(f"{result['lines_generated'] - result['lines_taken_in']} lines did not reach the screen")
    if result["lines_kept"] > args.capacity:
        problems.append("the ring holds more than its capacity")
    if result["loop_gap_max_ms"] > args.max_lag_ms:
        problems.append(f"the event loop stalled {result['loop_gap_max_ms']} ms (> {args.max_lag_ms:g})")
    result["problems"] = problems
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
        print("PASS" if not problems else "FAIL")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
