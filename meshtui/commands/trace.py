"""``meshtui trace``: which VirtualService rule takes a request, where it goes, and why.

``meshtui trace [source flags] --host H [--path P] [--method M] [-H 'k: v']... [--gateway G]
[--port N] [--source-labels k=v,...] [--source-namespace NS] [--service S] [-o text|json]``

The mesh is read once from the source (``source.snapshot()``) into a ``MeshIndex`` and the
request is traced by ``meshtui.routing.trace``. Text output is a tree; ``-o json`` prints the
stable object documented in ``meshtui.routing.result``. Exit 0 when traced (whatever the
outcome, a 404 included), 2 for bad flags.
"""

from __future__ import annotations

import argparse
import json
import sys

from meshtui.commands.common import CommandError, add_source_arguments


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``trace`` subcommand."""
    parser = sub.add_parser(
        "trace",
        help="trace a request through VirtualServices to destinations and pods",
        description=(
            "Resolve a request as Istio routes it: the VirtualService for the host and gateway, "
            "each http rule tried with the reason it did or did not match, the rewrite, the "
            "destinations with their share of traffic, the DestinationRule and the pods."
        ),
    )
    parser.add_argument("--host", required=True, metavar="H", help="Host / :authority of the request (host[:port])")
    parser.add_argument("--path", default="/", metavar="P", help="request path, with optional ?query (default /)")
    parser.add_argument("--method", default="GET", metavar="M", help="HTTP method (default GET)")
    parser.add_argument(
        "-H", "--header", action="append", default=[], metavar="'K: V'",
        help="a request header (repeatable); 'Host: X' sends Host X to --host, as curl does"
    )
    parser.add_argument("--gateway", metavar="G", help="enter through this Gateway (ns/name or name); default mesh")
    parser.add_argument("--port", type=int, metavar="N", help="port the request is sent to")
    parser.add_argument("--source-labels", default="", metavar="k=v,...", help="labels of the calling workload")
    parser.add_argument("--source-namespace", metavar="NS", help="namespace of the caller (default: -n, else default)")
    parser.add_argument(
        "--service", metavar="S", help="the Service the client dials when the Host header names something else"
    )
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui trace``."""
    from meshtui.commands.common import open_source, source_failure
    from meshtui.model.index import MeshIndex
    from meshtui.routing.render import render_text
    from meshtui.routing.request import RequestError, TraceRequest, parse_header, parse_labels
    from meshtui.routing.trace import trace
    from meshtui.sources.base import SourceError

    try:
        headers = [parse_header(h) for h in args.header]
        request = TraceRequest.build(
            host=args.host,
            path=args.path,
            method=args.method,
            headers=headers,
            source_labels=parse_labels(args.source_labels),
            source_namespace=args.source_namespace or getattr(args, "namespace", None),
            gateway=args.gateway,
            port=args.port,
            service=args.service,
        )
    except RequestError as exc:
        raise CommandError(str(exc), 2) from None
    source = open_source(args)
    try:
        snapshot = source.snapshot()
    except SourceError as exc:
        raise source_failure(exc) from None
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            close()
    for err in snapshot.errors:
        print(f"meshtui: warning: {err}", file=sys.stderr)
    index = MeshIndex(snapshot.objects)
    try:
        result = trace(index, request)
    except RequestError as exc:
        raise CommandError(str(exc), 2) from None
    if args.output == "json":
        print(json.dumps(result.to_dict(), indent=2, sort_keys=False))
    else:
        print(render_text(result))
    return 0
