"""The Textual application: the composition root that puts a ``MeshSession`` under the screens.

Loading, watching and telling the screens: ``meshtui.screens.session_feed``; commands and jumps:
``meshtui.screens.navigation``; the user's key bindings: ``meshtui.screens.keys``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib.resources import files

from textual.app import App
from textual.binding import Binding

from meshtui.messages import OpenProxyConfig, RunCommand, ShowObject, WriteRefused
from meshtui.model.index import MeshIndex
from meshtui.screens.keys import UserKeymap
from meshtui.screens.navigation import Navigator
from meshtui.screens.session_feed import SessionFeed
from meshtui.session.findings import FindingsScheduler
from meshtui.session.mesh_session import MeshSession
from meshtui.sources.base import Source
from meshtui.widgets.key_order import KeysFollowFocus
from meshtui.widgets.palette import MeshCommands


class MeshApp(KeysFollowFocus, App[int]):
    """meshtui's application object."""

    # Every stylesheet shipped in meshtui.styles (app.tcss first): screens add their own file.
    CSS_PATH = sorted(
        (str(f) for f in files("meshtui.styles").iterdir() if f.name.endswith(".tcss")),
        key=lambda p: (not str(p).endswith("app.tcss"), str(p)),
    )
    TITLE = "meshtui"
    COMMANDS = App.COMMANDS | {MeshCommands}
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c"),
        Binding("colon", "prompt", "Command", id="command", tooltip="Jump to a view (:vs, :pods, :ns NAME…)"),
        Binding("R", "reconnect", "Reconnect", show=False, id="reconnect",
                tooltip="Reconnect to the source (re-reads the kubeconfig) and reload the mesh"),
    ]

    def __init__(self, source_factory: Callable[[], Source], *, scope: str | None = None,
                 read_only: bool = False, keymap_path: str | None = None) -> None:
        super().__init__()
        self._user_keys = UserKeymap(keymap_path)
        self.feed = SessionFeed(self, source_factory, scope=scope, read_only=read_only,
                                on_loaded=lambda: self._user_keys.check(self))
        self.navigator = Navigator(self, source_factory)

    @property
    def session(self) -> MeshSession:
        """The session every screen shows."""
        return self.feed.session

    @property
    def index(self) -> MeshIndex | None:
        """The live mesh index (None while loading)."""
        return self.session.index

    @property
    def findings(self) -> FindingsScheduler:
        """The analysis scheduler (its ``latest`` result)."""
        return self.session.findings

    def on_mount(self) -> None:
        """Show the mesh screen at once, then load in the background."""
        from meshtui.screens.mesh import MeshScreen

        self._user_keys.apply(self)
        self.push_screen(MeshScreen())
        self.feed.start()

    # -- what the screens ask for ----------------------------------------------------------------

    def run_command(self, line: str | None) -> None:
        """Carry out a `:` command line (``meshtui.session.commands``)."""
        self.navigator.run(line)

    def show_in_browser(self, key: tuple[str, str, str]) -> None:
        """Go back to the mesh browser with the service behind ``key`` selected."""
        self.navigator.show_in_browser(key)

    def on_run_command(self, message: RunCommand) -> None:
        """A screen asked for a `:` command."""
        self.run_command(message.line)

    def on_show_object(self, message: ShowObject) -> None:
        """A screen asked to show an object (e.g. the VirtualService behind an Envoy route)."""
        self.show_in_browser((message.kind, message.object_namespace, message.name))

    def on_open_proxy_config(self, message: OpenProxyConfig) -> None:
        """A screen asked for a pod's Envoy configuration."""
        self.navigator.open_proxy_config(message.pod_namespace, message.pod)

    def on_write_refused(self, message: WriteRefused) -> None:
        """A write met a 403: every write key now says why."""
        self.session.refused_write(message.reason)
        self.feed.push_status()

    def action_prompt(self) -> None:
        """Open the `:` prompt."""
        self.navigator.prompt()

    def action_reconnect(self) -> None:
        """Reconnect to the source (re-reading the kubeconfig) and reload the mesh."""
        self.navigator.reconnect()

    def action_help(self) -> None:
        """Toggle the panel listing every binding of the focused screen and the `:` commands."""
        self.navigator.toggle_help()

    def on_unmount(self) -> None:
        """Stop the watch and release the source (the demo sandbox stops with it)."""
        self.session.close()


def run_app(source_factory: Callable[[], Source], args: argparse.Namespace) -> int:
    """Run the UI on the source the factory opens; returns the exit code."""
    scope = None if args.all_namespaces else args.namespace
    app = MeshApp(source_factory, scope=scope, read_only=args.read_only)
    app.run()
    return app.return_code or 0
