"""A virtualised, coloured view of followed access-log lines (Textual line API).

The lines live in a ``TailBuffer`` (the ring); this widget renders only the rows on screen, so
100,000 kept lines cost nothing to paint and a batch of new lines costs one ``refresh``. It
follows the newest line (autoscroll) until the user scrolls up, and resumes following when the
user scrolls back to the bottom (or presses ``G``/``end``). While scrolled up, lines that fall
out of the ring shift the scroll position so the same lines stay in sight.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from meshtui.accesslog.cluster import parse_cluster
from meshtui.accesslog.flags import lookup, split_flags
from meshtui.accesslog.tail import TailBuffer, TailEntry

_MIRROR = Style(color="magenta", bold=True)
_DIM = Style(dim=True)
_PLAIN = Style()
_BOLD = Style(bold=True)
_CODE_STYLES = {
    0: Style(color="magenta", bold=True),
    1: Style(color="blue"),
    2: Style(color="green"),
    3: Style(color="cyan"),
    4: Style(color="yellow", bold=True),
    5: Style(color="red", bold=True),
}
_FLAG_FAIL = Style(color="white", bgcolor="red", bold=True)
_FLAG_INFO = Style(color="black", bgcolor="yellow")
_SLOW = Style(color="red")
_MEDIUM = Style(color="yellow")
_POD_STYLES = tuple(Style(color=c) for c in ("cyan", "magenta", "blue", "green", "yellow", "bright_cyan",
                                             "bright_magenta", "bright_blue"))
_SUBSET_STYLE = Style(color="bright_white", bold=True)
# Rendered strips kept: a screenful or two. Each Strip carries several small caches that the
# garbage collector must walk, so a large cache would lengthen every full collection.
_CACHE_LIMIT = 256


def code_style(code: int | None) -> Style:
    """The colour of a status code by class (no code: magenta, 5xx: red...)."""
    return _CODE_STYLES.get(0 if code is None else code // 100, _PLAIN)


def flag_style(flag: str) -> Style:
    """Failure flags on red; informational ones (``DI``, ``RFCF``) on yellow."""
    info = lookup(flag)
    return _FLAG_INFO if info is not None and not info.failure else _FLAG_FAIL


def short_time(line: str) -> str:
    """``HH:MM:SS.mmm`` of a default-format line (``[2025-01-01T12:00:00.123Z] ...``), else ``""``."""
    if len(line) > 24 and line[0] == "[" and line[11] == "T":
        return line[12:24]
    return ""


def upstream_label(cluster: str) -> tuple[str, str]:
    """(service short name with port, subset) of an upstream cluster, for the compact line."""
    info = parse_cluster(cluster or None)
    if info.direction in ("outbound", "inbound"):
        name = info.host.split(".")[0] if info.host else info.direction
        port = f":{info.port}" if info.port else ""
        return f"{'←' if info.direction == 'inbound' else '→'} {name}{port}", info.subset
    return (f"→ {cluster}" if cluster else ""), ""


class LogView(ScrollView, can_focus=True):
    """The lines of a ``TailBuffer``, newest at the bottom, one row each.

    ``raw`` shows the original lines instead of the compact coloured form; ``limit_seq`` (set
    while paused) hides lines from that sequence number on.
    """

    BINDINGS = [
        Binding("end,G", "follow", "Newest", id="logs-newest", tooltip="Jump to the newest line and follow"),
        Binding("home,g", "top", "Oldest", show=False, id="logs-oldest"),
    ]

    DEFAULT_CSS = """
    LogView { height: 1fr; }
    """

    following: reactive[bool] = reactive(True)

    def __init__(self, buffer: TailBuffer, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.buffer = buffer
        self.raw = False
        self.limit_seq: int | None = None
        self._pod_styles: dict[str, Style] = {}
        self._pod_width = 8
        self._cache: dict[int, Strip] = {}
        self._dropped_seen = 0
        self._max_width = 0

    # -- data -----------------------------------------------------------------------------

    def take_appended(self) -> None:
        """Take in what was appended to the buffer (call after each batch)."""
        buffer = self.buffer
        count = buffer.visible_count(self.limit_seq)
        shift = buffer.dropped_visible - self._dropped_seen
        self._dropped_seen = buffer.dropped_visible
        width = max(self._max_width, self.size.width)
        self._set_virtual_size(Size(width, count))
        if self.following:
            self.scroll_to(y=max(0, count - self.scrollable_content_region.height), animate=False)
        elif shift > 0:
            self.scroll_to(y=max(0, self.scroll_y - shift), animate=False)
        self.refresh()

    def _set_virtual_size(self, size: Size) -> None:
        """Grow the scrollable area without a relayout of the whole screen.

        Assigning ``virtual_size`` lays the screen out again (it is a ``layout`` reactive), and
        a relayout repaints every widget: at 10,000 lines/s that was ~10 ms of the loop per
        flush plus the garbage of every widget's strips. Only the scrollbars depend on the
        size, so they are updated here; a relayout happens only when a scrollbar appears or
        goes away (the content region changes then).
        """
        if size == self.virtual_size:
            return
        shown = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        self.set_reactive(LogView.virtual_size, size)
        self._scroll_update(size)
        if (self.show_vertical_scrollbar, self.show_horizontal_scrollbar) != shown:
            self.refresh(layout=True)

    def reset(self) -> None:
        """Re-read everything (after a filter change or a raw/compact switch)."""
        self._cache.clear()
        self._dropped_seen = self.buffer.dropped_visible
        self.take_appended()

    def set_raw(self, raw: bool) -> None:
        """Show raw lines (True) or the compact coloured form."""
        self.raw = raw
        self._max_width = 0
        self.reset()

    # -- rendering ------------------------------------------------------------------------

    def _pod_style(self, pod: str) -> Style:
        style = self._pod_styles.get(pod)
        if style is None:
            style = self._pod_styles[pod] = _POD_STYLES[len(self._pod_styles) % len(_POD_STYLES)]
            if len(pod) > self._pod_width:
                self._pod_width = min(len(pod), 40)
                self._cache.clear()
        return style

    def segments(self, e: TailEntry) -> list[Segment]:
        """The coloured segments of one line."""
        pod = Segment(e.pod.ljust(self._pod_width)[: self._pod_width] + " ", self._pod_style(e.pod))
        if self.raw or not e.parsed:
            return [pod, Segment(e.line, _PLAIN if e.parsed else _DIM)]
        out = [Segment(short_time(e.line) + " ", _DIM), pod, Segment(f"{e.method or '-':<6} ", _BOLD),
               Segment(f"{e.path or '-'} ", _PLAIN),
               Segment("-" if e.code is None else str(e.code), code_style(e.code))]
        for flag in split_flags(e.flags):
            out.append(Segment(" ", _PLAIN))
            out.append(Segment(flag, flag_style(flag)))
        if e.duration is not None:
            d = e.duration
            out.append(Segment(f" {d}ms", _SLOW if d >= 1000 else _MEDIUM if d >= 250 else _DIM))
        where, subset = upstream_label(e.upstream)
        if where:
            out.append(Segment(f"  {where}", _PLAIN))
        if subset:
            out.append(Segment(f" {subset}", _SUBSET_STYLE))
        if e.host:
            out.append(Segment(f" {e.host}", _DIM))
        if e.mirrored:
            out.append(Segment("  ⧉ mirror", _MIRROR))
        return out

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the viewport."""
        width = self.size.width
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        if index >= self.buffer.visible_count(self.limit_seq):
            return Strip.blank(width)
        seq = self.buffer.visible_seq(index)
        strip = self._cache.get(seq)
        if strip is None:
            if len(self._cache) > _CACHE_LIMIT:
                self._cache.clear()
            strip = self._cache[seq] = Strip(self.segments(self.buffer.entry(seq)))
            if strip.cell_length > self._max_width:
                self._max_width = strip.cell_length
        return strip.crop_extend(scroll_x, scroll_x + width, None)

    # -- scrolling ------------------------------------------------------------------------

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        """Scrolling up stops following; reaching the bottom follows again."""
        super().watch_scroll_y(old_value, new_value)
        if new_value >= self.max_scroll_y:
            self.following = True
        elif new_value < old_value:
            self.following = False

    def action_follow(self) -> None:
        """Jump to the newest line and follow from there."""
        self.following = True
        self.take_appended()

    def action_top(self) -> None:
        """Jump to the oldest line kept (stops following)."""
        self.following = False
        self.scroll_to(y=0, animate=False)
