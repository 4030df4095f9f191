"""Simulated ambient-mode traffic: what ztunnel and a waypoint write for one request.

A caller without a sidecar in an ambient namespace hands its connection to the ztunnel of its
node. When the Service has a waypoint (``routing.waypoint_binding``), that ztunnel sends the
connection over HBONE to the waypoint pod, whose Envoy applies the Service's HTTPRoute (the
weighted pick of ``routing.simulate``) and writes an access line like a sidecar's outbound one
(cluster ``inbound-vip|<port>|http|<backend host>``, upstream ``envoy://connect_originate/<pod>``);
the destination pod's ztunnel then logs the waypoint's connection inbound, and the waypoint counts
the request in Istio's metrics (``reporter="waypoint"``, served on its ``/stats/prometheus``). Without a waypoint
there is no L7 at all: the caller's ztunnel picks one ready endpoint of the Service per
connection (the HTTPRoute's weights are ignored, as in Istio) and both ztunnels log it.

ztunnel lines are its default text format (``src/telemetry.rs``): ``TIME<TAB>info<TAB>access<TAB>
connection complete<TAB>k=v …`` with string values quoted (Rust ``Debug``) and addresses and
numbers bare, the field order of ``src/proxy/metrics.rs``. Each request is one connection.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from meshtui.model import Pod, Service
from meshtui.model.ambient import AMBIENT, is_ztunnel_pod, pod_dataplane_mode
from meshtui.model.hosts import fqdn
from meshtui.model.index import MeshIndex
from meshtui.routing.result import TraceResult
from meshtui.routing.simulate import choose_destination
from meshtui.routing.waypoint_binding import service_binding
from meshtui.sandbox.access_lines import access_line
from meshtui.sandbox.istio_stats import IstioStats
from meshtui.sandbox.workloads import Behaviour

HBONE_PORT = 15008
Line = tuple[float, str, str, str]  # (completion time, namespace, pod, line), as traffic.Line


def ztunnel_time(epoch: float) -> str:
    """ztunnel's timestamp: UTC, microseconds, ``Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Bare:
    """A value ztunnel writes unquoted (a socket address: ``Display``, not ``Debug``)."""

    text: str


#: One ``key=value`` of a ztunnel line: strings are quoted, ints and ``Bare`` values are not.
Field = tuple[str, str | int | Bare]


def ztunnel_line(epoch: float, fields: list[Field]) -> str:
    """One ``connection complete`` access line of ztunnel's text format."""
    parts = []
    for key, value in fields:
        if isinstance(value, Bare):
            parts.append(f"{key}={value.text}")
        elif isinstance(value, int):
            parts.append(f"{key}={value}")
        else:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'{key}="{escaped}"')
    return f"{ztunnel_time(epoch)}\tinfo\taccess\tconnection complete\t{' '.join(parts)}"


def _identity(pod: Pod) -> str:
    return f"spiffe://cluster.local/ns/{pod.namespace}/sa/{pod.service_account or 'default'}"


def _node(pod: Pod) -> str:
    return str((pod.raw.get("spec") or {}).get("nodeName") or "")


