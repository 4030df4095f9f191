"""Keys shared by the screens that list the mesh's objects: `d` describes the highlighted
object; on the mesh browser `0`–`9` also pick the namespace scope (k9s style)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.screen import Screen

from meshtui.messages import RunCommand
from meshtui.session.namespace_keys import namespace_keys, scope_for_key
from meshtui.views.describe_object import describe
from meshtui.widgets.host import session_of


class DescribeKey(Screen[None]):
    """`d`: the describe view of ``highlighted_object()``."""

    BINDINGS = [Binding("d", "describe", "Describe", id="describe", show=False,
                        tooltip="kubectl describe of the highlighted object, with its routes and findings")]

    def highlighted_object(self) -> tuple[str, str, str] | None:
        """(kind, namespace, name) of the object under the cursor; each screen says which."""
        return None

    def action_describe(self) -> None:
        """Open the describe view of the highlighted object."""
        from meshtui.screens.describe import DescribeScreen

        key = self.highlighted_object()
        session = session_of(self)
        index = session.index if session is not None else None
        if key is None or index is None:
            self.notify("describe needs an object under the cursor", severity="warning")
            return
        latest = session.findings.latest if session is not None else None
        lines = describe(index, *key, findings=latest.findings if latest is not None else ())
        if not lines:
            self.notify(f"{key[0]} {key[1]}/{key[2]} is no longer in the mesh", severity="warning")
            return
        where = f"{key[1]}/{key[2]}" if key[1] else key[2]
        self.app.push_screen(DescribeScreen(f"{key[0]} {where}", lines))


class NamespaceKeys(Screen[None]):
    """`0` every namespace, `1`–`9` the namespaces the hint numbers."""

    BINDINGS = [
        Binding(str(digit), f"namespace_key({digit})", "All namespaces" if digit == 0 else "Namespace",
                show=False, id=f"namespace-{digit}", tooltip="scope to every namespace" if digit == 0 else
                "scope to the namespace the hint gives that number")
        for digit in range(10)
    ]

    def _namespaces(self) -> list[str]:
        session = session_of(self)
        index = session.index if session is not None else None
        return list(index.namespaces) if index is not None else []

    def namespace_hint(self) -> Text:
        """``0 all  1 bookinfo  2 default …`` with the current scope highlighted."""
        session = session_of(self)
        scope = session.scope if session is not None else None
        text = Text()
        for digit, ns in enumerate(namespace_keys(self._namespaces())):
            if digit:
                text.append("  ")
            current = ns == scope
            text.append(str(digit), style="bold reverse" if current else "bold")
            text.append(f" {ns or 'all'}", style="bold" if current else "dim")
        return text

    def action_namespace_key(self, digit: int) -> None:
        """Scope every view to the namespace of key ``digit`` (`0`: every namespace)."""
        names = self._namespaces()
        known, scope = scope_for_key(names, digit)
        if not known:
            self.notify(f"no namespace on key {digit}: the hint numbers {min(len(names), 9)}", severity="warning")
            return
        self.post_message(RunCommand(f"ns {scope}" if scope else "ns"))
