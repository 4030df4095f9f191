"""The Logs screen: live ``istio-proxy`` access logs of a service (or pod, or workload), with the
observed split panel above them.

Data path: a ``LogSession`` (``meshtui.session.log_session``) follows the pods and counts the
split. One thread worker of this screen takes its line batches, counts them and posts the ready
ring rows as ``LogRows`` messages, and the split panel's data twice a second as a ``PanelReady``
message (a newer one replaces one not yet handled). On the event loop the rows go into the ring
(``TailBuffer``, ~1 µs a row) and the view repaints at most every ``REPAINT_SECONDS``. Settings (basis, window, all
rules) and re-plans on mesh changes go to the session as calls; the worker never touches widgets
and reads no attribute of this screen. When the UI falls behind, the worker waits for a free
slot (at most ``MAX_READY_BATCHES`` batches in flight), so the follower's queue fills and the
log streams slow down instead of memory growing.
"""

from __future__ import annotations

import gc
import io
import threading
import time
from collections import deque
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from meshtui.widgets.key_order import KeyOrderedInput
from textual.widgets import Footer, Input, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import get_current_worker

from meshtui.accesslog.flags import all_flags
from meshtui.accesslog.ingest import PanelData
from meshtui.session.findings import ObservedBypass
from meshtui.accesslog.tail import (
    DEFAULT_CAPACITY,
    FilterError,
    TailBuffer,
    TailEntry,
    TailFilter,
)
from meshtui.accesslog.target import BASIS_CLIENT, BASIS_SERVER, FollowPlan, LogTarget
from meshtui.messages import MeshUpdated
from meshtui.model.index import MeshIndex
from meshtui.session.log_session import LogSession
from meshtui.session.split_basis import load_prometheus_settings
from meshtui.session.split_feed import SplitFeed
from meshtui.sources.base import Source
from meshtui.sources.log_follow import LogFollower
from meshtui.views.l4_view import render_l4
from meshtui.views.split_view import render_split
from meshtui.widgets.host import session_of
from meshtui.widgets.log_view import LogView
from meshtui.widgets.split_panel import SplitPanel
from meshtui.widgets.status_bar import StatusBar

#: The view repaints at most this often: a busy stream is coalesced into few repaints.
REPAINT_SECONDS = 0.075
#: Lines the worker takes per batch; batches posted and not yet in the ring at most.
WORKER_BATCH = 2000
MAX_READY_BATCHES = 32
PANEL_SECONDS = 0.5
WINDOWS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class LogRows(Message):
    """Ring rows counted by the worker, and the followers' notices since the last batch."""

    def __init__(self, rows: list[tuple[Any, ...]], notices: list[str]) -> None:
        super().__init__()
        self.rows = rows
        self.notices = notices


class PanelReady(Message):
    """Fresh split panel data; a newer one supersedes one not yet drawn."""

    def __init__(self, data: PanelData, basis_status: str = "") -> None:
        super().__init__()
        self.data = data
        #: Which basis the split comes from, for the status bar.
        self.basis_status = basis_status

    def can_replace(self, message: Message) -> bool:
        """Only the newest panel matters."""
        return isinstance(message, PanelReady)


