"""Load the mesh in the real app (headless) and time it from process start; a child process.

``python -m meshtui.bench.load KUBECONFIG --spawned T`` prints one JSON line:

- ``index_s``: from process spawn (wall time ``T``) to ``app.index`` set: the kube source's
  paged lists and the ``MeshIndex`` built, in the app's worker thread;
- ``shown_s``: to the first frame showing the mesh browser filled in;
- ``rss_index_mb`` / ``rss_end_mb``: peak RSS of this process at those moments / at the end;
- ``stall_ms``: the worst event-loop stall from app start to ``settle`` seconds after the mesh
  was shown (the analysis that follows a load repaints the browser too); ``stalls``: the top 5
  with the phase they happened in (``load``, ``tree``, ``settle``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from typing import Any


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _run(kubeconfig: str, spawned: float, settle: float, timeout: float) -> None:
    from meshtui.bench.probe import BenchApp, StallMeter, frame_after, wait_until
    from meshtui.sources.kube import KubeSource
    from meshtui.widgets.mesh_tree import MeshTree

    # perf_counter -> seconds since spawn (wall clock is the only clock shared with the parent).
    offset = time.time() - time.perf_counter() - spawned
    app = BenchApp(lambda: KubeSource.from_kubeconfig(kubeconfig))
    meter = StallMeter()
    result: dict[str, Any] = {}
    async with app.run_test(headless=True, size=(160, 50)):
        meter.phase = "load"
        meter.start()
        t_index = await wait_until(lambda: app.index is not None, timeout, "the mesh index")
        result["rss_index_mb"] = _rss_mb()
        result["index_s"] = t_index + offset
        result["objects"] = len(app.index) if app.index is not None else 0
        meter.phase = "tree"

        def tree_filled() -> bool:
            trees = app.screen.query(MeshTree)
            return bool(trees) and bool(trees.first().root.children)

        t_before = time.perf_counter()
        while not tree_filled():
            t_before = time.perf_counter()
            await asyncio.sleep(0.002)
            if t_before - t_index > timeout:
                raise TimeoutError("the mesh browser was never filled")
        shown = await frame_after(app, t_before)
        result["shown_s"] = shown + offset
        meter.phase = "settle"
        await asyncio.sleep(settle)
        meter.stop()
        result["rss_end_mb"] = _rss_mb()
        result["stall_ms"] = meter.worst() * 1000
        result["stalls"] = meter.top()
        _emit(result)


def _emit(result: dict[str, Any]) -> None:
    """Print the result and end the process at once: leaving ``run_test`` would wait for the
    app's worker threads (a post-load analysis of a big mesh runs for many seconds)."""
    print(json.dumps(result), flush=True)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Child entry point: measure one load and print it as JSON."""
    ap = argparse.ArgumentParser(prog="python -m meshtui.bench.load")
    ap.add_argument("kubeconfig")
    ap.add_argument("--spawned", type=float, required=True, help="wall time the parent spawned us")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds to keep watching for stalls")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args(argv)
    try:
        asyncio.run(_run(args.kubeconfig, args.spawned, args.settle, args.timeout))
    except Exception as exc:  # noqa: BLE001 - report to the parent as one line
        print(f"meshtui.bench.load: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    os._exit(1)  # _run emits and exits; reaching here means it returned without a result


if __name__ == "__main__":
    main()
