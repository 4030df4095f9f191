"""Where the user's `:` commands and jumps lead: one handler per command of
``meshtui.session.commands``, and the shared moves (home, show an object, a pod's Envoy config,
switch context)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from meshtui.session.commands import CommandSpec, resolve, unknown_message
from meshtui.session.mesh_session import context_switcher
from meshtui.sources.base import Source

if TYPE_CHECKING:
    from meshtui.app import MeshApp


class Navigator:
    """Carries out `:` commands and jumps on the app's screen stack."""

    def __init__(self, app: "MeshApp", open_source: Callable[[], Source]) -> None:
        self.app = app
        self._open_source = open_source
        self._handlers: dict[str, Callable[[CommandSpec, str], None]] = {
            "mesh": lambda _c, _a: self.to_home(),
            "quit": lambda _c, _a: self.app.exit(0),
            "ns": lambda _c, arg: self.set_scope(arg or None),
            "ctx": lambda _c, arg: self.pick_context(arg or None),
            "analyze": lambda _c, _a: self._open_analyze(),
            "trace": lambda _c, arg: self._open_trace(arg),
            "history": lambda _c, _a: self._open_history(),
            "ztunnel": lambda _c, arg: self._open_ztunnel(arg),
        }

    def run(self, line: str | None) -> None:
        """Carry out a `:` command line; an unknown one is said in a notification."""
        if line is None:
            return
        found = resolve(line)
        if found is None:
            self.app.notify(unknown_message(line), severity="error")
            return
        spec, arg = found
        if spec.kind_view:
            self._open_kind_view(spec.name)
        else:
            self._handlers[spec.name](spec, arg)

    # -- views ----------------------------------------------------------------------------------

    def _open_kind_view(self, name: str) -> None:
        from meshtui.screens.kind_view import KindScreen
        from meshtui.views.kind_rows import VIEWS

        session = self.app.session
        if session.index is None:
            self.app.notify("the mesh is still loading", severity="warning")
            return
        self.to_home()
        self.app.push_screen(KindScreen(VIEWS[name], session.index, session.scope))

    def _open_analyze(self) -> None:
        from meshtui.screens.analyze import AnalyzeScreen

        self.to_home()
        self.app.push_screen(AnalyzeScreen())

    def _open_trace(self, host: str) -> None:
        from meshtui.screens.trace import TraceScreen

        self.to_home()
        self.app.push_screen(TraceScreen(host=host))

    def _open_history(self) -> None:
        from meshtui.screens.history import HistoryScreen

        self.to_home()
        self.app.push_screen(HistoryScreen())

    def _open_ztunnel(self, wanted: str) -> None:
        from meshtui.screens.ztunnel import ZtunnelScreen
        from meshtui.session.ztunnel_view import pick, ztunnel_pods

        session = self.app.session
        if session.index is None or session.source is None:
            self.app.notify("the mesh is still loading", severity="warning")
            return
        pods = ztunnel_pods(session.index)
        current = pick(pods, wanted)
        if current is None:
            what = f"no ztunnel pod {wanted}" if wanted else "no ztunnel pod (app=ztunnel in istio-system)"
            self.app.notify(what, severity="error")
            return
        self.to_home()
        self.app.push_screen(ZtunnelScreen(session.source, pods, current))

    def open_proxy_config(self, namespace: str, pod: str) -> None:
        """The Envoy configuration of one pod's sidecar (generated from the mesh when the
        source has no live Envoy, e.g. manifests on disk)."""
        from meshtui.screens.proxy_config import ProxyConfigScreen

        session = self.app.session
        if session.source is None:
            return
        self.app.push_screen(ProxyConfigScreen(session.source, namespace, pod, index=session.index))

    # -- moves ----------------------------------------------------------------------------------

    def to_home(self) -> None:
        """Pop back to the mesh browser."""
        from meshtui.screens.mesh import MeshScreen

        app = self.app
        while len(app.screen_stack) > 2 and not isinstance(app.screen, MeshScreen):
            app.pop_screen()

    def show_in_browser(self, key: tuple[str, str, str]) -> None:
        """Go back to the mesh browser with the service behind ``key`` selected."""
        from meshtui.screens.mesh import MeshScreen

        self.to_home()
        if isinstance(self.app.screen, MeshScreen):
            self.app.screen.select_object(*key)

    def set_scope(self, namespace: str | None) -> None:
        """`:ns [NAME]`: scope every view to one namespace (none: all)."""
        error = self.app.session.set_scope(namespace)
        if error:
            self.app.notify(error, severity="error")
            return
        self.app.feed.push_status()
        self.to_home()
        self.app.feed.broadcast_mesh()

    def pick_context(self, name: str | None) -> None:
        """`:ctx [NAME]`: switch to another kubeconfig context (a picker without NAME)."""
        session = self.app.session
        source = session.source
        names = source.contexts() if source is not None and session.capabilities.contexts else []
        if not names:
            self.app.notify("this source has no kubeconfig contexts to switch to", severity="warning")
            return
        if name is not None:
            self._switch_context(name if name in names else None, names, name)
            return
        from meshtui.screens.context_picker import ContextPicker

        current = source.description if source is not None else ""
        self.app.push_screen(ContextPicker(names, current),
                             lambda picked: self._switch_context(picked, names, picked))

    def _switch_context(self, name: str | None, names: list[str], asked: str | None) -> None:
        if name is None:
            if asked:
                self.app.notify(f"no context {asked!r} (have: {', '.join(names)})", severity="error")
            return
        source = self.app.session.source
        if source is None or name == source.description:
            return
        self.app.feed.reload(context_switcher(source, name), f"{name} (connecting…)")

    def reconnect(self) -> None:
        """Reconnect to the source: the same context re-read from the kubeconfig, or the
        directory listed again; the mesh reloads."""
        source = self.app.session.source
        if source is None:
            return
        if source.capabilities.contexts:
            self.app.feed.reload(context_switcher(source, source.description), f"{source.description} (reconnecting…)")
        else:
            source.close()
            self.app.feed.reload(self._open_source, f"{source.description} (reloading…)")

    # -- overlays ---------------------------------------------------------------------------------

    def prompt(self) -> None:
        """Open the `:` prompt (once)."""
        from meshtui.screens.prompt import CommandPrompt

        if not isinstance(self.app.screen, CommandPrompt):
            self.app.push_screen(CommandPrompt(), self.run)

    def toggle_help(self) -> None:
        """Open the `?` help over the current screen (it closes itself)."""
        from meshtui.screens.help import HelpScreen

        if not isinstance(self.app.screen, HelpScreen):
            self.app.push_screen(HelpScreen(self.app.screen))
