"""The Proxy config screen: one pod's Envoy routes / clusters / listeners / endpoints.

Columns are ``istioctl proxy-config``'s, in their ``--wide`` form for routes (WEIGHT, header
and query conditions in MATCH). The dump is fetched in a thread worker through
``source.envoy_admin``; when the source has no live Envoy (``--files``) and the screen was
given the mesh index, it shows the config the mesh implies instead
(``meshtui.envoy.generate``), and says so. ``d`` snapshots the config shown; ``d`` again
fetches afresh and shows what changed since the snapshot (routes, clusters, endpoints;
``meshtui.envoy.diff``); ``D`` replaces the snapshot. Styles: ``styles/proxy_config.tcss``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from meshtui.widgets.key_order import KeyOrderedInput
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane

from meshtui.messages import ShowObject
from meshtui.widgets.big_table import BigTable, Column

CONFIG_DUMP_PATH = "/config_dump?include_eds"
CLUSTERS_PATH = "/clusters?format=json"
TABS = ("routes", "clusters", "listeners", "endpoints")
GENERATED_LABEL = "generated from the mesh config (not fetched from Envoy)"
FETCHED_LABEL = "fetched from the pod's Envoy admin (:15000)"  # a sidecar, a gateway or a waypoint
# Column caps: long cluster names and domain lists are cut with "…" (the JSON view has them whole).
_WIDTHS = {"DOMAINS": 40, "WEIGHT": 80, "CLUSTER": 70, "SERVICE FQDN": 60, "DESTINATION": 70, "MATCH": 50}


@dataclass
class TabData:
    """One tab's table as the worker built it: columns, rows, the raw object per row, or an error."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    raw: list[Any] = field(default_factory=list)
    error: str = ""


@dataclass
class Fetched:
    """What one fetch produced: the four tabs, where it came from, whether it is generated, and
    the decoded documents behind it (``/config_dump``, ``/clusters`` or None) for ``d``'s diff."""

    tabs: dict[str, TabData]
    origin: str
    generated: bool
    dump_doc: Any = None
    clusters_doc: Any = None


def origin_line(fetched: "Fetched", pod: str) -> str:
    """Where the tabs' configuration comes from, in words: fetched from the pod's Envoy (and,
    for the sandbox's simulated Envoy, that its answer is generated), or generated here."""
    if fetched.origin != "Envoy admin":
        return f"{GENERATED_LABEL} — {fetched.origin}"
    if fetched.generated:
        return f"{FETCHED_LABEL} of {pod}: the sandbox's simulated Envoy, whose config is generated from the mesh"
    return f"{FETCHED_LABEL} of {pod}"


def _tab(build: Any) -> TabData:
    """Run a table builder; a dump without that section becomes the tab's one-line error."""
    from meshtui.envoy.dump import DumpError

    try:
        table = build()
    except DumpError as exc:
        return TabData(error=str(exc))
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        return TabData(error=f"malformed Envoy dump ({type(exc).__name__}: {exc})")
    return TabData(table.columns, table.rows, table.raw)


def build_tabs(dump_doc: Any, clusters_doc: Any, name: str) -> dict[str, TabData]:
    """The four tables from a decoded ``/config_dump`` and (optionally) ``/clusters?format=json``."""
    from meshtui.envoy.clusters import cluster_table
    from meshtui.envoy.dump import ConfigDump, DumpError
    from meshtui.envoy.endpoints import ClustersDump, eds_table, endpoint_table
    from meshtui.envoy.listeners import listener_table
    from meshtui.envoy.routes import RouteFilter, route_table

    try:
        dump = ConfigDump.from_json(dump_doc, name)
    except DumpError as exc:
        return {t: TabData(error=str(exc)) for t in TABS}
    tabs = {
        "routes": _tab(lambda: route_table(dump, RouteFilter(), wide=True)),
        "clusters": _tab(lambda: cluster_table(dump)),
        "listeners": _tab(lambda: listener_table(dump)),
    }
    if isinstance(clusters_doc, dict) and isinstance(clusters_doc.get("cluster_statuses"), list):
        tabs["endpoints"] = _tab(lambda: endpoint_table(ClustersDump(clusters_doc)))
    else:
        tabs["endpoints"] = _tab(lambda: eds_table(dump))  # the EDS section of the dump instead
    return tabs


