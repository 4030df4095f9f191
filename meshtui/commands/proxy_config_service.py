"""``meshtui proxy-config endpoints --service NAME[.NS]``: one service's endpoints across all its clients.

Asks every client sidecar of the service (at most ``CLIENT_CAP``, a few at a time) for
``/clusters?format=json`` and prints, per endpoint, a summary row ("ejected by 3/12 clients")
and one row per (client, cluster) with the EDS health and the outlier check
(``meshtui.envoy.service_endpoints``). Clients that failed, had none of the service's
clusters, or were left out by the cap are reported on stderr; ``-o json`` carries them too.
Exit 0 when at least one client answered, 2 otherwise.
"""

from __future__ import annotations

import argparse
import sys

from meshtui.commands.common import CommandError


def run_service_endpoints(args: argparse.Namespace) -> int:
    """Print the service's endpoints as all its clients see them."""
    from meshtui.commands.common import open_source, source_failure
    from meshtui.envoy import protojson
    from meshtui.envoy.endpoints import EndpointFilter
    from meshtui.envoy.service_endpoints import (
        ClientPod, fetch_clients, plan_clients, service_endpoints, service_endpoints_json, service_endpoints_table,
    )
    from meshtui.model.index import MeshIndex
    from meshtui.sources.base import SourceError

    if args.target or args.file or getattr(args, "other", None):
        raise CommandError("proxy-config endpoints --service takes no POD[.NS] or --file")
    name, _, ns = args.service.partition(".")
    if not name or "." in ns:
        raise CommandError(f"--service {args.service!r}: expected NAME or NAME.NAMESPACE")
    namespace = ns or getattr(args, "namespace", None) or "default"
    output = args.output or "short"
    source = open_source(args)
    try:
        try:
            index = MeshIndex(source.snapshot().objects)
        except SourceError as exc:
            raise source_failure(exc) from None
        try:
            plan = plan_clients(index, namespace, name)
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        if not plan.clients:
            raise CommandError(f"no running sidecar can reach {plan.host}: no client to ask")

        def fetch(client: ClientPod) -> bytes:
            from meshtui.commands.proxy_config import CLUSTERS_PATH

            return source.envoy_admin(client.namespace, client.name, CLUSTERS_PATH)

        results = fetch_clients(plan.clients, fetch)
    finally:
        source.close()
    flt = EndpointFilter(args.address, args.port, args.cluster, args.status)
    report = service_endpoints(plan.host, results, flt, plan.not_queried)
    if output in ("json", "yaml"):
        sys.stdout.write(protojson.render(service_endpoints_json(report), output))
    else:
        sys.stdout.write(service_endpoints_table(report).render())
        for line in report.notes():
            print(line, file=sys.stderr)
    if not report.clients and not report.not_clients:
        first = report.errors[0] if report.errors else None
        cause = f"{first[0].label}: {first[1]}" if first else "no answer"
        raise CommandError(f"no client sidecar of {plan.host} answered ({cause})")
    return 0
