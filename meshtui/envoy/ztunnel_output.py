"""``istioctl ztunnel-config`` output beyond the single tables: ``-o json|yaml`` of each kind, and ``all``.

The JSON forms are the Go-shaped entries of :mod:`meshtui.envoy.ztunnel_dump`, filtered and
ordered as istioctl's ``Print*Dump`` functions do, indented by four spaces. The YAML forms are
that JSON through ``sigs.k8s.io/yaml.JSONToYAML``, whose go-yaml v2 encoder sorts mapping keys
in its "natural" order (digit runs compare as numbers: ``9080`` before ``15008``). ``all`` prints
the five tables, or the dump itself for ``-o json|yaml``.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from meshtui.envoy import protojson
from meshtui.envoy.ztunnel_certificates import certificate_table
from meshtui.envoy.ztunnel_connections import connection_table
from meshtui.envoy.ztunnel_dump import ZtunnelDump
from meshtui.envoy.ztunnel_policies import policy_table
from meshtui.envoy.ztunnel_services import service_table, sorted_services
from meshtui.envoy.ztunnel_workloads import filtered_workloads, workload_table


def _go_yaml_key_less(a: str, b: str) -> bool:
    """go-yaml v2's ordering of two string mapping keys (``keyList.Less`` in its sorter.go)."""
    for i in range(min(len(a), len(b))):
        if a[i] == b[i]:
            continue
        a_letter, b_letter = a[i].isalpha(), b[i].isalpha()
        if a_letter and b_letter:
            return a[i] < b[i]
        if a_letter or b_letter:
            return b_letter
        an = bn = 0
        if a[i] == "0" or b[i] == "0":
            # Inside a number with a non-zero digit before, leading zeros do not shorten it.
            for j in range(i - 1, -1, -1):
                if not a[j].isdigit():
                    break
                if a[j] != "0":
                    an = bn = 1
                    break
        ai = i
        while ai < len(a) and a[ai].isdigit():
            an = an * 10 + int(a[ai])
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdigit():
            bn = bn * 10 + int(b[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return a[i] < b[i]
    return len(a) < len(b)


def _cmp(a: str, b: str) -> int:
    return -1 if _go_yaml_key_less(a, b) else 1 if _go_yaml_key_less(b, a) else 0


def go_yaml_ordered(value: Any) -> Any:
    """A copy of ``value`` whose mappings have go-yaml v2's key order."""
    if isinstance(value, list):
        return [go_yaml_ordered(v) for v in value]
    if isinstance(value, dict):
        keys = sorted(value, key=functools.cmp_to_key(_cmp))
        return {k: go_yaml_ordered(value[k]) for k in keys}
    return value


def render(value: Any, output: str) -> str:
    """``value`` as istioctl prints a dump for ``-o json`` or ``-o yaml`` (``fmt.Fprintln`` of the text)."""
    if output == "yaml":
        return protojson.dumps_yaml(go_yaml_ordered(value), sort_keys=False) + "\n"
    return protojson.dumps_json(value) + "\n"


def workloads_dump(view: ZtunnelDump, *, namespace: str | None = None, name: str | None = None,
                   node: str | None = None) -> list[dict[str, Any]]:
    """``workload -o json``: the filtered workloads (istioctl does not sort them; dump order here)."""
    return filtered_workloads(view, namespace=namespace, name=name, node=node)


def services_dump(view: ZtunnelDump, *, namespace: str | None = None) -> list[dict[str, Any]]:
    """``service -o json``: the filtered services sorted by namespace, name, hostname."""
    return sorted_services(view, namespace)


def policies_dump(view: ZtunnelDump, *, namespace: str | None = None) -> list[dict[str, Any]]:
    """``policy -o json``: the filtered policies sorted by namespace, then name."""
    rows = [p for p in view.policies if namespace is None or p["namespace"].casefold() == namespace.casefold()]
    return sorted(rows, key=lambda p: (p["namespace"], p["name"]))


def connections_dump(view: ZtunnelDump, *, namespace: str | None = None,
                     workload: str | None = None) -> list[dict[str, Any]]:
    """``connections -o json``: the workload states sorted by namespace, name; ``name.namespace`` accepted."""
    if workload and not namespace and "." in workload:
        workload, namespace = workload.split(".", 1)
    states = sorted(view.workload_states, key=lambda s: (s["info"]["namespace"], s["info"]["name"]))
    return [s for s in states
            if (not namespace or s["info"]["namespace"] == namespace)
            and (not workload or s["info"]["name"].casefold() == workload.casefold())]


def full_dump(data: bytes, output: str) -> str:
    """``all -o json|yaml``: the config dump as read (json), or converted to YAML."""
    if output == "yaml":
        return render(json.loads(data), "yaml")
    return data.decode("utf-8", errors="replace") + "\n"


def full_summary(view: ZtunnelDump, raw: dict[str, Any], now: datetime, *, with_headers: bool = False) -> str:
    """``all``: the WORKLOAD, SERVICE, POLICY, SECRET and CONNECTIONS tables, each after a blank line."""
    sections = (
        ("WORKLOAD INFO", workload_table(view)),
        ("SERVICE INFO", service_table(view)),
        ("POLICY INFO", policy_table(raw)),
        ("SECRET INFO", certificate_table(view, now)),
        ("CONNECTIONS INFO", connection_table(raw)),
    )
    out = []
    for title, table in sections:
        out.append("\n")
        if with_headers:
            out.append(f"------ {title} ------\n\n")
        out.append(table)
    return "".join(out)
