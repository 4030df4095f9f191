"""``meshtui ztunnel-config``: istioctl-compatible tables of a ztunnel's config, from a pod or a saved dump.

Output equals ``istioctl ztunnel-config`` for the same kind and filters, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from meshtui.commands.common import CommandError, add_source_arguments
from meshtui.commands.proxy_config import _time

if TYPE_CHECKING:
    from meshtui.envoy.ztunnel_dump import ZtunnelDump

KINDS = {
    "workloads": "workloads", "workload": "workloads", "w": "workloads",
    "policies": "policies", "policy": "policies", "p": "policies",
    "connections": "connections", "connection": "connections",
    "certificates": "certificates", "certificate": "certificates",
    "services": "services", "service": "services", "s": "services",
    "all": "all",
}
ZTUNNEL_DUMP_PATH = "/config_dump"


def register(subparsers: Any) -> None:
    """Add ``ztunnel-config`` (alias ``zc``) to the CLI."""
    p = subparsers.add_parser(
        "ztunnel-config",
        aliases=["zc"],
        help="ztunnel config of a pod (or a saved dump) as istioctl ztunnel-config shows it",
        description="Show the workloads, authorization policies, live connections or certificates a ztunnel holds, from a ztunnel "
        "pod's /config_dump or a saved dump file, exactly as `istioctl ztunnel-config` prints them.",
    )
    p.add_argument("kind", metavar="KIND", choices=sorted(KINDS),
                   help="workloads|services|policies|connections|certificates|all")
    p.add_argument("target", nargs="?", metavar="POD[.NS]", help="the ztunnel pod to read")
    p.add_argument("-f", "--file", metavar="DUMP.json", help="a saved ztunnel config dump ('-' for stdin)")
    p.add_argument("-o", "--output", choices=["short", "json", "yaml"], default="short",
                   help="output format: short (the table, default), json or yaml (the entries istioctl prints)")
    p.add_argument("--workload-namespace", default=None, metavar="NS",
                   help="workloads, connections: only this namespace")
    p.add_argument("--workload-node", default=None, metavar="NODE", help="workloads: only workloads on this node")
    p.add_argument("--service-namespace", default=None, metavar="NS", help="services: only this namespace")
    p.add_argument("--direction", choices=["inbound", "outbound"], default=None,
                   help="connections: only this direction")
    p.add_argument("--with-headers", action="store_true", help="all: a '------ <TABLE> INFO ------' line before each table")
    p.add_argument("--raw", action="store_true", help="connections: show IP addresses, not service and workload names")
    p.add_argument("--now", type=_time, metavar="TIME",
                   help="certificates: judge VALID CERT at this RFC 3339 time instead of the clock")
    p.add_argument("--policy-namespace", default=None, metavar="NS", help="policies: only this namespace")
    add_source_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the requested ztunnel table or dump; 0 on success, 2 on bad input or a failed read."""
    from meshtui.commands.proxy_config import _fetch, _read_file
    from meshtui.envoy.ztunnel_dump import DumpShapeError, is_ztunnel_dump, load

    kind = KINDS[args.kind]
    if bool(args.target) == bool(args.file):
        raise CommandError(f"ztunnel-config {kind} requires POD[.NS] or --file (one of them)")
    if args.file:
        data, name = _read_file(args.file), args.file
    else:
        data, name = _fetch(args, ZTUNNEL_DUMP_PATH)
    try:
        dump = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"{name}: not a ztunnel config dump (invalid JSON: {exc})", 2) from None
    if not is_ztunnel_dump(dump):
        # An Envoy /config_dump (a sidecar's, given by mistake) has "configs" and no "workloads".
        raise CommandError(f"{name}: not a ztunnel config dump (no workloads object)", 2)
    try:
        text = _render(kind, args, load(dump), dump, data)
    except (DumpShapeError, TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        raise CommandError(f"{name}: malformed ztunnel config dump ({type(exc).__name__}: {exc})", 2) from None
    sys.stdout.write(text)
    return 0


def _render(kind: str, args: argparse.Namespace, view: ZtunnelDump, dump: dict[str, Any], data: bytes) -> str:
    """The text istioctl prints for ``kind`` with the filters and output format of ``args``."""
    from meshtui.envoy import ztunnel_output as out
    from meshtui.envoy.ztunnel_certificates import certificate_table
    from meshtui.envoy.ztunnel_connections import connection_table
    from meshtui.envoy.ztunnel_policies import policy_table
    from meshtui.envoy.ztunnel_services import service_table
    from meshtui.envoy.ztunnel_workloads import workload_table

    now = args.now or datetime.now(UTC)
    short = args.output == "short"
    if kind == "all":
        return out.full_summary(view, dump, now, with_headers=args.with_headers) if short \
            else out.full_dump(data, args.output)
    if kind == "workloads":
        if short:
            return workload_table(view, namespace=args.workload_namespace, node=args.workload_node)
        value = out.workloads_dump(view, namespace=args.workload_namespace, node=args.workload_node)
    elif kind == "services":
        if short:
            return service_table(view, namespace=args.service_namespace)
        value = out.services_dump(view, namespace=args.service_namespace)
    elif kind == "certificates":
        if short:
            return certificate_table(view, now)
        value = view.certificates
    elif kind == "connections":
        if short:
            return connection_table(view, namespace=args.workload_namespace, direction=args.direction, raw=args.raw)
        value = out.connections_dump(view, namespace=args.workload_namespace)
    else:
        if short:
            return policy_table(view, namespace=args.policy_namespace)
        value = out.policies_dump(view, namespace=args.policy_namespace)
    return out.render(value, args.output)
