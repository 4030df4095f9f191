"""`?`: meshtui's help, organised by what an on-call user wants to do, with a legend of the
markers the screens draw, the keys of the screen it was opened on, and every `:` command.
Styles: ``styles/dialogs.tcss``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

from meshtui.session.commands import help_markdown

#: What to press for each task, on the mesh browser unless the line names another screen.
TASKS = """\
# meshtui help

**Find where traffic goes** — `/` filters services, `↑ ↓` move, `enter` opens a rule in the
route editor; `t` traces a request (Host, path, headers) to the rule and subset that take it;
`c` shows a pod's Envoy routes, clusters, listeners and endpoints; `E` the service's endpoints
as every client sidecar sees them.

**Watch live traffic** — `l` follows the sidecar access logs of the service, with the observed
split next to the configured weights. There: `p` pause, `/` filter, `2` `4` `5` status classes,
`f` response flags, `[` `]` window, `o` where it is measured, `z` restart the window (after a
weight change).

**Shift traffic safely** — `w` opens the route editor: `← →` move a weight by 5 (`shift` by 1),
`=` exact weight, `0` drain, `c` canary step, `p` promote, `b` rollback, `r` retries, `t`
timeout; `enter` previews (diff, checks, dry run) and `y` applies there; `u` undoes the last
applied change; `esc` asks before it drops pending edits.

**Ambient mode** — the line under a service says sidecar, ztunnel only (L4) or which waypoint
serves it; `W` on a namespace or service chooses its waypoint (the `istio.io/use-waypoint`
label): `enter` previews, `y` applies, `u` undoes; `:ztunnel` shows a ztunnel's tables.

**Check the configuration** — `a` lists findings (IST/MT codes), `d` describes the selected
object, `y` shows its YAML, `e` edits it in `$EDITOR`; `:history` lists changes made here.

**Move around** — `:` jumps to a view (Tab completes), `0` all namespaces and `1`–`9` one
namespace (the hint at the top numbers them), `esc` back, `R` reconnect, `q` quit, `ctrl+p`
command palette.

## Markers

| marker | where | means |
|---|---|---|
| `VS` | browser | a VirtualService routes this service |
| `DR` | browser | a DestinationRule applies to it (subsets, traffic policy) |
| `SE` | browser | a ServiceEntry (a host outside the cluster registry) |
| `⚙` | browser | its routing has another writer (a rollout controller, GitOps): edits may be undone |
| `!` red / yellow | browser | an error / a warning finding (`a` lists it) |
| `→ v1 90% ████` | routes | a destination, its weight and bar |
| `● ○` | routes | a ready / not ready pod of a subset |
| `90% → 70%` `(new)` | editor | a pending edit against the object as read |
| `✖ ⚠` | Analyze | error, warning |
| `● live` / `stale since T` | status bar | the mesh is followed / the last good view, and why |
"""


def screen_keys(screen: Screen[object]) -> str:
    """The keys of ``screen`` (what its bindings say, the tooltips completing them), as Markdown.
    Textual's generic keys (cursor, scrolling, focus) are left out: they are the same everywhere."""
    # Keys that do the same thing share a row: `← -`, `1 2 … 9`.
    rows: dict[str, list[str]] = {}
    for key, active in screen.active_bindings.items():
        binding = active.binding
        # meshtui's own bindings all have an id (the keymap's); Textual's generic ones do not.
        if not binding.description or not binding.id or binding.action == "app.help":
            continue
        what = binding.description + (f" — {binding.tooltip}" if binding.tooltip else "")
        shown = screen.app.get_key_display(Binding(key, binding.action)) or key
        keys = rows.setdefault(what, [])
        if shown not in keys:
            keys.append(shown)
    lines = ["## Keys of this screen", "", "| key | does |", "|---|---|"]
    lines += [f"| {' '.join(f'`{k}`' for k in keys)} | {what} |" for what, keys in rows.items()]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    """The help, over the screen it was opened on (``under``); `?`, `esc` or `q` close it."""

    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help-close")]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self._under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Markdown("\n\n".join([TASKS, screen_keys(self._under), help_markdown()]), id="help-text")

    def on_mount(self) -> None:
        """Scroll with the keyboard straight away."""
        self.query_one("#help-box").focus()
