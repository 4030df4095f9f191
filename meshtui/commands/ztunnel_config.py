"""``meshtui ztunnel-config``: istioctl-compatible tables of a ztunnel's config, from a pod or a saved dump.

Output equals ``istioctl ztunnel-config`` for the same kind and filters, byte for byte. As with
istioctl, POD may be any pod: a workload pod is answered by the ztunnel on its node, with the
workload and connection tables narrowed to that workload; ``--node`` names the node instead.
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
    from meshtui.session.ztunnel_target import ZtunnelTarget

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
    p.add_argument("target", nargs="?", metavar="POD[.NS]",
                   help="a ztunnel pod, or any pod: the ztunnel on its node answers for that workload "
                        "(NS: -n, else the Istio namespace)")
    p.add_argument("-f", "--file", metavar="DUMP.json", help="a saved ztunnel config dump ('-' for stdin)")
    p.add_argument("--node", default=None, metavar="NODE", help="read the ztunnel running on this node")
    p.add_argument("--istio-namespace", default="istio-system", metavar="NS",
                   help="where the ztunnel pods run (default istio-system)")
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
    from meshtui.commands.proxy_config import _read_file
    from meshtui.envoy.ztunnel_dump import DumpShapeError, is_ztunnel_dump, load

    kind = KINDS[args.kind]
    given = sum(1 for v in (args.target, args.file, args.node) if v)
    if given > 1:
        raise CommandError("at most one of --file, --node, or pod name must be passed")
    if not given:
        raise CommandError(f"ztunnel-config {kind} requires POD[.NS], --node NODE or --file (one of them)")
    workload: tuple[str, str] | None = None
    if args.file:
        data, name = _read_file(args.file), args.file
    else:
        data, name, target = _fetch_live(args)
        if target.workload_name and target.workload_namespace:
            # istioctl narrows the workload and connection tables to the pod the user named.
            workload = (target.workload_name, target.workload_namespace)
    try:
        dump = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"{name}: not a ztunnel config dump (invalid JSON: {exc})", 2) from None
    if not is_ztunnel_dump(dump):
        # An Envoy /config_dump (a sidecar's, given by mistake) has "configs" and no "workloads".
        raise CommandError(f"{name}: not a ztunnel config dump (no workloads object)", 2)
    try:
        text = _render(kind, args, load(dump), dump, data, workload)
    except (DumpShapeError, TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        raise CommandError(f"{name}: malformed ztunnel config dump ({type(exc).__name__}: {exc})", 2) from None
    sys.stdout.write(text)
    return 0


def _fetch_live(args: argparse.Namespace) -> tuple[bytes, str, ZtunnelTarget]:
    """The dump of the ztunnel that answers for ``args.target`` or ``args.node``, its name, and the target."""
    from meshtui.commands.common import open_source, source_failure
    from meshtui.session.ztunnel_target import ZtunnelTargetError, resolve_node, resolve_pod
    from meshtui.sources.base import SourceError

    source = open_source(args)
    try:
        try:
            if args.node:
                target = resolve_node(source, args.node, args.istio_namespace)
            else:
                pod, _, ns = args.target.partition(".")
                target = resolve_pod(source, pod, ns or getattr(args, "namespace", None) or args.istio_namespace,
                                     args.istio_namespace)
        except ZtunnelTargetError as exc:
            raise CommandError(str(exc)) from None
        except SourceError as exc:
            raise source_failure(exc, args.node and f"--node {args.node}" or args.target) from None
        try:
            return source.envoy_admin(target.namespace, target.name, ZTUNNEL_DUMP_PATH), target.label, target
        except SourceError as exc:
            raise source_failure(exc, target.label) from None
    finally:
        source.close()


def _render(kind: str, args: argparse.Namespace, view: ZtunnelDump, dump: dict[str, Any], data: bytes,
            workload: tuple[str, str] | None) -> str:
    """The text istioctl prints for ``kind`` with the filters and output format of ``args``; ``workload``
    (name, namespace) narrows the workload and connection tables to one pod."""
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
        name, namespace = workload or (None, args.workload_namespace)
        if short:
            return workload_table(view, namespace=namespace, name=name, node=args.workload_node)
        value = out.workloads_dump(view, namespace=namespace, name=name, node=args.workload_node)
    elif kind == "services":
        if short:
            return service_table(view, namespace=args.service_namespace)
        value = out.services_dump(view, namespace=args.service_namespace)
    elif kind == "certificates":
        if short:
            return certificate_table(view, now)
        value = view.certificates
    elif kind == "connections":
        name, namespace = workload or (None, args.workload_namespace)
        if short:
            return connection_table(view, namespace=namespace, workload=name, direction=args.direction, raw=args.raw)
        value = out.connections_dump(view, namespace=namespace, workload=name)
    else:
        if short:
            return policy_table(view, namespace=args.policy_namespace)
        value = out.policies_dump(view, namespace=args.policy_namespace)
    return out.render(value, args.output)
