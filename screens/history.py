"""``:history``: the audit log of this source, newest first, with the diff of each change.

Every write attempt is listed (applied, cancelled, conflict, invalid, forbidden...); the
selected entry's diff (before → after) is shown beside the list. ``r`` reverts the selected
applied change through the preview with the same protections as any write (refused when the
object changed since, or when writes are not allowed); ``a`` shows the entries of every source.
The log is read in a thread worker.
"""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from meshtui.screens.write_actions import revert
from meshtui.sources.base import Source
from meshtui.widgets.host import session_of
from meshtui.widgets.status_bar import StatusBar

_RESULT_STYLES = {"applied": "green", "cancelled": "dim", "dry-run": "cyan", "conflict": "yellow"}


class HistoryScreen(Screen[None]):
    """The audit entries of the app's source (or of every source), newest first."""

    BINDINGS = [
        Binding("r", "revert", "Revert", id="history-revert", tooltip="Undo the selected applied change"),
        Binding("a", "toggle_all", "All sources", id="history-all"),
        Binding("escape", "app.pop_screen", "Back", id="history-back"),
        Binding("question_mark", "app.help", "Help", show=False, id="history-help"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Any] = []
        self.all_sources = False
        #: The text of the diff pane (the selected entry's header and unified diff).
        self.diff_text = ""

    def compose(self) -> ComposeResult:
        yield Static(id="history-title")
        with Horizontal(id="history-panes"):
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="history-diff-box"):
                yield Static(id="history-diff")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Set up the table and read the log."""
        table = self.query_one(DataTable)
        table.add_columns("TIME", "RESULT", "OBJECT", "CHANGE", "USER")
        table.focus()
        self.load()

    def on_screen_resume(self) -> None:
        """Re-read after a revert (the preview added lines)."""
        if self.is_mounted and self.entries is not None:
            self.load()

    def load(self) -> None:
        """Read the audit log in a thread."""
        source = self._source
        self.run_worker(lambda: self._read(source), thread=True, exclusive=True, group="history",
                        exit_on_error=False)

    @property
    def _source(self) -> Source | None:
        session = session_of(self)
        return session.source if session is not None else None

    def _read(self, source: Source | None) -> None:
        from meshtui.write.audit import AuditLog, source_id
        from meshtui.write.history import history

        app = self.app
        log = AuditLog()
        sid = None if self.all_sources or source is None else source_id(source)
        try:
            entries = history(log, source_id=sid, limit=500)
        except OSError as exc:
            app.call_from_thread(app.notify, f"cannot read the audit log {log.path}: {exc}", severity="error")
            entries = []
        app.call_from_thread(self._show, entries, str(log.path))

    def _show(self, entries: list[Any], path: str) -> None:
        self.entries = entries
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        for e in entries:
            table.add_row(e.time.replace("T", " ")[:19], Text(e.result, style=_RESULT_STYLES.get(e.result, "red")),
                          str(e.key), e.description + (f"  (undoes {e.undoes})" if e.undoes else ""), e.user,
                          key=e.id)
        source = self._source
        scope = "every source" if self.all_sources else source.description if source is not None else "this source"
        self.query_one("#history-title", Static).update(Text.assemble(
            ("History  ", "bold"), (f"{len(entries)} changes of {scope}", "cyan"), (f"   {path}", "dim")))
        if entries:
            table.move_cursor(row=min(row, len(entries) - 1))
        self._show_diff()

    def selected(self) -> Any:
        """The audit entry under the cursor, or None."""
        table = self.query_one(DataTable)
        if not self.entries or table.cursor_row is None or not 0 <= table.cursor_row < len(self.entries):
            return None
        return self.entries[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the diff of the highlighted entry."""
        self._show_diff()

    def _show_diff(self) -> None:
        from meshtui.write.plan import unified_diff

        entry = self.selected()
        box = self.query_one("#history-diff", Static)
        if entry is None:
            self.diff_text = "no change recorded for this source yet"
            box.update(Text(self.diff_text, style="dim"))
            return
        diff = unified_diff(entry.before, entry.after, f"{entry.key} (before)", f"{entry.key} (after)")
        head = f"{entry.result}: {entry.description}\n" + (f"error: {entry.error}\n" if entry.error else "")
        self.diff_text = f"# {head}{diff}" if diff else f"# {head}(no difference)"
        box.update(Syntax(self.diff_text, "diff", theme="ansi_dark"))

    def action_revert(self) -> None:
        """Revert the selected applied change (preview, then ``y``)."""
        entry = self.selected()
        if entry is None:
            return
        if entry.result != "applied":
            self.notify(f"only an applied change can be reverted (this one: {entry.result})", severity="warning")
            return
        source = self._source
        if source is not None:
            from meshtui.write.audit import source_id

            if entry.source_id != source_id(source):
                self.notify(f"this change was made at {entry.source}, not at {source.description}",
                            severity="warning")
                return
        revert(self.app, entry, lambda _outcome: self.load())

    def action_toggle_all(self) -> None:
        """Switch between this source's entries and every source's."""
        self.all_sources = not self.all_sources
        self.load()
