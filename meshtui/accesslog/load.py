"""Headless load test of the Logs screen: ``python -m meshtui.accesslog.load [--seconds S] [--rate R]``.

Feeds the Logs screen (``meshtui.screens.logs.LogsScreen``) ``--rate`` lines/s (default 10,000)
for ``--seconds`` (default 30) through the real path: a synthetic ``Source`` whose ``logs()``
streams Istio default-format lines for ``--pods`` pods at a paced rate, the ``LogFollower``
threads and bounded queue, the screen's batched flush, the ring buffer, the split statistics
and rendering, all inside ``App.run_test()`` (headless, 160×50). It reports:

- event-loop lag: the largest gap between turns of the loop (a 10 ms ticker measures how late
  it wakes), its p99, and the number of stalls over 50 ms and 100 ms ("dropped frames");
- lines generated vs taken in by the screen vs kept in the ring (its capacity bounds it);
- RSS: peak, and at a quarter of the run vs at the end (bounded memory means no growth once
  the ring is full).

Exit status 1 when a line was lost, the ring exceeded its capacity, or the loop stalled for more
than ``--max-lag-ms`` (default 100). Textual is imported only when the test runs: the module is
in the access-log package for its line generator (``istio_line``), which tests also use.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

HOST = "backend-service.default.svc.cluster.local"


def istio_line(
    *,
    start: float,
    cluster: str,
    code: int = 200,
    flags: str = "-",
    method: str = "GET",
    path: str = "/",
    duration: int = 5,
    upstream_host: str = "10.244.0.17:8080",
    authority: str = "backend-service",
    route: str = "default",
    request_id: str = "-",
) -> str:
    """One access-log line in Istio's default TEXT format (``ISTIO_TEXT_FORMAT``)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start)) + f".{int(start * 1000) % 1000:03d}Z"
    details = "via_upstream" if flags == "-" else "-"
    return (
        f'[{stamp}] "{method} {path} HTTP/1.1" {code} {flags} {details} - "-" 0 {120 + code % 7} '
        f'{duration} {max(0, duration - 1)} "-" "curl/8.5.0" "{request_id}" "{authority}" '
        f'"{upstream_host}" {cluster} 10.244.0.30:41234 10.96.0.20:80 10.244.0.30:52110 - {route}'
    )


def demo_objects(pods: int) -> list[dict[str, Any]]:
    """A service with subsets v0/v1 (90/10) and ``pods`` client pods plus two server pods."""
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend-service", "namespace": "default"},
         "spec": {"selector": {"app": "backend-service"}, "ports": [{"name": "http", "port": 80}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
         "metadata": {"name": "backend-service", "namespace": "default"},
         "spec": {"host": HOST, "subsets": [{"name": "v0", "labels": {"version": "v0"}},
                                            {"name": "v1", "labels": {"version": "v1"}}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
         "metadata": {"name": "backend-service", "namespace": "default"},
         "spec": {"hosts": ["backend-service"], "http": [{"name": "default", "route": [
             {"destination": {"host": "backend-service", "subset": "v0"}, "weight": 90},
             {"destination": {"host": "backend-service", "subset": "v1"}, "weight": 10}]}]}},
    ]
    names = [("backend-service-v0-a", {"app": "backend-service", "version": "v0"}),
             ("backend-service-v1-a", {"app": "backend-service", "version": "v1"})]
    names += [(f"client-{i}", {"app": "client"}) for i in range(pods)]
    for name, labels in names:
        objects.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": name, "namespace": "default", "labels": labels},
                        "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]},
                        "status": {"phase": "Running", "podIP": "10.244.0.30"}})
    return objects


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
    screen = LogsScreen(LogTarget("Service", "default", "backend-service"), source=source, index=index,
                        tail_lines=None, since_seconds=None, capacity=capacity)

    class LoadApp(App[None]):
        CSS_PATH = [str(files("meshtui.styles").joinpath("app.tcss")),
                    str(files("meshtui.styles").joinpath("logs.tcss"))]

        def on_mount(self) -> None:
            self.push_screen(screen)

    app = LoadApp()
    gaps: list[float] = []
    rss: list[tuple[float, float]] = []
    async with app.run_test(size=(160, 50)) as pilot:
        start = time.monotonic()
        last_rss = 0.0
        while time.monotonic() - start < seconds:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            gaps.append(time.perf_counter() - t - 0.01)
            if time.monotonic() - last_rss >= 0.5:
                last_rss = time.monotonic()
                rss.append((last_rss - start, _rss_mb()))
        # Let the queue drain: everything generated should reach the screen.
        deadline = time.monotonic() + 10
        while (screen.lines_in < source.generated or screen.pending()) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await pilot.pause()
        result = {
            "seconds": seconds,
            "rate_target": rate,
            "lines_generated": source.generated,
            "lines_taken_in": screen.lines_in,
            "lines_shown_total": screen.lines_shown,
            "lines_kept": len(screen.buffer),
            "ring_capacity": capacity,
            "view_rows": len(screen.visible_lines()) if capacity <= 200_000 else None,
            "split_rows": [(r.subset, r.requests, round((r.host_share or 0) * 100, 1)) for r in screen.split_rows()],
        }
    gaps.sort()
    ms = [g * 1000 for g in gaps] or [0.0]
    quarter = [m for t, m in rss if t >= seconds / 4][:1]
    result.update({
        "loop_gap_max_ms": round(ms[-1], 1),
        "loop_gap_p99_ms": round(ms[int(len(ms) * 0.99) - 1 if len(ms) > 1 else 0], 1),
        "stalls_over_50ms": sum(1 for m in ms if m > 50),
        "stalls_over_100ms": sum(1 for m in ms if m > 100),
        "rss_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_at_quarter_mb": round(quarter[0], 1) if quarter else None,
        "rss_at_end_mb": round(rss[-1][1], 1) if rss else None,
    })
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; prints the report (text or ``--json``)."""
    import asyncio

    parser = argparse.ArgumentParser(prog="python -m meshtui.accesslog.load", description=__doc__.split("\n")[0])
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
