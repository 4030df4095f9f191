"""``meshtui logs``: parse sidecar access logs, from a saved file or live from a service's pods.

``meshtui logs --file PATH|- [--split] [-o text|json] [--log-format FMT]`` reads a saved log
to its end and exits. Without ``--split`` every line is printed parsed (one line each, or one
JSON object each); lines that do not parse are printed raw, marked ``unparsed:``. With
``--split`` the observed split per upstream cluster is printed as a table or one JSON object.

``meshtui logs SERVICE[.NS] [source flags] [--since D] [--tail N] [--split]`` follows the
``istio-proxy`` logs of every pod of the service (the pods whose labels match the Service's
selector in ``source.snapshot()``) through ``Source.logs()``, until interrupted. The live
path is ``follow_service``; it uses the mesh config's ``accessLogFormat`` and
``accessLogEncoding`` when the cluster sets them.
"""

from __future__ import annotations

import argparse
import json
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from meshtui.commands.common import CommandError, add_source_arguments

if TYPE_CHECKING:
    from meshtui.accesslog.parser import Parser
    from meshtui.accesslog.stats import SplitStats
    from meshtui.sources.base import RawObject, Source

#: How often the live ``--split`` view is reprinted.
LIVE_SPLIT_INTERVAL_S = 2.0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``logs`` subcommand."""
    parser = sub.add_parser(
        "logs",
        help="parse istio-proxy access logs and show the observed traffic split",
        description=(
            "Parse Envoy access logs of Istio sidecars: from a saved file (--file PATH, or - "
            "for stdin) or live from every pod of SERVICE[.NS]. --split shows the observed "
            "split per subset with error rate and p50/p95/p99 latency."
        ),
    )
    parser.add_argument("service", nargs="?", metavar="SERVICE[.NS]", help="follow this service's pods")
    parser.add_argument("--file", metavar="PATH|-", help="read a saved log ('-' for stdin) and exit")
    parser.add_argument("--split", action="store_true", help="show the observed split, not the lines")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    parser.add_argument(
        "--log-format",
        metavar="FMT",
        help="Envoy format string (TEXT) or JSON object of key: %%OPERATOR%% (JSON); "
        "default: the mesh config's, else Istio's default",
    )
    parser.add_argument(
        "--log-encoding",
        choices=("TEXT", "JSON", "text", "json"),
        help="encoding of the lines (default: detected per line)",
    )
    parser.add_argument(
        "--window",
        type=float,
        metavar="SECONDS",
        help="sliding window of the split statistics (default: the whole file with --file, 60 live)",
    )
    parser.add_argument("--since", metavar="D", help="live: only lines newer than D (e.g. 30s, 5m, 1h)")
    parser.add_argument("--tail", type=int, metavar="N", help="live: start with the last N lines of each pod")
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui logs``."""
    if args.file is not None and args.service:
        raise CommandError("give either SERVICE[.NS] or --file, not both")
    if args.file is None and not args.service:
        raise CommandError("logs needs SERVICE[.NS] or --file PATH|-")
    if args.window is not None and not (args.window > 0 and args.window != float("inf")):
        raise CommandError(f"--window {args.window}: must be a positive number of seconds")
    if args.file is not None:
        return read_file(args, sys.stdout)
    return follow_service(args, sys.stdout)


def build_parser(args: argparse.Namespace, mesh_format: str | None = None, mesh_encoding: str | None = None) -> "Parser":
    """The parser the flags ask for: ``--log-format``/``--log-encoding`` override the mesh config."""
    from meshtui.accesslog.parser import FormatError, make_parser, parser_from_mesh_config

    try:
        if args.log_format or args.log_encoding:
            return make_parser(args.log_format, args.log_encoding)
        if mesh_format or mesh_encoding:
            return parser_from_mesh_config(mesh_format, mesh_encoding)
        return make_parser()
    except FormatError as exc:
        raise CommandError(f"--log-format: {exc}") from None


