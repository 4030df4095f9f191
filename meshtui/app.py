"""The Textual application: the composition root that puts a ``MeshSession`` under the screens.

Loading and watching run in a thread worker (``meshtui.session``); the index is only changed on
the event loop, in batches (``MeshSession.drain``), and every screen hears of it as a message.
Commands and jumps are carried out by ``meshtui.screens.navigation``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib.resources import files

from textual.app import App
from textual.binding import Binding

from meshtui.messages import FindingsUpdated, MeshUpdated, OpenProxyConfig, RunCommand, ShowObject, WriteRefused
from meshtui.model.index import MeshIndex
from meshtui.screens.navigation import Navigator
from meshtui.session.findings import Findings, FindingsScheduler
from meshtui.session.keymap import load_keymap, unknown_ids
from meshtui.session.mesh_session import Loaded, LoadFailed, MeshSession, context_switcher
from meshtui.sources.base import Source
from meshtui.views.mesh_labels import ServiceLabels
from meshtui.widgets.palette import MeshCommands
from meshtui.widgets.workers import TextualRunner, Waker

# A burst of watch events is applied after this short delay, in one batch (one repaint); a
# slower timer also drains, in case a wake-up is missed.
EVENT_COALESCE_SECONDS = 0.005
EVENT_BATCH_SECONDS = 0.05


class MeshApp(App[int]):
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
        runner = TextualRunner(self)
        self.session = MeshSession(source_factory, FindingsScheduler(runner, self._findings_done),
                                   scope=scope, read_only=read_only)
        self.navigator = Navigator(self)
        self._first_factory = source_factory
        self._keymap_path = keymap_path
        self._keymap: dict[str, str] = {}
        self._wake = Waker(self, self._drain, EVENT_COALESCE_SECONDS)

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

        self._keymap, problems = load_keymap(self._keymap_path)
        self.set_keymap(self._keymap)
        for problem in problems:
            self.notify(problem, severity="warning", timeout=10)
        self._wake.attach()
        self.push_screen(MeshScreen())
        self.push_status()
        self.load_mesh()
        self.set_interval(EVENT_BATCH_SECONDS, self._drain)

    # -- the session -----------------------------------------------------------------------------

    def load_mesh(self) -> None:
        """Open the source and build the index in a thread, then follow its watch there."""
        self.run_worker(self._load, thread=True, exclusive=True, group="load", exit_on_error=False)

    def _load(self) -> None:
        try:
            loaded = self.session.open_and_load()
        except LoadFailed as exc:
            self.call_from_thread(self._failed, exc)
            return
        try:
            labels: ServiceLabels | None = ServiceLabels(loaded.live.index)
        except Exception:  # noqa: BLE001 - an optimisation only: the tree makes them itself
            labels = None
        # Imported here, off the loop: the first route view would otherwise pay for it.
        import meshtui.routing.service_view  # noqa: F401

        self.call_from_thread(self._loaded, loaded, labels)
        loaded.live.run_watch(self._wake)

    def _loaded(self, loaded: Loaded, labels: ServiceLabels | None) -> None:
        self.session.loaded(loaded)
        self.push_status()
        errors = loaded.live.errors
        for err in errors[:5]:
            self.notify(str(err), severity="warning", timeout=10)
        if len(errors) > 5:
            self.notify(f"{len(errors) - 5} more load errors", severity="warning")
        self.broadcast_mesh(labels=labels)
        self._check_keymap()

    def _check_keymap(self) -> None:
        """Say which ids of the user's keymap no binding has (checked once the mesh shows: it
        imports every screen)."""
        from meshtui.screens.keys import binding_ids

        unknown = unknown_ids(self._keymap, binding_ids()) if self._keymap else []
        if unknown:
            self.notify(f"keys.toml: no binding has the id {', '.join(unknown)}", severity="warning", timeout=10)
            self._keymap = {}

    def _failed(self, error: LoadFailed) -> None:
        self.session.failed(error)
        self.push_status()
        self.notify(str(error), severity="error", timeout=30)

    def _drain(self) -> None:
        batch = self.session.drain()
        if batch is None:
            return
        if batch.failure is not None:
            self.notify(f"watch stopped: {batch.failure}", severity="error")
        if batch.states or batch.mesh_changed:
            self.push_status()
        if batch.mesh_changed:
            self.broadcast_mesh(batch.changed or None)

    def reload(self, open_source: Callable[[], Source], label: str) -> None:
        """Load the mesh afresh from ``open_source`` (a context switch, a reconnect)."""
        self.session.reopen(open_source, label)
        self.push_status()
        self.load_mesh()

    def broadcast_mesh(self, changed: list[tuple[str, dict[str, object]]] | None = None,
                       labels: ServiceLabels | None = None) -> None:
        """Tell every screen on the stack that the mesh changed, so a screen under the one on
        top is current when the user comes back to it."""
        index = self.session.index
        if index is None:
            return
        for screen in self.screen_stack:
            screen.post_message(MeshUpdated(index, changed, labels))

    def push_status(self) -> None:
        """Show the session's status on every status bar."""
        from meshtui.widgets.status_bar import StatusBar

        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                bar.show(self.session.status)

    def _findings_done(self, result: Findings | Exception) -> None:
        if isinstance(result, Exception):
            self.notify(f"analysis failed: {result}", severity="error")
            return
        for screen in list(self.screen_stack):
            screen.post_message(FindingsUpdated(result.findings, result.by_service, result.by_namespace))

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
        self.show_in_browser((message.kind, message.namespace, message.name))

    def on_open_proxy_config(self, message: OpenProxyConfig) -> None:
        """A screen asked for a pod's Envoy configuration."""
        self.navigator.open_proxy_config(message.namespace, message.pod)

    def on_write_refused(self, message: WriteRefused) -> None:
        """A write met a 403: every write key now says why."""
        self.session.refused_write(message.reason)
        self.push_status()

    def action_prompt(self) -> None:
        """Open the `:` prompt."""
        from meshtui.screens.prompt import CommandPrompt

        if not isinstance(self.screen, CommandPrompt):
            self.push_screen(CommandPrompt(), self.run_command)

    def action_reconnect(self) -> None:
        """Reconnect to the source: the same context re-read from the kubeconfig, or the
        directory listed again; the mesh reloads."""
        source = self.session.source
        if source is not None and source.capabilities.contexts:
            self.reload(context_switcher(source, source.description), f"{source.description} (reconnecting…)")
        elif source is not None:
            source.close()
            self.reload(self._first_factory, f"{source.description} (reloading…)")

    def action_help(self) -> None:
        """Toggle the panel listing every binding of the focused screen and the `:` commands."""
        from meshtui.widgets.help_panel import CommandHelpPanel

        if self.screen.query(CommandHelpPanel):
            self.screen.query(CommandHelpPanel).remove()
        else:
            self.screen.mount(CommandHelpPanel())

    def on_unmount(self) -> None:
        """Stop the watch and release the source (the demo sandbox stops with it)."""
        self.session.close()


def run_app(source_factory: Callable[[], Source], args: argparse.Namespace) -> int:
    """Run the UI on the source the factory opens; returns the exit code."""
    scope = None if args.all_namespaces else args.namespace
    app = MeshApp(source_factory, scope=scope, read_only=args.read_only)
    app.run()
    return app.return_code or 0
