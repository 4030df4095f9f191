"""The POLICY table of ``istioctl ztunnel-config policy``, rendered from a ztunnel config dump."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.tabwriter import tabulate_text
from meshtui.envoy.ztunnel_dump import ZtunnelDump, load

_HEADER = ("NAMESPACE", "POLICY NAME", "ACTION", "SCOPE")


def policy_table(dump: dict[str, Any] | ZtunnelDump, *, namespace: str | None = None) -> str:
    """Render the authorization policies of ``dump`` as istioctl's table, optionally for one namespace."""
    view = dump if isinstance(dump, ZtunnelDump) else load(dump)
    rows = [p for p in view.policies if namespace is None or p["namespace"].casefold() == namespace.casefold()]
    # istioctl sorts policies by namespace, then name.
    rows.sort(key=lambda p: (p["namespace"], p["name"]))
    lines = ["\t".join(_HEADER)]
    for p in rows:
        lines.append("\t".join(p[k] for k in ("namespace", "name", "action", "scope")))
    return tabulate_text("\n".join(lines) + "\n")
