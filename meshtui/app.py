"""The Textual application: a thin composition root that wires a Source to the screens.

Loading and watching run in thread workers; the mesh index is only touched on the event loop
(watch events are queued by the worker and applied in batches by a timer), so no widget ever
sees a half-applied change and nothing blocks the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import queue
import threading
import time
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from textual.app import App

from meshtui.widgets.key_order import KeysFollowFocus
from textual.binding import Binding
from textual.worker import get_current_worker

from meshtui.messages import MeshUpdated
from meshtui.util.gcpause import gc_paused
from meshtui.widgets.palette import MeshCommands

# The watch thread wakes the loop when it queues an event; the loop applies what is queued after
# this short delay, so a burst is coalesced into one repaint (the design asks for ≤ 100 ms from
# event to screen). A slower timer also drains, in case a wake-up is missed.
EVENT_COALESCE_SECONDS = 0.005
EVENT_BATCH_SECONDS = 0.05


class MeshApp(KeysFollowFocus, App[int]):
    """meshtui's application object."""

    # Every stylesheet shipped in meshtui.styles (app.tcss first): screens add their own file.
    CSS_PATH = sorted(
        (str(f) for f in files("meshtui.styles").iterdir() if f.name.endswith(".tcss")),
        key=lambda p: (not p.endswith("app.tcss"), p),
    )
    TITLE = "meshtui"
    COMMANDS = App.COMMANDS | {MeshCommands}
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c"),
        Binding("colon", "prompt", "Command", id="command", tooltip="Jump to a view (:vs, :pods, :ns NAME…)"),
    ]

    def __init__(
        self,
        source_factory: Callable[[], Any],
        *,
        scope: str | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self._source_factory = source_factory
        self.source: Any | None = None
        self.index: Any | None = None
        self.scope = scope
        self.read_only_flag = read_only
        self._stop = threading.Event()
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_pending = False
        #: The mesh browser's labels of a fresh load, computed in the load thread (off the loop);
        #: the mesh tree takes them (``meshtui.widgets.mesh_tree.ServiceLabels``).
        self.prepared_labels: Any | None = None
        #: What every status bar shows (source, scope, read_only, state, since, counts).
        self.status_values: dict[str, Any] = {}
        from meshtui.widgets.findings_table import FindingsFeed

        # Analysis runs in a thread after each change, debounced; screens get FindingsUpdated.
        self.findings = FindingsFeed(self)

    def on_mount(self) -> None:
        """Show the mesh screen at once, then load in the background."""
        from meshtui.screens.mesh import MeshScreen

        self._loop = asyncio.get_running_loop()
        self.push_screen(MeshScreen())
        self._status(source="connecting…", scope=self.scope or "all namespaces")
        self.load_mesh()
        self.set_interval(EVENT_BATCH_SECONDS, self._drain_events)

    # -- workers ------------------------------------------------------------------------------

    def load_mesh(self) -> None:
        """Open the source and build the index in a thread."""
        self.run_worker(self._load, thread=True, exclusive=True, group="load", exit_on_error=False)

    def _load(self) -> None:
        from meshtui.model.index import MeshIndex

        try:
            source = self._source_factory()
        except Exception as exc:  # noqa: BLE001 - any failure to open must reach the user as text
            self.call_from_thread(self._failed, f"cannot open source: {exc}")
            return
        self.source = source
        # The bulk load creates about a million objects that all live on: with the collector
        # on, each generation-2 pass over them stalls the event loop for 200-600 ms (measured
        # at 5,000 services). Pause it for the load; _loaded() freezes the survivors.
        # Frozen afterwards: the index (and Textual's startup objects) leave the collector's
        # reach for good, so later full collections stay small (they stalled the Logs screen too).
        with gc_paused(freeze=True):
            try:
                snap = source.snapshot()
                index = MeshIndex(snap.objects)
            except Exception as exc:  # noqa: BLE001
                self.call_from_thread(self._failed, f"cannot load the mesh: {exc}")
                return
            self.prepared_labels = _service_labels(index)
            # Imported here, off the loop: the first route view would otherwise pay for it.
            import meshtui.routing.service_view  # noqa: F401
        reason = None if not self.read_only_flag else "--read-only"
        if reason is None:
            try:
                reason = source.read_only_reason()
            except Exception:  # noqa: BLE001 - unknown rights: let the write path find out
                reason = None
        self.call_from_thread(self._loaded, index, snap.errors, reason)
        self._watch(source, snap.resume)

    def _watch(self, source: Any, resume: dict[str, str]) -> None:
        from meshtui.sources.base import ObjectEvent, ResyncEvent, StateEvent

        worker = get_current_worker()
        try:
            for event in source.watch(self._stop, resume):
                if worker.is_cancelled or self._stop.is_set():
                    return
                if isinstance(event, (ObjectEvent, ResyncEvent, StateEvent)):
                    self._events.put(event)
                    self._wake()
        except Exception as exc:  # noqa: BLE001
            self._events.put(exc)
            self._wake()

    def _wake(self) -> None:
        """From the watch thread: have the loop drain the queue shortly (one wake-up per burst)."""
        loop = self._loop
        if loop is None or self._drain_pending:
            return
        self._drain_pending = True
        try:
            loop.call_soon_threadsafe(loop.call_later, EVENT_COALESCE_SECONDS, self._drain_woken)
        except RuntimeError:  # the loop is closed: the app is exiting
            pass

    # -- on the event loop ----------------------------------------------------------------------

    def _loaded(self, index: Any, errors: list[Any], read_only_reason: str | None) -> None:
        self.index = index
        self._status(
            source=getattr(self.source, "description", "?"),
            state="live",
            read_only=read_only_reason,
            counts=self._counts(),
        )
        for err in errors[:5]:
            self.notify(str(err), severity="warning", timeout=10)
        if len(errors) > 5:
            self.notify(f"{len(errors) - 5} more load errors", severity="warning")
        self.broadcast_mesh(index)
        self.findings.schedule(index)

    def _failed(self, message: str) -> None:
        self._status(state="stale", since=time.time())
        self.notify(message, severity="error", timeout=30)

    def _drain_woken(self) -> None:
        # A bare loop callback: give it the app's context, as call_from_thread does.
        with self._context():
            self._drain_events()

    def _drain_events(self) -> None:
        from meshtui.sources.base import ObjectEvent, ResyncEvent, StateEvent

        self._drain_pending = False
        if self.index is None:
            return
        changed: list[tuple[str, Any]] = []
        resynced = False
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            if isinstance(event, ObjectEvent):
                if event.type == "DELETED":
                    meta = event.object.get("metadata") or {}
                    self.index.delete(event.object.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))
                else:
                    self.index.upsert(event.object)
                changed.append((event.type, event.object))
            elif isinstance(event, ResyncEvent):
                self.index.replace_kinds(event.kinds, event.objects)
                resynced = True
            elif isinstance(event, StateEvent):
                self._status(state=event.state.value, since=event.since)
            elif isinstance(event, Exception):
                self._status(state="stale", since=time.time())
                self.notify(f"watch stopped: {event}", severity="error")
        if changed or resynced:
            self._status(counts=self._counts())
            self.broadcast_mesh(self.index, changed or None)
            self.findings.schedule(self.index)

    def broadcast_mesh(self, index: Any, changed: list[tuple[str, Any]] | None = None) -> None:
        """Tell every screen on the stack that the mesh changed, so a screen under the one on
        top is current when the user comes back to it."""
        for screen in self.screen_stack:
            screen.post_message(MeshUpdated(index, changed))

    def _counts(self) -> str:
        if self.index is None:
            return ""
        ix = self.index
        return (
            f"{ix.count('Service')} svc · {ix.count('VirtualService')} vs · "
            f"{ix.count('DestinationRule')} dr · {ix.count('Pod')} pods"
        )

    def _status(self, **values: Any) -> None:
        from meshtui.widgets.status_bar import StatusBar

        self.status_values.update(values)
        for screen in self.screen_stack:
            for bar in screen.query(StatusBar):
                for k, v in values.items():
                    setattr(bar, k, v)

    # -- navigation -----------------------------------------------------------------------------

    def action_prompt(self) -> None:
        """Open the `:` prompt."""
        from meshtui.screens.prompt import CommandPrompt

        if not isinstance(self.screen, CommandPrompt):
            self.push_screen(CommandPrompt(), self.run_command)

    def run_command(self, line: str | None) -> None:
        """Carry out a `:` command: a view (`vs`, `pods`…), `ns [NAME]`, `mesh`, `quit`."""
        from meshtui.widgets.kind_rows import ALIASES, VIEWS

        if not line:
            return
        word, _, arg = line.partition(" ")
        word, arg = word.lower(), arg.strip()
        word = ALIASES.get(word, word)
        if word in ("q", "quit", "q!"):
            self.exit(0)
        elif word in ("mesh", "home", "svc") and word != "svc" or word == "":
            self._to_home()
        elif word in ("ns", "namespace", "namespaces"):
            self._set_scope(arg or None)
        elif word in ("ctx", "context", "contexts"):
            self._pick_context(arg or None)
        elif word in VIEWS:
            if self.index is None:
                self.notify("the mesh is still loading", severity="warning")
                return
            from meshtui.screens.kind_view import KindScreen

            self._to_home()
            self.push_screen(KindScreen(VIEWS[word], self.index, self.scope))
        elif word in ("analyze", "an"):
            from meshtui.screens.analyze import AnalyzeScreen

            self._to_home()
            self.push_screen(AnalyzeScreen())
        elif word in ("trace", "tr"):
            from meshtui.screens.trace import TraceScreen

            self._to_home()
            self.push_screen(TraceScreen(host=arg))
        elif word in ("history", "hist"):
            from meshtui.screens.history import HistoryScreen

            self._to_home()
            self.push_screen(HistoryScreen())
        else:
            self.notify(f"unknown command :{line} (try :vs :dr :gw :se :svc :pods :an :tr HOST :ns NAME :mesh :q)",
                        severity="error")

    def _pick_context(self, name: str | None) -> None:
        contexts = getattr(self.source, "contexts", None)
        names = contexts() if callable(contexts) else []
        if not names:
            self.notify("this source has no kubeconfig contexts to switch to", severity="warning")
            return
        if name is not None:
            self._switch_context(name if name in names else None, names, name)
            return
        from meshtui.screens.context_picker import ContextPicker

        current = getattr(self.source, "description", "")
        self.push_screen(ContextPicker(names, current), lambda picked: self._switch_context(picked, names, picked))

    def _switch_context(self, name: str | None, names: list[str], asked: str | None) -> None:
        if name is None:
            if asked:
                self.notify(f"no context {asked!r} (have: {', '.join(names)})", severity="error")
            return
        if name == getattr(self.source, "description", None):
            return
        old = self.source
        self._status(source=f"{name} (connecting…)", state="reconnecting")

        def open_new() -> Any:
            new = old.with_context(name)
            # The old source's watch ends with its stop event; close it once the new one is open.
            old.close()
            return new

        self._stop.set()
        self._stop = threading.Event()
        self._events = queue.SimpleQueue()
        self.index = None
        self._source_factory = open_new
        self.load_mesh()

    def _to_home(self) -> None:
        from meshtui.screens.mesh import MeshScreen

        while len(self.screen_stack) > 2 and not isinstance(self.screen, MeshScreen):
            self.pop_screen()

    def _set_scope(self, namespace: str | None) -> None:
        if namespace and self.index is not None and namespace not in self.index.namespaces:
            self.notify(f"no namespace {namespace!r} in this mesh", severity="error")
            return
        self.scope = namespace
        self._status(scope=namespace or "all namespaces")
        self._to_home()
        if self.index is not None:
            self.broadcast_mesh(self.index)

    def show_in_browser(self, key: tuple[str, str, str]) -> None:
        """Go back to the mesh browser with the service behind ``key`` selected."""
        from meshtui.screens.mesh import MeshScreen

        self._to_home()
        if isinstance(self.screen, MeshScreen):
            self.screen.select_object(*key)

    def on_show_object(self, message: Any) -> None:
        """A screen asked to show an object (e.g. the VirtualService behind an Envoy route)."""
        self.show_in_browser((message.kind, message.namespace, message.name))

    def open_proxy_config(self, namespace: str, pod: str) -> None:
        """The Envoy configuration of one pod's sidecar (generated from the mesh when the
        source has no live Envoy, e.g. manifests on disk)."""
        from meshtui.screens.proxy_config import ProxyConfigScreen

        if self.source is None:
            return
        self.push_screen(ProxyConfigScreen(self.source, namespace, pod, index=self.index))

    def action_help(self) -> None:
        """Toggle the panel listing every binding of the focused screen."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def on_unmount(self) -> None:
        """Stop the watch and release the source (the demo sandbox stops with it)."""
        self._stop.set()
        if self.source is not None:
            try:
                self.source.close()
            except Exception:  # noqa: BLE001 - closing must never keep the app from exiting
                pass


def _service_labels(index: Any) -> Any:
    """The mesh browser's labels for ``index`` (None if they cannot be made here: the tree
    then makes them itself)."""
    try:
        from meshtui.widgets.mesh_tree import ServiceLabels

        return ServiceLabels(index)
    except Exception:  # noqa: BLE001 - an optimisation only
        return None


def run_app(source_factory: Callable[[], Any], args: argparse.Namespace) -> int:
    """Run the UI on the source the factory opens; returns the exit code."""
    scope = None if getattr(args, "all_namespaces", False) else getattr(args, "namespace", None)
    app = MeshApp(source_factory, scope=scope, read_only=bool(getattr(args, "read_only", False)))
    app.run()
    return app.return_code or 0
