"""Reading Istio's standard metrics from Prometheus's HTTP API (instant queries only).

Two ways to reach it, one ``PrometheusClient``:

- ``PrometheusClient.direct(URL, token=, ca_file=)``: ``--prometheus URL``, plain HTTP(S) with an
  optional bearer token and CA bundle;
- ``discover(rest, namespace, service)``: a Service in the cluster (``prometheus`` in
  ``istio-system`` by default) reached through the Kubernetes API server's service proxy
  (``/api/v1/namespaces/NS/services/NAME:PORT/proxy/...``), so only a kubeconfig is needed, as
  Kiali's users expect. The request rides the kube source's ``Rest`` (its auth, TLS and pool).

Every query is bounded: Prometheus's own ``timeout`` parameter, a client read timeout, at most
``MAX_BODY_BYTES`` of answer and ``MAX_SERIES`` series. Failures raise ``PrometheusError`` with a
one-line cause.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from meshtui.sources.base import SourceError

#: Seconds Prometheus may spend on one query (its ``timeout`` parameter) and we wait for it.
QUERY_TIMEOUT_S = 10.0
#: The largest answer read (a split of one service is a few kB).
MAX_BODY_BYTES = 8 * 1024 * 1024
#: The most series one answer may hold.
MAX_SERIES = 2000
#: Where Istio's sample add-on installs Prometheus.
DEFAULT_NAMESPACE = "istio-system"
DEFAULT_SERVICE = "prometheus"

#: ``transport(api_path, params, timeout) -> body``: one GET of the HTTP API.
Transport = Callable[[str, Sequence[tuple[str, str]], float], bytes]


class PrometheusError(SourceError):
    """Prometheus could not answer a query: unreachable, refused, bad query, oversized answer."""


@dataclass(frozen=True, slots=True)
class PrometheusClient:
    """Instant queries against one Prometheus; ``description`` says which, for status lines."""

    transport: Transport
    description: str

    @classmethod
    def direct(cls, url: str, *, token: str | None = None, ca_file: str | None = None,
               insecure: bool = False) -> "PrometheusClient":
        """A Prometheus at ``url`` (``http(s)://host:port[/prefix]``)."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PrometheusError(f"--prometheus {url}: not an http(s):// URL")
        context: ssl.SSLContext | None = None
        if parts.scheme == "https":
            try:
                context = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise PrometheusError(f"--prometheus-ca {ca_file}: {getattr(exc, 'strerror', None) or exc}") from None
            if insecure:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
        base = url.rstrip("/")

        def transport(path: str, params: Sequence[tuple[str, str]], timeout: float) -> bytes:
            request = urllib.request.Request(f"{base}{path}?{urllib.parse.urlencode(list(params))}")
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:
                    return bytes(resp.read(MAX_BODY_BYTES + 1))
            except urllib.error.HTTPError as exc:
                body = exc.read(MAX_BODY_BYTES)
                raise PrometheusError(_api_error(exc.code, body) or f"HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                text = getattr(reason, "strerror", None) or str(reason)
                raise PrometheusError(f"cannot reach Prometheus at {url}: {text}") from None

        return cls(transport, url)

    def query(self, promql: str, at: float, timeout: float = QUERY_TIMEOUT_S) -> list[dict[str, Any]]:
        """The instant vector of ``promql`` evaluated at unix time ``at``."""
        params = [("query", promql), ("time", f"{at:.3f}"), ("timeout", f"{timeout:g}s")]
        body = self.transport("/api/v1/query", params, timeout + 2.0)
        if len(body) > MAX_BODY_BYTES:
            raise PrometheusError(f"{self.description}: answer larger than {MAX_BODY_BYTES // 2**20} MiB")
        try:
            doc = json.loads(body)
        except ValueError:
            raise PrometheusError(f"{self.description}: the answer is not Prometheus JSON "
                                  f"(is this Prometheus's address?)") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            error = doc.get("error") if isinstance(doc, dict) else None
            raise PrometheusError(f"{self.description}: query failed: {error or 'no status'}")
        data = doc.get("data") or {}
        if data.get("resultType") != "vector":
            raise PrometheusError(f"{self.description}: expected a vector, got {data.get('resultType')}")
        result = data.get("result") or []
        if len(result) > MAX_SERIES:
            raise PrometheusError(f"{self.description}: more than {MAX_SERIES} series in one answer")
        return list(result)


def _api_error(status: int, body: bytes) -> str | None:
    """Prometheus's own error text (``{"status":"error","error":...}``), on one line."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if isinstance(doc, dict) and doc.get("error"):
        return f"Prometheus answered {status}: {' '.join(str(doc['error']).split())}"
    return None


def service_proxy_path(namespace: str, service: str, port: str) -> str:
    """The API server's proxy path of a Service port (``/api/v1/namespaces/NS/services/N:P/proxy``)."""
    q = urllib.parse.quote
    return f"/api/v1/namespaces/{q(namespace)}/services/{q(service)}:{q(port)}/proxy"


def _service_port(service: dict[str, Any]) -> str | None:
    """The port Prometheus's API is on: one named like ``http``/``web``, else the first (9090 usually)."""
    ports = [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    if not ports:
        return None
    for p in ports:
        if str(p.get("name", "")).lower() in ("http", "web", "http-prometheus", "http-web"):
            return str(p.get("name"))
    first = ports[0]
    return str(first.get("name") or first.get("port"))


def discover(rest: Any, namespace: str = DEFAULT_NAMESPACE,
             service: str = DEFAULT_SERVICE) -> tuple[PrometheusClient | None, str]:
    """Prometheus behind Service ``namespace/service`` through the API server's service proxy.

    ``rest`` is the kube source's ``meshtui.sources.kube_rest.Rest``. Returns the client and a
    description, or ``None`` and the one-line reason there is none.
    """
    from meshtui.sources.kube_rest import HttpError

    where = f"Service {service} in {namespace}"
    try:
        obj = rest.json("GET", f"/api/v1/namespaces/{urllib.parse.quote(namespace)}/services/"
                               f"{urllib.parse.quote(service)}")
    except HttpError as exc:
        if exc.status == 404:
            return None, f"no {where}"
        return None, f"cannot read {where}: {exc.message}"
    except SourceError as exc:
        return None, f"cannot read {where}: {exc}"
    port = _service_port(obj if isinstance(obj, dict) else {})
    if port is None:
        return None, f"{where} has no ports"
    base = service_proxy_path(namespace, service, port)
    description = f"{where} (port {port}) via the API server"

    def transport(path: str, params: Sequence[tuple[str, str]], timeout: float) -> bytes:
        try:
            resp = rest.open("GET", base + path, list(params), read_timeout=timeout)
        except HttpError as exc:
            # Prometheus's own error (a bad query) comes back as its JSON, not a Status.
            error = exc.status_obj.get("error")
            text = f"Prometheus answered {exc.status}: {' '.join(str(error).split())}" if error else exc.message
            raise PrometheusError(f"{description}: {text}") from None
        except SourceError as exc:
            raise PrometheusError(f"{description}: {exc}") from None
        try:
            return bytes(resp.read(MAX_BODY_BYTES + 1) or b"")
        except OSError as exc:
            raise PrometheusError(f"{description}: {exc}") from None
        finally:
            resp.release_conn()

    return PrometheusClient(transport, description), description
