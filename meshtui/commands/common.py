"""What the subcommands share: source flags, opening the chosen source, one-line errors."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from meshtui.sources.base import Source


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
    """Open the source the flags name; raises ``CommandError`` with a one-line cause."""
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
        from meshtui.sources.demo import open_demo

        return open_demo(read_only=read_only, context=getattr(args, "context", None), namespace=namespace)
    from meshtui.sources.kube import KubeSource

    return KubeSource.from_kubeconfig(
        kubeconfig=getattr(args, "kubeconfig", None),
        context=getattr(args, "context", None),
        read_only=read_only,
        namespace=namespace,
    )
