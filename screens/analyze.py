"""`:analyze` (`a` in the browser): every validation finding, errors first, with a jump to it."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from meshtui.widgets.key_order import KeyOrderedInput
from textual.widgets import Footer, Input, Static

from meshtui.messages import FindingsUpdated
from meshtui.screens.table_base import FilterableTableScreen
from meshtui.widgets.big_table import BigTable
from meshtui.views.findings_rows import finding_rows, level_counts
from meshtui.widgets.findings_table import FindingsTable
from meshtui.widgets.host import host_of, session_of
from meshtui.widgets.status_bar import StatusBar

#: Kinds the mesh browser can show (through the service they route or describe).
ROUTING_KINDS = frozenset({"VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Service", "Pod"})

LEVEL_STYLES = {"Error": "bold red", "Warning": "bold yellow", "Info": "bold blue"}


class AnalyzeScreen(FilterableTableScreen):
    """Lists the findings of the analyzers (Istio's IST codes and meshtui's MT codes).

    The list follows the mesh live: the app re-analyses after changes and posts
    ``FindingsUpdated``. `enter` shows the resource in the browser with the offending field
    highlighted in its YAML; `y` shows that YAML without leaving.
    """

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("y", "yaml", "YAML", id="yaml", tooltip="The resource's YAML, offending field highlighted"),
        Binding("r", "reanalyze", "Re-run", id="reanalyze", tooltip="Analyse the mesh again now"),
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark", "app.help", "Help", id="help"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._findings: list[Any] | None = None
        self._by_key: dict[Any, Any] = {}

    def compose(self) -> ComposeResult:
        yield KeyOrderedInput(placeholder="filter findings: substring or regex (esc clears)", id="filter")
        yield Static(id="analyze-title")
        yield FindingsTable(id="findings")
        yield Static(id="analyze-empty")
        yield Static(id="analyze-detail")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Start from the latest analysis, if one finished already."""
        self.query_one("#filter", Input).display = False
        table = self.query_one(FindingsTable)
        self.watch(table, "cursor_row", self._show_detail)
        session = session_of(self)
        latest = session.findings.latest if session is not None else None
        self._set_findings(None if latest is None else latest.findings)
        table.focus()

    # -- data in ------------------------------------------------------------------------------

    def on_findings_updated(self, message: FindingsUpdated) -> None:
        """A new analysis: rows update in place, the cursor stays on its finding."""
        self._set_findings(message.findings)

    def _scoped(self, findings: list[Any]) -> list[Any]:
        scope = self._scope()
        return [f for f in findings if f.namespace == scope] if scope else list(findings)

    def _scope(self) -> str | None:
        session = session_of(self)
        return session.scope if session is not None else None

    def _set_findings(self, findings: list[Any] | None) -> None:
        table = self.query_one(FindingsTable)
        empty = self.query_one("#analyze-empty", Static)
        title = self.query_one("#analyze-title", Static)
        if findings is None:
            self._findings = None
            title.update(Text.assemble(("Analysis", "bold"), ("  analysing the mesh…", "dim")))
            table.display = False
            empty.display = False
            return
        self._findings = self._scoped(findings)
        rows, self._by_key = finding_rows(self._findings)
        table.set_rows(rows)
        self._update_title()
        table.display = bool(rows)
        empty.display = not rows
        if not rows:
            empty.update(Text("✔ No validation issues found", style="bold green"))
        self._show_detail()

    def _update_title(self) -> None:
        table = self.query_one(FindingsTable)
        counts = level_counts(self._findings or [])
        title = Text("Analysis", style="bold")
        scope = self._scope()
        if scope:
            title.append(f" of {scope}", style="bold")
        for level, word in (("Error", "errors"), ("Warning", "warnings"), ("Info", "info")):
            n = counts.get(level, 0)
            title.append(f"  {n} {word if n != 1 else word.rstrip('s')}", style=LEVEL_STYLES[level] if n else "dim")
        if table.row_count != table.total_count:
            title.append(f"   showing {table.row_count} of {table.total_count}", style="dim")
        self.query_one("#analyze-title", Static).update(title)

    def _show_detail(self, *_: Any) -> None:
        """The whole message of the finding under the cursor (the table cuts long ones)."""
        detail = self.query_one("#analyze-detail", Static)
        f = self.selected_finding
        if f is None:
            detail.update("")
            return
        text = Text.assemble((f"{f.level} ", LEVEL_STYLES.get(f.level, "bold")), (f"[{f.code}] ", "bold"),
                             (f"{f.origin}", "cyan"))
        if f.path:
            text.append(f"  at {f.path}", style="magenta")
        text.append(f"\n{f.message}")
        if f.documentation_url:
            text.append(f"\n{f.documentation_url}", style="dim underline")
        detail.update(text)

    @property
    def selected_finding(self) -> Any | None:
        """The finding under the table's cursor, if any."""
        table = self.query_one(FindingsTable)
        if not table.display:
            return None
        return self._by_key.get(table.cursor_key)

    # -- actions ------------------------------------------------------------------------------

    def filter_changed(self) -> None:
        """The title counts and the detail pane follow the filter."""
        self._update_title()
        self._show_detail()

    def action_reanalyze(self) -> None:
        """Analyse again now (it also happens by itself after every change)."""
        session = session_of(self)
        if session is not None and session.index is not None:
            session.findings.schedule(session.index)
            self.notify("analysing…", timeout=2)

    def _yaml_screen(self, finding: Any) -> Any | None:
        from meshtui.screens.yaml_view import YamlScreen

        if finding.kind == "File":  # a manifest that does not read: nothing in the mesh to show
            self.notify(f"{finding.resource_name}: {finding.message} (fix the file: it is read again as it changes)",
                        severity="warning", timeout=10)
            return None
        session = session_of(self)
        index = session.index if session is not None else None
        obj = index.get(finding.kind, finding.namespace, finding.resource_name) if index is not None else None
        if obj is None:
            self.notify(f"{finding.origin} is no longer in the mesh", severity="warning")
            return None
        return YamlScreen(obj.raw, highlight_path=finding.path)

    def action_yaml(self) -> None:
        """The resource's YAML with the offending field highlighted."""
        f = self.selected_finding
        screen = self._yaml_screen(f) if f is not None else None
        if screen is not None:
            self.app.push_screen(screen)

    def on_big_table_selected(self, event: BigTable.Selected) -> None:
        """Enter: the resource in the browser (its service), its YAML on top at the bad field."""
        f = self._by_key.get(event.key)
        if f is None:
            return
        screen = self._yaml_screen(f)
        if screen is None:
            return
        if f.kind in ROUTING_KINDS:
            host = host_of(self)
            if host is not None:
                host.show_in_browser((f.kind, f.namespace, f.resource_name))
        self.app.push_screen(screen)
