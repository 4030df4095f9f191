"""``:ztunnel [POD|NODE]``: the workloads and services one ztunnel holds, with istioctl's columns.

The tables come from the pod's admin ``/config_dump`` through the source's port-forward
(``meshtui.session.ztunnel_view``), read in a thread; ``n`` moves to the ztunnel of the next
node, ``r`` reads again.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from meshtui.session.ztunnel_view import ZtunnelPod, ZtunnelTables, read_tables
from meshtui.sources.base import Source


class ZtunnelScreen(Screen[None]):
    """The tables of one ztunnel pod; ``n`` cycles through the pods given."""

    BINDINGS = [
        Binding("n", "next_pod", "Next node", id="ztunnel-next"),
        Binding("r", "refetch", "Refetch", id="ztunnel-refetch"),
        Binding("escape", "app.pop_screen", "Back", id="ztunnel-back"),
        Binding("question_mark", "app.help", "Help", show=False, id="ztunnel-help"),
    ]

    def __init__(self, source: Source, pods: list[ZtunnelPod], current: ZtunnelPod) -> None:
        super().__init__()
        self.source, self.pods, self.current = source, pods, current
        #: The tables shown (None until the first read ends).
        self.tables: ZtunnelTables | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="ztunnel-title")
        with TabbedContent(id="ztunnel-tabs", initial="ztunnel-workloads"):
            with TabPane("Workloads", id="ztunnel-workloads"), VerticalScroll():
                yield Static(Text("Fetching…", style="dim"), id="ztunnel-workloads-text")
            with TabPane("Services", id="ztunnel-services"), VerticalScroll():
                yield Static(Text("Fetching…", style="dim"), id="ztunnel-services-text")
        yield Footer()

    def on_mount(self) -> None:
        """Read the current pod's tables."""
        self.action_refetch()

    def action_refetch(self) -> None:
        """Read the tables again in a thread."""
        self.query_one("#ztunnel-title", Static).update(Text.assemble(
            ("ztunnel ", "bold"), (f"{self.current.name}.{self.current.namespace}", "bold cyan"),
            (f"  node {self.current.node or '?'}  ({self.pods.index(self.current) + 1}/{len(self.pods)}; "
             "n: next node)", "dim")))
        source, pod = self.source, self.current
        self.run_worker(lambda: self._read(source, pod), thread=True, exclusive=True, group="ztunnel",
                        exit_on_error=False)

    def action_next_pod(self) -> None:
        """The ztunnel of the next node."""
        self.current = self.pods[(self.pods.index(self.current) + 1) % len(self.pods)]
        self.action_refetch()

    def _read(self, source: Source, pod: ZtunnelPod) -> None:
        try:
            tables = read_tables(source, pod)
        except Exception as exc:  # noqa: BLE001 - any failure is shown in the screen, never a crash
            self.app.call_from_thread(self._failed, str(exc) or type(exc).__name__)
            return
        self.app.call_from_thread(self._show, tables)

    def _failed(self, message: str) -> None:
        for tab in ("workloads", "services"):
            self.query_one(f"#ztunnel-{tab}-text", Static).update(
                Text(f"cannot read the ztunnel config: {message}", style="red"))

    def _show(self, tables: ZtunnelTables) -> None:
        self.tables = tables
        self.query_one("#ztunnel-workloads-text", Static).update(Text(tables.workloads))
        self.query_one("#ztunnel-services-text", Static).update(Text(tables.services))
