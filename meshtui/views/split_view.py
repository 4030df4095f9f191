"""The observed split panel as a view-model: per subset (and upstream host) over a sliding
window, next to the configured weights, with error rate and latency, then the error rollups.

Drawn from plain data (``SplitRow`` and ``ErrorRollups`` from ``meshtui.accesslog.stats``);
``render_split`` is the whole drawing (a rich renderable), shown by
``meshtui.widgets.split_panel.SplitPanel``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from meshtui.accesslog.cluster import parse_cluster
from meshtui.accesslog.flags import describe
from meshtui.accesslog.stats import ErrorRollups, SplitRow

BAR_WIDTH = 16
MAX_ENDPOINTS = 4
_BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of ``width`` cells for a 0-1 fraction (eighth-cell resolution)."""
    if fraction is None:
        return " " * width
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_BLOCKS[part] if part else "")
    return text.ljust(width)


def pct(value: float | None) -> str:
    """``10.2%`` or ``-``."""
    return "-" if value is None else f"{value * 100:.1f}%"


def ms(value: int | None) -> str:
    """``812ms`` or ``-``."""
    return "-" if value is None else f"{value}ms"


def cluster_label(cluster: str) -> str:
    """``reviews v3 :9080`` for an upstream cluster name."""
    info = parse_cluster(cluster or None)
    if not info.is_service:
        return cluster or "-"
    name = info.host.split(".")[0] if info.host else info.direction
    parts = [name]
    if info.subset:
        parts.append(info.subset)
    if info.port:
        parts.append(f":{info.port}")
    return " ".join(parts)


def canary_sentence(rows: Sequence[SplitRow]) -> str:
    """"v2: 10.2% of traffic (configured 10%), 4.8% errors, p99 812ms vs v1 p99 95ms" for every
    subset but the biggest one, which is the baseline it is compared with."""
    live = [r for r in rows if not r.mirrored and r.requests]
    if len(live) < 2:
        return ""
    base = max(live, key=lambda r: (r.weight or 0.0, r.requests))
    out = []
    for r in live:
        if r is base:
            continue
        text = f"{r.subset or cluster_label(r.cluster)}: {pct(r.host_share)} of traffic"
        if r.weight is not None:
            text += f" (configured {r.weight * 100:g}%)"
        text += f", {pct(r.error_rate)} errors, p99 {ms(r.p99_ms)} vs {base.subset or '-'} p99 {ms(base.p99_ms)}"
        out.append(text)
    return "; ".join(out)


def render_split(
    rows: Sequence[SplitRow],
    rollups: ErrorRollups,
    *,
    title: str,
    basis: str,
    window: float | None,
    configured: Mapping[str, float] | None = None,
    lines: int = 0,
    unparsed: int = 0,
    bypass: str = "",
) -> RenderableType:
    """The whole panel as one Rich renderable; ``bypass`` is the warning about requests whose
    Host no VirtualService lists (``meshtui.accesslog.bypass.describe_bypass``), shown right
    under the table because it says the shares above leave those requests out."""
    configured = configured or {}
    head = Text.assemble((title, "bold"), (f"   window {window:g}s" if window else "   whole log", "dim"))
    parts: list[RenderableType] = [head, Text(f"observed {basis}", style="dim italic")]
    normal = [r for r in rows if not r.mirrored]
    mirrored = [r for r in rows if r.mirrored]
    if normal or mirrored or configured:
        parts.append(_FittedTable(lambda bars: _split_table(normal, mirrored, configured, bars)))
    else:
        parts.append(Text("no requests in the window yet", style="dim"))
    if bypass:
        parts.append(Text("⚠ bypassed: " + bypass, style="bold red"))
    sentence = canary_sentence(normal)
    if sentence:
        parts.append(Text(sentence, style="bold yellow"))
    if mirrored:
        parts.append(Text("⧉ mirrored (shadow) requests: rows of their own, not in the shares", style="magenta"))
    # "no errors" over zero requests would claim health nobody observed.
    if normal or mirrored:
        parts.extend(render_rollups(rollups))
    counts = f"{lines} lines counted"
    if unparsed:
        counts += f", {unparsed} did not parse"
    parts.append(Text(counts, style="dim"))
    return Group(*parts)


