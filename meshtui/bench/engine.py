"""The engine figures, using the generators of the engine's own benchmarks.

- access-log parsing: ``meshtui.accesslog.bench.make_lines`` (Istio's default TEXT format),
  each line through ``TextParser.parse`` on one core, records dropped as the UI ring does;
- config dump: ``meshtui.envoy.bench.synthetic_dump`` (~20 MB) through
  ``meshtui.envoy.bench.parse_and_tabulate`` (parse plus the four big tables).
"""

from __future__ import annotations

import gc
import time


def accesslog_rates(lines: int, runs: int) -> list[float]:
    """Lines per second of ``TextParser.parse`` over ``lines`` generated lines, ``runs`` times."""
    from meshtui.accesslog.bench import make_lines
    from meshtui.accesslog.parser import TextParser

    text, _ = make_lines(lines)
    parser = TextParser()
    rates = []
    for _ in range(runs):
        gc.collect()
        bad = 0
        t0 = time.perf_counter()
        for record in map(parser.parse, text):
            if record is None:
                bad += 1
        rates.append(len(text) / (time.perf_counter() - t0))
        if bad:
            raise RuntimeError(f"{bad} generated access-log lines did not parse")
    return rates


def config_dump_times(size_mb: float, runs: int) -> list[float]:
    """Seconds to parse and tabulate a synthetic config dump of ``size_mb``, ``runs`` times."""
    from meshtui.envoy.bench import parse_and_tabulate, synthetic_dump

    data = synthetic_dump(size_mb)
    parse_and_tabulate(data)  # warm-up: imports and caches, as the envoy bench does
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        result = parse_and_tabulate(data)
        times.append(time.perf_counter() - t0)
        del result  # freed after the clock stops, as after the screen is drawn
    return times


def reference_seconds(n: int = 10_000_000) -> float:
    """Seconds this interpreter takes for ``n`` additions in a loop: a yardstick of the machine's
    speed at the moment, printed beside the figures that depend on it."""
    started = time.perf_counter()
    total = 0
    for i in range(n):
        total += i
    return time.perf_counter() - started
