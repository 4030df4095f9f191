"""Raw JSON requests through the official ``kubernetes`` client's ``ApiClient``.

The generated per-kind methods turn bodies into typed models (for core kinds in recent clients
the body is validated into e.g. ``V1Service``, which drops fields the client does not know), and
their typed responses cost seconds and gigabytes on big lists. Here every request goes through the
client's own URL building, authentication (tokens, exec plugins, client certificates), TLS and
proxy handling, but bodies stay plain JSON: ``_preload_content=False`` style, decoded with orjson.

This module imports nothing from ``kubernetes`` at import time; the caller hands in an ``ApiClient``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from meshtui.sources.base import OutcomeUnknownError, UnavailableError
from meshtui.util.gcpause import gc_paused

Query = Sequence[tuple[str, Any]]

# Connect timeout for every request, and the default read timeout of requests that are not
# streams (kubectl's --request-timeout default is none; client-go's webhooks use 30-60 s).
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
# Methods that change nothing: a lost answer to one of these is simply unavailable.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _Default:
    """The "use the Rest's own read timeout" marker (``None`` already means "wait forever")."""


_DEFAULT = _Default()

def decode(data: bytes) -> Any:
    """orjson-decode ``data`` with the garbage collector paused."""
    with gc_paused():
        return orjson.loads(data)


class HttpError(Exception):
    """The API server answered with a non-2xx status; ``status_obj`` is its Status, if any."""

    def __init__(self, status: int, message: str, status_obj: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.status_obj = status_obj or {}

    @property
    def reason(self) -> str:
        """The Status ``reason`` (e.g. ``Expired``, ``Conflict``), or ''."""
        return str(self.status_obj.get("reason") or "")

    @property
    def causes(self) -> list[dict[str, Any]]:
        """``details.causes`` of the Status (field paths for 422)."""
        details = self.status_obj.get("details") or {}
        return [c for c in details.get("causes") or [] if isinstance(c, dict)]


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace so a server message fits on one line."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def http_error_from(status: int, body: bytes, fallback: str) -> HttpError:
    """Build an ``HttpError`` from a response body that is usually a Kubernetes Status."""
    status_obj: dict[str, Any] | None = None
    message = ""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        status_obj = parsed
        message = str(parsed.get("message") or "")
    elif body:
        message = body.decode("utf-8", "replace")
    return HttpError(status, one_line(message or fallback or f"HTTP {status}"), status_obj)


def describe_connection_error(exc: BaseException, host: str) -> str:
    """A one-line cause for a failed connection (urllib3 wraps the real reason deeply)."""
    # MaxRetryError.reason -> NewConnectionError, raised from the socket's OSError: the innermost
    # OS error ("Connection refused", "Name or service not known") is what the user needs.
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    reason: BaseException = exc
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.strerror:
            return one_line(f"cannot reach {host}: {e.strerror}", 200)
        reason = e
        for inner in (getattr(e, "reason", None), e.__cause__, e.__context__):
            if isinstance(inner, BaseException):
                todo.append(inner)
    first = reason.args[0] if reason.args else None
    text = first if isinstance(first, str) and first else (str(reason) or type(reason).__name__)
    # "HTTPSConnectionPool(host='h', port=1): Read timed out." -> the part after the pool repr
    for sep in ("): ", ">: "):
        if sep in text:
            text = text.split(sep, 1)[1]
            break
    return one_line(f"cannot reach {host}: {text}", 200)


def request_was_sent(exc: BaseException) -> bool:
    """Whether a failed request may have reached the server: False only for failures before
    anything was sent (refused, unresolvable, connect timeout, TLS handshake)."""
    import urllib3.exceptions as u3

    reason: BaseException | None = exc
    if isinstance(exc, u3.MaxRetryError):
        reason = exc.reason
    return not isinstance(reason, (u3.NewConnectionError, u3.ConnectTimeoutError, u3.SSLError, u3.ProxyError,
                                   ConnectionRefusedError))


def _connection_errors() -> tuple[type[BaseException], ...]:
    import urllib3.exceptions

    from kubernetes.client.exceptions import ApiException

    return (urllib3.exceptions.HTTPError, OSError, ApiException)


class Rest:
    """Plain-JSON requests on a ``kubernetes.client.ApiClient`` (its auth, TLS and pool)."""

    def __init__(self, api_client: Any, *, read_timeout: float = READ_TIMEOUT) -> None:
        self.api_client = api_client
        self.host: str = api_client.configuration.host
        #: Seconds to wait between bytes of an answer that is not a stream.
        self.read_timeout = read_timeout
        self._new_style = hasattr(api_client, "param_serialize")

    def open(
        self,
        method: str,
        path: str,
        query: Query = (),
        body: Any = None,
        *,
        read_timeout: "float | None | _Default" = _DEFAULT,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> Any:
        """Send a request and return the streaming ``urllib3.HTTPResponse`` of a 2xx answer.

        Non-2xx answers raise ``HttpError``; connection failures raise ``UnavailableError``, or
        ``OutcomeUnknownError`` when a request that changes something (PUT, POST, PATCH,
        DELETE) went out and its answer was lost. ``read_timeout=None`` waits forever between
        bytes (follow streams: cancel them with ``response.shutdown()`` from another thread);
        by default it is the Rest's ``read_timeout``.
        """
        # A (connect, read) pair: the client turns it into urllib3.Timeout(connect=, read=), and a
        # read of None waits forever between bytes.
        read = self.read_timeout if isinstance(read_timeout, _Default) else read_timeout
        timeout = (CONNECT_TIMEOUT, read)
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            resp = self._send(method, path, list(query), headers, body, timeout)
        except HttpError:
            raise
        except _connection_errors() as exc:
            raise self._lost(method, exc) from exc
        if not 200 <= resp.status <= 299:
            try:
                data = resp.data
            except _connection_errors():
                data = b""
            finally:
                resp.release_conn()
            raise http_error_from(resp.status, data, str(resp.reason or ""))
        return resp

    def _lost(self, method: str, exc: BaseException) -> UnavailableError:
        """The error for a request that got no answer: unknown outcome for a write that went out."""
        cause = describe_connection_error(exc, self.host)
        if method.upper() not in _SAFE_METHODS and request_was_sent(exc):
            return OutcomeUnknownError(f"no answer to {method.upper()} ({cause})")
        return UnavailableError(cause)

    def _send(
        self,
        method: str,
        path: str,
        query: list[tuple[str, Any]],
        headers: dict[str, str],
        body: Any,
        timeout: tuple[float, float | None],
    ) -> Any:
        if self._new_style:
            # Current clients (e.g. 37.x): param_serialize builds URL + auth headers; call_api sends with
            # preload_content=False and returns a RESTResponse wrapping the urllib3 response.
            req = self.api_client.param_serialize(
                method, path, query_params=query, header_params=headers, body=body,
                auth_settings=["BearerToken"],
            )
            return self.api_client.call_api(*req, _request_timeout=timeout).response
        # Older clients (python-legacy generator): call_api raises ApiException on non-2xx.
        from kubernetes.client.exceptions import ApiException

        try:
            return self.api_client.call_api(
                path, method, query_params=query, header_params=headers, body=body,
                auth_settings=["BearerToken"], _preload_content=False,
                _return_http_data_only=True, _request_timeout=timeout,
            )
        except ApiException as exc:
            if not exc.status:
                raise
            body = exc.body if isinstance(exc.body, bytes) else str(exc.body or "").encode()
            raise http_error_from(exc.status, body, str(exc.reason or "")) from exc

    def body(self, method: str, path: str, query: Query = ()) -> bytes:
        """Send a request and return its answer's body undecoded (for a caller's own decoder)."""
        resp = self.open(method, path, query)
        try:
            return bytes(resp.data or b"")
        except _connection_errors() as exc:
            raise UnavailableError(describe_connection_error(exc, self.host)) from exc
        finally:
            resp.release_conn()

    def json(self, method: str, path: str, query: Query = (), body: Any = None,
             *, content_type: str = "application/json") -> Any:
        """Send a request and decode its JSON answer (garbage collector paused)."""
        resp = self.open(method, path, query, body, content_type=content_type)
        try:
            data = resp.data
        except _connection_errors() as exc:
            raise self._lost(method, exc) from exc
        finally:
            resp.release_conn()
        return decode(data) if data else None


def iter_lines(resp: Any) -> Iterator[bytes]:
    """Yield the newline-separated lines of a streaming response as they arrive (no newline)."""
    buf = b""
    for chunk in resp.stream(amt=None, decode_content=False):
        if not chunk:
            continue
        buf += chunk
        if b"\n" not in buf:
            continue
        *lines, buf = buf.split(b"\n")
        yield from lines
    if buf:
        yield buf
