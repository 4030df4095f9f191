"""Istio's ServiceEntry analyzers (``pkg/config/analysis/analyzers/serviceentry``).

- ``serviceentry.Analyzer``: a ServiceEntry without ``addresses`` that has a TCP (or
  protocol-less) port needs addresses (IST0134), unless the mesh config turns on DNS capture
  with auto-allocation (``defaultConfig.proxyMetadata`` ``ISTIO_META_DNS_CAPTURE`` and
  ``ISTIO_META_DNS_AUTO_ALLOCATE`` both ``"true"``).
- ``serviceentry.ConflictingServiceEntryProtocolAnalyzer``: ServiceEntries visible in one scope
  that give the same host and port different protocols (IST0177).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from meshtui.analysis.context import ISTIO_GROUP, Context, full_name, is_export_to_all
from meshtui.model.base import as_dict


def mesh_config_document(ctx: Context) -> dict[str, Any]:
    """The raw MeshConfig mapping of the ``istio`` ConfigMap in ``istio-system`` ({} if none)."""
    cm = ctx.find("ConfigMap", "istio-system", "istio")
    text = ((cm.raw.get("data") or {}) if cm is not None else {}).get("mesh")
    if not isinstance(text, str):
        return {}
    import yaml  # parsing text already in memory, not I/O

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    return doc if isinstance(doc, dict) else {}


def dns_auto_allocate(ctx: Context) -> bool:
    """Whether sidecars capture DNS and allocate addresses to ServiceEntries themselves."""
    meta = ((mesh_config_document(ctx).get("defaultConfig") or {}).get("proxyMetadata") or {})
    return meta.get("ISTIO_META_DNS_CAPTURE") == "true" and meta.get("ISTIO_META_DNS_AUTO_ALLOCATE") == "true"


def protocol_addresses_analyzer(ctx: Context) -> None:
    """``serviceentry.Analyzer`` (Istio's ``ProtocolAddressesAnalyzer``)."""
    if dns_auto_allocate(ctx):
        return
    for se in ctx.objects("ServiceEntry", ISTIO_GROUP):
        if se.spec.get("addresses"):
            continue
        status = as_dict(se.raw.get("status"))
        if status.get("addresses"):
            continue  # addresses allocated by the control plane
        for i, port in enumerate(se.spec.get("ports") or []):
            protocol = port.get("protocol") if isinstance(port, dict) else None
            if not protocol or str(protocol).upper() == "TCP":
                ctx.report("ServiceEntryAddressesRequired", se, path=f"spec.ports[{i}]")


def _scopes(export_to: list[str], namespace: str) -> set[str]:
    if is_export_to_all(export_to):
        return {"*"}
    return {namespace if e == "." else e for e in export_to}


def conflicting_protocol_analyzer(ctx: Context) -> None:
    """``serviceentry.ConflictingServiceEntryProtocolAnalyzer``."""
    index: dict[tuple[str, str, int], list[tuple[str, Any]]] = defaultdict(list)
    for se in ctx.objects("ServiceEntry", ISTIO_GROUP):
        export_to = [e for e in se.spec.get("exportTo") or [] if isinstance(e, str)]
        for scope in sorted(_scopes(export_to, se.namespace)):
            for h in se.spec.get("hosts") or []:
                for p in se.spec.get("ports") or []:
                    if isinstance(p, dict):
                        index[(scope, str(h), int(p.get("number") or 0))].append((str(p.get("protocol") or ""), se))
    reported: set[str] = set()
    for (scope, host, port), entries in sorted(index.items(), key=lambda kv: kv[0]):
        if scope != "*":
            entries = entries + index.get(("*", host, port), [])
        protocols = sorted({p.upper() for p, _ in entries})
        if len(protocols) < 2:
            continue
        names = sorted({full_name(se) for _, se in entries})
        for _, se in entries:
            if full_name(se) in reported:
                continue
            reported.add(full_name(se))
            ctx.report("ConflictingServiceEntryProtocol", se, ", ".join(names), host, port, ", ".join(protocols),
                       path="metadata.name")
