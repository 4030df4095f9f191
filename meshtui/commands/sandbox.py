"""``meshtui sandbox``: run the sandbox API server alone, in the foreground, for kubectl & co."""

from __future__ import annotations

import argparse
import threading

from meshtui.commands.common import CommandError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the ``sandbox`` subcommand."""
    p = sub.add_parser("sandbox", help="run the sandbox Kubernetes API server (until Ctrl-C)",
                       description="Serve the demo mesh over the Kubernetes API on 127.0.0.1 and "
                                   "write a kubeconfig for it (contexts meshtui-sandbox and "
                                   "meshtui-sandbox-readonly).")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument("--kubeconfig-out", metavar="FILE", default=None,
                   help="where to write the kubeconfig (default: $XDG_STATE_HOME/meshtui/sandbox.kubeconfig)")
    p.add_argument("--scale", type=int, default=0, metavar="N",
                   help="add N services, each with a VirtualService, a DestinationRule and 4 pods")
    p.add_argument("--httproutes", action="store_true",
                   help="with --scale: also a Gateway API Gateway per namespace and an HTTPRoute per service")
    p.add_argument("--no-traffic", action="store_true",
                   help="do not simulate demo traffic (on by default, off with --scale unless --rps is given)")
    p.add_argument("--rps", type=float, default=None, metavar="R",
                   help="simulated requests per second, all callers together (default 20, at most 1000)")
    p.add_argument("--prometheus-config", metavar="FILE", default=None,
                   help="also write a Prometheus config scraping the sidecars' Istio metrics through "
                        "this API server (with FILE.token and FILE.ca.crt beside it)")
    p.add_argument("--prometheus-discovery", choices=("auto", "kubernetes", "http"), default="auto",
                   help="how that config finds the pods: kubernetes_sd_configs, or http_sd_configs on this "
                        "server for a Prometheus built without it (Debian's); auto asks promtool")
    p.add_argument("--prometheus-service", metavar="URL", default=None,
                   help="serve Service prometheus in istio-system, its API-server proxy forwarding to the "
                        "Prometheus at URL (127.0.0.1), so meshtui finds it as in a cluster")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the sandbox, print how to use it, and serve until interrupted."""
    from meshtui.sandbox import kubeconfig
    from meshtui.sandbox.server import Sandbox, SandboxError

    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port {args.port}: not a port number")
    if args.scale < 0:
        raise CommandError(f"--scale {args.scale}: must be 0 or more")
    traffic = not args.no_traffic and (args.scale == 0 or args.rps is not None)
    if args.httproutes and not args.scale:
        raise CommandError("--httproutes adds HTTPRoutes to the --scale mesh: give --scale N too")
    if args.rps is not None and args.no_traffic:
        raise CommandError("--rps and --no-traffic contradict each other")
    try:
        sandbox = Sandbox(port=args.port, scale=args.scale, traffic=traffic, traffic_rps=args.rps,
                          scale_httproutes=args.httproutes)
    except SandboxError as exc:
        raise CommandError(f"--rps {args.rps:g}: {exc}") from None
    try:
        sandbox.start()
    except SandboxError as exc:
        raise CommandError(str(exc)) from None
    try:
        try:
            path = sandbox.write_kubeconfig(args.kubeconfig_out or kubeconfig.default_path())
        except OSError as exc:
            raise CommandError(f"cannot write the kubeconfig: {exc.strerror or exc}") from None
        if args.prometheus_service:
            try:
                sandbox.expose_prometheus(args.prometheus_service)
            except ValueError as exc:
                raise CommandError(f"--prometheus-service {exc}") from None
        if args.prometheus_config:
            from meshtui.sandbox import prometheus_config

            assert sandbox.ca_pem is not None  # the sandbox always serves HTTPS
            try:
                prom = prometheus_config.write(args.prometheus_config, sandbox.url, sandbox.readonly_token,
                                               sandbox.ca_pem, discovery=args.prometheus_discovery)
            except OSError as exc:
                raise CommandError(f"cannot write the Prometheus config: {exc.strerror or exc}") from None
            print(f"prometheus config: {prom} (prometheus --config.file={prom})", flush=True)
        print(f"meshtui sandbox serving {sandbox.url}", flush=True)
        print(f"kubeconfig: {path} (contexts {kubeconfig.ADMIN_CONTEXT}, {kubeconfig.READONLY_CONTEXT})")
        print(f"export KUBECONFIG={path}", flush=True)
        if sandbox.traffic is not None:
            print(f"simulating demo traffic at {sandbox.traffic.rps:g} requests/s "
                  "(istio-proxy access logs)", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        sandbox.stop()
