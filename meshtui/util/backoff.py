"""Reconnect delays: exponential backoff with jitter, the one helper for it.

Used by everything that reconnects (the kube source's watches, the sidecar log streams): many
streams cut at once must not all reconnect in lockstep, and a dead server must not be hammered.
"""

from __future__ import annotations

import random


class Backoff:
    """Exponential backoff with "equal jitter": a delay in [d/2, d], d doubling from ``base`` up
    to ``cap``."""

    def __init__(self, base: float, cap: float) -> None:
        self.base, self.cap, self.attempt = base, cap, 0

    def next(self) -> float:
        """The next delay; each call doubles the ceiling."""
        ceiling = min(self.cap, self.base * (2 ** self.attempt))
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        """Start again from the base delay (after a healthy connection)."""
        self.attempt = 0
