"""Smoke test of the benchmark command: ``python -m meshtui.bench --quick`` runs end to end and
prints a line for every figure the issue asks for. No timing is asserted (speed is what the
benchmark reports, not what tests check)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

# The figures of issue 9, item 1: each must have a line in the table, measured or explained.
FIGURES = (
    r"load 20 svc: start to mesh index",
    r"load 20 svc: peak RSS at index",
    r"load 100 svc: start to mesh index",
    r"load 100 svc: peak RSS at index",
    r"load 100 svc: worst event-loop stall",
    r"kubectl get -A -o json, 100 svc: time",
    r"kubectl get -A -o json, 100 svc: peak RSS",
    r"watch: event to screen",
    r"watch: kubectl patch to screen",
    r"filter keystroke to repaint \(:svc, 100 svc\)",
    # Issue 14: as many HTTPRoutes beside the biggest mesh.
    r"load 100 svc \+ 100 HTTPRoutes: start to mesh index",
    r"load 100 svc \+ 100 HTTPRoutes: peak RSS at index",
    r"load 100 svc \+ 100 HTTPRoutes: worst event-loop stall",
    r"cold start meshtui --demo: first paint",
    r"access-log parser, TEXT",
    r"config dump .* parse \+ tabulate",
)


@pytest.mark.timeout(240)
def test_quick_benchmark_prints_every_figure() -> None:
    proc = subprocess.run([sys.executable, "-m", "meshtui.bench", "--quick", "--scales", "20,100"],
                          capture_output=True, text=True, timeout=230)
    out = proc.stdout
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "python -m meshtui.bench --quick" in out  # the exact command, for the README
    header = next(line for line in out.splitlines() if line.startswith("figure"))
    for column in ("median", "min", "max", "target", "ratio", "result"):
        assert column in header
    for figure in FIGURES:
        lines = [line for line in out.splitlines() if re.match(figure, line)]
        assert len(lines) == 1, f"no line for {figure!r} in:\n{out}"
        # Every line ends in a verdict, or says why it could not be measured.
        assert re.search(r"(PASS|MISS|  -|n/a)(  \(.+\))?$", lines[0]), lines[0]


def test_bad_arguments_are_one_line_errors() -> None:
    proc = subprocess.run([sys.executable, "-m", "meshtui.bench", "--scales", "many"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "--scales" in proc.stderr and "Traceback" not in proc.stderr
