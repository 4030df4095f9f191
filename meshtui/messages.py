"""Messages the app posts to its screens (attributes down, messages up)."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class MeshUpdated(Message):
    """The mesh index changed (first load, or a batch of watch events)."""

    def __init__(self, index: Any, changed: list[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        self.index = index
        # (event type, raw object) pairs in this batch; None on a full (re)load.
        self.changed = changed
