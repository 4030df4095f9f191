"""What the subcommands share: source flags, opening the chosen source, one-line errors.

Exit codes of the read commands (analyze, trace, logs, proxy-config) when the source fails:
``EXIT_USAGE`` (2) for bad flags and a kubeconfig that cannot be used (missing, empty,
malformed, unknown context): nothing was contacted; ``EXIT_UNREACHABLE`` (9) when the API
server cannot be reached, does not answer in time, or rejects the credentials (401).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshtui.sources.base import Source


EXIT_USAGE = 2
EXIT_UNREACHABLE = 9


class CommandError(Exception):
    """A failure to report as one line on stderr with ``exit_code``; never a traceback."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_source_arguments(parser: argparse.ArgumentParser, *, top_level: bool = False) -> None:
    """Add the flags that choose a source: live cluster, ``--demo`` or ``--files DIR``.

    Subparsers get the same flags with suppressed defaults, so a flag given before the
    subcommand is not reset by the subparser.
    """
    default = None if top_level else argparse.SUPPRESS
    flag_default = False if top_level else argparse.SUPPRESS
    group = parser.add_argument_group("source")
    group.add_argument("--context", default=default, help="kubeconfig context to use")
    group.add_argument("--kubeconfig", default=default, metavar="FILE", help="kubeconfig file")
    group.add_argument("-n", "--namespace", default=default, metavar="NS", help="namespace scope")
    group.add_argument(
        "-A", "--all-namespaces", action="store_true", default=flag_default, help="all namespaces"
    )
    group.add_argument(
        "--demo", action="store_true", default=flag_default, help="use the embedded sandbox cluster"
    )
    group.add_argument("--files", default=default, metavar="DIR", help="a directory of YAML manifests")
    group.add_argument(
        "--read-only", "--readonly", action="store_true", default=flag_default,
        help="disable every write (--readonly is k9s's spelling)"
    )
    group.add_argument(
        "--request-timeout", type=_seconds, default=default, metavar="S",
        help="live cluster: seconds to wait for an answer of the API server (default 60)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive number of seconds")
    return value


def source_given(args: argparse.Namespace) -> bool:
    """Whether any flag that chooses a source was given (before or after the subcommand)."""
    return any(getattr(args, name, None) for name in ("context", "kubeconfig", "demo", "files"))


def source_failure(exc: Exception, what: str = "") -> CommandError:
    """The one-line error of a read command whose source failed, with its documented exit code
    (see the module docstring)."""
    from meshtui.sources.base import UnauthorizedError, UnavailableError

    text = f"{what}: {exc}" if what else str(exc)
    if isinstance(exc, (UnavailableError, UnauthorizedError)):
        return CommandError(text, EXIT_UNREACHABLE)
    return CommandError(text, EXIT_USAGE)


def source_kind(args: argparse.Namespace) -> str:
    """'demo', 'files' or 'kube', from the parsed flags."""
    if getattr(args, "demo", False) and getattr(args, "files", None):
        raise CommandError("--demo and --files cannot be used together")
    if getattr(args, "demo", False):
        return "demo"
    if getattr(args, "files", None):
        return "files"
    return "kube"


def open_source(args: argparse.Namespace) -> "Source":
    """Open the source the flags name; raises ``CommandError`` with a one-line cause (exit 2:
    opening contacts nothing, so every failure here is a usage or kubeconfig error)."""
    from meshtui.sources.base import SourceError

    try:
        return _open(args)
    except SourceError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None


def _open(args: argparse.Namespace) -> "Source":
    kind = source_kind(args)
    read_only = bool(getattr(args, "read_only", False))
    namespace = None if getattr(args, "all_namespaces", False) else getattr(args, "namespace", None)
    if kind == "files":
        from meshtui.sources.files import FilesSource

        path = args.files
        if not os.path.isdir(path):
            raise CommandError(f"--files {path}: not a directory")
        return FilesSource(path, read_only=read_only)
    if kind == "demo":
        from meshtui.session.demo import open_demo

        # The UI's demo (no subcommand) also runs a Prometheus when installed: its Logs screen's
        # split then comes from metrics; a one-shot command's fresh sandbox would have none yet.
        return open_demo(read_only=read_only, context=getattr(args, "context", None), namespace=namespace,
                         prometheus=getattr(args, "command", None) is None)
    from meshtui.sources.kube import KubeSource

    from meshtui.sources.kube_rest import READ_TIMEOUT

    return KubeSource.from_kubeconfig(
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        read_only=read_only,
        namespace=namespace,
        read_timeout=getattr(args, "request_timeout", None) or READ_TIMEOUT,
    )
