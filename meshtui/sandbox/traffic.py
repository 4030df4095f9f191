"""The sandbox's traffic simulator: demo requests sent through the routing engine, written as
Istio access-log lines to the ``istio-proxy`` logs of the client and of the pod that answered.

``TrafficSimulator(store, logs, rps)`` keeps a ``MeshIndex`` in step with the store (a store
listener, so a weight changed with kubectl applies to the very next request) and, once
``start()``-ed on the sandbox's event loop, sends about ``rps`` requests a second from the
callers in ``meshtui.sandbox.workloads.FLOWS``. Each request is traced (``routing.trace``), its
outcome drawn with ``routing.simulate.choose_destination`` (weights, matches, rewrites, faults,
mirrors, NR / UH / NC), then answered with the chosen pod's behaviour (latency, error rate;
``meshtui.io/simulate-*`` annotations on its Deployment or on the pod override it, the pod's
winning, from the next request on),
with Istio's retry policy (the route's, or the mesh default: 2 retries on 503) and the route
timeout. Lines use Istio's default TEXT format (``meshtui.accesslog.format.ISTIO_TEXT_FORMAT``):
one outbound line at the caller, one inbound line per attempt at the server, one inbound line
with authority ``<host>-shadow`` at each mirror target. A caller captured by ztunnel (ambient
mode) gets the lines of ``meshtui.sandbox.ambient_traffic`` instead: ztunnel connection logs, and
the waypoint's access line when the Service has one.

Everything runs on the loop thread: one asyncio task, no thread, no lock.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterable
from typing import Any

from meshtui.model import Deployment, Pod, Service
from meshtui.model.index import MeshIndex
from meshtui.routing.gateway_api_names import envoy_route_name
from meshtui.routing.request import RequestError, TraceRequest
from meshtui.routing.result import TraceResult
from meshtui.routing.simulate import Choice, choose_destination, parse_duration_ms
from meshtui.routing.trace import trace
from meshtui.sandbox.access_lines import access_line, outbound_cluster, shadow_authority
from meshtui.sandbox.ambient_traffic import AmbientTraffic
from meshtui.sandbox.istio_stats import IstioStats
from meshtui.sandbox.kinds import BY_PLURAL
from meshtui.sandbox.loghub import LogHub
from meshtui.sandbox.store import Store
from meshtui.sandbox.workloads import FLOWS, Behaviour, Flow, RequestKind, behaviour_for, with_overrides

DEFAULT_RPS = 20.0
MAX_RPS = 1000.0  # the whole simulator, every caller together
TICK_SECONDS = 0.05
CONTAINER = "istio-proxy"
_SKIP_KINDS = frozenset({"CustomResourceDefinition", "Endpoints", "EndpointSlice"})
_NET_MS = 0.4  # one hop between sidecars
_LOCAL_REPLY = {"NR": "route_not_found", "FI": "fault_filter_abort", "UH": "no_healthy_upstream",
                "NC": "cluster_not_found"}
_LOCAL_BODY = {"FI": 18, "UH": 19, "UT": 24}  # "fault filter abort", "no healthy upstream"...
Line = tuple[float, str, str, str]  # (completion time, namespace, pod, line)


class TrafficError(ValueError):
    """A simulator setting out of range (e.g. the request rate)."""


def check_rps(rps: float) -> float:
    """``rps`` when it is within (0, MAX_RPS]; TrafficError otherwise."""
    if not 0 < rps <= MAX_RPS:
        raise TrafficError(f"request rate {rps:g}/s is outside 0 < rate <= {MAX_RPS:g}")
    return float(rps)


class RetryPolicy:
    """An Envoy retry policy as Istio configures it: ``attempts`` retries on the statuses of
    ``retry_on`` (names and numbers), each try cut at ``per_try_ms``."""

    def __init__(self, attempts: int, retry_on: str, per_try_ms: float = float("inf")) -> None:
        self.attempts = attempts
        self.per_try_ms = per_try_ms
        self.on = {p.strip() for p in retry_on.split(",") if p.strip()}
        self.codes = {int(p) for p in self.on if p.isdigit()}

    @classmethod
    def of(cls, retries: dict[str, Any] | None) -> "RetryPolicy":
        """The policy of a route (``TraceResult.retries``), or Istio's default when unset."""
        if retries is None:  # Istio's DefaultRetryPolicy: 2 attempts, 503 and connection errors
            return cls(2, "connect-failure,refused-stream,unavailable,cancelled,503")
        attempts = retries.get("attempts")
        return cls(2 if attempts is None else int(attempts),
                   retries.get("retry_on") or "connect-failure,refused-stream,unavailable,cancelled,503",
                   parse_duration_ms(retries.get("per_try_timeout")) or float("inf"))

    def retries(self, status: int) -> bool:
        """Whether an upstream answer with ``status`` is retried."""
        return (status in self.codes or ("5xx" in self.on and status >= 500)
                or ("gateway-error" in self.on and status in (502, 503, 504))
                or ("retriable-4xx" in self.on and status == 409))

    @property
    def on_timeout(self) -> bool:
        """Whether a per-try timeout is retried."""
        return bool(self.on & {"5xx", "gateway-error", "reset"})


