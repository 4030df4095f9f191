"""Service endpoints: one service's endpoints as every client sidecar sees them.

Opened from the mesh screen (``E`` on a service). The client sidecars are picked from the mesh
index (``meshtui.envoy.service_endpoints.plan_clients``, at most 50), then a thread worker asks
each one's Envoy for ``/clusters?format=json`` through ``source.envoy_admin``, a few at a
time, with a progress bar. The table has, per endpoint, a summary row (CLIENT ``*``: health
counts and "ejected by N/M clients") followed by one row per (client, cluster) with STATUS and
OUTLIER CHECK. ``t`` shows the summary rows only. Styles: ``styles/service_endpoints.tcss``.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from meshtui.widgets.key_order import KeyOrderedInput
from textual.widgets import Footer, Input, ProgressBar, Static
from textual.worker import get_current_worker

from meshtui.widgets.big_table import BigTable, Column
from meshtui.widgets.host import session_of

CLUSTERS_PATH = "/clusters?format=json"
_WIDTHS = {"ENDPOINT": 24, "CLIENT": 50, "STATUS": 30, "OUTLIER CHECK": 26, "CLUSTER": 80}


class ServiceEndpointsScreen(Screen[None]):
    """Endpoints of one service across all its client sidecars: health and outlier status."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the rows (text or regex)"),
        Binding("t", "toggle_summary", "Summaries", id="summaries",
                tooltip="Show only the summary row of each endpoint, or every client row"),
        Binding("r", "refetch", "Refetch", id="refetch", tooltip="Ask every client sidecar again"),
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark", "app.help", "Help", id="help"),
    ]

    def __init__(self, source: Any, namespace: str, service: str, *, index: Any) -> None:
        """``index`` (a ``MeshIndex``) picks the client pods; the app's current index is used
        on refetch when the app has one."""
        super().__init__()
        self.source, self.namespace, self.service, self.index = source, namespace, service, index
        self.report: Any = None  # the last ServiceEndpoints shown
        self.summary_only = False
        self._rows: list[tuple[int, tuple[str, ...]]] = []
        self._summary_rows: list[tuple[int, tuple[str, ...]]] = []
        self._raw: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Endpoints across clients ", "bold"), f"{self.service}.{self.namespace}"),
                     id="se-title")
        yield ProgressBar(id="se-progress", show_eta=False)
        yield Static(Text("Finding client sidecars…", style="dim"), id="se-msg")
        yield KeyOrderedInput(placeholder="filter rows (regex or text; esc clears)", id="se-filter")
        yield BigTable([Column("…")], id="se-table")
        yield Footer()

    def on_mount(self) -> None:
        """Hide the filter, focus the table, fetch."""
        self.query_one("#se-filter", Input).display = False
        self.query_one("#se-table", BigTable).focus()
        self.action_refetch()

    # -- fetching -------------------------------------------------------------------------------

    def action_refetch(self) -> None:
        """Pick the clients (on the loop: the index belongs to it) and ask them in a worker."""
        from meshtui.envoy.service_endpoints import plan_clients

        session = session_of(self)
        index = session.index if session is not None and session.index is not None else self.index
        msg = self.query_one("#se-msg", Static)
        bar = self.query_one("#se-progress", ProgressBar)
        try:
            plan = plan_clients(index, self.namespace, self.service)
        except LookupError as exc:
            bar.display = False
            msg.update(Text(str(exc), style="red"))
            return
        if not plan.clients:
            bar.display = False
            msg.update(Text(f"no running sidecar can reach {plan.host}: no client to ask", style="yellow"))
            return
        bar.display = True
        bar.update(total=len(plan.clients), progress=0)
        msg.update(Text(f"asking {len(plan.clients)} client sidecars for /clusters…", style="dim"))
        self._fetch(plan)

    @work(thread=True, exit_on_error=False, exclusive=True, group="service-endpoints")
    def _fetch(self, plan: Any) -> None:
        from meshtui.envoy.service_endpoints import (
            ClientPod, ClientResult, fetch_clients, service_endpoints, service_endpoints_table,
        )

        worker = get_current_worker()

        def fetch(client: ClientPod) -> bytes:
            return self.source.envoy_admin(client.namespace, client.name, CLUSTERS_PATH)

        def progress(_result: ClientResult) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._advance)

        try:
            results = fetch_clients(plan.clients, fetch, on_result=progress, cancelled=lambda: worker.is_cancelled)
            if worker.is_cancelled:
                return
            report = service_endpoints(plan.host, results, not_queried=plan.not_queried)
            table = service_endpoints_table(report)
        except Exception as exc:  # noqa: BLE001 - shown in the screen, never a crash
            self.app.call_from_thread(self._failed, str(exc) or type(exc).__name__)
            return
        self.app.call_from_thread(self._show, report, table)

    def _failed(self, message: str) -> None:
        self.query_one("#se-progress", ProgressBar).display = False
        self.query_one("#se-msg", Static).update(Text(f"cannot tabulate the endpoints: {message}", style="red"))

    def _advance(self) -> None:
        self.query_one("#se-progress", ProgressBar).advance(1)

    def _show(self, report: Any, table: Any) -> None:
        from meshtui.envoy.service_endpoints import SUMMARY_CLIENT

        self.report = report
        self.query_one("#se-progress", ProgressBar).display = False
        self._raw = list(table.raw)
        self._rows = [(i, tuple(row)) for i, row in enumerate(table.rows)]
        self._summary_rows = [(i, cells) for i, cells in self._rows if cells[1] == SUMMARY_CLIENT]
        grid = self.query_one("#se-table", BigTable)
        grid.columns = [Column(c, _WIDTHS.get(c, 40)) for c in table.columns]
        grid.sort_column = -1  # endpoint order, summary first, until the user sorts
        self._fill()
        notes = report.notes()
        style = "yellow" if report.errors or report.not_queried else "dim"
        ejected = sum(1 for s in report.summaries if s.ejected_by)
        head = f"{len(report.summaries)} endpoints; {ejected} ejected by at least one client — " + notes[0]
        self.query_one("#se-msg", Static).update(Text("; ".join([head, *notes[1:]]), style=style))

    def _fill(self) -> None:
        rows = self._summary_rows if self.summary_only else self._rows
        self.query_one("#se-table", BigTable).set_rows(list(rows))

    def action_toggle_summary(self) -> None:
        """``t``: summary rows only, or every (client, cluster) row."""
        self.summary_only = not self.summary_only
        if self.report is not None:
            self._fill()

    def on_big_table_selected(self, event: BigTable.Selected) -> None:
        """Enter: the JSON behind the row (the summary, or the client's host status)."""
        from meshtui.screens.proxy_config import JsonScreen

        if isinstance(event.key, int) and 0 <= event.key < len(self._raw):
            cells = self._rows[event.key][1]
            self.app.push_screen(JsonScreen(f"{cells[0]} {cells[1]}", self._raw[event.key]))

    # -- filter ---------------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Show and focus the filter input."""
        box = self.query_one("#se-filter", Input)
        box.display = True
        self.set_focus(box)  # now, not on a later turn: the keys typed after / go to the box

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the user types."""
        if event.input.id == "se-filter":
            self.query_one("#se-table", BigTable).set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and returns to the table."""
        if event.input.id == "se-filter":
            self.query_one("#se-table", BigTable).focus()

    def action_back(self) -> None:
        """Esc: clear an open filter first, else leave the screen."""
        box = self.query_one("#se-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_one("#se-table", BigTable).focus()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()
