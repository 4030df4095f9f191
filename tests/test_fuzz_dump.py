"""Fuzzing the config-dump parser and the proxy-config tables (hypothesis).

``ConfigDump.parse`` may raise only ``DumpError`` (with a one-line message naming the source),
whatever the bytes; and every table built from a dump that parsed either renders or raises
``DumpError``, never anything else. Inputs: random bytes, random JSON documents, and Istio's
own dumps (``shared/conformance/proxy-config``) with one part replaced by random JSON, which is
what a dump from another Envoy version or a half-written file looks like.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meshtui.envoy.bootstrap import bootstrap_dump, bootstrap_summary
from meshtui.envoy.clusters import ClusterFilter, cluster_dump, cluster_table
from meshtui.envoy.dump import ConfigDump, DumpError
from meshtui.envoy.ecds import ecds_dump, ecds_table
from meshtui.envoy.endpoints import ClustersDump, EndpointFilter, eds_dump, eds_table, endpoint_dump, endpoint_table
from meshtui.envoy.listeners import ListenerFilter, listener_dump, listener_table
from meshtui.envoy.routes import RouteFilter, route_dump, route_table
from meshtui.envoy.secrets import secret_summary, secret_table
from meshtui.envoy.summary import full_summary
from paths import CONFORMANCE_ROOT

NOW = datetime(2025, 1, 1, tzinfo=timezone.utc)
DUMPS = sorted((CONFORMANCE_ROOT / "proxy-config").glob("*/config_dump.json"))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Every table and JSON selection the CLI and the screen build from a dump.
TABLES: list[tuple[str, Callable[[ConfigDump], Any]]] = [
    ("routes", lambda d: route_table(d, RouteFilter()).render()),
    ("routes --wide", lambda d: route_table(d, RouteFilter(verbose=True), wide=True).render()),
    ("routes --name", lambda d: route_table(d, RouteFilter(name="80", verbose=False)).render()),
    ("routes -o json", lambda d: route_dump(d, RouteFilter())),
    ("clusters", lambda d: cluster_table(d, ClusterFilter()).render()),
    ("clusters --port", lambda d: cluster_table(d, ClusterFilter("", 9080, "", "outbound")).render()),
    ("clusters -o json", lambda d: cluster_dump(d, ClusterFilter())),
    ("listeners", lambda d: listener_table(d, ListenerFilter()).render()),
    ("listeners summary", lambda d: listener_table(d, ListenerFilter("", 0, "", False)).render()),
    ("listeners --type", lambda d: listener_table(d, ListenerFilter("0.0.0.0", 80, "HTTP", True)).render()),
    ("listeners -o json", lambda d: listener_dump(d, ListenerFilter())),
    ("eds", lambda d: eds_table(d, EndpointFilter()).render()),
    ("eds --status", lambda d: eds_table(d, EndpointFilter("", 0, "", "healthy")).render()),
    ("eds -o json", lambda d: eds_dump(d, EndpointFilter())),
    ("secret", lambda d: secret_table(d, NOW).render()),
    ("secret summary", lambda d: secret_summary(d, NOW)),
    ("bootstrap", lambda d: bootstrap_summary(d)),
    ("bootstrap -o json", lambda d: bootstrap_dump(d)),
    ("ecds", lambda d: ecds_table(d).render()),
    ("ecds -o json", lambda d: ecds_dump(d)),
    ("all", lambda d: full_summary(d, NOW)),
]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20),
    st.sampled_from(["", "0", "80", "-", "outbound|9080|v1|reviews.default.svc.cluster.local",
                     "type.googleapis.com/envoy.admin.v3.RoutesConfigDump", "0.0.0.0_80", "::", "[::]:80",
                     "2020-01-01T00:00:00Z", "HEALTHY", "PassthroughCluster", "/apis/x"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12) | st.sampled_from(
                                ["name", "route_config", "virtual_hosts", "routes", "match", "route",
                                 "cluster", "domains", "address", "socket_address", "port_value",
                                 "filter_chains", "filters", "typed_config", "@type", "lb_endpoints",
                                 "endpoint", "health_status", "metadata", "weighted_clusters"]),
                                inner, max_size=4)),
    max_leaves=12,
)


def check_tables(dump: ConfigDump) -> None:
    """Every table renders or says, as a one-line ``DumpError``, why it cannot."""
    for name, build in TABLES:
        try:
            build(dump)
        except DumpError as exc:
            assert str(exc) and "\n" not in str(exc), name
        except Exception as exc:  # noqa: BLE001 - this is what the test is about
            raise AssertionError(f"{name} raised {type(exc).__name__}: {exc}") from exc


def check_parse(data: bytes) -> ConfigDump | None:
    """``ConfigDump.parse`` gives a dump or a one-line ``DumpError`` naming the source."""
    try:
        return ConfigDump.parse(data, "fuzz.json")
    except DumpError as exc:
        text = str(exc)
        assert text.startswith("fuzz.json: ") and "\n" not in text
        return None


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_parse_or_fail_with_a_dump_error(data: bytes) -> None:
    dump = check_parse(data)
    if dump is not None:
        check_tables(dump)


@FUZZ
@given(json_values)
def test_random_json_parses_or_fails_with_a_dump_error(doc: Any) -> None:
    dump = check_parse(orjson.dumps(doc))
    if dump is not None:
        check_tables(dump)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["Bootstrap", "Clusters", "Listeners", "Routes", "Secrets",
                                           "Endpoints", "Ecds"]), json_values), max_size=4))
def test_random_sections_never_break_a_table(sections: list[tuple[str, Any]]) -> None:
    configs = []
    for kind, body in sections:
        section = body if isinstance(body, dict) else {"x": body}
        configs.append({**section, "@type": f"type.googleapis.com/envoy.admin.v3.{kind}ConfigDump"})
    dump = check_parse(orjson.dumps({"configs": configs}))
    assert dump is not None
    check_tables(dump)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``node`` (keys and list indexes)."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


_REAL = {p.parent.name: json.loads(p.read_bytes()) for p in DUMPS}
_REAL_PATHS = {name: _paths(doc)[1:] for name, doc in _REAL.items()}


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return out


@pytest.mark.skipif(not DUMPS, reason="conformance dumps not found")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_real_dump_with_one_part_replaced_never_breaks_a_table(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(_REAL)), label="dump")
    paths = _REAL_PATHS[name]
    path = paths[data.draw(st.integers(0, len(paths) - 1), label="where")]
    value = data.draw(json_values, label="value")
    dump = check_parse(orjson.dumps(_replace(_REAL[name], path, value)))
    if dump is not None:
        check_tables(dump)


@FUZZ
@given(json_values)
def test_random_clusters_output_never_breaks_the_endpoints_table(doc: Any) -> None:
    for body in (doc, {"cluster_statuses": doc}, {"cluster_statuses": [doc]},
                 {"cluster_statuses": [{"name": "outbound|80||a", "host_statuses": doc}]},
                 {"cluster_statuses": [{"name": "outbound|80||a", "host_statuses": [doc]}]}):
        try:
            clusters = ClustersDump.parse(orjson.dumps(body), "clusters.json")
        except DumpError as exc:
            assert str(exc).startswith("clusters.json: ") and "\n" not in str(exc)
            continue
        for flt in (EndpointFilter(), EndpointFilter("10.0.0.1", 80, "outbound|80||a", "healthy")):
            try:
                endpoint_table(clusters, flt).render()
                endpoint_dump(clusters, flt)
            except DumpError as exc:
                assert str(exc) and "\n" not in str(exc)
            except Exception as exc:  # noqa: BLE001
                raise AssertionError(f"endpoints raised {type(exc).__name__}: {exc}") from exc


def test_deeply_nested_json_is_a_dump_error_not_a_crash() -> None:
    deep = b'{"configs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert check_parse(deep) is None
