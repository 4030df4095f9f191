"""Command-line entry point: parses arguments, starts the UI or runs a subcommand.

Subcommands live in ``meshtui.commands``: every module there that defines ``register(sub)``
adds one subparser whose ``func`` default runs it. Heavy imports stay inside the ``run``
functions so that ``meshtui --help`` and the UI start fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import sys
import warnings
from collections.abc import Sequence

from meshtui import __version__
from meshtui.commands.common import CommandError, add_source_arguments


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, subcommands included."""
    parser = argparse.ArgumentParser(
        prog="meshtui",
        description="A keyboard-driven terminal UI for operating an Istio service mesh.",
        epilog="Without a subcommand meshtui opens the terminal UI on the chosen source.",
    )
    parser.add_argument("--version", action="version", version=f"meshtui {__version__}")
    add_source_arguments(parser, top_level=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import meshtui.commands as commands_pkg

    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "common":
            continue
        module = importlib.import_module(f"meshtui.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run meshtui; returns the process exit code.

    Python's own warnings (a ``FutureWarning`` of ``re`` about a POSIX class in a user's regex,
    a library's ``DeprecationWarning``) are meant for developers, not for the user's terminal
    or the TUI: they are silenced for the whole run, CLI and app alike.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        func = getattr(args, "func", None)
        if func is None:
            from meshtui.commands.common import open_source
            from meshtui.app import run_app

            _exit_on_hangup()
            return run_app(lambda: open_source(args), args)
        return int(func(args) or 0)
    except CommandError as exc:
        print(f"meshtui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # e.g. `meshtui logs ... | head`: the reader went away; not an error of ours.
        return 0


def _exit_on_hangup() -> None:
    """A closed terminal (SIGHUP) or a plain ``kill`` (SIGTERM) ends the UI as ``q`` would, so its
    exit handlers stop what it started (the demo's sandbox and Prometheus) instead of leaving
    them running without it."""
    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, stop)


if __name__ == "__main__":
    raise SystemExit(main())
