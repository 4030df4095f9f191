"""Watch latency and filter repaint in the real app (headless); a child process.

``python -m meshtui.bench.ui KUBECONFIG --service NS/NAME --spawned T`` loads the mesh, then:

- selects the service in the browser and, ``--patches`` times, changes the weights of its
  VirtualService with ``kubectl patch`` (merge patch; over HTTP when kubectl is missing). It
  records when the patch started, when the watch event reached the client (the watch thread),
  and the first frame drawn after the route tree showed the new weight;
- opens ``:svc`` and types a filter with ``/``, one key at a time; for each key, the time from
  the key press to the first frame drawn after the table applied the filter.

Prints one JSON line: ``watch_event_ms``, ``watch_patch_ms``, ``filter_ms``, ``rows``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sys
import time
from functools import partial
from typing import Any

# Weights given to subset v1 (v2 gets the rest) by successive patches: each differs from the last.
WEIGHTS = (70, 55, 80, 65, 75, 60, 85, 50, 95, 45)
# Keys typed into the filter: narrowing step by step, then widening again.
_WEIGHT = re.compile(r"(?<![\w.])(\d{1,3})%")
FILTER_KEYS = ("s", "v", "c", "minus", "4", "9", "9", "backspace", "backspace", "backspace")


def _patch_body(name: str, weight: int) -> dict[str, Any]:
    return {"spec": {"http": [{"route": [
        {"destination": {"host": name, "subset": "v1"}, "weight": weight},
        {"destination": {"host": name, "subset": "v2"}, "weight": 100 - weight},
    ]}]}}



def _grew(items: list[Any], before: int) -> bool:
    return len(items) > before

async def _kubectl_patch(kubeconfig: str, ns: str, name: str, weight: int) -> str:
    """Patch with kubectl; returns the new resourceVersion."""
    proc = await asyncio.create_subprocess_exec(
        "kubectl", "--kubeconfig", kubeconfig, "-n", ns, "patch", "virtualservice", name, "--type", "merge",
        "-p", json.dumps(_patch_body(name, weight)), "-o", "jsonpath={.metadata.resourceVersion}",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl patch failed: {err.decode(errors='replace').strip()[:200]}")
    return out.decode().strip()


async def _http_patch(source: Any, ns: str, name: str, weight: int) -> str:
    """Patch through the app's own client (when kubectl is not installed); returns the new resourceVersion."""
    path = f"/apis/networking.istio.io/v1/namespaces/{ns}/virtualservices/{name}"
    obj = await asyncio.to_thread(source.rest.json, "PATCH", path, (), _patch_body(name, weight),
                                  content_type="application/merge-patch+json")
    return str(((obj or {}).get("metadata") or {}).get("resourceVersion", ""))


def _shown_weights(app: Any) -> list[int]:
    """The weights of the destination leaves the route tree shows (``→ v1 … 90% ███``)."""
    from meshtui.widgets.route_tree import RouteTree

    trees = app.screen.query(RouteTree)
    if not trees:
        return []
    found: list[int] = []
    stack = list(trees.first().root.children)
    while stack:
        node = stack.pop()
        data = node.data
        label = str(node.label)
        if isinstance(data, tuple) and data and data[0] == "dest":
            # The first "NN%" token: the weight (the bar after it has no digits).
            match = _WEIGHT.search(label)
            if match:
                found.append(int(match.group(1)))
        stack.extend(node.children)
    return found


async def _await_change(app: Any, cond: Any, start: float, timeout: float) -> float:
    """Poll ``cond`` on the loop; returns the last time it was still false (the change happened
    after it). Raises TimeoutError."""
    last_false = start
    while not cond():
        last_false = time.perf_counter()
        if last_false - start > timeout:
            raise TimeoutError("the change never reached the screen")
        await asyncio.sleep(0.001)
    return last_false