def read_file(args: argparse.Namespace, out: TextIO) -> int:
    """``--file``: parse a saved log to its end and print lines or the split."""
    from meshtui.accesslog.stats import SplitStats

    parser = build_parser(args)
    stats = SplitStats(window=args.window)
    path = args.file
    if path == "-":
        consume(sys.stdin, parser, stats, args, out)
    else:
        try:
            handle = open(path, encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise CommandError(f"--file {path}: no such file") from None
        except IsADirectoryError:
            raise CommandError(f"--file {path}: is a directory") from None
        except OSError as exc:
            raise CommandError(f"--file {path}: {exc.strerror or exc}") from None
        with handle:
            try:
                consume(handle, parser, stats, args, out)
            except OSError as exc:
                raise CommandError(f"--file {path}: {exc.strerror or exc}") from None
    if args.split:
        print_split(stats, args.output, out)
    elif stats.unparsed:
        print(f"meshtui: {stats.unparsed} of {stats.lines} lines did not parse", file=sys.stderr)
    return 0


def consume(
    lines: Iterable[str],
    parser: "Parser",
    stats: "SplitStats",
    args: argparse.Namespace,
    out: TextIO,
    *,
    prefix: str = "",
    subset: str | None = None,
) -> None:
    """Parse ``lines``; with ``--split`` feed ``stats``, else print each line (unparsed ones raw).

    Blank lines carry nothing and are skipped; every other line is either counted or shown.
    """
    from meshtui.accesslog.render import record_json, record_line, unparsed_line

    split = args.split
    as_json = args.output == "json"
    parse = parser.parse
    write = out.write
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        record = parse(line)
        if record is None:
            stats.add_unparsed(line)
            if not split:
                if as_json:
                    obj: dict[str, Any] = {"unparsed": line}
                    if prefix:
                        obj["pod"] = prefix
                    write(json.dumps(obj) + "\n")
                else:
                    write((f"{prefix} " if prefix else "") + unparsed_line(line) + "\n")
            continue
        if split:
            stats.add(record, subset=subset if record.cluster.direction == "inbound" else None)
        else:
            stats.lines += 1
            if as_json:
                obj = record_json(record)
                if prefix:
                    obj["pod"] = prefix
                write(json.dumps(obj) + "\n")
            else:
                write((f"{prefix} " if prefix else "") + record_line(record) + "\n")


def print_split(stats: "SplitStats", output: str, out: TextIO) -> None:
    """Print the split as a table or as one JSON object."""
    from meshtui.accesslog.render import split_table

    if output == "json":
        out.write(json.dumps(stats.summary()) + "\n")
    else:
        out.write(split_table(stats) + "\n")
    out.flush()


# --- live --------------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """``30s``, ``5m``, ``1h30m`` or plain seconds -> seconds; ``CommandError`` otherwise."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    parts = re.findall(r"(\d+)([smhd])", value)
    if not parts or "".join(n + u for n, u in parts) != value:
        raise CommandError(f"--since {text}: not a duration (use e.g. 30s, 5m, 1h)")
    factor = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * factor[u] for n, u in parts)


def split_service(text: str, default_ns: str | None) -> tuple[str, str]:
    """``reviews.bookinfo`` -> (``reviews``, ``bookinfo``); without a namespace, ``default_ns``
    (``-n``) or ``default``."""
    name, _, ns = text.partition(".")
    if not name:
        raise CommandError(f"{text}: not a service name (SERVICE[.NS])")
    return name, ns or default_ns or "default"


def service_pods(objects: list["RawObject"], name: str, namespace: str) -> tuple["RawObject", list["RawObject"]]:
    """The Service ``namespace/name`` and the Pods its selector matches; ``CommandError`` when
    the service is missing or selects nothing."""
    service = None
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "Service" and meta.get("name") == name and meta.get("namespace") == namespace:
            service = obj
            break
    if service is None:
        raise CommandError(f"service {namespace}/{name} not found")
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        raise CommandError(f"service {namespace}/{name} has no selector, so no pods to follow")
    pods = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") != "Pod" or meta.get("namespace") != namespace:
            continue
        labels = meta.get("labels") or {}
        if all(labels.get(k) == v for k, v in selector.items()):
            pods.append(obj)
    if not pods:
        raise CommandError(f"service {namespace}/{name} selects no pods")
    return service, pods


def mesh_log_settings(objects: list["RawObject"]) -> tuple[str | None, str | None]:
    """``accessLogFormat`` and ``accessLogEncoding`` from the ``istio`` ConfigMap in
    ``istio-system`` (its ``mesh`` key is YAML), or ``(None, None)``."""
    for obj in objects:
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "ConfigMap" and meta.get("name") == "istio" and meta.get("namespace") == "istio-system":
            text = (obj.get("data") or {}).get("mesh")
            if not isinstance(text, str):
                return None, None
            import yaml

            try:
                mesh = yaml.safe_load(text)
            except yaml.YAMLError:
                return None, None
            if not isinstance(mesh, dict):
                return None, None
            fmt = mesh.get("accessLogFormat")
            enc = mesh.get("accessLogEncoding")
            return (fmt if isinstance(fmt, str) else None), (enc if isinstance(enc, str) else None)
    return None, None


