"""What the demo's workloads do, for the traffic simulator: who calls whom, and how each version
of each app answers.

- ``FLOWS``: the demo's callers (the ingress gateway for ``catalog.istioinaction.io`` and
  Bookinfo's ``/productpage``; a ``curl`` pod in ``default`` calling ``backend-service`` plain,
  with ``x-canary: true`` and under ``/test/v1``; productpage calling reviews, some requests as
  ``end-user: jason``, and details; reviews v2/v3 calling ratings; the ``legacy-gateway`` proxy
  calling ``backend-service`` with its callers' Host, which no VirtualService lists: the
  Host-header trap; in the ambient ``shop`` namespace, storefront calling basket through its
  waypoint and stock with no waypoint), each with its share of the total request rate.
- ``behaviour_for(labels)``: latency distribution, error rate and response size per app/version.
  productpage answers ~5 % 503s (retried by the ingress gateway), reviews v3 is slower,
  backend-service v1 answers some 500s: the demo has something to find; catalog v2 is healthy,
  the canary to promote.
- ``with_overrides(behaviour, annotations)``: the ``meshtui.io/simulate-*`` annotations of a
  workload's Deployment or pod (``SIMULATE_ANNOTATIONS``) replace parts of that behaviour, so a
  user or a test can ``kubectl annotate`` a version into failure while traffic flows.
- ``ensure_clients(store)``: the demo manifests have no plain mesh client in ``default``, so the
  simulator adds Istio's ``curl`` sample there (Deployment and its pod).
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from meshtui.sandbox import podgen
from meshtui.sandbox.store import Store

_Z99 = 2.3263  # the 99th percentile of the standard normal distribution


@dataclass(frozen=True, slots=True)
class Behaviour:
    """How one version of an app answers: log-normal latency given by its median and p99, a
    share of error responses, and the usual response size."""

    median_ms: float
    p99_ms: float
    error_rate: float = 0.0
    error_status: int = 500
    bytes_sent: int = 300

    def latency_ms(self, rng: random.Random) -> float:
        """One response time drawn from the distribution (milliseconds)."""
        sigma = math.log(max(self.p99_ms, self.median_ms) / self.median_ms) / _Z99
        return rng.lognormvariate(math.log(self.median_ms), sigma)

    def status(self, rng: random.Random) -> int:
        """The status code of one response."""
        return self.error_status if self.error_rate and rng.random() < self.error_rate else 200

    def size(self, rng: random.Random, status: int) -> int:
        """The response body size for ``status``."""
        if status >= 400:
            return rng.randint(19, 95)
        return max(1, int(self.bytes_sent * rng.uniform(0.9, 1.1)))


DEFAULT_BEHAVIOUR = Behaviour(median_ms=4.0, p99_ms=25.0)

#: (app label, version label) -> behaviour; ``"*"`` as version covers every version of an app.
BEHAVIOURS: dict[tuple[str, str], Behaviour] = {
    ("catalog", "v1"): Behaviour(median_ms=9.0, p99_ms=45.0, bytes_sent=502),
    # catalog v2 is the healthy canary of the demo's release walk-through (issue 18's Done-when);
    # `kubectl annotate deploy catalog-v2 meshtui.io/simulate-error-rate=0.3` turns it bad.
    ("catalog", "v2"): Behaviour(median_ms=11.0, p99_ms=60.0, bytes_sent=594),
    ("backend-service", "v0"): Behaviour(median_ms=6.0, p99_ms=35.0, bytes_sent=262),
    ("backend-service", "v1"): Behaviour(median_ms=7.0, p99_ms=60.0, error_rate=0.04, error_status=500,
                                         bytes_sent=271),
    # productpage's flaky dependency: ~5 % 503s that the ingress gateway's retries mostly hide.
    ("productpage", "*"): Behaviour(median_ms=38.0, p99_ms=160.0, error_rate=0.05, error_status=503,
                                    bytes_sent=5289),
    ("details", "*"): Behaviour(median_ms=2.0, p99_ms=12.0, bytes_sent=178),
    ("reviews", "v1"): Behaviour(median_ms=6.0, p99_ms=30.0, bytes_sent=358),
    ("reviews", "v2"): Behaviour(median_ms=14.0, p99_ms=70.0, bytes_sent=379),
    ("reviews", "v3"): Behaviour(median_ms=95.0, p99_ms=480.0, bytes_sent=375),
    ("ratings", "*"): Behaviour(median_ms=2.0, p99_ms=10.0, bytes_sent=48),
}


def behaviour_for(labels: Mapping[str, str]) -> Behaviour:
    """The behaviour of a pod with these labels (by ``app`` and ``version``)."""
    app = labels.get("app", "")
    return (BEHAVIOURS.get((app, labels.get("version", "")))
            or BEHAVIOURS.get((app, "*")) or DEFAULT_BEHAVIOUR)


#: Annotation -> the ``Behaviour`` field it sets, and the range its value must lie in.
SIMULATE_ANNOTATIONS: dict[str, tuple[str, float, float]] = {
    "meshtui.io/simulate-error-rate": ("error_rate", 0.0, 1.0),
    "meshtui.io/simulate-error-status": ("error_status", 100, 599),
    "meshtui.io/simulate-latency-median-ms": ("median_ms", 0.001, 3_600_000.0),
    "meshtui.io/simulate-latency-p99-ms": ("p99_ms", 0.001, 3_600_000.0),
}


def with_overrides(behaviour: Behaviour, annotations: Mapping[str, str]) -> tuple[Behaviour, list[str]]:
    """``behaviour`` with the ``meshtui.io/simulate-*`` values of ``annotations`` applied, and a
    message per value that is not a number in range (that one is ignored, the others apply)."""
    changes: dict[str, float | int] = {}
    problems: list[str] = []
    for key, (name, low, high) in SIMULATE_ANNOTATIONS.items():
        text = annotations.get(key)
        if text is None:
            continue
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:  # also rejects NaN
            problems.append(f"{key}={text!r}: expected a number from {low:g} to {high:g}")
            continue
        changes[name] = int(value) if name == "error_status" else value
    if not changes:
        return behaviour, problems
    merged = dataclasses.replace(behaviour, **changes)  # type: ignore[arg-type]
    if "p99_ms" not in changes and merged.p99_ms < merged.median_ms:  # a median alone moves the tail with it
        merged = dataclasses.replace(merged, p99_ms=merged.median_ms * behaviour.p99_ms / behaviour.median_ms)
    return merged, problems


@dataclass(frozen=True, slots=True)
class RequestKind:
    """One kind of request a caller sends: ``weight`` among the caller's kinds, the Host it
    names (``name[:port]``), the paths drawn uniformly, extra headers, method and body size."""

    weight: float
    host: str
    paths: tuple[str, ...]
    headers: tuple[tuple[str, str], ...] = ()
    method: str = "GET"
    body_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Flow:
    """A caller: its pods (``namespace`` + ``selector``, optionally only some ``versions``), the
    share of the total rate it sends, the gateway it is (None for a sidecar), its user agents
    and the requests it makes."""

    name: str
    namespace: str
    selector: Mapping[str, str]
    share: float
    requests: tuple[RequestKind, ...]
    user_agents: tuple[str, ...]
    gateway: str | None = None
    versions: tuple[str, ...] = ()
    protocols: tuple[str, ...] = ("HTTP/1.1",)
    external_clients: tuple[str, ...] = field(default_factory=tuple)  # edge callers' IPs


_BROWSERS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "curl/8.16.0",
)
_EDGE_CLIENTS = ("172.18.0.1", "203.0.113.24", "198.51.100.7", "192.0.2.61")
_INGRESS = {"istio": "ingressgateway"}
LEGACY_GATEWAY_HOST = "10.22.12.178:30785"

FLOWS: tuple[Flow, ...] = (
    Flow("edge-catalog", "istio-system", _INGRESS, 0.25, (
        RequestKind(0.75, "catalog.istioinaction.io", ("/items", "/items/1", "/items/2", "/items/3")),
        RequestKind(0.05, "catalog.istioinaction.io", ("/items",), (("x-istio-cohort", "internal"),)),
        RequestKind(0.20, "catalog.istioinaction.io", ("/items",), (("content-type", "application/json"),),
                    "POST", 68),
    ), _BROWSERS, gateway="istioinaction/catalog-gateway", protocols=("HTTP/1.1", "HTTP/2"),
        external_clients=_EDGE_CLIENTS),
    Flow("edge-bookinfo", "istio-system", _INGRESS, 0.10, (
        RequestKind(0.85, "bookinfo.example.com", ("/productpage",)),
        RequestKind(0.10, "bookinfo.example.com", ("/static/bootstrap/css/bootstrap.min.css",
                                                   "/static/jquery.min.js")),
        RequestKind(0.05, "bookinfo.example.com", ("/api/v1/products", "/api/v1/products/0/reviews")),
    ), _BROWSERS, gateway="bookinfo/bookinfo-gateway", protocols=("HTTP/1.1", "HTTP/2"),
        external_clients=_EDGE_CLIENTS),
    Flow("curl-backend", "default", {"app": "curl"}, 0.30, (
        RequestKind(0.75, "backend-service", ("/", "/api/orders", "/api/users/42", "/healthz")),
        RequestKind(0.15, "backend-service", ("/api/orders",), (("x-canary", "true"),)),
        RequestKind(0.10, "backend-service", ("/test/v1/api/orders", "/test/v1/healthz")),
    ), ("curl/8.16.0",)),
    # A proxy that forwards its callers' Host (node IP:NodePort) while dialling backend-service:
    # that Host matches no VirtualService host, so the 90/10 split does not apply to it.
    Flow("legacy-gateway-backend", "default", {"app": "legacy-gateway"}, 0.15, (
        RequestKind(1.0, "backend-service", ("/api/orders", "/api/users/42"),
                    (("host", LEGACY_GATEWAY_HOST),)),
    ), ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",)),
    Flow("productpage-reviews", "bookinfo", {"app": "productpage"}, 0.15, (
        RequestKind(0.8, "reviews:9080", ("/reviews/0",)),
        RequestKind(0.2, "reviews:9080", ("/reviews/0",), (("end-user", "jason"),)),
    ), ("python-requests/2.32.3",)),
    Flow("productpage-details", "bookinfo", {"app": "productpage"}, 0.10, (
        RequestKind(1.0, "details:9080", ("/details/0",)),
    ), ("python-requests/2.32.3",)),
    Flow("reviews-ratings", "bookinfo", {"app": "reviews"}, 0.10, (
        RequestKind(1.0, "ratings:9080", ("/ratings/0",)),
    ), ("Apache-CXF/3.1.18",), versions=("v2", "v3")),
    # storefront: in-mesh calls shaped by the GAMMA HTTPRoute on cart (90/10, x-canary to v2).
    Flow("web-cart", "storefront", {"app": "web"}, 0.10, (
        RequestKind(0.9, "cart:8080", ("/cart", "/cart/items")),
        RequestKind(0.1, "cart:8080", ("/cart",), (("x-canary", "true"),)),
    ), ("node-fetch/1.0",)),
    # storefront north-south: the Gateway API Gateway's proxy, routed by the HTTPRoute web (9/1).
    Flow("edge-storefront", "storefront", {"gateway.networking.k8s.io/gateway-name": "storefront-gateway"}, 0.10, (
        RequestKind(0.6, "shop.example.com", ("/cart", "/cart/items")),
        RequestKind(0.4, "shop.example.com", ("/", "/index.html")),
    ), _BROWSERS, gateway="storefront/storefront-gateway", external_clients=_EDGE_CLIENTS),
    # shop (ambient): basket through its waypoint (the HTTPRoute's 90/10), stock L4 only.
    Flow("storefront-basket", "shop", {"app": "storefront"}, 0.10, (
        RequestKind(1.0, "basket:9080", ("/basket", "/basket/items")),
    ), ("python-requests/2.32.3",)),
    Flow("storefront-stock", "shop", {"app": "storefront"}, 0.05, (
        RequestKind(1.0, "stock:9080", ("/stock/1", "/stock/2")),
    ), ("python-requests/2.32.3",)),
)

# Istio's samples/curl/curl.yaml (Deployment; its Service and ServiceAccount are not needed).
_CURL_TEMPLATE: dict[str, Any] = {
    "metadata": {"labels": {"app": "curl"}},
    "spec": {"terminationGracePeriodSeconds": 0, "serviceAccountName": "curl", "containers": [{
        "name": "curl", "image": "docker.io/curlimages/curl:8.16.0",
        "command": ["/bin/sleep", "infinity"], "imagePullPolicy": "IfNotPresent"}]},
}


def _free_pod_ip(store: Store) -> str:
    taken = {ipaddress.ip_address(ip) for p in store.list("pods")
             if (ip := (p.get("status") or {}).get("podIP"))}
    base = ipaddress.ip_address("10.244.0.10")
    pod_net = [ip for ip in taken if ip in ipaddress.ip_network("10.244.0.0/16")]
    candidate = max(pod_net, default=base) + 1
    while candidate in taken:
        candidate += 1
    return str(candidate)


def ensure_clients(store: Store) -> None:
    """Add the ``curl`` Deployment and pod to ``default`` unless a pod labelled ``app=curl`` is
    there already (run on the loop thread, or before the sandbox serves)."""
    if store.get("namespaces", None, "default") is None:
        return
    if any((p["metadata"].get("labels") or {}).get("app") == "curl" for p in store.list("pods", "default")):
        return
    if store.get("deployments", "default", "curl") is None:
        store.create({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": "curl", "namespace": "default"},
                      "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "curl"}},
                               "template": copy.deepcopy(_CURL_TEMPLATE)},
                      "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
                                 "updatedReplicas": 1, "observedGeneration": 1}})
    store.create(podgen.make_pod("default", "curl", copy.deepcopy(_CURL_TEMPLATE), 0, _free_pod_ip(store)))
