"""`:trace [HOST]` (`t` in the browser): follow one request through the mesh configuration."""

from __future__ import annotations

import re
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.screen import Screen
from meshtui.widgets.key_order import KeyOrderedInput
from textual.widgets import Footer, Input, Static, TextArea

from meshtui.messages import MeshUpdated
from meshtui.widgets.host import session_of
from meshtui.widgets.status_bar import StatusBar
from meshtui.widgets.trace_tree import TraceTree

# A comma starts a new header only where a `name:` follows, so `accept: a/b, c/d` stays whole.
_HEADER_SPLIT = re.compile(r",\s*(?=:?[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*:)")

#: (input id, label, placeholder) of the one-line fields, in the order of the form.
FIELDS = (
    ("host", "host", "reviews.bookinfo.svc.cluster.local[:port]"),
    ("path", "path", "/ (a ?query may follow)"),
    ("method", "method", "GET"),
    ("port", "port", "from the host, else the Service's"),
    ("gateway", "gateway", "mesh (or namespace/name)"),
    ("source-namespace", "from ns", "caller namespace (default: default)"),
    ("source-labels", "labels", "caller labels app=curl,version=v1"),
)


def parse_headers(text: str) -> list[tuple[str, str]]:
    """Headers from the form: one ``name: value`` per line, or several on a line separated by
    commas. Raises ``RequestError`` for an entry without a colon."""
    from meshtui.routing.request import parse_header

    out: list[tuple[str, str]] = []
    for line in text.splitlines():
        for part in _HEADER_SPLIT.split(line):
            if part.strip():
                out.append(parse_header(part.strip()))
    return out


def parse_port(text: str) -> int | None:
    """The port field: empty, or a number. Raises ``RequestError`` otherwise."""
    from meshtui.routing.request import RequestError

    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise RequestError(f"port {text!r} is not a number")
    return int(text)


class TraceScreen(Screen[None]):
    """A request form and the trace of that request as a tree.

    `enter` in any field (or `ctrl+r`) runs the trace; tracing is pure and fast, so it runs on
    the loop. The last trace is re-run when the mesh changes, so the tree stays current.
    """

    BINDINGS = [
        Binding("ctrl+r", "run", "Trace", id="run", priority=True, tooltip="Trace the request in the form"),
        Binding("escape", "back", "Back", id="back"),
        Binding("question_mark", "app.help", "Help", id="help"),
    ]

    def __init__(self, host: str = "") -> None:
        super().__init__()
        self._initial_host = host
        self._request: Any | None = None
        #: The last ``TraceResult`` drawn, None before the first trace.
        self.result: Any | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Trace a request", style="bold"), id="trace-title")
        with Grid(id="trace-form"):
            for field_id, label, placeholder in FIELDS:
                yield Static(label, classes="trace-label")
                yield KeyOrderedInput(placeholder=placeholder, id=f"trace-{field_id}", classes="trace-input")
            yield Static("", classes="trace-label")
            yield Static(Text("enter or ctrl+r: trace · esc: back", style="dim"), classes="trace-hint")
            yield Static("headers", classes="trace-label")
            yield TextArea("", id="trace-headers", show_line_numbers=False)
        yield Static("", id="trace-error")
        yield TraceTree(id="trace-tree")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        """Pre-fill the host; with one given, trace at once."""
        self.query_one("#trace-error", Static).display = False
        self.query_one("#trace-headers", TextArea).tooltip = "one 'name: value' per line, or comma-separated"
        tree = self.query_one(TraceTree)
        if self._initial_host:
            self.query_one("#trace-host", Input).value = self._initial_host
            self.action_run()
            self.query_one("#trace-path", Input).focus()
        else:
            tree.show_message("Fill in the request and press enter.")
            self.query_one("#trace-host", Input).focus()

    # -- the form -------------------------------------------------------------------------------

    def _value(self, field_id: str) -> str:
        return self.query_one(f"#trace-{field_id}", Input).value.strip()

    def build_request(self) -> Any:
        """The ``TraceRequest`` the form describes; ``RequestError`` for bad input."""
        from meshtui.routing.request import TraceRequest, parse_labels

        return TraceRequest.build(
            host=self._value("host"),
            path=self._value("path") or "/",
            method=self._value("method") or "GET",
            headers=parse_headers(self.query_one("#trace-headers", TextArea).text),
            source_labels=parse_labels(self._value("source-labels")),
            source_namespace=self._value("source-namespace") or None,
            gateway=self._value("gateway") or None,
            port=parse_port(self._value("port")),
        )

    def _error(self, message: str | None) -> None:
        box = self.query_one("#trace-error", Static)
        box.display = message is not None
        box.update(Text(f"✘ {message}", style="bold red") if message else "")

    def action_run(self) -> None:
        """Trace the request in the form and draw the result."""
        from meshtui.routing.request import RequestError

        try:
            request = self.build_request()
        except RequestError as exc:
            self._error(str(exc))
            return
        self._request = request
        self._trace()

    def _trace(self) -> None:
        from meshtui.routing.request import RequestError
        from meshtui.routing.trace import trace

        session = session_of(self)
        index = session.index if session is not None else None
        tree = self.query_one(TraceTree)
        request = self._request
        if index is None:
            self._error("the mesh is still loading")
            return
        if request is None:
            return
        try:
            result = trace(index, request)
        except (RequestError, ValueError) as exc:
            self._error(str(exc))
            return
        self._error(None)
        tree.show_result(result, index)
        self.result = result

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in any field runs the trace."""
        event.stop()
        self.action_run()

    def on_mesh_updated(self, message: MeshUpdated) -> None:
        """Re-trace the last request over the changed mesh."""
        if self._request is not None:
            self._trace()

    def action_back(self) -> None:
        """Leave the Trace screen."""
        self.app.pop_screen()
