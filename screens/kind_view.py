"""`:vs`, `:dr`, `:gw`, `:se`, `:svc`, `:pods`: one sortable, filterable table per kind."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from meshtui.widgets.key_order import KeyOrderedInput
from textual.widgets import Footer, Input, Static

from meshtui.messages import MeshUpdated, OpenProxyConfig, ShowObject
from meshtui.screens.browse_keys import DescribeKey
from meshtui.screens.table_base import FilterableTableScreen
from meshtui.widgets.big_table import BigTable
from meshtui.views.kind_rows import KindView, rows_for
from meshtui.widgets.status_bar import StatusBar


class KindScreen(DescribeKey, FilterableTableScreen):
    """Lists every object of one kind; `enter` opens its service, `y` its YAML."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("y", "yaml", "YAML", id="yaml"),
        Binding("c", "proxy_config", "Envoy", id="proxy-config", tooltip="Envoy config of the pod (in :pods)"),
        Binding("w", "edit_routes", "Edit routes", id="edit-routes",
                tooltip="Route editor on the VirtualService under the cursor (in :vs)"),
        Binding("e", "edit_yaml", "$EDITOR", id="edit-yaml", tooltip="Edit the object under the cursor in $EDITOR"),
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark", "app.help", "Help", id="help"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    def __init__(self, view: KindView, index: Any, scope: str | None) -> None:
        super().__init__()
        self.view = view
        self._index = index
        self._scope = scope

    def compose(self) -> ComposeResult:
        yield KeyOrderedInput(placeholder="filter: substring or regex (esc clears)", id="filter")
        yield Static(id="kind-title")
        yield BigTable(self.view.columns, id="kind-table")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table and focus it."""
        self.query_one("#filter", Input).display = False
        self._refill()
        self.query_one(BigTable).focus()
        # AGE counts on while the view is open (only the visible lines are drawn again).
        self.set_interval(1.0, self.query_one(BigTable).refresh)

    def _refill(self) -> None:
        table = self.query_one(BigTable)
        table.set_rows(rows_for(self.view, self._index, self._scope))
        self._retitle()

    def _retitle(self) -> None:
        table = self.query_one(BigTable)
        title = Text.assemble((self.view.title, "bold"), (f"  {table.row_count}", "dim"))
        if table.row_count != table.total_count:
            title.append(f" of {table.total_count}", style="dim")
        self.query_one("#kind-title", Static).update(title)

    def on_mesh_updated(self, message: MeshUpdated) -> None:
        """Rows update in place; the cursor stays on its object."""
        self._index = message.index
        self._refill()

    def filter_changed(self) -> None:
        """The title counts the rows shown."""
        self._retitle()

    def highlighted_object(self) -> tuple[str, str, str] | None:
        """`d` describes the row under the cursor."""
        key = self.query_one(BigTable).cursor_key
        return (key[0], key[1], key[2]) if key else None

    def action_yaml(self) -> None:
        """The YAML of the row under the cursor."""
        key = self.query_one(BigTable).cursor_key
        obj = self._index.get(*key) if key else None
        if obj is not None:
            from meshtui.screens.yaml_view import YamlScreen

            self.app.push_screen(YamlScreen(obj.raw))

    def action_proxy_config(self) -> None:
        """In the pods view: the Envoy configuration of the pod under the cursor."""
        key = self.query_one(BigTable).cursor_key
        if not key or key[0] != "Pod":
            self.notify("Envoy config is per pod: use it in :pods", severity="warning")
            return
        self.post_message(OpenProxyConfig(key[1], key[2]))

    def action_edit_routes(self) -> None:
        """In the VirtualService view: the route editor on the row under the cursor (no Service
        manifest needed: a GitOps directory of networking objects is edited as it is)."""
        key = self.query_one(BigTable).cursor_key
        if key and key[0] in ("HTTPRoute", "GRPCRoute"):
            from meshtui.screens.httproute_editor import HTTPRouteEditor

            self.app.push_screen(HTTPRouteEditor(tuple(key)))
            return
        if not key or key[0] != "VirtualService":
            self.notify("the route editor edits VirtualServices and HTTPRoutes: use it in :vs or :hr",
                        severity="warning")
            return
        from meshtui.screens.route_editor import RouteEditor

        self.app.push_screen(RouteEditor(tuple(key)))

    def action_edit_yaml(self) -> None:
        """Edit the object under the cursor in $EDITOR, through the same write path."""
        key = self.query_one(BigTable).cursor_key
        if key and key[0] != "Namespace":
            from meshtui.screens.write_actions import edit_in_editor

            edit_in_editor(self.app, tuple(key))

    def on_big_table_selected(self, event: BigTable.Selected) -> None:
        """Enter: show the object in the mesh browser (its service for routing kinds); a
        VirtualService whose hosts name no service in the mesh opens in the route editor."""
        from meshtui.routing.service_view import service_for_object

        kind, namespace, name = event.key
        if kind == "VirtualService" and service_for_object(self._index, kind, namespace, name) is None:
            self.action_edit_routes()
            return
        self.post_message(ShowObject(kind, namespace, name))