class FlagPicker(ModalScreen[frozenset[str] | None]):
    """Choose response flags to filter by; each is listed with its meaning."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="flags-cancel"),
        Binding("enter", "done", "Apply", id="flags-apply", priority=True),
    ]

    def __init__(self, chosen: frozenset[str]) -> None:
        super().__init__()
        self._chosen = chosen

    def compose(self) -> ComposeResult:
        items = [Selection(f"{f.short:<5} {f.long}: {f.meaning}", f.short, f.short in self._chosen)
                 for f in all_flags()]
        with Vertical(id="flags-box"):
            yield Static("Response flags (space toggles, enter applies, esc cancels)", id="flags-title")
            yield SelectionList[str](*items, id="flags-list")

    def action_done(self) -> None:
        """Apply the chosen flags."""
        self.dismiss(frozenset(self.query_one(SelectionList).selected))

    def action_cancel(self) -> None:
        """Close without changing the filter."""
        self.dismiss(None)


class LogsScreen(Screen[None]):
    """Follow the sidecar logs of a target; filter them; see the observed split."""

    BINDINGS = [
        Binding("p", "pause", "Pause", id="logs-pause", tooltip="Pause/resume the log view (the split keeps counting)"),
        Binding("slash", "filter", "Filter", id="logs-filter",
                tooltip="words, path:/api, up:reviews, pod:NAME, flag:UH, code:503 or code:5xx, re:REGEX"),
        Binding("2", "status_class(2)", "2xx", id="logs-2xx", tooltip="Show only 2xx (toggle)"),
        Binding("4", "status_class(4)", "4xx", id="logs-4xx", tooltip="Show only 4xx (toggle)"),
        Binding("5", "status_class(5)", "5xx", id="logs-5xx", tooltip="Show only 5xx (toggle)"),
        Binding("f", "flags", "Flags", id="logs-flags", tooltip="Filter by response flag (UH, UF, NR…, with meanings)"),
        Binding("x", "clear_filters", "Clear", id="logs-clear", tooltip="Clear every filter"),
        Binding("left_square_bracket", "window(-1)", "Window-", id="logs-window-down", tooltip="Shorter split window"),
        Binding("right_square_bracket", "window(1)", "Window+", id="logs-window-up", tooltip="Longer split window"),
        Binding("o", "basis", "Basis", id="logs-basis", tooltip="Split measured at clients / server pods / auto"),
        Binding("a", "all_rules", "Rules", id="logs-all-rules",
                tooltip="Split of the default rule only (compares with its weights) / of every rule"),
        Binding("s", "toggle_split", "Split", id="logs-split", tooltip="Show or hide the split panel"),
        Binding("z", "reset_split", "Reset split", show=False, id="logs-reset-split",
                tooltip="Start the split window again (after a weight change)"),
        Binding("r", "raw", "Raw", id="logs-raw", tooltip="Raw lines or the compact coloured form"),
        Binding("escape", "back", "Back", id="logs-back"),
        Binding("question_mark", "app.help", "Help", id="logs-help"),
    ]

    def __init__(
        self,
        target: LogTarget,
        *,
        source: Source | None = None,
        index: MeshIndex | None = None,
        tail_lines: int | None = 1000,
        since_seconds: int | None = 60,
        capacity: int = DEFAULT_CAPACITY,
        window: float = 60.0,
        max_pods: int = 64,
    ) -> None:
        super().__init__()
        self.target = target
        self._source = source
        self._index = index
        self.tail_lines = tail_lines
        self.since_seconds = since_seconds
        self.max_pods = max_pods
        self.window = window
        self.buffer = TailBuffer(capacity)
        self.basis_mode = "auto"
        self.all_rules = False
        self.session: LogSession | None = None
        self.split_feed: SplitFeed | None = None
        self.paused = False
        self.status_classes: frozenset[int] = frozenset()
        self.flag_filter: frozenset[str] = frozenset()
        self.filter_text = ""
        self._notices: deque[str] = deque(maxlen=3)
        self._stop = threading.Event()
        self._slots = threading.Semaphore(MAX_READY_BATCHES)
        # Batches posted (counted by the worker only) and put into the ring (by the loop only).
        self._posted = 0
        self._drawn = 0
        self._repaint_due = False
        self._panel_data: PanelData | None = None
        self._panel_shown: PanelData | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="logs-title")
        yield KeyOrderedInput(placeholder="filter: words, path:/api, up:reviews, pod:NAME, flag:UH, code:5xx (esc clears)",
                    id="logs-filter")
        yield SplitPanel(id="logs-split")
        yield LogView(self.buffer, id="logs-view")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Start following when the mesh is known."""
        self.query_one("#logs-filter", Input).display = False
        self.query_one(LogView).focus()
        mesh = session_of(self)
        if self._index is None and mesh is not None:
            self._index = mesh.index
        if self._source is None and mesh is not None:
            self._source = mesh.source
        self._start()
        self.refresh_panel()
        self._title()
        self.call_after_refresh(self._freeze_widgets)

    def _freeze_widgets(self) -> None:
        """Move this screen's widgets (and all else alive now) out of the collector's reach.

        At 10,000 lines/s a full collection comes every second or two, and walked ~70,000 live
        Textual objects (~50 ms of CPU, 100-300 ms of stall on a busy machine); frozen, it
        walks only what was made since. A collection first, so no garbage is frozen. The cost:
        the widgets of this screen, once it is closed, stay in memory (the frozen generation is
        never collected): a few thousand small objects per Logs screen opened.
        """
        gc.collect()
        gc.freeze()

    def on_unmount(self) -> None:
        """Stop the worker and every stream (without waiting: they end within ~0.1 s)."""
        self._stop.set()
        if self.session is not None:
            self.session.close()
        if self.split_feed is not None:
            self.split_feed.close()

    # -- what is followed (read by tests and the title) -------------------------------------

    @property
    def follower(self) -> LogFollower | None:
        """The streams followed (None until the mesh is known)."""
        return self.session.follower if self.session is not None else None

    @property
    def plan(self) -> FollowPlan | None:
        """The pods followed and how their lines are read."""
        return self.session.current.plan if self.session is not None else None

    @property
    def weights(self) -> dict[str, float]:
        """The configured weights the split is compared with."""
        return self.session.current.weights if self.session is not None else {}

    @property
    def route(self) -> str | None:
        """The rule whose lines the split counts (None: every rule)."""
        return self.session.current.route if self.session is not None else None

    @property
    def lines_in(self) -> int:
        """Lines taken from the follower so far."""
        return self.session.ingest.lines_in if self.session is not None else 0

    @property
    def lines_shown(self) -> int:
        """Lines about the target that went to the ring so far."""
        return self.session.ingest.lines_shown if self.session is not None else 0

    # -- following --------------------------------------------------------------------------

    def _start(self) -> None:
        if self._index is None or self._source is None or self.session is not None:
            return
        self.session = LogSession(self._source, self._index, self.target, tail_lines=self.tail_lines,
                                  since_seconds=self.since_seconds, max_pods=self.max_pods, window=self.window,
                                  notify=self._warn)
        options, problems = load_prometheus_settings()
        for line in problems:
            self._warn(line)
        self.split_feed = SplitFeed(self._source, self._index, self.target, options)
        self.split_feed.start()
        session, feed = self.session, self.split_feed
        self.run_worker(lambda: self._pump(session, feed), thread=True, exclusive=True, group="logs-ingest",
                        exit_on_error=False)

    def _warn(self, line: str) -> None:
        self.notify(line, severity="warning")

    def on_mesh_updated(self, message: MeshUpdated) -> None:
        """Pods that appear join the tail, pods that go away leave it."""
        self._index = message.index
        if self.session is None:
            mesh = session_of(self)
            if self._source is None and mesh is not None:
                self._source = mesh.source
            self._start()
        else:
            kinds = None if message.changed is None else {str(o.get("kind", "")) for _t, o in message.changed}
            self.session.mesh_changed(message.index, kinds)
            if self.split_feed is not None:
                self.split_feed.mesh_changed(message.index)
        self._title()

    def _pump(self, session: LogSession, feed: SplitFeed) -> None:
        """Thread worker: session lines → counted ring rows → ``LogRows``; ``PanelReady`` on a clock."""
        worker = get_current_worker()
        stop = self._stop
        next_panel = 0.0
        while not stop.is_set() and not worker.is_cancelled:
            batch, changed = session.take(WORKER_BATCH, timeout=0.05)
            rows = session.process(batch) if batch else []
            notices = session.notices()
            if rows or notices:
                # The loop is behind when no slot is free: wait, and so slow the streams.
                while not self._slots.acquire(timeout=0.05):
                    if stop.is_set() or worker.is_cancelled:
                        return
                self._posted += 1
                self.post_message(LogRows(rows, notices))
            now = time.monotonic()
            if now >= next_panel or changed:
                self.post_message(PanelReady(feed.panel(session), feed.status))
                next_panel = now + PANEL_SECONDS

    def on_log_rows(self, message: LogRows) -> None:
        """Rows counted by the worker: into the ring, one repaint."""
        self._slots.release()
        self._drawn += 1
        self._notices.extend(message.notices)
        self.flush(message.rows)

    def flush(self, rows: list[tuple[Any, ...]]) -> None:
        """Move ``rows`` into the ring; the view repaints once for every batch of the next
        ``REPAINT_SECONDS``."""
        if rows:
            self.buffer.extend(rows)
        if not self._repaint_due:
            self._repaint_due = True
            self.set_timer(REPAINT_SECONDS, self._repaint)

    def _repaint(self) -> None:
        self._repaint_due = False
        self.query_one(LogView).take_appended()
        self._title()

    # -- split panel ------------------------------------------------------------------------

    def on_panel_ready(self, message: PanelReady) -> None:
        """The latest split: draw it, and tell the analysis what the logs showed about Hosts
        that bypass the service's VirtualServices (a finding and a marker in the browser)."""
        self._panel_data = message.data
        self.query_one(StatusBar).basis = message.basis_status
        self.refresh_panel()
        mesh = session_of(self)
        if mesh is not None and self.target.kind == "Service" and self.session is not None:
            key = ("Service", self.target.namespace, self.target.name)
            data = message.data
            mesh.findings.observe(key, ObservedBypass(key, self.session.current.routed_by, data.bypassed)
                                  if data.bypassed else None)

    def split_rows(self) -> list[Any]:
        """The rows the panel shows now (``SplitRow``), with configured weights."""
        return list(self._panel_data.rows) if self._panel_data is not None else []

    def split_text(self, width: int = 160) -> str:
        """The panel as plain text (what a user reads), from the latest panel data."""
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(self._render_panel())
        return console.export_text()

    def _render_panel(self) -> RenderableType:
        data = self._panel_data
        if self.plan is None or data is None:
            return Text("waiting for the mesh to load…", style="dim")
        panel = render_split(
            data.rows, data.rollups, title=f"Observed split · {self.target.label}", basis=data.label,
            window=data.window, configured=self.weights, lines=data.lines, unparsed=data.unparsed,
            bypass=data.bypass_note,
        )
        if data.l4 is not None:  # an ambient service: ztunnel's L4 view under the L7 split
            panel = Group(panel, render_l4(data.l4))
        changed = self.session.config_changed_at if self.session is not None else None
        if changed is None:
            return panel
        at = time.strftime("%H:%M:%S", time.localtime(changed))
        return Group(Text(f"config changed at {at}: the window mixes traffic from before it; z restarts it",
                          style="bold yellow"), panel)

    def refresh_panel(self) -> None:
        """Draw the latest panel data when it changed."""
        panel = self.query_one(SplitPanel)
        if not panel.display or (self._panel_data is self._panel_shown and self._panel_data is not None):
            return
        self._panel_shown = self._panel_data
        panel.show(self._render_panel())

    # -- header -----------------------------------------------------------------------------

    def _title(self) -> None:
        text = Text.assemble(("Logs ", "bold"), (self.target.label, "bold cyan"))
        if self.plan is not None:
            own, clients = len(self.plan.own), len(self.plan.clients)
            text.append(f"  {own} pod(s)" + (f" + {clients} client pod(s)" if clients else ""), style="dim")
        elif self.follower is None:
            text.append("  waiting for the mesh…", style="yellow")
        text.append(f"  {self.lines_shown} lines", style="dim")
        if len(self.buffer) < self.lines_shown:
            text.append(f" (newest {len(self.buffer)} kept)", style="dim")
        described = self._filter().describe()
        if described:
            shown = self.buffer.visible_count(self.query_one(LogView).limit_seq)
            text.append(f"  filter {described}: {shown} match", style="bold yellow")
        if self.paused:
            held = self.buffer.next_seq - (self.query_one(LogView).limit_seq or 0)
            text.append(f"  PAUSED (+{held} new)", style="bold reverse yellow")
        elif not self.query_one(LogView).following:
            text.append("  scrolled up — G to follow", style="yellow")
        if self._notices:
            text.append(f"  · {self._notices[-1]}", style="dim italic")
        # One row high (logs.tcss): no relayout needed, which would repaint the whole screen.
        self.query_one("#logs-title", Static).update(text, layout=False)

    # -- filters ----------------------------------------------------------------------------

    def _filter(self) -> TailFilter:
        return TailFilter.make(self.status_classes, self.flag_filter, self.filter_text)

    def apply_filter(self) -> None:
        """Show only the lines matching the status classes, flags and text."""
        try:
            flt = self._filter()
        except FilterError as exc:
            self.notify(str(exc), severity="error")
            return
        self.buffer.set_filter(flt)
        self.query_one(LogView).reset()
        self._title()

    def action_status_class(self, klass: int) -> None:
        """Toggle a status class quick filter (2, 4 or 5)."""
        self.status_classes = self.status_classes ^ {klass}
        self.apply_filter()

    def action_flags(self) -> None:
        """Pick response flags to filter by."""
        def chosen(flags: frozenset[str] | None) -> None:
            if flags is not None:
                self.flag_filter = flags
                self.apply_filter()

        self.app.push_screen(FlagPicker(self.flag_filter), chosen)

    def action_filter(self) -> None:
        """Show the text filter."""
        box = self.query_one("#logs-filter", Input)
        box.display = True
        box.value = self.filter_text
        self.set_focus(box)  # now, not on a later turn: the keys typed after / go to the box

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types (a bad expression waits for more typing)."""
        if event.input.id != "logs-filter":
            return
        try:
            TailFilter.make(text=event.value)
        except FilterError:
            return
        self.filter_text = event.value.strip()
        self.apply_filter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and returns to the log."""
        if event.input.id == "logs-filter":
            try:
                TailFilter.make(text=event.value)
            except FilterError as exc:
                self.notify(str(exc), severity="error")
                return
            event.input.display = False
            self.query_one(LogView).focus()

    def action_clear_filters(self) -> None:
        """Drop every filter."""
        self.status_classes, self.flag_filter, self.filter_text = frozenset(), frozenset(), ""
        self.query_one("#logs-filter", Input).value = ""
        self.apply_filter()

    # -- other actions ----------------------------------------------------------------------

    def action_pause(self) -> None:
        """Freeze the view (lines keep arriving into the ring and the split); again to resume."""
        view = self.query_one(LogView)
        self.paused = not self.paused
        view.limit_seq = self.buffer.next_seq if self.paused else None
        if not self.paused:
            view.following = True
        view.take_appended()
        self._title()

    def action_window(self, step: int) -> None:
        """Shorter or longer sliding window of the split statistics."""
        pos = min(range(len(WINDOWS)), key=lambda i: abs(WINDOWS[i] - self.window))
        self.window = WINDOWS[max(0, min(len(WINDOWS) - 1, pos + step))]
        if self.session is not None:
            self.session.set_window(self.window)
        self.notify(f"split window {self.window:g}s" + (" (a longer window fills as lines arrive)" if step > 0 else ""))

    def action_basis(self) -> None:
        """Cycle where the split is measured: auto → clients → server pods."""
        order = ["auto", BASIS_CLIENT, BASIS_SERVER]
        self.basis_mode = order[(order.index(self.basis_mode) + 1) % len(order)]
        if self.session is not None:
            self.session.set_basis(self.basis_mode)
        if self.split_feed is not None:
            self.split_feed.set_basis(self.basis_mode)

    def action_all_rules(self) -> None:
        """Count the default rule's lines only (what its weights describe) or every rule's."""
        self.all_rules = not self.all_rules
        if self.session is not None:
            self.session.set_all_rules(self.all_rules)
        self.notify("split of every rule" if self.all_rules else f"split of rule {self.route!r} only"
                    if self.route else "the default rule has no name: every rule is counted")

    def action_reset_split(self) -> None:
        """Forget what the split counted so far (traffic from before a weight change)."""
        if self.session is None:
            return
        self.session.reset_window()
        self._panel_shown = None
        self.refresh_panel()
        self.notify("split window restarted")

    def action_toggle_split(self) -> None:
        """Show or hide the split panel."""
        panel = self.query_one(SplitPanel)
        panel.display = not panel.display
        self._panel_shown = None
        self.refresh_panel()

    def action_raw(self) -> None:
        """Switch between raw lines and the compact coloured form."""
        view = self.query_one(LogView)
        view.set_raw(not view.raw)

    def action_back(self) -> None:
        """Esc: close the filter box, else leave the screen."""
        box = self.query_one("#logs-filter", Input)
        if box.display:
            box.display = False
            self.query_one(LogView).focus()
            return
        self.app.pop_screen()

    # -- for tests and the load test ----------------------------------------------------------

    def visible_lines(self) -> list[TailEntry]:
        """The lines the view holds now (after filter and pause), oldest first."""
        limit = self.query_one(LogView).limit_seq
        return [self.buffer.visible(i) for i in range(self.buffer.visible_count(limit))]

    def pending(self) -> int:
        """Batches posted by the worker and not yet in the ring (for the load test)."""
        return self._posted - self._drawn
