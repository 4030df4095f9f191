"""The canary autopilot's live timeline: each step, its gate result and the traffic it rested
on, as ``meshtui.session.canary_run`` reports them; ``esc`` stops the run between two checks
(the last applied step stays, and the timeline says so) and, once it has ended, closes.

The run is a thread worker; its lines reach the screen through ``call_from_thread``.
"""

from __future__ import annotations

import textwrap
import threading
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Log, Static

from meshtui.session.canary_run import CanaryConfig, CanaryReport, CanaryRun
from meshtui.write.apply import Writer


#: The indent of a wrapped line's continuation rows.
_CONTINUED = "    "


class CanaryTimeline(ModalScreen[CanaryReport | None]):
    """Runs one canary on ``source`` and shows its timeline."""

    BINDINGS = [Binding("escape", "stop", "Stop / close", id="canary-stop")]

    def __init__(self, source: Any, config: CanaryConfig) -> None:
        super().__init__()
        self.source = source
        self.config = config
        self._stop = threading.Event()
        #: The report once the run has ended (None while it runs).
        self.report: CanaryReport | None = None

    def compose(self) -> ComposeResult:
        cfg = self.config
        with Vertical(id="preview-box"):
            yield Static(Text.assemble(("Canary ", "bold"), (f"{cfg.namespace}/{cfg.name}", "bold cyan"),
                                       f"  {cfg.to} +{cfg.step} every {cfg.interval:g} s up to {cfg.max_weight}%"),
                         id="canary-title")
            yield Log(id="canary-log", max_lines=2000)
            yield Static(Text("running…   esc: stop (the last applied step stays)", style="italic"),
                         id="canary-status")

    def on_mount(self) -> None:
        """Start the run."""
        self.run_worker(self._run, thread=True, exclusive=True, group="canary", exit_on_error=False)

    def _run(self) -> None:
        app = self.app
        runner = CanaryRun(self.source, Writer(), self.config,
                           emit=lambda line: app.call_from_thread(self._line, line), cancelled=self._stop.is_set)
        try:
            report = runner.run()
        except Exception as exc:  # noqa: BLE001 - the user must see why it ended, in one line
            report = CanaryReport("error", f"the run failed: {exc}", runner.steps_applied, runner.weight)
        app.call_from_thread(self._ended, report)

    def _line(self, line: str) -> None:
        log = self.query_one("#canary-log", Log)
        # A gate's line carries its reason at the end: wrapped (continuations indented), never
        # cut at the edge of the box.
        width = max(40, log.scrollable_content_region.width - 1)
        indent = " " * (len(line) - len(line.lstrip()))
        for row in textwrap.wrap(line, width, initial_indent="", subsequent_indent=indent + _CONTINUED,
                                 break_on_hyphens=False) or [""]:
            log.write_line(row)

    def _ended(self, report: CanaryReport) -> None:
        self.report = report
        self._line(report.message)
        style = "bold green" if report.exit_code == 0 else "bold yellow" if report.exit_code in (5, 130) else "bold red"
        self.query_one("#canary-status", Static).update(Text(f"{report.message}   esc: close", style=style))

    def action_stop(self) -> None:
        """Stop the run between two checks, or close once it has ended."""
        if self.report is not None:
            self.dismiss(self.report)
            return
        self._stop.set()
        self.query_one("#canary-status", Static).update(
            Text("stopping after the current check… the last applied step stays", style="italic"))
