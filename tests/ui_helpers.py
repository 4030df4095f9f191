"""Helpers for Pilot tests of meshtui's screens (not a test module)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Tree


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    """Let the app run until ``predicate()`` holds; fail with a clear message on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.05)


def toasts(app: App[Any]) -> list[str]:
    """The notifications on screen now (title and message), as the user reads them."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


def tree_lines(tree: Tree[Any]) -> list[str]:
    """Every node label of a tree, depth-first, as plain text."""
    out: list[str] = []

    def walk(node: Any) -> None:
        for child in node.children:
            out.append(str(child.label.plain if hasattr(child.label, "plain") else child.label))
            walk(child)

    walk(tree.root)
    return out


def dest_weight(line: str) -> int | None:
    """The weight shown on a route-tree destination line (`→ reviews v1   80% ████`)."""
    import re

    m = re.search(r"(\d+)% ", line + " ")
    return int(m.group(1)) if m else None
