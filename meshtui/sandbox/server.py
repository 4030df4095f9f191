"""``Sandbox``: the sandbox API server running on 127.0.0.1 in a background thread.

    with Sandbox() as sb:              # free port, demo scenario loaded, demo traffic flowing
        sb.write_kubeconfig(path)
        sb.call(lambda: sb.store.get("pods", "bookinfo", name))

With the demo scenario (and no ``scale``), the traffic simulator (``meshtui.sandbox.traffic``)
runs on the server loop unless ``traffic=False``; ``traffic=True`` forces it on (e.g. with
``scale``). ``sb.traffic`` is the running ``TrafficSimulator`` (None when off).

The aiohttp app shares state with routes added by other sandbox modules: ``app["store"]`` (the
``Store``), ``app["sandbox"]`` (this object) and ``app["api"]``. Pod log and port-forward routes
(``meshtui.sandbox.pod_routes.add_pod_routes``) are registered before the generic resource
route so that they win.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
import socket
import ssl
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from meshtui.sandbox import kubeconfig
from meshtui.sandbox.api import Api, User
from meshtui.sandbox.pod_routes import add_pod_routes
from meshtui.sandbox.prometheus_routes import add_prometheus_routes
from meshtui.sandbox.store import Store
from meshtui.util.gcpause import gc_paused

if TYPE_CHECKING:
    from meshtui.sandbox.traffic import TrafficSimulator

T = TypeVar("T")
ADMIN_USER = "meshtui-admin"
READONLY_USER = "meshtui-readonly"


class SandboxError(Exception):
    """The sandbox could not start (e.g. the port is taken); the message is one line."""


class Sandbox:
    """A Kubernetes-API-speaking server on 127.0.0.1 with its own event loop thread."""

    def __init__(self, port: int = 0, *, scenario: bool = True, scale: int = 0,
                 event_window: int = 1000, bookmark_interval: float = 60.0,
                 watch_timeout: float = 1800.0, tls: bool = True, traffic: bool | None = None,
                 traffic_rps: float | None = None, traffic_seed: int | None = None,
                 scale_httproutes: bool = False) -> None:
        self.requested_port = port
        self.tls = tls
        self.ca_pem: bytes | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._ssl: ssl.SSLContext | None = None
        self.kubeconfig_path: Path | None = None  # the last file write_kubeconfig wrote
        self.port = 0
        self.admin_token = secrets.token_urlsafe(24)
        self.readonly_token = secrets.token_urlsafe(24)
        self.store = Store(event_window=event_window)
        self._scenario = scenario
        self._scale = scale
        # With ``scale``: also a Gateway API Gateway per namespace and an HTTPRoute per service.
        self._scale_httproutes = scale_httproutes
        self._traffic_on = (scenario and not scale) if traffic is None else traffic
        self._traffic_rps = traffic_rps
        self._traffic_seed = traffic_seed
        if self._traffic_on or traffic_rps is not None:
            from meshtui.sandbox.traffic import TrafficError, check_rps

            try:
                check_rps(1.0 if traffic_rps is None else traffic_rps)
            except TrafficError as exc:
                raise SandboxError(str(exc)) from None
        self.traffic: TrafficSimulator | None = None  # set while the sandbox runs with traffic
        tokens = {self.admin_token: User(ADMIN_USER, False), self.readonly_token: User(READONLY_USER, True)}
        self.api = Api(self.store, tokens, bookmark_interval=bookmark_interval, watch_timeout=watch_timeout)
        self.app = self._build_app()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self.api.auth_middleware], client_max_size=64 * 1024 * 1024)
        with warnings.catch_warnings():
            # Plain string keys are the documented contract with pod_routes; aiohttp prefers AppKey.
            warnings.simplefilter("ignore", getattr(web, "NotAppKeyWarning", UserWarning))
            app["store"] = self.store
            app["sandbox"] = self
            app["api"] = self.api
            add_pod_routes(app)
            add_prometheus_routes(app)
        self.api.add_routes(app)

        async def on_shutdown(_app: web.Application) -> None:
            self.api.closing.set()  # ends open watch streams so shutdown does not wait on them

        app.on_shutdown.append(on_shutdown)
        return app

    @property
    def url(self) -> str:
        """``https://127.0.0.1:<port>`` (``http`` when started with ``tls=False``)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The server's event loop (running in the sandbox thread)."""
        if self._loop is None:
            raise SandboxError("the sandbox is not running")
        return self._loop

    def start(self) -> "Sandbox":
        """Load the scenario, bind 127.0.0.1 and serve in a background thread; returns self."""
        if self._thread is not None:
            return self
        from meshtui.sandbox import discovery

        if self.tls:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="meshtui-sandbox-")
            try:
                cert, key = kubeconfig.make_certificate(self._tmpdir.name)
            except OSError as exc:
                raise SandboxError(str(exc)) from None
            self.ca_pem = cert.read_bytes()
            self._ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ssl.load_cert_chain(cert, key)
        for crd in discovery.istio_crds() + discovery.custom_resource_crds():
            self.store.create(crd)
        if self._scenario or self._scale:
            from meshtui.sandbox import scenario

            # Generating tens of thousands of small dicts triggers full GC passes over and over;
            # pausing the collector makes --scale 5000 several times faster.
            # The loaded objects live as long as the sandbox: frozen, GC scans skip them.
            with gc_paused(freeze=True):
                if self._scenario:
                    scenario.load_demo(self.store)
                if self._scale:
                    scenario.load_scale(self.store, self._scale, httproutes=self._scale_httproutes)
            scenario.attach_endpoints_controller(self.store)
        from meshtui.sandbox.gateway_status import GatewayStatusController

        GatewayStatusController.attach(self.store)  # Istio's controller writes Gateway API status
        if self._traffic_on and "logs" in self.app:
            from meshtui.sandbox.traffic import TrafficSimulator
            from meshtui.sandbox.workloads import ensure_clients

            if self._scenario:
                ensure_clients(self.store)
            from meshtui.sandbox.traffic import DEFAULT_RPS

            rps = DEFAULT_RPS if self._traffic_rps is None else self._traffic_rps
            self.traffic = TrafficSimulator(self.store, self.app["logs"], rps, seed=self._traffic_seed,
                                            stats=self.app["istio_stats"])
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.requested_port))
        except OSError as exc:
            sock.close()
            raise SandboxError(f"cannot listen on 127.0.0.1:{self.requested_port}: {exc.strerror}") from None
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._run, args=(sock, ready), name="meshtui-sandbox",
                                        daemon=True)
        self._thread.start()
        try:
            ready.result(timeout=30)
        except Exception:
            self.stop()
            raise
        return self

    def _run(self, sock: socket.socket, ready: "concurrent.futures.Future[None]") -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)

        async def serve() -> None:
            self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                                         # Open watches and log follows would otherwise hold
                                         # a stop for up to 60 s (aiohttp's default).
                                         shutdown_timeout=2.0)
            await self._runner.setup()
            await web.SockSite(self._runner, sock, ssl_context=self._ssl).start()
            if self.traffic is not None:
                self.traffic.start()

        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # report to start(), which raises it on the caller's thread
            sock.close()
            ready.set_exception(exc)
            return
        ready.set_result(None)
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    def stop(self) -> None:
        """Close every connection, stop the loop and join the thread; idempotent."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            async def shutdown() -> None:
                if self.traffic is not None:
                    await self.traffic.stop()
                self.api.closing.set()
                if self._runner is not None:
                    await self._runner.cleanup()

            fut = asyncio.run_coroutine_threadsafe(shutdown(), loop)
            try:
                fut.result(timeout=15)
            except Exception:
                pass
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=15)
        self._thread = None
        self.traffic = None
        self._loop = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = 30) -> T:
        """Run ``fn(*args)`` on the server loop thread and return its result (from another thread)."""
        loop = self.loop
        if threading.current_thread() is self._thread:
            return fn(*args)

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=timeout)

    def expose_prometheus(self, upstream: str, namespace: str = "istio-system", name: str = "prometheus",
                          port: int = 9090) -> None:
        """Create Service ``namespace/name`` (port ``port``, named ``http``) whose API-server service
        proxy forwards to ``upstream`` (a Prometheus on 127.0.0.1), as discovery expects to find it."""
        from meshtui.sandbox.prometheus_routes import expose

        expose(self.app, namespace, name, upstream)
        service = {"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": name, "namespace": namespace, "labels": {"app": "prometheus"}},
                   "spec": {"selector": {"app": "prometheus"}, "type": "ClusterIP",
                            "ports": [{"name": "http", "port": port, "protocol": "TCP", "targetPort": 9090}]}}

        def create() -> None:
            if self.store.get("services", namespace, name) is None:
                self.store.create(service)

        self.call(create)

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        """Write a kubeconfig with the admin (current) and read-only contexts; returns its path."""
        self.kubeconfig_path = kubeconfig.write(path, self.url, self.admin_token, self.readonly_token,
                                                self.ca_pem)
        return self.kubeconfig_path

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
