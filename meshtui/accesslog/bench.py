"""Parser throughput benchmark: ``python -m meshtui.accesslog.bench [--lines N] [--runs R]``.

Generates N access-log lines in Istio's default TEXT format and N in Istio's default JSON
encoding (varied paths, codes, flags, clusters), then times on one core, streaming (each
record consumed and dropped, as the statistics and the UI ring buffer do):

- ``TextParser.parse`` over the TEXT lines (target: >= 500,000 lines/s);
- ``JsonParser.parse`` over the JSON lines;
- plain ``json.loads`` and ``orjson.loads`` of the same JSON lines, as the reference.

Each figure is the median of R runs (default 5) with min and max. Generating lines is not timed.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence

from meshtui.accesslog.format import ISTIO_JSON_FORMAT
from meshtui.accesslog.parser import JsonParser, TextParser

_CLUSTERS = (
    "outbound|9080|v1|reviews.default.svc.cluster.local",
    "outbound|9080|v2|reviews.default.svc.cluster.local",
    "outbound|9080|v3|reviews.default.svc.cluster.local",
    "inbound|9080||",
    "PassthroughCluster",
)
_CODES = ((200, "-", "via_upstream"), (200, "-", "via_upstream"), (404, "NR", "route_not_found"),
          (503, "UH", "no_healthy_upstream"), (504, "UT", "response_timeout"))


def make_lines(n: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """N TEXT lines and the same N requests as JSON lines, both in Istio's default format."""
    rng = random.Random(seed)
    text: list[str] = []
    js: list[str] = []
    for i in range(n):
        code, flags, details = _CODES[i % len(_CODES)]
        cluster = _CLUSTERS[i % len(_CLUSTERS)]
        values = {
            "start_time": f"2024-05-01T12:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}Z",
            "method": "GET" if i % 3 else "POST",
            "path": f"/reviews/{rng.randrange(1000)}?page={i % 7}",
            "protocol": "HTTP/1.1",
            "response_code": str(code),
            "response_flags": flags,
            "response_code_details": details,
            "connection_termination_details": "-",
            "upstream_transport_failure_reason": "-",
            "bytes_received": "0",
            "bytes_sent": str(rng.randrange(50, 5000)),
            "duration": str(rng.randrange(1, 900)),
            "upstream_service_time": str(rng.randrange(1, 800)),
            "x_forwarded_for": "-",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) curl/8.5.0",
            "request_id": f"{rng.getrandbits(128):032x}",
            "authority": "reviews:9080",
            "upstream_host": f"10.44.{i % 4}.{i % 250}:9080",
            "upstream_cluster": cluster,
            "upstream_local_address": "10.44.1.23:37652",
            "downstream_local_address": "10.0.45.184:9080",
            "downstream_remote_address": "10.44.1.23:46520",
            "requested_server_name": "-",
            "route_name": "default",
        }
        v = values
        text.append(
            f'[{v["start_time"]}] "{v["method"]} {v["path"]} {v["protocol"]}" {v["response_code"]} '
            f'{v["response_flags"]} {v["response_code_details"]} {v["connection_termination_details"]} '
            f'"{v["upstream_transport_failure_reason"]}" {v["bytes_received"]} {v["bytes_sent"]} '
            f'{v["duration"]} {v["upstream_service_time"]} "{v["x_forwarded_for"]}" "{v["user_agent"]}" '
            f'"{v["request_id"]}" "{v["authority"]}" "{v["upstream_host"]}" {v["upstream_cluster"]} '
            f'{v["upstream_local_address"]} {v["downstream_local_address"]} '
            f'{v["downstream_remote_address"]} {v["requested_server_name"]} {v["route_name"]}'
        )
        js.append(json.dumps({k: values[k] for k in ISTIO_JSON_FORMAT}, separators=(",", ":")))
    return text, js


def _time(fn: Callable[[Sequence[str]], object], lines: Sequence[str], runs: int) -> list[float]:
    rates = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        fn(lines)
        elapsed = time.perf_counter() - start
        rates.append(len(lines) / elapsed)
    return rates


def _drain(parse: Callable[[str], object]) -> Callable[[Sequence[str]], object]:
    def run(lines: Sequence[str]) -> object:
        bad = 0
        for record in map(parse, lines):
            if record is None:
                bad += 1
        if bad:
            raise SystemExit(f"bench: {bad} generated lines did not parse")
        return None

    return run


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one line per measurement."""
    ap = argparse.ArgumentParser(prog="python -m meshtui.accesslog.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines per run (default 1,000,000)")
    ap.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    args = ap.parse_args(argv)
    if args.lines < 1 or args.runs < 1:
        print("bench: --lines and --runs must be at least 1", file=sys.stderr)
        return 2
    text_lines, json_lines = make_lines(args.lines)
    text_parser = TextParser()
    json_parser = JsonParser()
    measurements: list[tuple[str, list[float]]] = [
        ("TextParser (Istio default TEXT)", _time(_drain(text_parser.parse), text_lines, args.runs)),
        ("JsonParser (Istio default JSON)", _time(_drain(json_parser.parse), json_lines, args.runs)),
        ("json.loads (same JSON lines)", _time(lambda ls: [None for _ in map(json.loads, ls)], json_lines, args.runs)),
    ]
    try:
        import orjson

        measurements.append(
            ("orjson.loads (same JSON lines)", _time(lambda ls: [None for _ in map(orjson.loads, ls)], json_lines, args.runs))
        )
    except ImportError:  # pragma: no cover
        pass
    print(f"{args.lines:,} lines, median of {args.runs} runs, one core (lines/s)")
    medians = {}
    for label, rates in measurements:
        med = statistics.median(rates)
        medians[label] = med
        print(f"  {label:34s} {med:>12,.0f}   min {min(rates):>12,.0f}   max {max(rates):>12,.0f}")
    text_med = medians["TextParser (Istio default TEXT)"]
    json_med = medians["JsonParser (Istio default JSON)"]
    print(f"  TEXT target 500,000 lines/s: {'met' if text_med >= 500_000 else 'NOT met'}")
    for label in ("json.loads (same JSON lines)", "orjson.loads (same JSON lines)"):
        if label in medians:
            name = label.split(" ")[0]
            print(f"  JsonParser / {name}: {json_med / medians[label]:.2f}   TextParser / {name}: {text_med / medians[label]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