class AmbientTraffic:
    """Writes the lines of requests whose caller is captured by ztunnel (see the module docstring)."""

    def __init__(self, index: MeshIndex, rng: random.Random, behaviour: Callable[[Pod], Behaviour],
                 ephemeral: Callable[[], int], stats: IstioStats | None = None) -> None:
        self.index = index
        self.stats = stats if stats is not None else IstioStats()
        self.rng = rng
        self.behaviour = behaviour
        self.ephemeral = ephemeral
        self._ztunnels: dict[str, Pod | None] = {}

    def clear(self) -> None:
        """Forget cached lookups (the mesh changed)."""
        self._ztunnels.clear()

    def handles(self, client: Pod) -> bool:
        """Whether ``client``'s connections go through ztunnel (an ambient pod without sidecar)."""
        return pod_dataplane_mode(client, self.index.namespace_labels(client.namespace)) == AMBIENT

    def _ztunnel_on(self, node: str) -> Pod | None:
        if node not in self._ztunnels:
            self._ztunnels[node] = next((p for p in self.index.pods if isinstance(p, Pod) and is_ztunnel_pod(p)
                                         and _node(p) == node), None)
        return self._ztunnels[node]

    def _pod(self, key: str) -> Pod | None:
        ns, _, name = key.partition("/")
        pod = self.index.get("Pod", ns, name)
        return pod if isinstance(pod, Pod) else None

    def _waypoint_pod(self, namespace: str, name: str) -> Pod | None:
        pods = [p for p in self.index.pods_matching(namespace, {"gateway.networking.k8s.io/gateway-name": name})
                if isinstance(p, Pod) and p.ready and p.ip]
        return self.rng.choice(pods) if pods else None

    def request(self, client: Pod, service: Service, result: TraceResult, base: dict[str, Any], route: str,
                end: float, out: list[Line]) -> bool:
        """Simulate one request from ``client`` to ``service``; False when nothing answers."""
        port = result.port or next((p.port for p in service.ports), 80)
        vip = f"{service.cluster_ip or '10.96.0.1'}:{port}"
        binding = service_binding(self.index, service)
        host = fqdn(service.name, service.namespace)
        if binding.waypoint is not None:
            waypoint = binding.weights[0][0]
            if len(binding.weights) == 2 and self.rng.uniform(0, 100) < binding.weights[1][1]:
                waypoint = binding.weights[1][0]
            wp = self._waypoint_pod(waypoint.namespace, waypoint.name)
            if wp is not None:
                return self._through_waypoint(client, wp, host, vip, result, base, route, end, out)
        pods = [p for p in self.index.pods_for_service(service) if isinstance(p, Pod) and p.ready and p.ip]
        if not pods:
            return False
        server = self.rng.choice(pods)  # ztunnel balances connections; L7 rules do not apply
        behaviour = self.behaviour(server)
        latency, status = behaviour.latency_ms(self.rng), behaviour.status(self.rng)
        sent = base["received"] + 80 + len(base["path"])
        recv = behaviour.size(self.rng, status) + 120
        duration = latency + self.rng.uniform(0.3, 1.0)
        self._l4(client, server, host, f"{server.ip}:{port}", f"{server.ip}:{port}", sent, recv, duration,
                 end, out)
        return True

    def _through_waypoint(self, client: Pod, wp: Pod, host: str, vip: str, result: TraceResult,
                          base: dict[str, Any], route: str, end: float, out: list[Line]) -> bool:
        choice = choose_destination(result, self.rng)
        server = self._pod(choice.pod) if choice.pod else None
        if server is None or choice.destination is None:
            return False
        port = choice.destination.port or result.port or 80
        behaviour = self.behaviour(server)
        latency, status = behaviour.latency_ms(self.rng), behaviour.status(self.rng)
        body = behaviour.size(self.rng, status)
        duration = latency + self.rng.uniform(0.4, 1.2)
        start = end - duration / 1000
        fields = {**base, "code": status, "flags": "-", "details": "via_upstream", "sent": body,
                  "duration_ms": duration, "upstream_ms": latency, "start": start, "xff": "-",
                  "upstream_host": f"envoy://connect_originate/{server.ip}:{port}",
                  "cluster": f"inbound-vip|{port}|http|{choice.destination.host}",
                  "upstream_local": "envoy://internal_client_address/", "downstream_local": vip,
                  "downstream_remote": f"{client.ip}:{self.ephemeral()}", "server_name": "-", "route": route}
        out.append((end, wp.namespace, wp.name, access_line(**fields)))
        self.stats.record("waypoint", wp, client, server, choice.destination.host, status, "-", duration,
                          str(base.get("protocol") or "HTTP/1.1"))
        sent = base["received"] + 80 + len(base["path"])
        recv = body + 120
        # The caller's ztunnel: outbound to the waypoint, which terminates HBONE itself.
        src = client.ip or ""
        self._log(client, end, [
            ("src.addr", Bare(f"{src}:{self.ephemeral()}")), *self._src(client),
            ("dst.addr", Bare(f"{wp.ip}:{HBONE_PORT}")), ("dst.hbone_addr", vip), ("dst.service", host),
            ("dst.workload", wp.name), ("dst.namespace", wp.namespace), ("dst.identity", _identity(wp)),
            ("direction", "outbound"), ("bytes_sent", sent), ("bytes_recv", recv),
            ("duration", f"{round(duration)}ms")], out)
        # The destination pod's ztunnel: the waypoint's connection, inbound.
        target = f"{server.ip}:{port}"
        self._log(server, end, [
            ("src.addr", Bare(f"{wp.ip}:{self.ephemeral()}")), *self._src(wp),
            ("dst.addr", Bare(target)), ("dst.hbone_addr", target), ("dst.service", choice.destination.host),
            ("dst.workload", server.name), ("dst.namespace", server.namespace), ("dst.identity", _identity(server)),
            ("direction", "inbound"), ("bytes_sent", recv), ("bytes_recv", sent),
            ("duration", f"{round(latency)}ms")], out)
        return True

    def _src(self, pod: Pod) -> list[Field]:
        return [("src.workload", pod.name), ("src.namespace", pod.namespace), ("src.identity", _identity(pod))]

    def _l4(self, client: Pod, server: Pod, host: str, hbone: str, target: str, sent: int, recv: int,
            duration: float, end: float, out: list[Line]) -> None:
        """Both ztunnels' lines of one L4-only connection."""
        dst: list[Field] = [
            ("dst.hbone_addr", hbone), ("dst.service", host), ("dst.workload", server.name),
            ("dst.namespace", server.namespace), ("dst.identity", _identity(server))]
        src = [("src.addr", Bare(f"{client.ip}:{self.ephemeral()}")), *self._src(client)]
        ms = f"{round(duration)}ms"
        self._log(client, end, [*src, ("dst.addr", Bare(f"{server.ip}:{HBONE_PORT}")), *dst,
                                ("direction", "outbound"), ("bytes_sent", sent), ("bytes_recv", recv),
                                ("duration", ms)], out)
        self._log(server, end, [*src, ("dst.addr", Bare(target)), *dst, ("direction", "inbound"),
                                ("bytes_sent", recv), ("bytes_recv", sent), ("duration", ms)], out)

    def _log(self, on: Pod, end: float, fields: list[Field], out: list[Line]) -> None:
        """Append a line to the log of the ztunnel on ``on``'s node (none there: nothing logged)."""
        ztunnel = self._ztunnel_on(_node(on))
        if ztunnel is not None:
            out.append((end, ztunnel.namespace, ztunnel.name, ztunnel_line(end, fields)))