def render_rollups(rollups: ErrorRollups) -> list[RenderableType]:
    """Errors by (code, flag, cluster, route), then by flag with its meaning, cluster and route."""
    if not rollups.groups:
        return [Text("no errors in the window", style="green")]
    out: list[RenderableType] = [Text("errors", style="bold red")]
    for g in rollups.groups[:5]:
        code = "-" if g.response_code is None else str(g.response_code)
        out.append(Text.assemble(
            (f"  {g.count:>5}  ", "bold"), (f"{code} ", "red"), (f"{g.response_flags or '-'} ", "bold red"),
            f"on {cluster_label(g.cluster)}", (f"  route={g.route_name or '-'}", "dim"),
        ))
    flags = [f"{describe(f)} ×{n}" for f, n in rollups.by_flag[:4] if f != "-"]
    if flags:
        out.append(Text("  by flag: " + "; ".join(flags), style="dim"))
    clusters = [f"{cluster_label(c)} ×{n}" for c, n in rollups.by_cluster[:4]]
    routes = [f"{r} ×{n}" for r, n in rollups.by_route[:4]]
    out.append(Text(f"  by cluster: {', '.join(clusters)}   by route: {', '.join(routes)}", style="dim"))
    return out


def _split_table(normal: Sequence[SplitRow], mirrored: Sequence[SplitRow], configured: Mapping[str, float],
                 bars: int) -> Table:
    """The per-subset table with bars ``bars`` cells wide (0: percentages only, one space
    between columns: the narrowest form); mirrored rows last, never in the shares."""
    table = Table(box=None, pad_edge=False, expand=False, show_edge=False, padding=(0, 1),
                  collapse_padding=not bars)
    for name, justify in (("SUBSET", "left"), ("REQS", "right"), ("RATE/s", "right"),
                          ("OBSERVED", "left"), ("CONFIGURED", "left"), ("ERR%", "right"),
                          ("P50", "right"), ("P95", "right"), ("P99", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    shown_subsets = set()
    for r in normal:
        shown_subsets.add(r.subset)
        err_style = "red bold" if r.error_rate >= 0.05 else "yellow" if r.error_rate > 0 else "green"
        table.add_row(
            Text(r.subset or cluster_label(r.cluster), style="bold"),
            str(r.requests),
            "-" if r.rate is None else f"{r.rate:.1f}",
            _share(r.host_share, "cyan", bars),
            _share(r.weight, "blue", bars) if r.weight is not None else Text("-", style="dim"),
            Text(pct(r.error_rate), style=err_style),
            ms(r.p50_ms), ms(r.p95_ms), ms(r.p99_ms),
        )
        for ep in r.endpoints[:MAX_ENDPOINTS]:
            share = ep.requests / r.requests if r.requests else 0.0
            table.add_row(
                Text(f"  {ep.upstream_host}", style="dim"), Text(str(ep.requests), style="dim"), "",
                Text.assemble((bar(share, bars // 2) + " " if bars else "", "dim cyan"),
                              (f"{pct(share)} of {r.subset or 'row'}", "dim")),
                "", Text(pct(ep.errors / ep.requests if ep.requests else 0.0), style="dim"), "", "", "",
            )
        if len(r.endpoints) > MAX_ENDPOINTS:
            table.add_row(Text(f"  … {len(r.endpoints) - MAX_ENDPOINTS} more hosts", style="dim"),
                          "", "", "", "", "", "", "", "")
    for r in mirrored:  # shadow traffic: its own rows, never in the shares
        err_style = "red bold" if r.error_rate >= 0.05 else "yellow" if r.error_rate > 0 else "green"
        table.add_row(
            Text(f"⧉ {r.subset or cluster_label(r.cluster)} mirror", style="bold magenta"),
            str(r.requests),
            "-" if r.rate is None else f"{r.rate:.1f}",
            Text("shadow, not in shares", style="magenta"), Text("-", style="dim"),
            Text(pct(r.error_rate), style=err_style),
            ms(r.p50_ms), ms(r.p95_ms), ms(r.p99_ms),
        )
    for subset, weight in sorted(configured.items()):
        if subset and subset not in shown_subsets:
            table.add_row(Text(subset, style="bold"), "0", "0.0", _share(0.0, "cyan", bars),
                          _share(weight / 100, "blue", bars),
                          "-", "-", "-", "-")
    return table


def _share(fraction: float | None, style: str, bars: int) -> Text:
    """A share cell: a bar ``bars`` cells wide and the percentage (the percentage alone at 0)."""
    if not bars:
        return Text(f"{pct(fraction):>6}")
    return Text.assemble((bar(fraction, bars), style), f" {pct(fraction):>6}")


class _FittedTable:
    """The split table at the widest bars that fit the width it is drawn at: on a narrow
    terminal the bars shrink, then go, before any number is cut."""

    def __init__(self, make: Callable[[int], Table]) -> None:
        self._make = make

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self._make(0)
        unbounded = options.update_width(10_000)  # a measurement is capped at the width it is given
        for bars in (BAR_WIDTH, BAR_WIDTH // 2, BAR_WIDTH // 4):
            wide = self._make(bars)
            if Measurement.get(console, unbounded, wide).maximum <= options.max_width:
                table = wide
                break
        yield table
