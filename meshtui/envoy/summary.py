"""``proxy-config all``: every summary table of a dump, as istioctl's ``PrintFullSummary``.

Sections (bootstrap, clusters, listeners, routes, secrets, endpoints) are separated by a
blank line; every name is prefixed with its type (``cluster/``, ``listener/`` ...);
``with_headers`` adds istioctl's ``------ X INFO ------`` banners.
"""

from __future__ import annotations

from datetime import datetime

from meshtui.envoy.bootstrap import bootstrap_summary
from meshtui.envoy.clusters import ClusterFilter, cluster_table
from meshtui.envoy.dump import ConfigDump
from meshtui.envoy.endpoints import EndpointFilter, eds_table
from meshtui.envoy.listeners import ListenerFilter, listener_table
from meshtui.envoy.routes import RouteFilter, route_table
from meshtui.envoy.secrets import secret_summary


def full_summary(
    dump: ConfigDump,
    now: datetime,
    *,
    clusters: ClusterFilter = ClusterFilter(),
    listeners: ListenerFilter = ListenerFilter(),
    routes: RouteFilter = RouteFilter(),
    endpoints: EndpointFilter = EndpointFilter(),
    with_headers: bool = False,
) -> str:
    """The text of ``istioctl proxy-config all`` in short form."""
    parts = [
        ("BOOTSTRAP", lambda: bootstrap_summary(dump)),
        ("CLUSTER", lambda: cluster_table(dump, clusters, include_type=True).render()),
        ("LISTENER", lambda: listener_table(dump, listeners, include_type=True).render()),
        ("ROUTE", lambda: route_table(dump, routes, include_type=True).render()),
        ("SECRET", lambda: secret_summary(dump, now, include_type=True)),
        ("ENDPOINTS", lambda: eds_table(dump, endpoints, include_type=True).render()),
    ]
    out = []
    for i, (title, render) in enumerate(parts):
        if i:
            out.append("\n")
        if with_headers:
            out.append(f"------ {title} INFO ------\n\n")
        out.append(render())
    return "".join(out)
