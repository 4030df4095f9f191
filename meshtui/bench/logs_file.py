"""``meshtui logs --file F --split`` end to end, against a naive one-regex script in the same run.

``python -m meshtui.bench.logs_file [--lines N] [--runs K]`` (also part of ``python -m
meshtui.bench``) writes N lines in Istio's default TEXT format to a temporary file, then runs,
alternately and K times each, in child processes:

- ``meshtui logs --file F --split -o json`` (start-up, reading, parsing, the split; a big file
  is counted in parts by one worker process per core, ``meshtui.commands.logs_parallel``);
- the naive baseline: one regular expression per line counting requests per upstream cluster
  (``NAIVE``), what a user would write in five minutes and what the issue compares with.

Each figure is the median of K runs: lines per second by the wall clock and by CPU time (user +
system of the child and its workers: on a shared machine the wall clock also measures the
neighbours), and the child's peak RSS with its workers'. The ratio column is meshtui's rate over the naive script's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from meshtui.bench.report import Figure, table

#: The naive baseline: one regex per line, requests per upstream cluster, nothing else.
NAIVE = r'''
import re, sys
from collections import Counter
rx = re.compile(r'^\[[^\]]*\] "[^"]*" (\d+) .* (\S+) \S+ \S+ \S+ \S+ \S+$')
counts = Counter()
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for line in f:
        m = rx.match(line)
        if m:
            counts[m.group(2)] += 1
print(sum(counts.values()))
'''

TARGET_LINES_PER_S = 1_000_000.0

#: ``meshtui logs ...`` in a child that reports its own peak RSS (``VmHWM``, of this process image
#: only: ``ru_maxrss`` of a forked child also counts the parent's pages before the exec), plus,
#: for a file counted in parts, each worker's at the biggest one's (``ru_maxrss`` of the waited
#: children: an upper bound, as the pages a worker shares with its parent count twice).
MESHTUI = r'''
import resource, sys
from meshtui.cli import main
from meshtui.commands.logs_parallel import worker_count
code = main(sys.argv[1:])
try:
    peak = next(int(r.split()[1]) for r in open("/proc/self/status") if r.startswith("VmHWM:"))
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if workers:
        peak += worker_count() * workers
    print(f"vmhwm_kb={peak}", file=sys.stderr)
except (OSError, StopIteration, ValueError):
    pass
sys.exit(code)
'''


def write_log(path: Path, lines: int, piece: int = 50_000) -> None:
    """``lines`` generated lines (``meshtui.accesslog.bench.make_lines``) written piece by piece,
    so that generating a big file takes bounded memory."""
    from meshtui.accesslog.bench import make_lines

    with path.open("w", encoding="utf-8") as out:
        done = 0
        while done < lines:
            n = min(piece, lines - done)
            text, _ = make_lines(n, seed=done)
            out.write("\n".join(text) + "\n")
            done += n


def run_once(argv: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS MB) of one child run; raises on a failed run."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr is not None else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])}… exited {proc.returncode}: {err.strip()[-200:]}")
    peak = [int(line.split("=", 1)[1]) for line in err.splitlines() if line.startswith("vmhwm_kb=")]
    return wall, usage.ru_utime + usage.ru_stime, (peak[-1] if peak else usage.ru_maxrss) / 1024


def figures(lines: int) -> dict[str, Figure]:
    """The figures this benchmark fills, by key."""
    n = f"{lines:,} lines"
    naive_wall = f"naive one-regex script, {n}: wall rate"
    naive_cpu = f"naive one-regex script, {n}: CPU rate"
    return {
        "wall": Figure(f"logs --file --split, {n}: wall rate", "lines/s", target=TARGET_LINES_PER_S,
                       higher_is_better=True, baseline=naive_wall),
        "cpu": Figure(f"logs --file --split, {n}: CPU rate", "lines/s", target=TARGET_LINES_PER_S,
                      higher_is_better=True, baseline=naive_cpu),
        "rss": Figure(f"logs --file --split, {n}: peak RSS", "MB"),
        "naive_wall": Figure(naive_wall, "lines/s", higher_is_better=True),
        "naive_cpu": Figure(naive_cpu, "lines/s", higher_is_better=True),
    }


def measure(figs: dict[str, Figure], lines: int, runs: int, progress: Callable[[str], None] | None = None) -> None:
    """Generate the log, then run meshtui and the naive script alternately ``runs`` times."""
    say = progress or (lambda _m: None)
    with tempfile.TemporaryDirectory(prefix="meshtui-bench-logs-") as tmp:
        path = Path(tmp) / "access.log"
        # In a child: a child forked from a parent holding the generated lines would report the
        # parent's pages as its own peak RSS.
        subprocess.run([sys.executable, "-c", "import sys; from meshtui.bench.logs_file import write_log; "
                        "from pathlib import Path; write_log(Path(sys.argv[1]), int(sys.argv[2]))",
                        str(path), str(lines)], check=True)
        say(f"logs --file: {lines:,} lines, {path.stat().st_size / 1e6:,.0f} MB written")
        meshtui = [sys.executable, "-c", MESHTUI, "logs", "--file", str(path), "--split", "-o", "json"]
        naive = [sys.executable, "-c", NAIVE, str(path)]
        for i in range(runs):
            wall, cpu, rss = run_once(meshtui)
            figs["wall"].samples.append(lines / wall)
            figs["cpu"].samples.append(lines / cpu)
            figs["rss"].samples.append(rss)
            n_wall, n_cpu, _ = run_once(naive)
            figs["naive_wall"].samples.append(lines / n_wall)
            figs["naive_cpu"].samples.append(lines / n_cpu)
            say(f"logs --file run {i + 1}/{runs}: meshtui {wall:.2f} s ({cpu:.2f} s CPU, {rss:.0f} MB), "
                f"naive {n_wall:.2f} s ({n_cpu:.2f} s CPU)")


def main(argv: list[str] | None = None) -> int:
    """Run this benchmark alone and print its table."""
    ap = argparse.ArgumentParser(prog="python -m meshtui.bench.logs_file", description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines in the generated log (default 1,000,000)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each command (default 3)")
    args = ap.parse_args(argv)
    if args.lines < 1 or args.runs < 1:
        print("meshtui bench: --lines and --runs must be at least 1", file=sys.stderr)
        return 2
    figs = figures(args.lines)
    measure(figs, args.lines, args.runs, lambda m: print(f"[bench] {m}", file=sys.stderr, flush=True))
    print(table(list(figs.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
