"""Pod logs saved beside manifests, in the layout ``kubectl cluster-info dump`` writes.

``kubectl cluster-info dump --output-directory=DIR`` writes each namespace's pods to
``DIR/NS/pods.json`` and every pod's container logs to one file, ``DIR/NS/POD/logs.txt``, each
container's lines between ``==== START logs for container C of pod NS/POD ====`` and the matching
``==== END …`` line. An SRE who took such a bundle during an incident (or saved
``kubectl logs POD -c istio-proxy > DIR/NS/POD/logs.txt``, a file without markers: all of it is
the sidecar's) can open it with ``meshtui --files DIR`` and read the observed split offline.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator

from meshtui.sources.base import NotFoundError

#: The file a pod's logs are in, below its namespace's directory.
LOG_FILE = "logs.txt"
#: Longest line kept; longer ones are cut (a binary file named logs.txt must not fill memory).
MAX_LINE_CHARS = 64 * 1024
_START = "==== START logs for container "
_END = "==== END logs for container "


def log_path(root: str, namespace: str, pod: str) -> str | None:
    """The saved log file of ``namespace/pod`` below ``root``, or None when there is none.

    Names that would step out of ``root`` (``..``, a separator) are never looked up.
    """
    if not _plain(namespace) or not _plain(pod):
        return None
    path = os.path.join(root, namespace, pod, LOG_FILE)
    real_root = os.path.realpath(root)
    if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
        return None
    return path if os.path.isfile(path) else None


def has_saved_logs(root: str) -> bool:
    """Whether any ``NS/POD/logs.txt`` exists below ``root`` (so the source offers logs)."""
    try:
        namespaces = [e for e in os.scandir(root) if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return False
    for ns in namespaces:
        try:
            if any(os.path.isfile(os.path.join(p.path, LOG_FILE)) for p in os.scandir(ns.path) if p.is_dir()):
                return True
        except OSError:
            continue
    return False


def container_lines(path: str, container: str, *, namespace: str, pod: str) -> Iterator[str]:
    """The lines of ``container`` in a saved log file, without newlines.

    A file with ``cluster-info dump`` markers yields the lines of that container's section; a
    file without any marker is one container's log and is yielded whole.
    """
    start = f"{_START}{container} of pod {namespace}/{pod} ===="
    marked = False
    inside = False
    with open(path, encoding="utf-8-sig", errors="replace", newline=None) as fh:
        for raw in fh:
            line = raw.rstrip("\r\n")[:MAX_LINE_CHARS]
            if line.startswith(_START):
                marked = True
                inside = line == start
                continue
            if line.startswith(_END):
                marked = True
                inside = False
                continue
            if inside or not marked:
                yield line


def saved_log_stream(
    root: str,
    namespace: str,
    pod: str,
    *,
    container: str,
    follow: bool,
    tail_lines: int | None,
    stop: threading.Event | None,
) -> Iterator[str]:
    """``Source.logs`` over a saved file: its lines (the last ``tail_lines``), then, when
    following, an open stream that ends only when ``stop`` is set (a saved log does not grow).

    Raises ``NotFoundError`` when the pod has no saved log, like a pod without logs would.
    """
    path = log_path(root, namespace, pod)
    if path is None:
        raise NotFoundError(f"no saved logs for {namespace}/{pod}: expected {namespace}/{pod}/{LOG_FILE}")
    lines: Iterator[str] = container_lines(path, container, namespace=namespace, pod=pod)
    if tail_lines is not None:
        lines = iter(deque(lines, maxlen=max(tail_lines, 0)))

    def stream() -> Iterator[str]:
        yield from lines
        if follow and stop is not None:
            stop.wait()

    return stream()


def _plain(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and os.sep not in name