def diff_fetches(before: Fetched, after: Fetched, name: str) -> list[Any]:
    """The ``meshtui.envoy.diff`` changes from one fetch to the next (routes, clusters, then
    endpoints from ``/clusters`` when both fetches have it, else from the EDS sections)."""
    from meshtui.envoy.diff import diff_snapshots
    from meshtui.envoy.dump import ConfigDump
    from meshtui.envoy.endpoints import ClustersDump

    def clusters(doc: Any) -> ClustersDump | None:
        ok = isinstance(doc, dict) and isinstance(doc.get("cluster_statuses"), list)
        return ClustersDump(doc) if ok else None

    a = ConfigDump.from_json(before.dump_doc, f"{name} (snapshot)")
    b = ConfigDump.from_json(after.dump_doc, name)
    return diff_snapshots(a, b, clusters(before.clusters_doc), clusters(after.clusters_doc))


def vs_of_route(route: Any) -> tuple[str, str] | None:
    """(namespace, name) of the VirtualService a route came from, from its Istio metadata."""
    from meshtui.envoy.dump import dig

    path = dig(route, "metadata", "filter_metadata", "istio", "config")
    if not isinstance(path, str):
        return None
    parts = path.split("/")
    # /apis/networking.istio.io/<version>/namespaces/<ns>/virtual-service/<name>
    if len(parts) == 8 and parts[4] == "namespaces" and parts[6] == "virtual-service":
        return parts[5], parts[7]
    return None


class JsonScreen(ModalScreen[None]):
    """The raw JSON of one dump entry; esc or q closes it."""

    BINDINGS = [Binding("escape,q,enter", "app.pop_screen", "Close", id="close")]

    def __init__(self, title: str, obj: Any) -> None:
        super().__init__()
        self._title = title
        self.text = json.dumps(obj, indent=2, ensure_ascii=False)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="pc-json-box") as box:
            box.border_title = self._title
            yield Static(Syntax(self.text, "json",
                                theme="ansi_dark", word_wrap=False), id="pc-json")


