"""Benchmark: parse + tabulate a synthetic ~20 MB Envoy config dump.

Run ``python -m meshtui.envoy.bench [--size-mb 20] [--runs 7]``. It builds a sidecar-like
dump in memory (clusters with EDS endpoints, listeners with HTTP and TCP chains, route
configurations with many virtual hosts), then times ``ConfigDump.parse`` plus rendering of
the routes, clusters, listeners and EDS tables, and reports median/min/max, peak RSS, and the
ratio to a plain ``json.loads`` of the same bytes. Target (DESIGN.md): <= 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from typing import Any

import orjson

from meshtui.envoy.clusters import cluster_table
from meshtui.envoy.dump import ConfigDump
from meshtui.envoy.endpoints import eds_table
from meshtui.envoy.listeners import listener_table
from meshtui.envoy.routes import route_table

_ADMIN = "type.googleapis.com/envoy.admin.v3."


def _cluster(i: int) -> dict[str, Any]:
    host = f"svc-{i}.ns-{i % 50}.svc.cluster.local"
    return {
        "version_info": "2026-08-22T19:00:53Z/42",
        "cluster": {
            "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "name": f"outbound|{8000 + i % 100}|{'v' + str(i % 3) if i % 2 else ''}|{host}",
            "type": "EDS",
            "eds_cluster_config": {"eds_config": {"ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3"}, "service_name": f"outbound|{8000 + i % 100}||{host}"},
            "connect_timeout": "10s",
            "lb_policy": "LEAST_REQUEST",
            "circuit_breakers": {"thresholds": [{"max_connections": 4294967295, "max_pending_requests": 4294967295, "max_requests": 4294967295, "max_retries": 4294967295, "track_remaining": True}]},
            "common_lb_config": {"locality_weighted_lb_config": {}},
            "metadata": {"filter_metadata": {"istio": {"config": f"/apis/networking.istio.io/v1alpha3/namespaces/ns-{i % 50}/destination-rule/dr-{i}", "services": [{"host": host, "name": f"svc-{i}", "namespace": f"ns-{i % 50}"}]}}},
            "transport_socket_matches": [{"name": "tlsMode-istio", "match": {"tlsMode": "istio"}, "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", "common_tls_context": {"tls_params": {"tls_minimum_protocol_version": "TLSv1_2"}, "alpn_protocols": ["istio-peer-exchange", "istio"], "tls_certificate_sds_secret_configs": [{"name": "default", "sds_config": {"api_config_source": {"api_type": "GRPC", "grpc_services": [{"envoy_grpc": {"cluster_name": "sds-grpc"}}], "set_node_on_first_message_only": True, "transport_api_version": "V3"}, "resource_api_version": "V3"}}]}, "sni": f"outbound_.8000_._.{host}"}}}],
        },
        "last_updated": "2026-08-22T19:00:53.123Z",
    }


def _route(i: int) -> dict[str, Any]:
    host = f"svc-{i}.ns-{i % 50}.svc.cluster.local"
    return {
        "name": f"{host}:{8000 + i % 100}",
        "domains": [host, f"svc-{i}.ns-{i % 50}", f"svc-{i}.ns-{i % 50}.svc", f"10.0.{i // 250}.{i % 250}"],
        "routes": [
            {
                "match": {"prefix": "/" if i % 3 else f"/api/v{i % 5}"},
                "route": {"weighted_clusters": {"clusters": [{"name": f"outbound|8000|v1|{host}", "weight": 90}, {"name": f"outbound|8000|v2|{host}", "weight": 10}]}, "timeout": "0s", "retry_policy": {"retry_on": "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes", "num_retries": 2, "retry_host_predicate": [{"name": "envoy.retry_host_predicates.previous_hosts", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}}], "host_selection_retry_max_attempts": "5", "retriable_status_codes": [503]}},
                "metadata": {"filter_metadata": {"istio": {"config": f"/apis/networking.istio.io/v1alpha3/namespaces/ns-{i % 50}/virtual-service/vs-{i}"}}},
                "decorator": {"operation": f"{host}:8000/*"},
                "name": "default",
            }
        ],
        "include_request_attempt_count": True,
    }


def _endpoint(i: int) -> dict[str, Any]:
    return {
        "endpoint": {"address": {"socket_address": {"address": f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}", "port_value": 8080}}, "health_check_config": {}},
        "health_status": "HEALTHY",
        "metadata": {"filter_metadata": {"istio": {"workload": f"svc-{i};ns-{i % 50};svc;v1;Kubernetes"}, "envoy.transport_socket_match": {"tlsMode": "istio"}}},
        "load_balancing_weight": 1,
    }


def _listener(i: int) -> dict[str, Any]:
    return {
        "name": f"0.0.0.0_{9000 + i}",
        "active_state": {
            "version_info": "2026-08-22T19:00:53Z/42",
            "listener": {
                "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
                "name": f"0.0.0.0_{9000 + i}",
                "address": {"socket_address": {"address": "0.0.0.0", "port_value": 9000 + i}},
                "filter_chains": [
                    {"filter_chain_match": {"transport_protocol": "raw_buffer", "application_protocols": ["http/1.1", "h2c"]}, "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager", "stat_prefix": f"outbound_0.0.0.0_{9000 + i}", "rds": {"config_source": {"ads": {}, "resource_api_version": "V3"}, "route_config_name": str(9000 + i)}}}]},
                    {"filter_chain_match": {}, "filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", "stat_prefix": "PassthroughCluster", "cluster": "PassthroughCluster"}}]},
                ],
            },
        },
    }


def synthetic_dump(size_mb: float = 20.0) -> bytes:
    """A sidecar-like config dump of about ``size_mb`` MB (about 1,500 clusters, 4,500
    routes, 3,700 endpoints and 150 listeners at 20 MB; counts scale linearly with size)."""
    return _build(size_mb / _MB_AT_SCALE_1)


# Size in MB of the dump built at scale 1 (2,000 clusters, 6,000 routes ...): measured once.
_MB_AT_SCALE_1 = 26.8


def _build(scale: float) -> bytes:
    n_clusters, n_routes, n_eps, n_listeners = (max(1, int(n * scale)) for n in (2000, 6000, 5000, 200))
    per_config = 100
    route_configs = [
        {"route_config": {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": str(9000 + k), "virtual_hosts": [_route(k * per_config + j) for j in range(min(per_config, n_routes - k * per_config))], "validate_clusters": False}, "last_updated": "2026-08-22T19:00:53.123Z"}
        for k in range((n_routes + per_config - 1) // per_config)
    ]
    per_cla = max(1, n_eps // max(1, n_clusters // 2))
    clas = [
        {"endpoint_config": {"@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name": _cluster(c)["cluster"]["name"], "endpoints": [{"locality": {"region": "eu", "zone": f"eu-{c % 3}"}, "lb_endpoints": [_endpoint(c * per_cla + e) for e in range(per_cla)], "load_balancing_weight": per_cla}], "policy": {"overprovisioning_factor": 140}}}
        for c in range(0, n_clusters, 2)
    ]
    doc = {
        "configs": [
            {"@type": _ADMIN + "BootstrapConfigDump", "bootstrap": {"node": {"id": "sidecar~10.0.0.1~bench.default~default.svc.cluster.local", "metadata": {"ISTIO_VERSION": "1.29.0"}}}},
            {"@type": _ADMIN + "ClustersConfigDump", "version_info": "42", "dynamic_active_clusters": [_cluster(i) for i in range(n_clusters)]},
            {"@type": _ADMIN + "ListenersConfigDump", "version_info": "42", "dynamic_listeners": [_listener(i) for i in range(n_listeners)]},
            {"@type": _ADMIN + "RoutesConfigDump", "dynamic_route_configs": route_configs},
            {"@type": _ADMIN + "EndpointsConfigDump", "dynamic_endpoint_configs": clas},
        ]
    }
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


def parse_and_tabulate(data: bytes) -> tuple[ConfigDump, int]:
    """Parse ``data`` and render the four big tables; returns the dump and the rows rendered.

    The dump is returned so that freeing it (tens of milliseconds for millions of objects)
    happens after the clock stops, as it would after the screen has been drawn.
    """
    dump = ConfigDump.parse(data, "bench")
    rows = 0
    for table in (route_table(dump), cluster_table(dump), listener_table(dump), eds_table(dump)):
        table.render()
        rows += len(table.rows)
    return dump, rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a report."""
    parser = argparse.ArgumentParser(prog="python -m meshtui.envoy.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    data = synthetic_dump(args.size_mb)
    _, rows = parse_and_tabulate(data)  # warm-up (imports, caches)
    times, baseline = [], []
    for _ in range(max(1, min(args.runs, 50))):
        t0 = time.perf_counter()
        result = parse_and_tabulate(data)
        times.append(time.perf_counter() - t0)
        del result
        t0 = time.perf_counter()
        decoded = json.loads(data)
        baseline.append(time.perf_counter() - t0)
        del decoded
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    med = statistics.median(times)
    print(f"dump: {len(data) / 1e6:.1f} MB, {rows} table rows")
    print(f"parse + tabulate: median {med:.3f} s, min {min(times):.3f} s, max {max(times):.3f} s (target <= 0.3 s)")
    print(f"json.loads baseline: median {statistics.median(baseline):.3f} s; ratio {med / statistics.median(baseline):.2f}x")
    print(f"peak RSS: {peak_kb / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
