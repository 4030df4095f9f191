"""``meshtui analyze``: Istio's analyzers and meshtui's own checks over the chosen source.

``meshtui analyze [source flags] [-o text|json] [--analyzer NAME]... [--list-analyzers] [--like-istioctl]``

``--files DIR`` takes the directory as the whole world (right for a GitOps repository that
holds everything). ``--like-istioctl`` reads it as ``istioctl analyze --use-kube=false`` does:
Services, Pods, Namespaces, Nodes and Secrets in the files are ignored and the analyzers that
need them are skipped (named on stderr), as are meshtui's own MT analyzers, so a CI job gets
istioctl's findings and exit status.

Text output has one line per finding in istioctl's form
``Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v9"``;
with no finding it prints ``✔ No validation issues found when analyzing <what>.``. Load errors of
the source (a file that does not parse...) are printed to stderr and make the exit code 1.

``-o json`` prints a list (stable contract): every finding has ``code`` (``IST0101``,
``MT0001``...), ``name`` (the message name), ``level`` (``Error``/``Warning``/``Info``),
``message``, ``origin`` (``VirtualService default/reviews``), ``kind``, ``namespace`` (null when
none), ``resource_name``, ``path`` (the offending field, or null), ``analyzer`` (the registered
analyzer name) and, for IST codes, ``documentation_url``.

Exit status: 1 when an Error-level finding exists or the source had load errors, 0 otherwise,
2 for bad flags or an unreadable source.
"""

from __future__ import annotations

import argparse
import json
import sys

from meshtui.commands.common import CommandError, add_source_arguments


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` subcommand."""
    parser = sub.add_parser(
        "analyze",
        help="find configuration problems (Istio's IST codes and meshtui's MT codes)",
        description=("Run Istio's traffic analyzers (same codes, levels and texts as istioctl analyze) "
                     "and meshtui's own checks over the source. Exit 1 when an error is found."),
    )
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text", help="output format")
    parser.add_argument("--analyzer", action="append", default=None, metavar="NAME",
                        help="run only this analyzer (repeatable; see --list-analyzers)")
    parser.add_argument("--list-analyzers", action="store_true", help="list the analyzers and exit")
    parser.add_argument("--like-istioctl", action="store_true",
                        help=("with --files: read the files as 'istioctl analyze --use-kube=false' does "
                              "(ignore Services, Pods, Namespaces, Nodes and Secrets; run only Istio's "
                              "analyzers that do not need them)"))
    add_source_arguments(parser)
    parser.set_defaults(func=run)


def _describe(args: argparse.Namespace) -> str:
    if getattr(args, "files", None):
        return f"files in {args.files}"
    if getattr(args, "demo", False):
        return "the demo mesh"
    if getattr(args, "namespace", None) and not getattr(args, "all_namespaces", False):
        return f"namespace: {args.namespace}"
    return "all namespaces"


def run(args: argparse.Namespace) -> int:
    """Entry point of ``meshtui analyze``."""
    from meshtui.analysis import ANALYZERS, UnknownAnalyzerError, analyze
    from meshtui.analysis.runner import istioctl_file_analyzers, without_cluster_kinds
    from meshtui.commands.common import open_source, source_failure
    from meshtui.model.index import MeshIndex
    from meshtui.sources.base import SourceError

    if args.list_analyzers:
        for info in ANALYZERS:
            print(f"{info.name}: {info.description}")
        return 0
    like_istioctl = getattr(args, "like_istioctl", False)
    if like_istioctl and not getattr(args, "files", None):
        raise CommandError("--like-istioctl reads manifests: give --files DIR", 2)
    source = open_source(args)
    try:
        snapshot = source.snapshot()
    except SourceError as exc:
        raise source_failure(exc) from None
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            close()
    for err in snapshot.errors:
        print(f"meshtui: {err}", file=sys.stderr)
    objects = snapshot.objects
    ns = getattr(args, "namespace", None)
    chosen = args.analyzer
    if like_istioctl:
        objects = without_cluster_kinds(objects)
        usable = istioctl_file_analyzers()
        known = {a.name for a in ANALYZERS}
        # An unknown name is kept, so that analyze() reports it as with any source.
        chosen = [a for a in (args.analyzer or usable) if a in usable or a not in known]
        skipped = [a for a in (args.analyzer or [a.name for a in ANALYZERS]) if a in known and a not in usable]
        if skipped:
            print(f"meshtui: skipping analyzers istioctl cannot run on files: {', '.join(skipped)}", file=sys.stderr)
    index = MeshIndex(objects)
    try:
        findings = analyze(index, chosen)
    except UnknownAnalyzerError as exc:
        raise CommandError(str(exc), 2) from None
    if ns and not getattr(args, "all_namespaces", False) and not getattr(args, "files", None):
        findings = [f for f in findings if f.namespace in (ns, "")]
    if args.output == "json":
        print(json.dumps([f.to_dict() for f in findings], indent=2, ensure_ascii=False))
    elif findings:
        for f in findings:
            print(f.text())
    else:
        print(f"\u2714 No validation issues found when analyzing {_describe(args)}.")
    failed = any(f.is_error for f in findings) or bool(snapshot.errors)
    return 1 if failed else 0