class ProxyConfigScreen(Screen[None]):
    """Routes, clusters, listeners and endpoints of one pod's sidecar, with the raw JSON behind them."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter", tooltip="Filter the rows of every tab"),
        Binding("v", "show_virtual_service", "VirtualService", id="show-vs",
                tooltip="Jump to the VirtualService rule the selected route came from"),
        Binding("r", "refetch", "Refetch", id="refetch", tooltip="Fetch the config again"),
        Binding("d", "diff", "Snapshot/diff", id="diff",
                tooltip="Snapshot the config shown; press again to fetch afresh and show what changed"),
        Binding("D", "new_snapshot", "New snapshot", id="new-snapshot", show=False,
                tooltip="Replace the snapshot with the config shown now"),
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark", "app.help", "Help", id="help"),
    ]

    def __init__(self, source: Any, namespace: str, pod: str, *, index: Any | None = None) -> None:
        """``index`` (a ``MeshIndex``), when given, is used to generate the config if the
        source has no live Envoy for the pod."""
        super().__init__()
        self.source, self.namespace, self.pod, self.index = source, namespace, pod, index
        self._raw: dict[str, list[Any]] = {t: [] for t in TABS}
        self._rows: dict[str, list[list[str]]] = {t: [] for t in TABS}
        self.fetched: Fetched | None = None
        self.snapshot: Fetched | None = None  # what ``d`` diffs a fresh fetch against
        self._snapshot_at = ""

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Proxy config ", "bold"), f"{self.pod}.{self.namespace}"), id="pc-title")
        yield Static("", id="pc-origin")
        yield Static("", id="pc-snapshot")
        yield KeyOrderedInput(placeholder="filter rows (regex or text; esc clears)", id="pc-filter")
        with TabbedContent(id="pc-tabs", initial="routes"):
            for tab in TABS:
                with TabPane(tab.capitalize(), id=tab):
                    yield Static(Text("Fetching…", style="dim"), id=f"{tab}-msg", classes="pc-msg")
                    yield BigTable([Column("…")], id=f"{tab}-table")
        yield Footer()

    def on_mount(self) -> None:
        """Hide the filter, focus the routes table, fetch."""
        self.query_one("#pc-filter", Input).display = False
        self.query_one("#pc-origin", Static).display = False
        self.query_one("#pc-snapshot", Static).display = False
        self.query_one("#routes-table", BigTable).focus()
        self.action_refetch()

    # -- fetching (thread) ----------------------------------------------------------------------

    def action_refetch(self) -> None:
        """Fetch (again) in a thread; the tables keep their rows until the new ones arrive."""
        for tab in TABS:
            self.query_one(f"#{tab}-msg", Static).update(Text("Fetching…", style="dim"))
        self._fetch()

    @work(thread=True, exit_on_error=False, exclusive=True, group="proxy-config")
    def _fetch(self, diff_against: Fetched | None = None) -> None:
        try:
            result = self._read()
            changes = diff_fetches(diff_against, result, f"{self.pod}.{self.namespace}") if diff_against else None
        except Exception as exc:  # noqa: BLE001 - any failure is shown in the screen, never a crash
            self.app.call_from_thread(self._failed, f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
            return
        self.app.call_from_thread(self._show, result)
        if changes is not None:
            self.app.call_from_thread(self._show_diff, changes)

    def _read(self) -> Fetched:
        from meshtui.envoy.dump import parse_json_document
        from meshtui.envoy.generate import generate_clusters, generate_config_dump, generated_note
        from meshtui.sources.base import SourceError

        name = f"{self.pod}.{self.namespace}"
        try:
            dump_doc = parse_json_document(self.source.envoy_admin(self.namespace, self.pod, CONFIG_DUMP_PATH), name)
        except SourceError as exc:
            if self.index is None:
                raise
            # No live Envoy to ask (manifests on disk, no sidecar, unreachable): show what the mesh implies.
            dump_doc = generate_config_dump(self.index, self.namespace, self.pod)
            clusters_doc: dict[str, Any] | None = generate_clusters(self.index, self.namespace, self.pod)
            return Fetched(build_tabs(dump_doc, clusters_doc, name), f"no live Envoy ({exc})", True,
                           dump_doc, clusters_doc)
        try:
            clusters_doc = parse_json_document(self.source.envoy_admin(self.namespace, self.pod, CLUSTERS_PATH), name)
        except Exception:  # noqa: BLE001 - the endpoints tab then reads the dump's EDS section
            clusters_doc = None
        generated = generated_note(dump_doc) is not None
        return Fetched(build_tabs(dump_doc, clusters_doc, name), "Envoy admin", generated, dump_doc, clusters_doc)

    # -- on the event loop ----------------------------------------------------------------------

    def _failed(self, message: str) -> None:
        for tab in TABS:
            self.query_one(f"#{tab}-msg", Static).update(Text(f"cannot read the Envoy config: {message}", style="red"))

    def _show(self, fetched: Fetched) -> None:
        self.fetched = fetched
        origin = self.query_one("#pc-origin", Static)
        origin.display = True
        origin.set_class(fetched.generated, "generated")
        origin.update(Text(origin_line(fetched, f"{self.namespace}/{self.pod}")))
        for tab in TABS:
            data = fetched.tabs[tab]
            table = self.query_one(f"#{tab}-table", BigTable)
            msg = self.query_one(f"#{tab}-msg", Static)
            self._raw[tab], self._rows[tab] = data.raw, data.rows
            if data.error:
                msg.update(Text(data.error, style="yellow"))
                table.set_rows([])
                continue
            table.columns = [Column(c, _WIDTHS.get(c, 40)) for c in data.columns]
            table.sort_column = -1  # istioctl's row order until the user sorts
            table.set_rows([(i, tuple(row)) for i, row in enumerate(data.rows)])
            msg.update(Text(f"{len(data.rows)} {tab}", style="dim"))

    # -- snapshot and diff ----------------------------------------------------------------------

    def action_diff(self) -> None:
        """``d``: take a snapshot of the config shown, or (with one) diff a fresh fetch against it."""
        if self.snapshot is None:
            self.action_new_snapshot()
            return
        for tab in TABS:
            self.query_one(f"#{tab}-msg", Static).update(Text("Fetching…", style="dim"))
        self._fetch(self.snapshot)

    def action_new_snapshot(self) -> None:
        """``D`` (and the first ``d``): remember the config shown now."""
        if self.fetched is None or self.fetched.dump_doc is None:
            self.notify("nothing fetched yet to snapshot", severity="warning")
            return
        self.snapshot = self.fetched
        self._snapshot_at = time.strftime("%H:%M:%S")
        line = self.query_one("#pc-snapshot", Static)
        line.display = True
        line.update(Text(f"snapshot taken {self._snapshot_at} — d: what changed since (fetches afresh), "
                         "D: new snapshot"))
        self.notify(f"snapshot of {self.pod}.{self.namespace} taken; press d after the change")

    def _show_diff(self, changes: list[Any]) -> None:
        from meshtui.screens.proxy_config_diff import ProxyDiffScreen

        title = f"{self.pod}.{self.namespace}: snapshot {self._snapshot_at} → now"
        self.app.push_screen(ProxyDiffScreen(title, changes))

    def _active(self) -> str:
        return self.query_one("#pc-tabs", TabbedContent).active or "routes"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Focus the table of the tab just shown."""
        self.query_one(f"#{self._active()}-table", BigTable).focus()

    def on_big_table_selected(self, event: BigTable.Selected) -> None:
        """Enter: the raw JSON of the entry behind the row."""
        tab = (event.table.id or "").removesuffix("-table")
        raw = self._raw.get(tab, [])
        if isinstance(event.key, int) and 0 <= event.key < len(raw):
            cells = self._rows[tab][event.key] if event.key < len(self._rows[tab]) else []
            self.app.push_screen(JsonScreen(f"{tab[:-1]} {' '.join(c for c in cells[:2] if c)}", raw[event.key]))

    def action_show_virtual_service(self) -> None:
        """``v`` on a route: ask the app to show the VirtualService (and rule) it came from."""
        if self._active() != "routes":
            self.notify("select a route first (the Routes tab)", severity="warning")
            return
        key = self.query_one("#routes-table", BigTable).cursor_key
        raw = self._raw["routes"]
        route = raw[key] if isinstance(key, int) and 0 <= key < len(raw) else None
        ref = vs_of_route(route)
        if ref is None:
            self.notify("this route was not generated from a VirtualService", severity="warning")
            return
        rule = route.get("name") if isinstance(route, dict) else None
        self.post_message(ShowObject("VirtualService", ref[0], ref[1], rule=rule or None))

    # -- filter ---------------------------------------------------------------------------------

    def action_filter(self) -> None:
        """Show and focus the filter input."""
        box = self.query_one("#pc-filter", Input)
        box.display = True
        self.set_focus(box)  # now, not on a later turn: the keys typed after / go to the box

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter every tab as the user types."""
        if event.input.id == "pc-filter":
            for tab in TABS:
                self.query_one(f"#{tab}-table", BigTable).set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the filter and returns to the table."""
        if event.input.id == "pc-filter":
            self.query_one(f"#{self._active()}-table", BigTable).focus()

    def action_back(self) -> None:
        """Esc: clear an open filter first, else leave the screen."""
        box = self.query_one("#pc-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_one(f"#{self._active()}-table", BigTable).focus()
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()
