"""``meshtui proxy-config diff A B``: what differs between two Envoy config dumps.

A and B are saved ``/config_dump`` files or ``POD[.NS]`` (read live through the source);
B may be ``@generated``: the config the mesh implies for A's pod (``meshtui.envoy.generate``),
which answers "is this Envoy running what I configured?". Exit 0 when nothing differs, 1 when
something does (as ``diff``), 2 on bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from meshtui.commands.common import CommandError

if TYPE_CHECKING:
    from meshtui.envoy.dump import ConfigDump


def _is_file(spec: str) -> bool:
    return spec == "-" or os.path.exists(spec) or spec.endswith(".json")


def _pod(spec: str, args: argparse.Namespace) -> tuple[str, str]:
    pod, _, ns = spec.partition(".")
    return pod, ns or getattr(args, "namespace", None) or "default"


def _load(spec: str, args: argparse.Namespace) -> "ConfigDump":
    from meshtui.commands.proxy_config import CONFIG_DUMP_PATH, _fetch, _read_file
    from meshtui.envoy.dump import ConfigDump

    if _is_file(spec):
        return ConfigDump.parse(_read_file(spec), spec)
    fetch_args = argparse.Namespace(**{**vars(args), "target": spec})
    data, name = _fetch(fetch_args, CONFIG_DUMP_PATH)
    return ConfigDump.parse(data, name)


def _generated(spec: str, args: argparse.Namespace) -> "ConfigDump":
    from meshtui.commands.common import open_source, source_failure
    from meshtui.envoy.dump import ConfigDump
    from meshtui.envoy.generate import generate_config_dump
    from meshtui.model.index import MeshIndex
    from meshtui.sources.base import SourceError

    if _is_file(spec):
        raise CommandError(f"{GENERATED}: A must be POD[.NS], not a file")
    pod, ns = _pod(spec, args)
    source = open_source(args)
    try:
        index = MeshIndex(source.snapshot().objects)
    except SourceError as exc:
        raise source_failure(exc) from None
    finally:
        source.close()
    return ConfigDump.from_json(generate_config_dump(index, ns, pod), f"{GENERATED} {pod}.{ns}")


GENERATED = "@generated"


def run_diff(args: argparse.Namespace) -> int:
    """Print the differences between A and B; 0 when none, 1 when some."""
    from meshtui.envoy.diff import diff_dumps, diff_table
    from meshtui.envoy.dump import DumpError

    a_spec, b_spec = args.target, getattr(args, "other", None)
    if not a_spec or not b_spec or args.file:
        raise CommandError("proxy-config diff requires A and B (dump files or POD[.NS]; B may be @generated)")
    try:
        a = _load(a_spec, args)
        b = _generated(a_spec, args) if b_spec == GENERATED else _load(b_spec, args)
        changes = diff_dumps(a, b)
    except DumpError as exc:
        raise CommandError(str(exc), 2) from None
    except (TypeError, AttributeError, ValueError, KeyError, IndexError) as exc:
        raise CommandError(f"malformed Envoy dump ({type(exc).__name__}: {exc})", 2) from None
    output = args.output or "short"
    if output in ("json", "yaml"):
        from meshtui.envoy import protojson

        items = [{"kind": c.what, "change": c.change, "name": c.name, "detail": c.detail} for c in changes]
        sys.stdout.write(protojson.render(items, output))
    elif changes:
        sys.stdout.write(diff_table(changes).render())
    else:
        sys.stdout.write("no differences\n")
    return 1 if changes else 0
