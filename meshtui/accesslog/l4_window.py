"""The ztunnel lines of the last window about one service, for the Logs L4 section (pure).

The Logs screen and ``meshtui logs SVC --split`` follow the ztunnel pods of an ambient service
(``FollowPlan.ztunnels``) next to the Envoy logs; their lines are not Envoy access lines, so
they are kept here, by arrival time, and counted on demand with
:func:`meshtui.accesslog.ztunnel.l4_split` (per destination workload: connections, failures,
bytes, durations, share). Only lines naming the service's host are kept, at most ``max_lines``.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from meshtui.accesslog.ztunnel import L4Split, l4_split

MAX_LINES = 50_000


class L4Window:
    """ztunnel lines mentioning ``host`` seen in the last ``window`` seconds."""

    def __init__(self, host: str | None, window: float | None = 60.0, max_lines: int = MAX_LINES) -> None:
        self.host = host
        self.window = window
        self._lines: deque[tuple[float, str]] = deque(maxlen=max_lines)

    def add(self, line: str, now: float | None = None) -> None:
        """Keep ``line`` if it names the host (a cheap test before any parsing)."""
        if self.host and self.host in line:
            self._lines.append((time.monotonic() if now is None else now, line))

    def set_window(self, window: float | None) -> None:
        """A new window (older lines are dropped at the next count)."""
        self.window = window

    def reset(self) -> None:
        """Forget every line."""
        self._lines.clear()

    def split(self, now: float | None = None) -> L4Split:
        """The L4 split of the lines in the window."""
        if self.window is not None:
            cut = (time.monotonic() if now is None else now) - self.window
            while self._lines and self._lines[0][0] < cut:
                self._lines.popleft()
        return l4_split((line for _, line in self._lines), self.host or "")


def l4_json(split: L4Split) -> dict[str, Any]:
    """The ``"l4"`` object of ``meshtui logs --split -o json``."""
    return {"service": split.service, "direction": split.direction, "connections": split.connections,
            "rows": [{"workload": r.workload, "namespace": r.namespace, "connections": r.connections,
                      "failures": r.failures, "bytes_sent": r.bytes_sent, "bytes_recv": r.bytes_recv,
                      "duration_p50_ms": r.duration_percentile(0.5),
                      "duration_p99_ms": r.duration_percentile(0.99), "share": round(r.share, 4)}
                     for r in split.rows]}


def l4_table(split: L4Split) -> str:
    """The L4 section as text: one row per destination workload."""
    head = (f"L4 (ztunnel, {split.direction} connections to {split.service}): "
            f"{split.connections} connection(s)")
    if not split.rows:
        return head + "\n  no ztunnel connection seen yet"
    rows = [("WORKLOAD", "CONNS", "SHARE", "FAILED", "SENT", "RECV", "P50")]
    for r in split.rows:
        p50 = r.duration_percentile(0.5)
        rows.append((r.workload, str(r.connections), f"{r.share:.1%}", str(r.failures), str(r.bytes_sent),
                     str(r.bytes_recv), "-" if p50 is None else f"{p50:g}ms"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    body = ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([head, *body])
