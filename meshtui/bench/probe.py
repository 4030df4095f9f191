"""Instruments for measuring the app from inside its own event loop (used by child processes).

- ``BenchApp``: ``MeshApp`` whose ``post_display_hook`` (Textual's hook, called right after a
  frame has been composed and handed to the driver) stamps every frame, so "on screen" means
  "the first frame drawn after the state changed".
- ``StallMeter``: a 2 ms ticker on the loop; a tick that comes late measures how long the loop
  was blocked.
- ``instrument_watch``: stamps the arrival of each watch event in the client's watch thread
  (the source itself is the real kube source on the real sandbox; nothing is mocked).
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable, Iterator
from typing import Any

from meshtui.app import MeshApp

TICK = 0.002


class BenchApp(MeshApp):
    """The real app, plus a timestamp per displayed frame."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frames: list[float] = []
        self.frame_probe: Callable[[], Any] | None = None
        self.frame_states: list[tuple[float, Any]] = []

    def post_display_hook(self) -> None:
        """Record when each frame was displayed (and, with ``frame_probe``, what it showed)."""
        now = time.perf_counter()
        self.frames.append(now)
        if self.frame_probe is not None:
            self.frame_states.append((now, self.frame_probe()))

    def first_frame_after(self, t: float) -> float | None:
        """The time of the first frame displayed after ``t``, if any yet."""
        i = bisect.bisect_right(self.frames, t)
        return self.frames[i] if i < len(self.frames) else None


class StallMeter:
    """Records how late a 2 ms ticker on the running loop wakes up (the loop's stalls)."""

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float, str]] = []  # (seconds late, when, phase)
        self.phase = "start"
        self._task: asyncio.Task[None] | None = None
        self._running = False

    def start(self) -> None:
        """Begin ticking on the current loop."""
        self._running = True
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        last = time.perf_counter()
        while self._running:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            late = now - last - TICK
            if late > 0.005:
                self.stalls.append((late, now, self.phase))
            last = now

    def stop(self) -> None:
        """Stop ticking."""
        self._running = False

    def worst(self, since: float = 0.0) -> float:
        """The longest stall (seconds) after ``since``; 0 when none over 5 ms."""
        return max((s for s, when, _ in self.stalls if when >= since), default=0.0)

    def top(self, n: int = 5) -> list[tuple[float, str]]:
        """The ``n`` longest stalls as (milliseconds, phase)."""
        return [(round(s * 1000, 1), phase) for s, _, phase in sorted(self.stalls, reverse=True)[:n]]


def instrument_watch(source: Any, arrivals: dict[tuple[str, str, str, str], float]) -> Any:
    """Wrap ``source.watch`` so each ObjectEvent's arrival time is recorded by
    (kind, namespace, name, resourceVersion). Returns ``source``."""
    from meshtui.sources.base import ObjectEvent

    real_watch = source.watch

    def watch(stop: Any, resume: Any = None) -> Iterator[Any]:
        for event in real_watch(stop, resume):
            if isinstance(event, ObjectEvent):
                meta = event.object.get("metadata") or {}
                key = (event.object.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""),
                       str(meta.get("resourceVersion", "")))
                arrivals[key] = time.perf_counter()
            yield event

    source.watch = watch
    return source


async def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``cond`` every tick on the loop; returns the time it first held. Raises TimeoutError."""
    deadline = time.perf_counter() + timeout
    while True:
        if cond():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(TICK)


async def frame_after(app: BenchApp, t: float, timeout: float = 10.0) -> float:
    """The first frame displayed after ``t`` (waiting for it if needed)."""
    deadline = time.perf_counter() + timeout
    while True:
        found = app.first_frame_after(t)
        if found is not None:
            return found
        if time.perf_counter() > deadline:
            raise TimeoutError("no frame was displayed")
        await asyncio.sleep(TICK)
