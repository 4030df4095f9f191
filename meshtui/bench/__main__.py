"""``python -m meshtui.bench [--quick] [--runs K] [--scales 1000,5000] [--markdown]``.

The biggest scale is also loaded with as many Gateway API HTTPRoutes (``sandbox --httproutes``).

Prints one line per figure (median, min, max, DESIGN.md target, ratio to kubectl, PASS/MISS);
progress goes to stderr. Exits 0 when every figure was measured (a MISS is a result, not a
failure), 1 when some could not be measured (the line says why), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from functools import partial

from meshtui.bench import coldstart, engine, kubectl, logs_file
from meshtui.bench.procs import BenchError, SandboxProcess, run_child
from meshtui.bench.report import Figure, markdown, table

LOAD_SECONDS, LOAD_MB, STALL_MS, REPAINT_MS, WATCH_MS, FIRST_SCREEN_S = 3.0, 500.0, 50.0, 50.0, 100.0, 1.0
LINES_PER_S, DUMP_S = 500_000.0, 0.3
PREVIEW_MS = 150.0  # issue 13: the preview of one weight edit at 5,000 services


def _progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _attempt(figures: list[Figure], step: str, fn: Callable[[], None]) -> bool:
    """Run one measuring step; on failure, note the cause on its figures that have no samples."""
    try:
        fn()
        return True
    except (BenchError, TimeoutError, OSError, RuntimeError, ValueError) as exc:
        cause = f"{step}: {exc}".replace("\n", " ")[:160]
        _progress(f"FAILED {cause}")
        for f in figures:
            if not f.samples and not f.note:
                f.note = cause
        return False


def _scale_figures(n: int, biggest: bool, with_kubectl: bool) -> dict[str, Figure]:
    k_time = f"kubectl get -A -o json, {n:,} svc: time"
    k_rss = f"kubectl get -A -o json, {n:,} svc: peak RSS"
    figs = {
        "time": Figure(f"load {n:,} svc: start to mesh index", "s", target=LOAD_SECONDS if biggest else None,
                       baseline=k_time if with_kubectl else None),
        "rss": Figure(f"load {n:,} svc: peak RSS at index", "MB", target=LOAD_MB if biggest else None,
                      baseline=k_rss if with_kubectl else None),
        "shown": Figure(f"load {n:,} svc: start to mesh on screen", "s"),
        "stall": Figure(f"load {n:,} svc: worst event-loop stall", "ms", target=STALL_MS),
        "preview": Figure(f"preview of one weight edit, {n:,} svc", "ms", target=PREVIEW_MS if biggest else None),
        "preview_stall": Figure(f"preview of one weight edit, {n:,} svc: worst event-loop stall", "ms",
                                target=STALL_MS),
        "k_time": Figure(k_time, "s"),
        "k_rss": Figure(k_rss, "MB"),
    }
    if not with_kubectl:
        figs["k_time"].note = figs["k_rss"].note = "kubectl not found"
    return figs


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(prog="python -m meshtui.bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one run: a fast pass that every figure prints")
    ap.add_argument("--runs", type=int, default=None, help="runs per figure (default 3; --quick: 1)")
    ap.add_argument("--scales", default=None, help="comma-separated service counts (default 1000,5000; --quick: 20,100)")
    ap.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = ap.parse_args(argv)
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    try:
        scales = [int(s) for s in (args.scales or ("20,100" if args.quick else "1000,5000")).split(",") if s.strip()]
    except ValueError:
        print(f"meshtui bench: --scales {args.scales!r}: not a list of numbers", file=sys.stderr)
        return 2
    if runs < 1 or not scales or min(scales) < 1:
        print("meshtui bench: --runs and every scale must be at least 1", file=sys.stderr)
        return 2
    quick = args.quick
    settle = 0.5 if quick else 3.0
    command = " ".join(["python -m meshtui.bench", *(sys.argv[1:] if argv is None else argv)])
    started = time.perf_counter()
    has_kubectl = kubectl.available()
    figures: list[Figure] = []
    ok = True
    biggest = max(scales)

    # The machine's own speed, before and after: on a shared virtual machine it moves by up to 2x
    # between runs, and every figure here that is CPU-bound moves with it.
    reference = Figure("reference: 10,000,000 CPython loop additions (machine speed)", "s")
    figures.append(reference)
    reference.samples.append(engine.reference_seconds())

    watch_event = Figure("watch: event to screen (route tree)", "ms", target=WATCH_MS)
    watch_patch = Figure("watch: kubectl patch to screen", "ms")
    repaint = Figure(f"filter keystroke to repaint (:svc, {biggest:,} svc)", "ms", target=REPAINT_MS)

    for n in scales:
        figs = _scale_figures(n, n == biggest, has_kubectl)
        figures.extend(figs.values())
        _progress(f"starting meshtui sandbox --scale {n}")

        def at_scale(n: int = n, figs: dict[str, Figure] = figs) -> None:
            nonlocal ok
            with SandboxProcess(n) as sb:
                _progress(f"sandbox --scale {n} up in {sb.started_in:.1f} s")
                kc = str(sb.kubeconfig)
                _warm(kc, n)
                for i in range(runs):
                    ok &= _attempt(list(figs.values()), f"load {n}", partial(_load_run, kc, settle, figs, n, i, runs))
                    if has_kubectl:
                        ok &= _attempt([figs["k_time"], figs["k_rss"]], f"kubectl {n}", partial(_kubectl_run, kc, figs, n, i, runs))
                ok &= _attempt([figs["preview"], figs["preview_stall"]], f"preview {n}",
                               lambda: _preview_run(kc, figs, n, max(runs, 3) if not quick else 1))
                if n == biggest:
                    ok &= _attempt([watch_event, watch_patch, repaint], "ui", lambda: _ui_run(
                        kc, settle, runs, quick, watch_event, watch_patch, repaint))

        ok &= _attempt(list(figs.values()) + ([watch_event, watch_patch, repaint] if n == biggest else []),
                       f"sandbox {n}", at_scale)
    figures.extend([watch_event, watch_patch, repaint])

    # Issue 14: as many Gateway API HTTPRoutes (north-south, one Gateway per namespace) beside
    # the biggest mesh, within the same budgets.
    routes = {
        "time": Figure(f"load {biggest:,} svc + {biggest:,} HTTPRoutes: start to mesh index", "s",
                       target=LOAD_SECONDS),
        "rss": Figure(f"load {biggest:,} svc + {biggest:,} HTTPRoutes: peak RSS at index", "MB", target=LOAD_MB),
        "shown": Figure(f"load {biggest:,} svc + {biggest:,} HTTPRoutes: start to mesh on screen", "s"),
        "stall": Figure(f"load {biggest:,} svc + {biggest:,} HTTPRoutes: worst event-loop stall", "ms",
                        target=STALL_MS),
    }
    figures.extend(routes.values())
    _progress(f"starting meshtui sandbox --scale {biggest} --httproutes")

    def with_routes() -> None:
        nonlocal ok
        with SandboxProcess(biggest, httproutes=True) as sb:
            _progress(f"sandbox --scale {biggest} --httproutes up in {sb.started_in:.1f} s")
            _warm(str(sb.kubeconfig), biggest)
            for i in range(runs):
                ok &= _attempt(list(routes.values()), f"load {biggest} + HTTPRoutes",
                               partial(_load_run, str(sb.kubeconfig), settle, routes, biggest, i, runs))

    ok &= _attempt(list(routes.values()), f"sandbox {biggest} --httproutes", with_routes)

    first_paint = Figure("cold start meshtui --demo: first paint", "s", target=FIRST_SCREEN_S)
    demo_shown = Figure("cold start meshtui --demo: demo mesh shown", "s")
    figures.extend([first_paint, demo_shown])
    if coldstart.available():
        def cold() -> None:
            for i in range(max(runs, 3) if not quick else 1):
                first, loaded = coldstart.measure_once()
                first_paint.samples.append(first)
                demo_shown.samples.append(loaded)
                _progress(f"cold start {i + 1}: first paint {first:.2f} s, mesh {loaded:.2f} s")
        ok &= _attempt([first_paint, demo_shown], "cold start", cold)
    else:
        first_paint.note = demo_shown.note = "tmux not found"

    lines = 20_000 if quick else 1_000_000
    parser = Figure(f"access-log parser, TEXT ({lines:,} lines)", "lines/s", target=LINES_PER_S, higher_is_better=True)
    size_mb = 1.0 if quick else 20.0
    dump = Figure(f"config dump {size_mb:g} MB: parse + tabulate", "s", target=DUMP_S)
    figures.extend([parser, dump])
    _progress("access-log parser")
    ok &= _attempt([parser], "access-log parser", lambda: parser.samples.extend(engine.accesslog_rates(lines, max(runs, 3) if not quick else 1)))
    logs_figs = logs_file.figures(lines)
    figures.extend(logs_figs.values())
    _progress("logs --file --split vs a naive one-regex script")
    ok &= _attempt(list(logs_figs.values()), "logs --file --split",
                   lambda: logs_file.measure(logs_figs, lines, max(runs, 3) if not quick else 1, _progress))
    _progress("config dump")
    ok &= _attempt([dump], "config dump", lambda: dump.samples.extend(engine.config_dump_times(size_mb, max(runs, 3) if not quick else 1)))

    ok &= _metrics_basis(figures, 100 if quick else 5000, 3 if quick else max(runs, 7))

    reference.samples.append(engine.reference_seconds())
    elapsed = time.perf_counter() - started
    print(f"meshtui benchmark: {command}")
    print(f"machine: {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python {platform.python_version()}; "
          f"runs: {runs}; scales: {', '.join(f'{n:,}' for n in scales)} services (4 pods each); took {elapsed:.0f} s")
    print(table(figures))
    if args.markdown:
        print()
        print(markdown(figures))
    return 0 if ok else 1


def _warm(kc: str, n: int) -> None:
    """One untimed load of a new sandbox. Its first list of each kind serialises every object
    (then kept per object) and takes 1-2 s longer at 5,000 services; a real API server answers
    from its warm watch cache, so every timed run, meshtui's and kubectl's, meets a warm one."""
    r = run_child("meshtui.bench.load", [kc, "--settle", "0"], timeout=300)
    _progress(f"load {n} warm-up (untimed): index {r['index_s']:.2f} s")


def _load_run(kc: str, settle: float, figs: dict[str, Figure], n: int, i: int, runs: int) -> None:
    r = run_child("meshtui.bench.load", [kc, "--settle", str(settle)], timeout=300)
    figs["time"].samples.append(r["index_s"])
    figs["rss"].samples.append(r["rss_index_mb"])
    figs["shown"].samples.append(r["shown_s"])
    figs["stall"].samples.append(r["stall_ms"])
    _progress(f"load {n} run {i + 1}/{runs}: index {r['index_s']:.2f} s, {r['rss_index_mb']:.0f} MB, "
              f"shown {r['shown_s']:.2f} s, worst stalls {r['stalls']}")


def _preview_run(kc: str, figs: dict[str, Figure], n: int, runs: int) -> None:
    r = run_child("meshtui.bench.preview", [kc, "--runs", str(runs)], timeout=300)
    figs["preview"].samples.extend(r["preview_ms"])
    figs["preview_stall"].samples.extend(r["stall_ms"])
    _progress(f"preview {n}: {[round(x) for x in r['preview_ms']]} ms, stalls {[round(x) for x in r['stall_ms']]} ms, "
              f"{r['context']} of {r['objects']} objects checked")


def _kubectl_run(kc: str, figs: dict[str, Figure], n: int, i: int, runs: int) -> None:
    seconds, mb = kubectl.get_all(kc)
    figs["k_time"].samples.append(seconds)
    figs["k_rss"].samples.append(mb)
    _progress(f"kubectl {n} run {i + 1}/{runs}: {seconds:.2f} s, {mb:.0f} MB")


def _ui_run(kc: str, settle: float, runs: int, quick: bool, event: Figure, patch: Figure, repaint: Figure) -> None:
    # One app session: loading the big mesh once, then several patches and keystrokes.
    patches = 1 if quick else 2 * runs + 1
    r = run_child("meshtui.bench.ui", [kc, "--patches", str(patches), "--settle", str(settle)], timeout=600)
    event.samples.extend(r["watch_event_ms"])
    patch.samples.extend(r["watch_patch_ms"])
    repaint.samples.extend(r["filter_ms"])
    if r.get("patched_with") != "kubectl":
        patch.note = "patched over HTTP: kubectl not found"
    _progress(f"ui: event->screen {[round(x) for x in r['watch_event_ms']]} ms, "
              f"keystroke->repaint {[round(x) for x in r['filter_ms']]} ms ({r.get('rows')} rows)")


def _metrics_basis(figures: list[Figure], services: int, runs: int) -> bool:
    """Issue 17: the metrics basis's query time on the real Prometheus, vs one selector query."""
    from meshtui.bench import metrics_basis

    name, base_name = metrics_basis.figures_line(services)
    split, base = Figure(name, "ms", baseline=base_name), Figure(base_name, "ms")
    figures.extend([split, base])
    if not metrics_basis.available():
        split.note = base.note = "prometheus not found"
        return True

    def run() -> None:
        basis, baseline, series = metrics_basis.measure(services, runs, _progress)
        split.samples.extend(s * 1000 for s in basis)
        base.samples.extend(s * 1000 for s in baseline)
        split.note = f"{series:,} series"

    return _attempt([split, base], "metrics basis", run)


if __name__ == "__main__":
    sys.exit(main())
