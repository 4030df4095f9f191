"""Pod-level reads of the kube source: container logs (follow), Envoy admin via port-forward, and
pods by selector (which ztunnel runs on a node)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from meshtui.sources.base import NotFoundError, SourceError, UnavailableError
from meshtui.sources.kube_rest import HttpError, Rest, describe_connection_error, one_line
from meshtui.sources.kube_watch import Canceller, close_response

ENVOY_ADMIN_PORT = 15000
# Envoy answers from memory; a 20 MB config dump through the API server takes seconds, not minutes.
ENVOY_ADMIN_TIMEOUT = 30.0


def stream_logs(
    rest: Rest,
    namespace: str,
    pod: str,
    *,
    container: str,
    follow: bool,
    tail_lines: int | None,
    since_seconds: int | None,
    stops: Sequence[threading.Event],
) -> Iterator[str]:
    """The container's log lines (no newline) until the log ends or one of ``stops`` is set.

    The request is sent before this returns (it is not a lazy generator): a returned stream is
    one the server accepted, so a follower may say "resumed" only then. This is the request ``CoreV1Api.read_namespaced_pod_log(follow=True, _preload_content=False)``
    sends (``GET .../pods/{pod}/log``), issued through the same ``ApiClient`` so that the read can
    have a connect timeout and no read timeout: a quiet followed log is not an error. A set stop
    event shuts the socket down, so the generator ends within ~0.1 s even while no line arrives.
    """
    query: list[tuple[str, Any]] = [("container", container), ("follow", "true" if follow else "false")]
    if tail_lines is not None:
        query.append(("tailLines", int(tail_lines)))
    if since_seconds is not None:
        query.append(("sinceSeconds", int(since_seconds)))
    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
    try:
        resp = rest.open("GET", path, query, read_timeout=None if follow else 60.0, accept="*/*")
    except HttpError as exc:
        raise _log_error(exc, namespace, pod, container) from exc
    return _log_lines(resp, rest.host, namespace, pod, container, stops)


def _log_lines(resp: Any, host: str, namespace: str, pod: str, container: str,
               stops: Sequence[threading.Event]) -> Iterator[str]:
    """The lines of an open log response; a set stop shuts the socket down (see ``stream_logs``)."""
    halt = threading.Event()
    canceller = Canceller(stops, halt, 0.1)
    canceller.start()
    canceller.register(resp)
    import urllib3.exceptions

    buf = b""
    try:
        for chunk in resp.stream(amt=None, decode_content=True):
            if halt.is_set():
                return
            buf += chunk
            if b"\n" not in buf:
                continue
            *lines, buf = buf.split(b"\n")
            for line in lines:
                yield line.decode("utf-8", "replace").rstrip("\r")
                if halt.is_set():
                    return
        if buf and not halt.is_set():
            yield buf.decode("utf-8", "replace").rstrip("\r")
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if not halt.is_set():
            raise UnavailableError(
                f"log of {namespace}/{pod} [{container}]: {describe_connection_error(exc, host)}"
            ) from exc
    finally:
        halt.set()
        canceller.unregister(resp)
        close_response(resp)
        canceller.join(timeout=1.0)


def _log_error(exc: HttpError, namespace: str, pod: str, container: str) -> SourceError:
    if exc.status == 404:
        return NotFoundError(f"pod {namespace}/{pod} not found")
    if exc.status == 400:
        # "container X is not valid for pod Y" / "container X in pod Y is waiting to start"
        if "not valid" in exc.message or "not found" in exc.message:
            return NotFoundError(f"log of {namespace}/{pod}: {exc.message}")
        return UnavailableError(f"log of {namespace}/{pod} [{container}]: {exc.message}")
    if exc.status == 403:
        from meshtui.sources.base import ForbiddenError

        return ForbiddenError(f"log of {namespace}/{pod}: forbidden: {exc.message}")
    return UnavailableError(f"log of {namespace}/{pod} [{container}]: HTTP {exc.status}: {exc.message}")


def list_pods(rest: Rest, namespace: str, *, label_selector: str = "", field_selector: str = "") -> list[Any]:
    """The pods of ``namespace`` that match both selectors, read now (a one-page list, no watch).

    Raises ``UnavailableError`` with a one-line cause when the API server does not answer or
    refuses the list (bad selector, RBAC).
    """
    query: list[tuple[str, Any]] = []
    if label_selector:
        query.append(("labelSelector", label_selector))
    if field_selector:
        query.append(("fieldSelector", field_selector))
    try:
        answer = rest.json("GET", f"/api/v1/namespaces/{namespace}/pods", query)
    except HttpError as exc:
        raise UnavailableError(f"list pods in {namespace}: HTTP {exc.status}: {one_line(exc.message, 200)}") from exc
    items = (answer or {}).get("items") or []
    for item in items:
        # A list's items carry no kind; the rest of meshtui reads records that say what they are.
        item.setdefault("apiVersion", "v1")
        item.setdefault("kind", "Pod")
    return list(items)


def envoy_admin_get(rest: Rest, namespace: str, pod: str, path: str) -> bytes:
    """GET ``path`` from the pod's Envoy admin port through the API server's port-forward.

    Same route as ``istioctl proxy-config``: ``kubernetes.stream.portforward`` opens the
    ``pods/portforward`` websocket to port 15000, and an HTTP/1.1 request is written to the
    forwarded socket. Returns the response body; raises ``NotFoundError`` (no such pod, or Envoy
    answered 404) or ``UnavailableError`` (anything else), each with a one-line cause.
    """
    from kubernetes.client import ApiClient

    if not path.startswith("/"):
        path = "/" + path
    # The stream module swaps ``call_api`` on the ApiClient it is given and puts back "the
    # previous" one afterwards. On the shared client, concurrent port-forwards restore each
    # other's websocket closure and every later REST call (watch, dry run, logs) goes through
    # it. A client of its own per port-forward (same configuration: auth, TLS, proxy) shares
    # nothing that the swap can corrupt.
    own_client = ApiClient(rest.api_client.configuration)
    try:
        return _forwarded_get(own_client, rest, namespace, pod, path)
    finally:
        own_client.close()


def _forwarded_get(own_client: Any, rest: Rest, namespace: str, pod: str, path: str) -> bytes:
    """One port-forwarded HTTP GET on ``own_client``, which nothing else uses meanwhile."""
    from kubernetes.client import CoreV1Api
    from kubernetes.client.exceptions import ApiException
    from kubernetes.stream import portforward

    where = f"{namespace}/{pod}:{ENVOY_ADMIN_PORT}"
    api = CoreV1Api(own_client)
    try:
        pf = portforward(
            api.connect_get_namespaced_pod_portforward, pod, namespace, ports=str(ENVOY_ADMIN_PORT)
        )
    except ApiException as exc:
        raise _portforward_error(rest, namespace, pod, str(exc.reason or exc)) from exc
    except Exception as exc:  # websocket/socket errors surface raw from the stream module
        raise UnavailableError(f"port-forward to {where}: {one_line(str(exc), 200)}") from exc
    sock = pf.socket(ENVOY_ADMIN_PORT)
    try:
        sock.settimeout(ENVOY_ADMIN_TIMEOUT)
        conn = http.client.HTTPConnection("localhost", ENVOY_ADMIN_PORT, timeout=ENVOY_ADMIN_TIMEOUT)
        conn.sock = sock  # speak HTTP over the forwarded stream instead of dialling
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read()
        except (http.client.HTTPException, OSError) as exc:
            detail = pf.error(ENVOY_ADMIN_PORT) or str(exc) or type(exc).__name__
            raise UnavailableError(f"envoy admin {path} on {where}: {one_line(detail, 200)}") from exc
        if resp.status == 404:
            raise NotFoundError(f"envoy admin {path} on {where}: 404 {resp.reason}")
        if resp.status >= 400:
            text = one_line(body.decode("utf-8", "replace"), 150)
            raise UnavailableError(f"envoy admin {path} on {where}: HTTP {resp.status} {text}")
        return body
    finally:
        pf.close()


def _portforward_error(rest: Rest, namespace: str, pod: str, reason: str) -> SourceError:
    """Tell a missing pod from an unreachable one after the websocket handshake failed."""
    try:
        rest.json("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}")
    except HttpError as exc:
        if exc.status == 404:
            return NotFoundError(f"pod {namespace}/{pod} not found")
    except UnavailableError as exc:
        return exc
    # websocket-client puts the response headers after " -+-+- "; keep the status line.
    return UnavailableError(
        f"port-forward to {namespace}/{pod}:{ENVOY_ADMIN_PORT}: {one_line(reason.split(' -+-+- ')[0], 200)}"
    )
