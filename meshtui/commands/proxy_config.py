"""``meshtui proxy-config``: istioctl-compatible Envoy config tables, from a pod or a saved dump.

Output equals ``istioctl proxy-config`` for the same flags (tables byte for byte; ``-o json``
and ``-o yaml`` print the same selection of config). ``--wide`` adds what istioctl leaves
out (route weights, header and query matches) without changing the default output.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from meshtui.commands.common import CommandError, add_source_arguments

if TYPE_CHECKING:
    from meshtui.envoy.dump import ConfigDump

KINDS = {
    "routes": "routes", "route": "routes", "r": "routes",
    "clusters": "clusters", "cluster": "clusters", "c": "clusters",
    "listeners": "listeners", "listener": "listeners", "l": "listeners",
    "endpoints": "endpoints", "endpoint": "endpoints", "ep": "endpoints",
    "all": "all", "a": "all",
    "bootstrap": "bootstrap", "b": "bootstrap",
    "secret": "secret", "secrets": "secret", "s": "secret",
    "eds": "eds",
    "ecds": "ecds",
    "diff": "diff",
}
GENERATED_TARGET = "@generated"
CONFIG_DUMP_PATH = "/config_dump?include_eds"
CLUSTERS_PATH = "/clusters?format=json"


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "t", "1", "yes"):
        return True
    if value in ("false", "f", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r}")


def _time(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def register(subparsers: Any) -> None:
    """Add ``proxy-config`` (alias ``pc``) to the CLI."""
    p = subparsers.add_parser(
        "proxy-config",
        aliases=["pc"],
        help="Envoy config of a pod (or a saved dump) as istioctl proxy-config shows it",
        description="Show the routes, clusters, listeners, endpoints, secrets, bootstrap or "
        "extension configs of a pod's Envoy, or of a saved /config_dump (or, for endpoints, "
        "/clusters?format=json) file, exactly as `istioctl proxy-config` prints them.",
    )
    p.add_argument("kind", metavar="KIND", choices=sorted(KINDS), help="routes|clusters|listeners|endpoints|all|bootstrap|secret|eds|ecds|diff")
    p.add_argument("target", nargs="?", metavar="POD[.NS]", help="the pod whose Envoy to read (diff: A, a dump file or POD[.NS])")
    p.add_argument("other", nargs="?", metavar="B", help="diff only: the second dump file or POD[.NS]; "
                   f"'{GENERATED_TARGET}' compares A's live Envoy with the config the mesh implies for it. "
                   "Exit 0 when equal, 1 when they differ (like diff)")
    p.add_argument("-f", "--file", metavar="DUMP.json", help="a saved config dump ('-' for stdin); for endpoints a saved /clusters?format=json")
    p.add_argument("-o", "--output", choices=["short", "text", "json", "yaml"], help="output format (default short; json for bootstrap)")
    p.add_argument("--fqdn", default="", help="clusters: substring of the service FQDN")
    p.add_argument("--direction", default="", help="clusters: direction (inbound, outbound ...)")
    p.add_argument("--subset", default="", help="clusters: substring of the subset")
    p.add_argument("--port", type=int, default=0, help="clusters, listeners, endpoints: port")
    p.add_argument("--address", default="", help="listeners, endpoints: address")
    p.add_argument("--type", default="", help="listeners: HTTP, TCP, HTTP+TCP or UNKNOWN")
    p.add_argument("--name", default="", help="routes: route configuration name")
    p.add_argument("--cluster", default="", help="endpoints: cluster name")
    p.add_argument("--status", default="", help="endpoints: health status (healthy ...)")
    p.add_argument("--verbose", type=_bool, nargs="?", const=True, default=True, metavar="BOOL", help="routes, listeners: one row per route / filter chain (default true; --verbose=false for the summary)")
    p.add_argument("--with-headers", action="store_true", help="all: print a banner before each section")
    p.add_argument("--wide", action="store_true", help="routes: add a WEIGHT column and header/query conditions in MATCH (not in istioctl)")
    p.add_argument("--service", metavar="NAME[.NS]", help="endpoints: the service's endpoints as every client "
                   "sidecar sees them (health, outlier check, 'ejected by N/M clients'), instead of one pod's")
    p.add_argument("--now", type=_time, metavar="TIME", help="secret, all: judge VALID CERT at this RFC 3339 time instead of the clock")
    add_source_arguments(p)
    p.set_defaults(func=run)


def _read_file(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror or exc}") from None


def _fetch(args: argparse.Namespace, admin_path: str) -> tuple[bytes, str]:
    from meshtui.commands.common import open_source, source_failure
    from meshtui.sources.base import SourceError

    pod, _, ns = args.target.partition(".")
    namespace = ns or getattr(args, "namespace", None) or "default"
    source = open_source(args)
    try:
        return source.envoy_admin(namespace, pod, admin_path), f"{pod}.{namespace}"
    except SourceError as exc:
        raise source_failure(exc, f"{pod}.{namespace}") from None
    finally:
        source.close()


def run(args: argparse.Namespace) -> int:
    """Print the requested proxy config; 0 on success, 2 on bad input or a failed read."""
    from meshtui.envoy.dump import DumpError

    kind = KINDS[args.kind]
    if kind == "diff":
        from meshtui.commands.proxy_config_diff import run_diff

        return run_diff(args)
    if getattr(args, "service", None):
        if kind != "endpoints":
            raise CommandError(f"--service works with proxy-config endpoints, not {kind}")
        from meshtui.commands.proxy_config_service import run_service_endpoints

        return run_service_endpoints(args)
    if getattr(args, "other", None):
        raise CommandError(f"proxy-config {kind} takes one POD[.NS] (got {args.target!r} and {args.other!r})")
    if bool(args.target) == bool(args.file):
        extra = " or --service" if kind == "endpoints" else ""
        raise CommandError(f"proxy-config {kind} requires POD[.NS]{extra} or --file (one of them)")
    output = args.output or ("json" if kind == "bootstrap" else "short")
    output = "short" if output == "text" else output
    admin_path = CLUSTERS_PATH if kind == "endpoints" else CONFIG_DUMP_PATH
    if args.file:
        data, name = _read_file(args.file), args.file
    else:
        data, name = _fetch(args, admin_path)
    try:
        text = _render(kind, output, data, name, args)
    except DumpError as exc:
        raise CommandError(str(exc), 2) from None
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        # A dump with the right shape at the top but wrong types inside: still one line.
        raise CommandError(f"{name}: malformed Envoy dump ({type(exc).__name__}: {exc})", 2) from None
    sys.stdout.write(text)
    return 0


def _render(kind: str, output: str, data: bytes, name: str, args: argparse.Namespace) -> str:
    from meshtui.envoy import protojson
    from meshtui.envoy.dump import ConfigDump

    if kind == "endpoints":
        from meshtui.envoy.endpoints import ClustersDump, EndpointFilter, endpoint_dump, endpoint_table

        clusters = ClustersDump.parse(data, name)
        flt = EndpointFilter(args.address, args.port, args.cluster, args.status)
        if output == "short":
            return endpoint_table(clusters, flt).render()
        return protojson.render([protojson.message_json(c) for c in endpoint_dump(clusters, flt)], output)
    dump = ConfigDump.parse(data, name)
    if kind == "all" and output != "short":
        # istioctl prints the dump it read, unchanged (or converted to YAML).
        if output == "json":
            return data.decode("utf-8", "replace") + "\n"
        return protojson.dumps_yaml(dump.raw) + "\n"
    return _render_dump(kind, output, dump, args)


def _render_dump(kind: str, output: str, dump: "ConfigDump", args: argparse.Namespace) -> str:
    from meshtui.envoy import protojson
    from meshtui.envoy.clusters import ClusterFilter
    from meshtui.envoy.endpoints import EndpointFilter
    from meshtui.envoy.listeners import ListenerFilter
    from meshtui.envoy.routes import RouteFilter

    now = args.now or datetime.now(timezone.utc)
    cf = ClusterFilter(args.fqdn, args.port, args.subset, args.direction)
    lf = ListenerFilter(args.address, args.port, args.type, args.verbose)
    rf = RouteFilter(args.name, args.verbose)
    ef = EndpointFilter(args.address, args.port, args.cluster, args.status)
    short = output == "short"

    def typed(items: list[Any]) -> str:
        return protojson.render([protojson.message_json(x) for x in items], output)

    if kind == "all":
        from meshtui.envoy.summary import full_summary

        return full_summary(dump, now, clusters=cf, listeners=lf, routes=rf, endpoints=ef, with_headers=args.with_headers)
    if kind == "routes":
        from meshtui.envoy.routes import route_dump, route_table

        return route_table(dump, rf, wide=args.wide).render() if short else typed(route_dump(dump, rf))
    if kind == "clusters":
        from meshtui.envoy.clusters import cluster_dump, cluster_table

        return cluster_table(dump, cf).render() if short else typed(cluster_dump(dump, cf))
    if kind == "listeners":
        from meshtui.envoy.listeners import listener_dump, listener_table

        return listener_table(dump, lf).render() if short else typed(listener_dump(dump, lf))
    if kind == "eds":
        from meshtui.envoy.endpoints import eds_dump, eds_table

        return eds_table(dump, ef).render() if short else typed(eds_dump(dump, ef))
    if kind == "ecds":
        from meshtui.envoy.ecds import ecds_dump, ecds_table

        return ecds_table(dump).render() if short else protojson.render(ecds_dump(dump), output)
    if kind == "bootstrap":
        from meshtui.envoy.bootstrap import bootstrap_dump, bootstrap_summary

        return bootstrap_summary(dump) if short else protojson.render(bootstrap_dump(dump), output)
    from meshtui.envoy.dump import SECRETS
    from meshtui.envoy.secrets import secret_summary

    if short:
        return secret_summary(dump, now)
    return protojson.render(protojson.message_json(dump.section(SECRETS)), output)
