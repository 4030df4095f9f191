"""How a screen or widget reaches the session it shows: typed, through the app that hosts it.

Screens read the session (``session_of``) and send the user's intents up as messages
(``meshtui.messages``); they never reach into the app's attributes.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual.dom import DOMNode

from meshtui.session.mesh_session import MeshSession


@runtime_checkable
class SessionHost(Protocol):
    """An app that hosts a ``MeshSession`` (``meshtui.app.MeshApp``)."""

    @property
    def session(self) -> MeshSession:
        """The session the screens show."""
        ...

    def show_in_browser(self, key: tuple[str, str, str]) -> None:
        """Go back to the mesh browser with the service behind ``key`` selected, now (a screen
        pushed right after lands on top of the browser)."""
        ...


def host_of(node: DOMNode) -> SessionHost | None:
    """The app ``node`` runs in, when it hosts a session."""
    app = node.app
    return app if isinstance(app, SessionHost) else None


def session_of(node: DOMNode) -> MeshSession | None:
    """The session of the app ``node`` runs in (None in an app that hosts none, e.g. a test
    app showing one screen on a saved config dump)."""
    app = node.app
    return app.session if isinstance(app, SessionHost) else None