async def _run(args: argparse.Namespace) -> None:
    from meshtui.bench.probe import BenchApp, frame_after, instrument_watch, wait_until
    from meshtui.sources.kube import KubeSource
    from meshtui.widgets.big_table import BigTable
    from meshtui.widgets.mesh_tree import MeshTree

    ns, _, name = args.service.partition("/")
    arrivals: dict[tuple[str, str, str, str], float] = {}
    app = BenchApp(lambda: instrument_watch(KubeSource.from_kubeconfig(args.kubeconfig), arrivals))
    use_kubectl = shutil.which("kubectl") is not None
    out: dict[str, Any] = {"watch_event_ms": [], "watch_patch_ms": [], "filter_ms": [],
                           "patched_with": "kubectl" if use_kubectl else "http"}
    async with app.run_test(headless=True, size=(160, 50)) as pilot:
        await wait_until(lambda: app.index is not None, args.timeout, "the mesh index")
        await wait_until(lambda: bool(app.screen.query(MeshTree)) and bool(app.screen.query_one(MeshTree).root.children),
                         args.timeout, "the mesh browser")
        await asyncio.sleep(args.settle)  # the post-load analysis and its repaint
        await wait_until(lambda: app.findings.idle, 60, "the post-load analysis")
        app.show_in_browser(("Service", ns, name))
        await wait_until(lambda: bool(_shown_weights(app)), 30, f"the routes of {ns}/{name}")

        # -- watch: patch -> event -> screen -------------------------------------------------
        for i in range(args.patches):
            weight = WEIGHTS[i % len(WEIGHTS)]
            if weight in _shown_weights(app):
                weight = 100 - weight - 1  # a weight not on screen yet (the WEIGHTS never sum to 99)
            t0 = time.perf_counter()
            if use_kubectl:
                patch = asyncio.ensure_future(_kubectl_patch(args.kubeconfig, ns, name, weight))
            else:
                patch = asyncio.ensure_future(_http_patch(app.session.source, ns, name, weight))
            last_false = await _await_change(app, lambda w=weight: w in _shown_weights(app), t0, 30)
            shown = await frame_after(app, last_false)
            rv = await patch
            arrived = arrivals.get(("VirtualService", ns, name, rv))
            out["watch_patch_ms"].append((shown - t0) * 1000)
            if arrived is not None:
                out["watch_event_ms"].append((shown - arrived) * 1000)
            # The analysis this change asks for (about a second at 5,000 services, after the
            # mesh has been quiet for one) shares the interpreter with the UI: measure each
            # event on an app that has finished with the one before.
            await wait_until(lambda: app.findings.idle, 60, "the analysis of the change")

        # -- filter keystroke -> repaint on :svc -----------------------------------------------
        await pilot.press("colon", "s", "v", "c", "enter")
        await wait_until(lambda: bool(app.screen.query(BigTable)) and app.screen.query_one(BigTable).row_count > 0,
                         30, "the :svc table")
        table = app.screen.query_one(BigTable)
        out["rows"] = table.total_count
        applied: list[float] = []
        real_set_filter = table.set_filter

        def set_filter(text: str) -> None:
            real_set_filter(text)
            applied.append(time.perf_counter())

        table.set_filter = set_filter  # type: ignore[method-assign]
        await pilot.press("slash")
        await asyncio.sleep(0.2)
        for _ in range(args.filter_rounds):
            for key in FILTER_KEYS:
                before = len(applied)
                t0 = time.perf_counter()
                await pilot.press(key)
                await wait_until(partial(_grew, applied, before), 30, "the filter to apply")
                shown = await frame_after(app, applied[-1])
                out["filter_ms"].append((shown - t0) * 1000)
                await asyncio.sleep(0.05)
            for _ in range(4):  # clear what is left of the filter for the next round
                await pilot.press("backspace")
            await asyncio.sleep(0.2)
        _emit(out)


def _emit(result: dict[str, Any]) -> None:
    """Print the result and end the process at once: leaving ``run_test`` would wait for the
    app's worker threads (a post-load analysis of a big mesh runs for many seconds)."""
    print(json.dumps(result), flush=True)
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    """Child entry point: measure watch latency and filter repaint; print them as JSON."""
    ap = argparse.ArgumentParser(prog="python -m meshtui.bench.ui")
    ap.add_argument("kubeconfig")
    ap.add_argument("--service", default="scale-0/svc-0", help="NS/NAME of a service with a 2-subset split")
    ap.add_argument("--patches", type=int, default=3)
    ap.add_argument("--filter-rounds", type=int, default=1)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--spawned", type=float, default=0.0)
    args = ap.parse_args(argv)
    try:
        asyncio.run(_run(args))
    except Exception as exc:  # noqa: BLE001 - report to the parent as one line
        print(f"meshtui.bench.ui: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    os._exit(1)  # _run emits and exits; reaching here means it returned without a result


if __name__ == "__main__":
    main()
