"""A trace as a plain-text tree, stable for scripts and diffs (``meshtui trace``'s default output)."""

from __future__ import annotations

from meshtui.routing.result import TraceResult


def _dest_lines(result: TraceResult) -> list[str]:
    lines: list[str] = []
    for n, d in enumerate(result.destinations):
        last = n == len(result.destinations) - 1 and not result.mirrors
        branch, cont = ("└─ ", "   ") if last else ("├─ ", "│  ")
        head = d.host + (f" subset {d.subset}" if d.subset else "") + (f" port {d.port}" if d.port else "")
        lines.append(f"{branch}{head}  weight {d.weight} ({d.probability * 100:g}%)")
        if d.destination_rule:
            extra = f", subset labels {_labels(d.subset_labels)}" if d.subset_labels else ""
            lines.append(f"{cont}DestinationRule {d.destination_rule}{extra}")
        if d.traffic_policy:
            lines.append(f"{cont}policy {', '.join(sorted(d.traffic_policy))}")
        if d.pods or d.service:
            shown = ", ".join(d.pods[:6]) + (f", … ({len(d.pods)} in all)" if len(d.pods) > 6 else "")
            lines.append(f"{cont}pods ({len(d.ready)}/{len(d.pods)} ready): {shown or 'none'}")
        for note in d.notes:
            lines.append(f"{cont}! {note}")
    for n, m in enumerate(result.mirrors):
        branch = "└─ " if n == len(result.mirrors) - 1 else "├─ "
        lines.append(f"{branch}mirror {m.host}" + (f" subset {m.subset}" if m.subset else "") + f" {m.percentage:g}%")
    return lines


def _labels(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (labels or {}).items())


def render_text(result: TraceResult) -> str:
    """The trace as a readable tree: request, VirtualService selection, rules, outcome."""
    req = result.request
    lines = [f"{req.method} {req.scheme}://{req.authority}{req.path}  via {result.gateway}"
             + (f" from {req.source_namespace}" if req.source_namespace else "")]
    for key, value in sorted(req.headers.items()):
        lines.append(f"  {key}: {value}")
    if req.host_header is not None:
        # The two addresses part: the Host header picks the VirtualService, the dialled
        # address (the Service) and its port pick the listener.
        lines.append(f"Host header {req.host_header}; dialled "
                     + (f"Service {result.service}" if result.service else (req.service or "?"))
                     + (f" port {result.port}" if result.port else ""))
    else:
        lines.append(f"host {result.host}" + (f" port {result.port}" if result.port else "")
                     + (f" (Service {result.service})" if result.service else ""))
    for note in result.notes:
        lines.append(f"· {note}")
    if result.route_kind is not None:
        lines.append(f"{result.route_kind}: {result.route_name}")
    else:
        lines.append(f"VirtualService: {result.virtual_service or '(none)'}")
    for rule in result.rules:
        mark = "✔" if rule.matched else "✘"
        lines.append(f"  {mark} {rule.line()}")
        if rule.delegate:
            lines.append(f"      delegates to {rule.delegate}")
    if result.rule_index is not None:
        where = (f"rules[{result.rule_index}]" + (f" matches[{result.match_index}]" if result.match_index is not None
                                                   else "")) if result.route_kind else f"http[{result.rule_index}]"
        lines.append(f"rule taken: {where}" + (f" {result.rule_name!r}" if result.rule_name else ""))
    if result.rewrite:
        lines.append(f"rewrite: path {result.rewrite['uri']}"
                     + (f", authority {result.rewrite['authority']}" if result.rewrite.get("authority") else ""))
    if result.fault:
        parts = []
        if "delay" in result.fault:
            parts.append(f"delay {result.fault['delay']['fixed_delay']} for {result.fault['delay']['percentage']:g}%")
        if "abort" in result.fault:
            parts.append(f"abort {result.fault['abort']['http_status']} for {result.fault['abort']['percentage']:g}%")
        lines.append("fault: " + ", ".join(parts))
    if result.timeout:
        lines.append(f"timeout: {result.timeout}")
    if result.request_headers:
        ops = result.request_headers
        parts = [f"set {k}: {v}" for k, v in ops["set"].items()] + [f"add {k}: {v}" for k, v in ops["add"].items()]
        parts += [f"remove {k}" for k in ops["remove"]]
        lines.append("request headers: " + ", ".join(parts))
    lines.append(result.verdict())
    lines.extend(_dest_lines(result))
    return "\n".join(lines)
