"""Turn a trace into one concrete request outcome, for the sandbox's traffic simulator.

``choose_destination(result, rng)`` draws, with the caller's ``random.Random``, what Envoy would
do with one request described by ``result`` (a ``TraceResult``):

1. a rule that answers itself (redirect, direct response) or no route at all gives a local
   status (404 ``NR`` for no route / no virtual host, 502 for ``REGISTRY_ONLY``);
2. fault injection: the delay fires with its percentage (flag ``DI``), then the abort with its
   percentage (flag ``FI``, the abort status, no upstream);
3. a destination is drawn by weight; a destination without defined subset or Service gives
   503 ``NC``, one without ready pods 503 ``UH``; otherwise one ready pod is drawn uniformly;
4. every mirror fires independently with its percentage (its response is ignored).

The simulator then decides the upstream status (per-subset error rates, retries) itself. The
function is deterministic for a seeded ``rng`` and does no I/O.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from meshtui.model.base import as_float
from meshtui.routing.result import DestinationTrace, MirrorTrace, TraceResult


@dataclass(frozen=True, slots=True)
class Choice:
    """What happened to one request."""

    destination: DestinationTrace | None  # None when the proxy answered itself
    pod: str | None  # "ns/name" of the pod chosen, None when none could be
    status: int | None  # a status the proxy produced itself; None: the upstream answers
    response_flags: str  # Envoy response flags ("-" when none), e.g. "NR", "FI", "DI", "NC", "UH"
    delay_ms: float = 0.0  # injected delay
    path: str = "/"  # the path as the upstream sees it (after rewrite)
    authority: str = ""  # the Host the upstream sees
    mirrors: tuple[tuple[MirrorTrace, str | None], ...] = field(default_factory=tuple)  # (mirror, pod)


def parse_duration_ms(text: str | None) -> float:
    """``'5s'``, ``'100ms'``, ``'1.5s'``, ``'2m'``, ``'1h'`` -> milliseconds (bad text: 0)."""
    if not text:
        return 0.0
    units = (("ms", 1.0), ("us", 0.001), ("s", 1000.0), ("m", 60000.0), ("h", 3600000.0))
    for unit, factor in units:
        if text.endswith(unit):
            value = as_float(_number(text[: -len(unit)]))
            return (value or 0.0) * factor
    return 0.0


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _hit(rng: random.Random, percentage: float) -> bool:
    return percentage >= 100 or rng.random() * 100 < percentage


def choose_destination(result: TraceResult, rng: random.Random) -> Choice:
    """Draw one request's outcome from ``result``; see the module docstring for the rules."""
    path = result.rewrite["uri"] if result.rewrite and result.rewrite.get("uri") else result.request.path
    authority = (result.rewrite or {}).get("authority") or result.request.authority
    base: dict[str, Any] = {"path": path, "authority": authority}
    if result.outcome in ("no_route", "no_vhost"):
        return Choice(None, None, 404, "NR", **base)
    if result.outcome == "blackhole":
        return Choice(None, None, 502, "-", **base)
    if result.outcome == "redirect":
        return Choice(None, None, int((result.redirect or {}).get("status") or 301), "-", **base)
    if result.outcome == "direct":
        return Choice(None, None, int((result.direct_response or {}).get("status") or 200), "-", **base)
    flags: list[str] = []
    delay = 0.0
    fault = result.fault or {}
    if "delay" in fault and _hit(rng, float(fault["delay"]["percentage"])):
        delay = parse_duration_ms(fault["delay"]["fixed_delay"])
        flags.append("DI")
    if "abort" in fault and _hit(rng, float(fault["abort"]["percentage"])):
        flags.append("FI")
        status = fault["abort"].get("http_status") or 503
        return Choice(None, None, int(status), ",".join(flags), delay, **base)
    mirrors = tuple(
        (m, rng.choice(m.pods) if m.pods else None) for m in result.mirrors if _hit(rng, m.percentage)
    )
    live = [d for d in result.destinations if d.probability > 0]
    if not live:
        return Choice(None, None, 503, ",".join(flags + ["NC"]), delay, mirrors=mirrors, **base)
    dest = rng.choices(live, weights=[d.probability for d in live])[0]
    if dest.service is None or (dest.subset and dest.subset_labels is None):
        return Choice(dest, None, 503, ",".join(flags + ["NC"]), delay, mirrors=mirrors, **base)
    if not dest.ready:
        return Choice(dest, None, 503, ",".join(flags + ["UH"]), delay, mirrors=mirrors, **base)
    pod = rng.choice(dest.ready)
    return Choice(dest, pod, None, ",".join(flags) or "-", delay, mirrors=mirrors, **base)
