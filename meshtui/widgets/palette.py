"""The command palette (ctrl+p): every view, every action of the screen, every service."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (command line for app.run_command, title, help)
VIEWS: tuple[tuple[str, str, str], ...] = (
    ("mesh", "Mesh browser", "namespaces → services → routes"),
    ("vs", "VirtualServices", ":vs — every VirtualService"),
    ("dr", "DestinationRules", ":dr — every DestinationRule"),
    ("gw", "Gateways", ":gw — every Gateway"),
    ("se", "ServiceEntries", ":se — every ServiceEntry"),
    ("svc", "Services", ":svc — every Kubernetes Service"),
    ("pods", "Pods", ":pods — every pod"),
    ("ns", "All namespaces", ":ns — clear the namespace scope"),
    ("ctx", "Switch context", ":ctx — pick a kubeconfig context"),
    ("analyze", "Analyze", ":analyze — configuration findings (IST/MT codes)"),
    ("trace", "Trace a request", ":trace — why a request lands where it does"),
    ("history", "History", ":history — changes made through meshtui, with undo"),
    ("quit", "Quit", "leave meshtui"),
)


class MeshCommands(Provider):
    """Views, the focused screen's actions, and a jump to any service or namespace."""

    def _entries(self) -> list[tuple[str, str, Callable[[], Any]]]:
        app: Any = self.app
        out: list[tuple[str, str, Callable[[], Any]]] = []
        for line, title, help_text in VIEWS:
            out.append((title, help_text, partial(app.run_command, line)))
        screen = self.screen
        for binding in getattr(screen, "BINDINGS", []):
            action = getattr(binding, "action", None)
            desc = getattr(binding, "description", "")
            if not action or not desc or action.startswith("app."):
                continue
            keys = getattr(binding, "key", "")
            out.append((f"{desc} ({keys})", getattr(binding, "tooltip", "") or f"action of {type(screen).__name__}",
                        partial(screen.run_action, action)))
        index = getattr(app, "index", None)
        if index is not None:
            for ns in index.namespaces:
                out.append((f"namespace {ns}", f":ns {ns} — scope to this namespace", partial(app.run_command, f"ns {ns}")))
            for svc in list(index.services)[:20000]:
                out.append((f"service {svc.namespace}/{svc.name}", "open in the mesh browser",
                            partial(app.show_in_browser, ("Service", svc.namespace, svc.name))))
        return out

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
