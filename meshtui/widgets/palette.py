"""The command palette (ctrl+p): every view, every action of the screen, every service."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from meshtui.messages import RunCommand, ShowObject
from meshtui.session.commands import COMMANDS
from meshtui.widgets.host import session_of


class MeshCommands(Provider):
    """Views, the focused screen's actions, and a jump to any service or namespace."""

    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        out: list[tuple[str, str, Callable[[], Any]]] = []
        for spec in COMMANDS:
            out.append((spec.title, f"{spec.usage} — {spec.help}", partial(self._command, spec.name)))
        screen = self.screen
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description or binding.action.startswith("app."):
                continue
            out.append((f"{binding.description} ({binding.key})",
                        binding.tooltip or f"action of {type(screen).__name__}",
                        partial(screen.run_action, binding.action)))
        session = session_of(self.screen)
        index = session.index if session is not None else None
        if index is not None:
            for ns in index.namespaces:
                out.append((f"namespace {ns}", f":ns {ns} — scope to this namespace",
                            partial(self._command, f"ns {ns}")))
            for svc in list(index.services)[:20000]:
                out.append((f"service {svc.namespace}/{svc.name}", "open in the mesh browser",
                            partial(self._show, svc.namespace, svc.name)))
        return out

    def _command(self, line: str) -> None:
        self.app.post_message(RunCommand(line))

    def _show(self, namespace: str, name: str) -> None:
        self.app.post_message(ShowObject("Service", namespace, name))

    async def discover(self) -> Hits:
        """Shown before typing: the views and this screen's actions."""
        for title, help_text, command in self._entries():
            if title.startswith(("service ", "namespace ")):
                continue
            yield DiscoveryHit(title, command, help=help_text)

    async def search(self, query: str) -> Hits:
        """Fuzzy match over every entry."""
        matcher = self.matcher(query)
        for title, help_text, command in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), command, help=help_text)
