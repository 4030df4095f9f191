"""``meshtui ztunnel-config``: istioctl-compatible tables of a ztunnel's config, from a pod or a saved dump.

Output equals ``istioctl ztunnel-config`` for the same kind and filters, byte for byte.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from meshtui.commands.common import CommandError, add_source_arguments
from meshtui.commands.proxy_config import _time

KINDS = {
    "workloads": "workloads", "workload": "workloads", "w": "workloads",
    "policies": "policies", "policy": "policies", "p": "policies",
    "connections": "connections", "connection": "connections",
    "certificates": "certificates", "certificate": "certificates",
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
    p.add_argument("kind", metavar="KIND", choices=sorted(KINDS), help="workloads|policies|connections|certificates")
    p.add_argument("target", nargs="?", metavar="POD[.NS]", help="the ztunnel pod to read")
    p.add_argument("-f", "--file", metavar="DUMP.json", help="a saved ztunnel config dump ('-' for stdin)")
    p.add_argument("--workload-namespace", default=None, metavar="NS", help="workloads: only this namespace")
    p.add_argument("--raw", action="store_true", help="connections: show IP addresses, not service and workload names")
    p.add_argument("--now", type=_time, metavar="TIME",
                   help="certificates: judge VALID CERT at this RFC 3339 time instead of the clock")
    p.add_argument("--policy-namespace", default=None, metavar="NS", help="policies: only this namespace")
    add_source_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the requested ztunnel table; 0 on success, 2 on bad input or a failed read."""
    from meshtui.commands.proxy_config import _fetch, _read_file
    from meshtui.envoy.ztunnel_certificates import certificate_table
    from meshtui.envoy.ztunnel_connections import connection_table
    from meshtui.envoy.ztunnel_policies import policy_table
    from meshtui.envoy.ztunnel_workloads import workload_table

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
    if not isinstance(dump, dict) or not isinstance(dump.get("workloads"), dict):
        # An Envoy /config_dump (a sidecar's, given by mistake) has "configs" and no "workloads".
        raise CommandError(f"{name}: not a ztunnel config dump (no workloads object)", 2)
    try:
        if kind == "workloads":
            text = workload_table(dump, namespace=args.workload_namespace)
        elif kind == "certificates":
            text = certificate_table(dump, args.now or datetime.now(UTC))
        elif kind == "connections":
            text = connection_table(dump, raw=args.raw)
        else:
            text = policy_table(dump, namespace=args.policy_namespace)
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        raise CommandError(f"{name}: malformed ztunnel config dump ({type(exc).__name__}: {exc})", 2) from None
    sys.stdout.write(text)
    return 0
