"""How a screen or widget reaches the session it shows: typed, through the app that hosts it.

Screens read the session (``session_of``) and send the user's intents up as messages
(``meshtui.messages``); they never reach into the app's attributes.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from textual.app import App

from meshtui.session.mesh_session import MeshSession


class InApp(Protocol):
    """Anything that runs in an app: a widget or screen (``DOMNode``), or what serves one."""

    @property
    def app(self) -> App[Any]:
        """The app it runs in."""
        ...


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


def host_of(node: InApp) -> SessionHost | None:
    """The app ``node`` runs in, when it hosts a session."""
    app = node.app
    return app if isinstance(app, SessionHost) else None


def session_of(node: InApp) -> MeshSession | None:
    """The session of the app ``node`` runs in (None in an app that hosts none, e.g. a test
    app showing one screen on a saved config dump)."""
    app = node.app
    return app.session if isinstance(app, SessionHost) else None
