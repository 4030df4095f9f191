"""The POLICY table of ``istioctl ztunnel-config policy``, rendered from a ztunnel config dump."""

from __future__ import annotations

from typing import Any

from meshtui.envoy.tabwriter import tabulate_text

_HEADER = ("NAMESPACE", "POLICY NAME", "ACTION", "SCOPE")


def policy_table(dump: dict[str, Any], *, namespace: str | None = None) -> str:
    """Render the authorization policies of ``dump`` as istioctl's table, optionally for one namespace."""
    rows = [p for p in dump.get("policies") or [] if namespace is None or p.get("namespace") == namespace]
    # istioctl sorts policies by namespace, then name.
    rows.sort(key=lambda p: (str(p.get("namespace", "")), str(p.get("name", ""))))
    lines = ["\t".join(_HEADER)]
    for p in rows:
        lines.append("\t".join(str(p.get(k, "")) for k in ("namespace", "name", "action", "scope")))
    return tabulate_text("\n".join(lines) + "\n")