def pod_subsets(objects: list["RawObject"], name: str, namespace: str, pods: list["RawObject"]) -> dict[str, str]:
    """Pod name -> subset, from DestinationRules whose host is this service and whose subset
    labels the pod carries. Used to attribute inbound lines (``inbound|9080||``) to a subset."""
    hosts = {name, f"{name}.{namespace}", f"{name}.{namespace}.svc", f"{name}.{namespace}.svc.cluster.local"}
    result: dict[str, str] = {}
    for obj in objects:
        if obj.get("kind") != "DestinationRule":
            continue
        meta = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        host = spec.get("host")
        if host not in hosts or (host == name and meta.get("namespace") != namespace):
            continue
        for subset in spec.get("subsets") or []:
            labels = (subset or {}).get("labels") or {}
            if not labels or not subset.get("name"):
                continue
            for pod in pods:
                pod_meta = pod.get("metadata") or {}
                pod_labels = pod_meta.get("labels") or {}
                if all(pod_labels.get(k) == v for k, v in labels.items()):
                    result.setdefault(pod_meta.get("name", ""), subset["name"])
    return result


def follow_service(args: argparse.Namespace, out: TextIO) -> int:
    """Follow the ``istio-proxy`` logs of every pod of SERVICE[.NS] until interrupted.

    One reader thread per pod feeds a bounded queue; the caller's thread parses and prints.
    Pods are those of the snapshot taken at start (pods created later are not joined yet).
    """
    from meshtui.accesslog.stats import SplitStats
    from meshtui.commands.common import open_source
    from meshtui.sources.base import SourceError

    since = parse_duration(args.since) if args.since else None
    if args.tail is not None and args.tail < 0:
        raise CommandError(f"--tail {args.tail}: must be 0 or more")
    name, namespace = split_service(args.service, getattr(args, "namespace", None))
    try:
        source = open_source(args)
    except SourceError as exc:
        raise CommandError(str(exc)) from None
    stop = threading.Event()
    try:
        try:
            snapshot = source.snapshot()
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        _, pods = service_pods(snapshot.objects, name, namespace)
        parser = build_parser(args, *mesh_log_settings(snapshot.objects))
        subsets = pod_subsets(snapshot.objects, name, namespace, pods)
        stats = SplitStats(window=args.window if args.window is not None else 60.0)
        lines: queue.Queue[tuple[str, str | BaseException | None]] = queue.Queue(maxsize=10_000)
        threads = [
            threading.Thread(
                target=_read_pod,
                args=(source, namespace, pod["metadata"]["name"], args, since, stop, lines),
                name=f"logs-{pod['metadata']['name']}",
                daemon=True,
            )
            for pod in pods
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        next_print = time.monotonic() + LIVE_SPLIT_INTERVAL_S
        while running:
            try:
                pod, item = lines.get(timeout=0.5)
            except queue.Empty:
                pod, item = "", ""
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                print(f"meshtui: pod {namespace}/{pod}: {item}", file=sys.stderr)
            elif item:
                consume([item], parser, stats, args, out, prefix="" if args.split else pod, subset=subsets.get(pod))
            if args.split and time.monotonic() >= next_print:
                print_split(stats, args.output, out)
                next_print = time.monotonic() + LIVE_SPLIT_INTERVAL_S
            elif not args.split and lines.empty():
                out.flush()
        if args.split:
            print_split(stats, args.output, out)
        return 0
    finally:
        stop.set()
        source.close()


def _read_pod(
    source: "Source",
    namespace: str,
    pod: str,
    args: argparse.Namespace,
    since: int | None,
    stop: threading.Event,
    sink: "queue.Queue[tuple[str, str | BaseException | None]]",
) -> None:
    """Copy one pod's log lines into ``sink``; ``None`` marks the end, an exception a failure."""
    try:
        stream: Iterator[str] = source.logs(
            namespace, pod, container="istio-proxy", follow=True,
            tail_lines=args.tail, since_seconds=since, stop=stop,
        )
        for line in stream:
            if stop.is_set():
                break
            sink.put((pod, line))
    except Exception as exc:  # a broken stream is reported, the other pods go on
        sink.put((pod, exc))
    finally:
        sink.put((pod, None))