class TrafficSimulator:
    """Demo traffic on the sandbox loop; see the module docstring."""

    def __init__(self, store: Store, logs: LogHub, rps: float = DEFAULT_RPS, seed: int | None = None,
                 flows: Iterable[Flow] = FLOWS, stats: IstioStats | None = None) -> None:
        self.rps = check_rps(rps)
        self.stats = stats if stats is not None else IstioStats()  # what the sidecars' /stats/prometheus serve
        self.store = store
        self.logs = logs
        self.flows = tuple(flows)
        self.rng = random.Random(seed)
        self.sent = 0  # requests simulated so far
        self.failures = 0  # requests the simulator itself could not simulate (a bug or odd config)
        self.last_failure = ""
        objects = (o for t in BY_PLURAL.values() if t.kind not in _SKIP_KINDS for o in store.list(t.key))
        self.index = MeshIndex(objects)
        self._traces: dict[tuple[Any, ...], TraceResult | None] = {}
        self._ports: dict[tuple[Any, ...], int] = {}
        self._clients: dict[str, list[Pod]] | None = None
        self._behaviours: dict[tuple[str, str], Behaviour] = {}
        self._task: asyncio.Task[None] | None = None
        self.ambient = AmbientTraffic(self.index, self.rng, self._behaviour, self._ephemeral, self.stats)
        store.add_listener(self._on_event)

    # -- keeping the index current -------------------------------------------------------------
    def _on_event(self, event_type: str, obj: dict[str, Any]) -> None:
        kind = obj.get("kind", "")
        if kind in _SKIP_KINDS:
            return
        meta = obj.get("metadata") or {}
        try:
            if event_type == "DELETED":
                group = str(obj.get("apiVersion") or "").rpartition("/")[0]
                self.index.delete(kind, meta.get("namespace", ""), meta.get("name", ""), group=group)
            else:
                self.index.upsert(obj)
        except Exception as exc:  # the store calls us inside its write: never fail that write
            self.failures += 1
            self.last_failure = f"index {kind} {meta.get('name')}: {exc!r}"
        self._traces.clear()
        self._ports.clear()
        self._clients = None
        self._behaviours.clear()
        self.ambient.clear()

    # -- running -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """Whether the simulator task is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start sending (call on the sandbox's running event loop)."""
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="meshtui-traffic")

    async def stop(self) -> None:
        """Stop sending and detach from the store; idempotent."""
        self.store.remove_listener(self._on_event)
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        due = 0.0
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = loop.time()
            span = min(now - last, 1.0)
            last = now
            # After a stall, catch up at most one second of requests: the rate stays bounded.
            due = min(due + span * self.rps, self.rps + 1.0)
            n = int(due)
            due -= n
            self.step(n, span=span)

    def step(self, n: int, span: float = 0.0) -> int:
        """Simulate ``n`` requests that ended within the last ``span`` seconds and append their
        lines; returns how many could be simulated (callers without pods send nothing)."""
        flows = [f for f in self.flows if self._clients_of(f)]
        if not flows or n <= 0:
            return 0
        now = time.time()
        lines: list[Line] = []
        done = 0
        for flow in self.rng.choices(flows, weights=[f.share for f in flows], k=n):
            try:
                done += self._request(flow, now - self.rng.random() * span, lines)
            except Exception as exc:  # one odd object must not stop the demo's traffic
                self.failures += 1
                self.last_failure = f"{flow.name}: {exc!r}"
        lines.sort(key=lambda entry: entry[0])
        for ts, ns, pod, line in lines:
            self.logs.append(ns, pod, CONTAINER, line, ts)
        self.sent += done
        return done

    # -- one request ---------------------------------------------------------------------------
    def _clients_of(self, flow: Flow) -> list[Pod]:
        if self._clients is None:
            self._clients = {}
        pods = self._clients.get(flow.name)
        if pods is None:
            pods = self._clients[flow.name] = [
                p for p in self.index.pods_matching(flow.namespace, dict(flow.selector))
                if isinstance(p, Pod) and p.ready and p.ip
                and (not flow.versions or p.labels.get("version") in flow.versions)]
        return pods

    def _trace(self, flow: Flow, kind: RequestKind, path: str, client: Pod) -> TraceResult | None:
        key = (flow.name, kind, path, client.namespace, client.name)
        if key not in self._traces:
            try:
                request = TraceRequest.build(kind.host, path, kind.method, kind.headers,
                                             source_labels=client.labels, source_namespace=client.namespace,
                                             gateway=flow.gateway)
                self._traces[key] = trace(self.index, request)
            except RequestError:  # e.g. the flow's Gateway was deleted: the caller falls silent
                self._traces[key] = None
        return self._traces[key]

    def _pod(self, key: str) -> Pod | None:
        ns, _, name = key.partition("/")
        pod = self.index.get("Pod", ns, name)
        return pod if isinstance(pod, Pod) else None

    def _service(self, key: str | None) -> Service | None:
        if not key:
            return None
        ns, _, name = key.partition("/")
        svc = self.index.get("Service", ns, name)
        return svc if isinstance(svc, Service) else None

    def _target_port(self, service: Service | None, port: int | None, pod: Pod) -> int:
        """The container port behind a Service port (named target ports looked up in the pod)."""
        ports = service.ports if service is not None else []
        for sp in ports:
            if sp.port != port and not (port is None and len(ports) == 1):
                continue
            target = sp.target_port if sp.target_port is not None else sp.port
            if isinstance(target, int):
                return target
            for c in (pod.raw.get("spec") or {}).get("containers") or []:
                for cp in c.get("ports") or []:
                    if cp.get("name") == target and cp.get("containerPort"):
                        return int(cp["containerPort"])
        return port or 80

    def _listen_port(self, client: Pod, port: int | None) -> int:
        """The port a gateway pod listens on for a Gateway server port (its Service's target)."""
        key = ("listen", client.namespace, client.name, port)
        found = self._ports.get(key)
        if found is None:
            found = port or 80
            for svc in self.index.services:
                sel = svc.selector or {}
                if svc.namespace == client.namespace and sel and all(client.labels.get(k) == v
                                                                     for k, v in sel.items()):
                    found = next((sp.target_port for sp in svc.ports
                                  if sp.port == port and isinstance(sp.target_port, int)), found)
            self._ports[key] = found
        return found

    def _behaviour(self, pod: Pod) -> Behaviour:
        """How ``pod`` answers: its app/version's behaviour, then the ``meshtui.io/simulate-*``
        annotations of the Deployment that owns it, then the pod's own."""
        key = (pod.namespace, pod.name)
        found = self._behaviours.get(key)
        if found is None:
            found = behaviour_for(pod.labels)
            for annotations in (self._deployment_annotations(pod), pod.annotations):
                found, problems = with_overrides(found, annotations)
                for problem in problems:
                    self.last_failure = f"{pod.namespace}/{pod.name}: {problem}"
            self._behaviours[key] = found
        return found

    def _deployment_annotations(self, pod: Pod) -> dict[str, str]:
        """The annotations of the Deployment whose ReplicaSet owns ``pod`` (by the owner's name,
        ``<deployment>-<pod-template-hash>``, else by the Deployment's selector)."""
        owners = ((pod.raw.get("metadata") or {}).get("ownerReferences")) or []
        rs = next((o.get("name") for o in owners if isinstance(o, dict) and o.get("kind") == "ReplicaSet"), None)
        phash = pod.labels.get("pod-template-hash")
        if isinstance(rs, str) and phash and rs.endswith(f"-{phash}"):
            deploy = self.index.get("Deployment", pod.namespace, rs[: -len(phash) - 1])
            if isinstance(deploy, Deployment):
                return deploy.annotations
        for deploy in self.index.deployments:
            if (deploy.namespace == pod.namespace and deploy.selector
                    and all(pod.labels.get(k) == v for k, v in deploy.selector.items())):
                return deploy.annotations
        return {}

    def _ephemeral(self) -> int:
        return self.rng.randint(32768, 60999)

    def _request(self, flow: Flow, end: float, out: list[Line]) -> bool:
        rng = self.rng
        client = rng.choice(self._clients_of(flow))
        kind = rng.choices(flow.requests, weights=[k.weight for k in flow.requests])[0]
        path = rng.choice(kind.paths)
        result = self._trace(flow, kind, path, client)
        if result is None:
            return False
        choice = choose_destination(result, rng)
        base = {"method": result.request.method, "path": result.request.path,
                "protocol": rng.choice(flow.protocols), "received": kind.body_bytes,
                "agent": rng.choice(flow.user_agents), "authority": choice.authority,
                "request_id": str(uuid.UUID(int=rng.getrandbits(128), version=4))}
        if flow.gateway:
            edge = rng.choice(flow.external_clients)
            xff, remote = edge, f"{edge}:{self._ephemeral()}"
            local = f"{client.ip}:{self._listen_port(client, result.port)}"
        else:
            svc = self._service(result.service)
            xff, remote = "-", f"{client.ip}:{self._ephemeral()}"
            port = choice.destination.port if choice.destination else result.port
            local = f"{svc.cluster_ip if svc and svc.cluster_ip else '10.96.0.1'}:{port or 80}"
        # Envoy's route name: the rule's name, "default" for Istio's default route, and for a
        # Host no virtual host lists, the catch-all "allow_any" (ALLOW_ANY outbound policy).
        route = {"default": "default", "passthrough": "allow_any"}.get(
            result.outcome, result.rule_name or "-")
        if result.route_kind in ("HTTPRoute", "GRPCRoute") and result.rule_index is not None:
            # istiod names the Envoy route of a Gateway API rule (its name, else ns.route.N).
            ns, _, name = (result.route_name or "").partition("/")
            route = envoy_route_name(ns, name, result.rule_index, result.rule_name)
        svc = self._service(result.service)
        if not flow.gateway and svc is not None and self.ambient.handles(client):
            # ztunnel captured the caller: a waypoint (if any) does L7, else L4 only.
            return self.ambient.request(client, svc, result, base, route, end, out)
        client_line = {**base, "xff": xff, "downstream_local": local, "downstream_remote": remote,
                       "server_name": "-", "route": route}
        if choice.pod is None:
            self._local_reply(result, choice, client, client_line, end, out)
        else:
            self._upstream(result, choice, client, client_line, xff, end, out)
        return True

    def _local_reply(self, result: TraceResult, choice: Choice, client: Pod, line: dict[str, Any],
                     end: float, out: list[Line]) -> None:
        """The client's proxy answered itself: NR, fault abort, UH, NC, redirect..."""
        flags = choice.response_flags
        last = flags.split(",")[-1]
        dest = choice.destination
        if dest is None and last == "FI" and result.destinations:  # the route picked a cluster first
            dest = self.rng.choices(result.destinations, weights=[d.probability or 1e-9
                                                                  for d in result.destinations])[0]
        cluster = "-" if dest is None or last == "NC" else outbound_cluster(dest.port, dest.subset, dest.host)
        duration = choice.delay_ms + self.rng.uniform(0.05, 0.6)
        line.update(code=choice.status or 503, flags=flags, details=_LOCAL_REPLY.get(last, "direct_response"),
                    sent=_LOCAL_BODY.get(last, 0), duration_ms=duration, upstream_ms=None,
                    upstream_host="-", cluster=cluster, upstream_local="-",
                    start=end - duration / 1000)
        out.append((end, client.namespace, client.name, access_line(**line)))
        self.stats.record("source", client, client, None, dest.host if dest else None, line["code"],
                          flags, duration, line["protocol"])
        self._mirrors(choice, line["start"] + choice.delay_ms / 1000, line, out)

    def _upstream(self, result: TraceResult, choice: Choice, client: Pod, line: dict[str, Any],
                  xff: str, end: float, out: list[Line]) -> None:
        """Attempts at upstream pods (retries, per-try and route timeouts), then the client line."""
        rng = self.rng
        dest = choice.destination
        assert dest is not None and choice.pod is not None
        policy = RetryPolicy.of(result.retries)
        timeout = parse_duration_ms(result.timeout) or float("inf")
        service = self._service(dest.service)
        # PassthroughCluster sends plain text to the dialled address: no mTLS, so no SNI inbound.
        sni = ("-" if result.outcome == "passthrough"
               else f"outbound_.{dest.port or ''}_.{dest.subset or ''}_.{dest.host}")
        elapsed = choice.delay_ms + rng.uniform(0.1, 0.5)  # fault delay, then the client proxy's own work
        attempts: list[tuple[float, Pod, dict[str, Any]]] = []  # (offset ms, pod, server fields)
        upstream_ms: float | None
        pod_key, tries, code, flags, details, upstream_ms = choice.pod, 0, 200, "-", "via_upstream", 0.0
        sent = 0
        while True:
            pod = self._pod(pod_key)
            if pod is None:
                raise LookupError(f"pod {pod_key} is not in the index")
            behaviour = self._behaviour(pod)
            latency, status = behaviour.latency_ms(rng), behaviour.status(rng)
            limit = min(policy.per_try_ms, timeout - elapsed - _NET_MS)
            start_ms = elapsed + _NET_MS / 2
            port = self._target_port(service, dest.port, pod)
            server: dict[str, Any] = {"upstream_host": f"{pod.ip}:{port}", "cluster": f"inbound|{port}||",
                      "downstream_local": f"{pod.ip}:{port}", "server_name": sni}
            if latency > limit:  # the client's proxy gives up; the server sees the caller leave
                server.update(code=0, flags="DC", details="downstream_remote_disconnect", sent=0,
                              duration_ms=limit, upstream_ms=None)
                elapsed += limit + _NET_MS
                route_timeout = elapsed >= timeout
                code, flags, sent, upstream_ms = 504, "UT", _LOCAL_BODY["UT"], None
                details = "response_timeout" if route_timeout else "upstream_per_try_timeout"
                retry = policy.on_timeout and not route_timeout
            else:
                body = behaviour.size(rng, status)
                server.update(code=status, flags="-", details="via_upstream", sent=body,
                              duration_ms=latency + 0.3, upstream_ms=latency)
                elapsed += latency + _NET_MS
                code, flags, details, sent, upstream_ms = status, "-", "via_upstream", body, latency + 0.3
                retry = policy.retries(status)
            attempts.append((start_ms, pod, server))
            if retry and tries < policy.attempts and dest.ready:
                tries += 1
                elapsed += rng.uniform(0, 25.0 * 2 ** (tries - 1))  # Envoy's jittered back-off
                pod_key = rng.choice(dest.ready)
                continue
            if retry and tries >= policy.attempts and flags == "-":
                flags = "URX"
            break
        start = end - elapsed / 1000
        last_pod, last_server = attempts[-1][1], attempts[-1][2]
        # An injected delay (DI) stays flagged next to what the upstream exchange adds.
        joined = [f for f in choice.response_flags.split(",") if f and f != "-"]
        flags = ",".join(joined + ([flags] if flags != "-" else [])) or "-"
        if result.outcome == "passthrough":
            # PassthroughCluster connects to the address the client dialled (the ClusterIP);
            # kube-proxy picks the pod, so no subset and no DestinationRule apply.
            cluster, upstream_host = "PassthroughCluster", line["downstream_local"]
        else:
            cluster = outbound_cluster(dest.port, dest.subset, dest.host)
            upstream_host = last_server["upstream_host"]
        line.update(code=code, flags=flags, details=details, sent=sent, duration_ms=elapsed,
                    upstream_ms=upstream_ms, upstream_host=upstream_host, cluster=cluster, start=start,
                    upstream_local=f"{client.ip}:{self._ephemeral()}")
        out.append((end, client.namespace, client.name, access_line(**line)))
        # Istio's stats count what each sidecar reports: the caller's view and every attempt's.
        self.stats.record("source", client, client, last_pod, dest.host, code, flags, elapsed, line["protocol"])
        for _, pod, server in attempts:
            self.stats.record("destination", pod, client, pod, dest.host, server["code"], server["flags"],
                              server["duration_ms"], line["protocol"])
        for offset, pod, server in attempts:
            fields = {**line, **server, "xff": xff, "route": "default", "start": start + offset / 1000,
                      "upstream_local": f"127.0.0.6:{self._ephemeral()}",
                      "downstream_remote": line["upstream_local"] if pod is last_pod
                      else f"{client.ip}:{self._ephemeral()}"}
            out.append((fields["start"] + fields["duration_ms"] / 1000, pod.namespace, pod.name,
                        access_line(**fields)))
        self._mirrors(choice, start + choice.delay_ms / 1000, line, out)

    def _mirrors(self, choice: Choice, start: float, line: dict[str, Any], out: list[Line]) -> None:
        """A shadow copy at each mirror pod: authority ``<host>-shadow``, response ignored."""
        for mirror, key in choice.mirrors:
            pod = self._pod(key) if key else None
            if pod is None:
                continue
            behaviour = self._behaviour(pod)
            latency, status = behaviour.latency_ms(self.rng), behaviour.status(self.rng)
            service = next((s for s in self.index.services_for_host(mirror.host) if isinstance(s, Service)), None)
            port = self._target_port(service, mirror.port, pod)
            fields = {**line, "authority": shadow_authority(choice.authority), "code": status, "flags": "-",
                      "details": "via_upstream", "sent": behaviour.size(self.rng, status),
                      "duration_ms": latency + 0.3, "upstream_ms": latency, "start": start,
                      "upstream_host": f"{pod.ip}:{port}", "cluster": f"inbound|{port}||",
                      "upstream_local": f"127.0.0.6:{self._ephemeral()}", "downstream_local": f"{pod.ip}:{port}",
                      "server_name": f"outbound_.{mirror.port or ''}_.{mirror.subset or ''}_.{mirror.host}",
                      "route": "default"}
            out.append((start + (latency + 0.3) / 1000, pod.namespace, pod.name, access_line(**fields)))
