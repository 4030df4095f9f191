"""The one table of `:` commands: the prompt, the command palette, the `?` help and the
unknown-command message all read it, so a command added here appears everywhere at once."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One `:` command: the word typed, its other spellings, and what it does."""

    #: The canonical word (what ``resolve`` returns and the app dispatches on).
    name: str
    #: What the palette lists.
    title: str
    #: One line on what it does (palette help, `?` help).
    help: str
    aliases: tuple[str, ...] = ()
    #: The optional argument, as shown in help (``NAME``, ``HOST``), or None.
    argument: str | None = None
    #: Whether it opens a `:kind` table (its name is the view key of ``meshtui.views.kind_rows``).
    kind_view: bool = False

    @property
    def usage(self) -> str:
        """``:trace [HOST]``-style usage."""
        return f":{self.name}" + (f" [{self.argument}]" if self.argument else "")


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("mesh", "Mesh browser", "namespaces → services → routes", ("home",)),
    CommandSpec("vs", "VirtualServices", "every VirtualService", ("virtualservice", "virtualservices"),
                kind_view=True),
    CommandSpec("dr", "DestinationRules", "every DestinationRule", ("destinationrule", "destinationrules"),
                kind_view=True),
    CommandSpec("gw", "Gateways", "every Gateway", ("gateway", "gateways"), kind_view=True),
    CommandSpec("httproute", "HTTPRoutes", "every Gateway API HTTPRoute", ("hr", "httproutes"), kind_view=True),
    CommandSpec("grpcroute", "GRPCRoutes", "every Gateway API GRPCRoute", ("grpcroutes",), kind_view=True),
    CommandSpec("gtw", "Gateway API Gateways", "every Gateway API Gateway (gateway.networking.k8s.io)",
                kind_view=True),
    CommandSpec("se", "ServiceEntries", "every ServiceEntry", ("serviceentry", "serviceentries"), kind_view=True),
    CommandSpec("svc", "Services", "every Kubernetes Service", ("service", "services"), kind_view=True),
    CommandSpec("pods", "Pods", "every pod", ("pod", "po"), kind_view=True),
    CommandSpec("ns", "Namespace scope", "scope to one namespace (no NAME: all namespaces)",
                ("namespace", "namespaces"), argument="NAME"),
    CommandSpec("ctx", "Switch context", "pick a kubeconfig context", ("context", "contexts"), argument="NAME"),
    CommandSpec("analyze", "Analyze", "configuration findings (IST/MT codes)", ("an",)),
    CommandSpec("trace", "Trace a request", "why a request lands where it does", ("tr",), argument="HOST"),
    CommandSpec("ztunnel", "ztunnel", "workloads and services of a ztunnel (ambient mode)", ("zt",),
                argument="POD|NODE"),
    CommandSpec("history", "History", "changes made through meshtui, with undo", ("hist",)),
    CommandSpec("quit", "Quit", "leave meshtui", ("q", "q!")),
)

_BY_WORD: dict[str, CommandSpec] = {w: c for c in COMMANDS for w in (c.name, *c.aliases)}


def resolve(line: str) -> tuple[CommandSpec, str] | None:
    """The command a typed line names and its argument; None when no command has that word.
    An empty line is the mesh browser (as in k9s, `:` then enter goes home)."""
    word, _, arg = line.strip().lstrip(":").partition(" ")
    spec = _BY_WORD.get(word.lower()) if word else _BY_WORD["mesh"]
    return None if spec is None else (spec, arg.strip())


def unknown_message(line: str) -> str:
    """What the user reads after typing a command that does not exist."""
    tried = " ".join(c.usage for c in COMMANDS)
    return f"unknown command :{line.strip()} (try {tried})"


def prompt_hint() -> str:
    """The `:` prompt's placeholder: every command word."""
    return ":" + " | ".join(c.name for c in COMMANDS)


def help_markdown() -> str:
    """The `:` commands as a Markdown list for the `?` help panel."""
    lines = ["**`:` commands**", ""]
    for c in COMMANDS:
        also = f" (also {', '.join(':' + a for a in c.aliases)})" if c.aliases else ""
        lines.append(f"- `{c.usage}` {c.help}{also}")
    return "\n".join(lines)


def completions(line: str, namespaces: Iterable[str] = ()) -> list[str]:
    """What the last word of a `:` line could be: command names (their other spellings only
    when no name fits), or after ``:ns `` the namespaces."""
    text = line.lstrip().lstrip(":")
    word, space, arg = text.partition(" ")
    if not space:
        low = word.lower()
        names = [c.name for c in COMMANDS if c.name.startswith(low)]
        return names or sorted(w for w in _BY_WORD if w.startswith(low) and w != low)
    spec = _BY_WORD.get(word.lower())
    if spec is not None and spec.name == "ns" and " " not in arg.strip():
        return sorted(n for n in namespaces if n.startswith(arg.strip()))
    return []


def complete(line: str, namespaces: Iterable[str] = ()) -> str:
    """``line`` with its last word completed (Tab in the `:` prompt): fully when one candidate
    fits (a command that takes an argument gets its space), else to the candidates' common
    prefix; unchanged when nothing fits."""
    found = completions(line, namespaces)
    if not found:
        return line
    text = line.lstrip().lstrip(":")
    word, space, arg = text.partition(" ")
    done = found[0] if len(found) == 1 else os.path.commonprefix(found)
    if not space:
        spec = _BY_WORD.get(done)
        if len(found) == 1 and spec is not None and spec.argument:
            return done + " "
        return done if len(done) >= len(word) else line
    return f"{word} {done}" if len(done) >= len(arg.strip()) else line
