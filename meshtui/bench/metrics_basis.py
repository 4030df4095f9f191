"""Bench step: the metrics basis's query time against the real Prometheus holding a big mesh's metrics.

An exporter on 127.0.0.1 serves Istio's standard metrics (the sandbox's ``IstioStats``: every
label Istio sets, the 19-bucket duration histogram) for ``services`` services, as the sidecars of
a mesh that size would report them (``reporter="source"``; one version per service, two for the
measured one: about 23 series per service and version, ~115,000 series at 5,000 services). Every
scrape finds a few more requests per series, so ``increase()`` has something to count. The real
Prometheus binary scrapes it; once a window's worth is in, meshtui's metrics basis
(``metrics_split``: six bounded instant queries) is timed against a baseline in the same run, one
plain selector query for the same service (the cheapest question a client can ask).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from meshtui.accesslog.target import LogTarget
from meshtui.bench.procs import BenchError
from meshtui.model import Pod
from meshtui.sandbox.istio_stats import IstioStats
from meshtui.session.split_basis import SplitContext, metrics_split
from meshtui.sources.prometheus import PrometheusClient, PrometheusError

SCRAPE_S = 5
WINDOW_S = 30.0
#: The service whose split is measured (it has two versions).
MEASURED = 0


def available() -> bool:
    """Whether the Prometheus binary is installed."""
    return shutil.which("prometheus") is not None


def _pod(namespace: str, app: str, version: str) -> Pod:
    return Pod.parse({"metadata": {"name": f"{app}-{version}-5d8f9c7b4-x2x7q", "namespace": namespace,
                                   "labels": {"app": app, "version": version, "pod-template-hash": "5d8f9c7b4"}}})


class _Mesh:
    """The metrics of ``services`` services, growing at every scrape."""

    def __init__(self, services: int) -> None:
        self.stats = IstioStats()
        self.rng = random.Random(5)
        self.lock = threading.Lock()
        self.calls: list[tuple[Pod, str, list[Pod]]] = []
        for i in range(services):
            ns = f"ns-{i % 50}"
            client, host = _pod(ns, f"client-{i}", "v1"), f"svc-{i}.{ns}.svc.cluster.local"
            servers = [_pod(ns, f"svc-{i}", v) for v in (("v1", "v2") if i == MEASURED else ("v1",))]
            self.calls.append((client, host, servers))
        self.reporter = _pod("ns-0", "mesh", "v1")
        client, host, servers = self.calls[MEASURED]
        for server in servers:  # every series exists from the first scrape on
            self.stats.record("source", self.reporter, client, server, host, 200, "-", 5.0, "HTTP/1.1")
        self.grow(5)

    def grow(self, per_series: int) -> None:
        """Record ``per_series`` more requests for every service; the measured one gets ten times as
        many, split 90/10 over its versions."""
        record, rng = self.stats.record, self.rng
        with self.lock:
            for client, host, servers in self.calls:
                for k in range(per_series * (10 if len(servers) > 1 else 1)):
                    server = servers[1] if len(servers) > 1 and k % 10 == 9 else servers[0]
                    record("source", self.reporter, client, server, host, 200, "-", rng.uniform(2, 40), "HTTP/1.1")

    def exposition(self) -> bytes:
        """The exporter's answer after this scrape's growth."""
        self.grow(2)
        with self.lock:
            return self.stats.exposition(self.reporter.namespace, self.reporter.name).encode()


def _serve(mesh: _Mesh) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            body = mesh.exposition()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(cond: Any, what: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        if time.monotonic() > deadline:
            raise BenchError(f"timed out waiting for {what}")
        time.sleep(0.5)


def measure(services: int, runs: int, progress: Any) -> tuple[list[float], list[float], int]:
    """(metrics basis seconds per run, baseline seconds per run, series in Prometheus)."""
    binary = shutil.which("prometheus")
    if binary is None:
        raise BenchError("prometheus not found (Debian: apt-get install prometheus)")
    progress(f"metrics basis: building the metrics of {services:,} services")
    mesh = _Mesh(services)
    exporter = _serve(mesh)
    with tempfile.TemporaryDirectory(prefix="meshtui-bench-prom-") as tmp:
        port = _free_port()
        cfg = Path(tmp) / "prometheus.yml"
        cfg.write_text(yaml.safe_dump({
            "global": {"scrape_interval": f"{SCRAPE_S}s", "scrape_timeout": f"{SCRAPE_S - 1}s"},
            "scrape_configs": [{"job_name": "mesh", "static_configs": [
                {"targets": [f"127.0.0.1:{exporter.server_address[1]}"]}]}]}))
        log = open(Path(tmp) / "prometheus.log", "wb")
        proc = subprocess.Popen([binary, f"--config.file={cfg}", f"--web.listen-address=127.0.0.1:{port}",
                                 f"--storage.tsdb.path={Path(tmp) / 'data'}"], stdout=log, stderr=log)
        try:
            client = PrometheusClient.direct(f"http://127.0.0.1:{port}")
            host = f"svc-{MEASURED}.ns-0.svc.cluster.local"

            def value(q: str) -> float:
                try:
                    result = client.query(q, time.time())
                except PrometheusError:  # not up yet
                    return 0.0
                return float(result[0]["value"][1]) if result else 0.0

            growing = (f'count(sum by (destination_version) (increase(istio_requests_total'
                       f'{{destination_service="{host}"}}[{WINDOW_S:g}s])) > 0)')
            _wait(lambda: value(growing) >= 2, "two scrapes of the mesh's metrics", 180)
            series = int(value('count({__name__=~"istio_.*"})'))
            progress(f"metrics basis: Prometheus holds {series:,} series; timing {runs} runs")
            target, context = LogTarget("Service", "ns-0", f"svc-{MEASURED}"), SplitContext({"v1": "v1", "v2": "v2"}, 80)
            basis, baseline = [], []
            for i in range(runs):
                if i:
                    time.sleep(1.0)  # spread the runs over several scrapes (each parses the whole mesh)
                t0 = time.perf_counter()
                split = metrics_split(client, context, target, WINDOW_S, {"v1": 90.0, "v2": 10.0})
                basis.append(time.perf_counter() - t0)
                if {r.subset for r in split.rows} != {"v1", "v2"}:
                    raise BenchError(f"unexpected split rows {[r.subset for r in split.rows]}")
                t0 = time.perf_counter()
                client.query(f'istio_requests_total{{destination_service="{host}"}}', time.time())
                baseline.append(time.perf_counter() - t0)
            return basis, baseline, series
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
            log.close()
            exporter.shutdown()


def figures_line(services: int) -> tuple[str, str]:
    """The names of the two figures at ``services``."""
    return (f"metrics basis: one service's split, {services:,}-svc mesh in Prometheus",
            f"Prometheus: one selector query, {services:,}-svc mesh")


def main(argv: list[str] | None = None) -> int:
    """``python -m meshtui.bench.metrics_basis [--services N] [--runs K]``: this step alone."""
    import argparse
    import sys

    from meshtui.bench.report import Figure, table

    ap = argparse.ArgumentParser(prog="python -m meshtui.bench.metrics_basis", description=main.__doc__)
    ap.add_argument("--services", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    if args.services < 1 or args.runs < 1:
        print("meshtui bench: --services and --runs must be at least 1", file=sys.stderr)
        return 2
    try:
        basis, baseline, series = measure(args.services, args.runs, lambda m: print(m, file=sys.stderr))
    except BenchError as exc:
        print(f"meshtui bench: {exc}", file=sys.stderr)
        return 1
    name, base_name = figures_line(args.services)
    figures = [Figure(name, "ms", [s * 1000 for s in basis], baseline=base_name, note=f"{series:,} series"),
               Figure(base_name, "ms", [s * 1000 for s in baseline])]
    print(table(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
