"""The preview of one weight edit on a big mesh, as the route editor runs it; a child process.

``python -m meshtui.bench.preview KUBECONFIG --spawned T --runs K`` reads the mesh through the
kube source and indexes it (not timed), then K times: on the event loop, one weight edit of a
different VirtualService (``v1`` by -5, as ``←`` in the route editor) and its change plan with
the objects the edit can affect; in a worker thread, what the preview screen runs before it
can show ``y``: the diff, schema / Istio / analyzer validation, ownership and the sandbox's
server-side dry run. A 2 ms ticker on the loop measures how long the loop stalls meanwhile.

Prints one JSON line: ``preview_ms`` (each run, edit to preview ready), ``stall_ms`` (the
worst stall of each run), ``context`` (objects checked in the last run), ``objects`` (mesh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


async def _run(kubeconfig: str, runs: int) -> dict[str, Any]:
    from meshtui.bench.probe import StallMeter
    from meshtui.model.index import MeshIndex
    from meshtui.sources.kube import KubeSource
    from meshtui.write.apply import Writer
    from meshtui.write.audit import AuditLog
    from meshtui.write import edit_api
    from meshtui.write.pending import EditSession
    from meshtui.write.scope import affected_objects

    source = KubeSource.from_kubeconfig(kubeconfig)
    snapshot = await asyncio.to_thread(source.snapshot)
    index = await asyncio.to_thread(MeshIndex, snapshot.objects)
    names = sorted((vs.namespace, vs.name) for vs in index.virtual_services if vs.name.startswith("svc-"))
    if len(names) < runs:
        raise RuntimeError(f"the sandbox serves {len(names)} scale VirtualServices, fewer than {runs} runs")
    with tempfile.TemporaryDirectory() as tmp:
        writer = Writer(AuditLog(Path(tmp) / "audit.jsonl"))
        writer.check(_plan(index, source, names[-1], EditSession, edit_api.shift, affected_objects)[0])  # warm-up
        result: dict[str, Any] = {"preview_ms": [], "stall_ms": [], "objects": len(index)}
        meter = StallMeter()
        meter.start()
        for i in range(runs):
            await asyncio.sleep(0.05)  # let the ticker settle between runs
            started = time.perf_counter()
            plan, context = _plan(index, source, names[i * (len(names) // runs)], EditSession, edit_api.shift,
                                  affected_objects)
            preview = await asyncio.to_thread(writer.check, plan)
            elapsed = time.perf_counter() - started
            if preview.blocked is not None or not preview.validation.ok:
                raise RuntimeError(f"the preview refused the edit: {preview.validation.summary()}")
            result["preview_ms"].append(elapsed * 1000)
            result["stall_ms"].append(meter.worst(since=started) * 1000)
            result["context"] = context
        meter.stop()
    source.close()
    return result


def _plan(index: Any, source: Any, key: tuple[str, str], session_type: Any, shift: Any,
          affected_objects: Any) -> tuple[Any, int]:
    """What the route editor does on ``←`` then ``enter``: one pending weight edit and its plan."""
    vs = index.get("VirtualService", *key)
    session = session_type(vs.raw)
    session.apply(shift(0, "v1", -5))
    context = affected_objects(index, [session.base, session.current])
    return session.plan(source, context), len(context)


def main(argv: list[str] | None = None) -> None:
    """Child entry point: measure the previews and print them as JSON."""
    ap = argparse.ArgumentParser(prog="python -m meshtui.bench.preview")
    ap.add_argument("kubeconfig")
    ap.add_argument("--spawned", type=float, required=True, help="wall time the parent spawned us")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    try:
        result = asyncio.run(_run(args.kubeconfig, args.runs))
    except Exception as exc:  # noqa: BLE001 - report to the parent as one line
        print(f"meshtui.bench.preview: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        os._exit(1)
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    main()
