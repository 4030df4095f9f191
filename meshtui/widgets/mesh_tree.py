"""Namespaces → services (and ServiceEntries), with markers for routing objects and problems.

Built for meshes of 5,000 services: the labels are computed once per load, and after that only
for the services a watch batch can have changed (a VirtualService or DestinationRule changes the
markers of the services it names, a Pod or Endpoints none); the leaves of a namespace are made
when it is first expanded (or asked for with ``node_for``); a new analysis relabels only the
services whose problem marker changed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from meshtui.views.mesh_labels import Key, ServiceLabels

# Open every namespace while the whole mesh fits on a couple of screens.
_EXPAND_ALL_UP_TO = 60


class MeshTree(Tree[Any]):
    """The left-hand browser of the mesh screen. Node data is ``("svc", kind, ns, name)``.

    ``refresh_from`` updates labels in place and adds or removes only what changed, so the
    cursor and the expanded namespaces survive every watch event.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("mesh", **kwargs)
        self.show_root = False
        self.filter_text = ""
        # Worst finding level ("Error"/"Warning") per service key and per namespace.
        self.problems: dict[Key, str] = {}
        self.ns_problems: dict[str, str] = {}
        self._scope: str | None = None
        self._ns_nodes: dict[str, Any] = {}
        self._leaves: dict[str, dict[Key, Any]] = {}  # namespaces whose leaves exist
        self._l: ServiceLabels | None = None

    # -- public API ---------------------------------------------------------------------------

    def set_problems(self, by_service: dict[Key, str], by_namespace: dict[str, str]) -> None:
        """Remember which services and namespaces have findings; drawn at the next refresh."""
        self.problems = dict(by_service)
        self.ns_problems = dict(by_namespace)

    def apply_problems(self, by_service: dict[Key, str], by_namespace: dict[str, str]) -> None:
        """Set the problem markers and redraw only the nodes whose marker changed."""
        old, old_ns = self.problems, self.ns_problems
        self.set_problems(by_service, by_namespace)
        if self._l is None:
            return
        keys = {k for k in old.keys() | self.problems.keys() if old.get(k) != self.problems.get(k)}
        nss = {n for n in old_ns.keys() | self.ns_problems.keys() if old_ns.get(n) != self.ns_problems.get(n)}
        self._sync(self._scope, nss | {k[1] for k in keys}, keys)

    def move_cursor(self, node: TreeNode[Any] | None, animate: bool = False) -> None:
        """Move the cursor to ``node`` by its line as the tree is now: Textual numbers the lines
        when it draws, so after nodes were added or removed (a filter, a scope change) the number
        a node kept would put the cursor on another row. ``last_line`` counts them again."""
        if self.last_line >= 0:
            super().move_cursor(node, animate)
        else:
            super().move_cursor(None, animate)

    def node_for(self, key: Key) -> Any:
        """The tree node of a service key (kind, namespace, name), if shown (its namespace's
        leaves are made if they were not yet)."""
        ns = key[1]
        if ns in self._ns_nodes and ns not in self._leaves:
            self._fill(ns)
        return self._leaves.get(ns, {}).get(key)

    def first_key(self) -> Key | None:
        """The first service shown, in tree order."""
        for ns_node in self.root.children:
            if ns_node.data is None:
                continue
            ns = ns_node.data[1]
            wanted = self._wanted(ns)
            if wanted:
                return wanted[0]
        return None

    def refresh_from(self, index: Any, scope: str | None = None,
                     changed: list[tuple[str, Any]] | None = None, prepared: ServiceLabels | None = None) -> None:
        """Bring the tree in line with ``index``; ``scope`` limits it to one namespace.

        ``changed`` (the watch batch just applied to the same index) lets only the services it
        can affect be relabelled; without it every label is computed again.
        """
        labels = self._l
        if labels is None or labels.index is not index or changed is None or labels.needs_rebuild(changed):
            # The labels of a fresh load come made in the load thread, off the loop.
            if prepared is not None and prepared.index is index and changed is None:
                self._l = prepared
            else:
                self._l = ServiceLabels(index)
            self._sync(scope, None, None)
            return
        keys = labels.apply(changed)
        if scope != self._scope:
            self._sync(scope, None, None)
        elif keys:
            self._sync(scope, {k[1] for k in keys}, keys)

    def refilter(self, scope: str | None = None) -> None:
        """Apply a new ``filter_text`` or scope without computing labels again."""
        if self._l is not None:
            self._sync(scope, None, None)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        """Make a namespace's leaves the first time it is opened."""
        data = event.node.data
        if isinstance(data, tuple) and data and data[0] == "ns" and data[1] not in self._leaves:
            self._fill(data[1])

    # -- nodes ----------------------------------------------------------------------------------

    def _shown_label(self, key: Key) -> Text:
        assert self._l is not None
        base = self._l.labels[key]
        level = self.problems.get(key)
        if level not in ("Error", "Warning"):
            return base
        return _mark(base, level)

    def _wanted(self, ns: str) -> list[Key]:
        """The services of ``ns`` that pass the filter, by name."""
        members = self._l.members.get(ns, []) if self._l is not None else []
        if not self.filter_text:
            return members
        return [k for k in members if self.filter_text in f"{k[1]}/{k[2]}".lower()]

    def _sync(self, scope: str | None, namespaces: set[str] | None, keys: set[Key] | None) -> None:
        """Make the nodes match the labels: every namespace (``namespaces`` None) or only those
        given; within them every leaf (``keys`` None) or only those given."""
        self._scope = scope
        assert self._l is not None
        all_ns, members = self._l.all_ns, self._l.members
        in_scope = {ns for ns in all_ns | members.keys() if (not scope or ns == scope) and (ns in all_ns or members.get(ns))}
        wanted = {ns: self._wanted(ns) for ns in (in_scope if namespaces is None else namespaces & in_scope)}
        total = sum(len(v) for v in wanted.values()) if namespaces is None else _EXPAND_ALL_UP_TO + 1
        for ns in sorted(wanted):
            node = self._ns_nodes.get(ns)
            label = _mark(Text.assemble((ns, "bold"), (f"  {len(wanted[ns])}", "dim")), self.ns_problems.get(ns))
            if node is None:
                # On a big mesh namespaces start collapsed: the namespace list is the overview.
                node = self.root.add(label, data=("ns", ns), expand=total <= _EXPAND_ALL_UP_TO,
                                     allow_expand=True, before=_next_node(self._ns_nodes, ns))
                self._ns_nodes[ns] = node
                if total <= _EXPAND_ALL_UP_TO:
                    self._fill(ns)
                continue
            if node.label != label:
                # Relabel only what changed: every set_label invalidates the tree's lines.
                node.set_label(label)
            if ns in self._leaves:
                self._sync_leaves(ns, wanted[ns], keys)
        if namespaces is None:
            for ns in [n for n in self._ns_nodes if n not in wanted]:
                self._leaves.pop(ns, None)
                self._ns_nodes.pop(ns).remove()

    def _fill(self, ns: str) -> None:
        node = self._ns_nodes[ns]
        leaves = self._leaves.setdefault(ns, {})
        for key in self._wanted(ns):
            leaves[key] = node.add_leaf(self._shown_label(key), data=("svc",) + key)

    def _sync_leaves(self, ns: str, wanted: list[Key], keys: Iterable[Key] | None) -> None:
        node = self._ns_nodes[ns]
        leaves = self._leaves[ns]
        present = set(wanted)
        only = None if keys is None else set(keys)
        for key in wanted if only is None else [k for k in wanted if k in only]:
            leaf = leaves.get(key)
            label = self._shown_label(key)
            if leaf is None:  # in name order, as a fresh tree would draw it
                leaves[key] = node.add_leaf(label, data=("svc",) + key, before=_next_node(leaves, key))
            elif leaf.label != label:
                leaf.set_label(label)
        stale = [k for k in (leaves if only is None else only) if k[1] == ns and k in leaves and k not in present]
        for key in stale:
            leaves.pop(key).remove()


def _next_node(nodes: dict[Any, TreeNode[Any]], key: Any) -> TreeNode[Any] | None:
    """The node that comes first after ``key`` in name order (a namespace by its name, a service by its
    name, as the labels sort them): a node added later goes before it, so the tree keeps that
    order however often the scope or the mesh changes."""
    def order(k: Any) -> tuple[str, Any]:
        return (k if isinstance(k, str) else k[2], k)

    mine = order(key)
    later = [k for k in nodes if order(k) > mine]
    return nodes[min(later, key=order)] if later else None


def _mark(label: Text, level: str | None) -> Text:
    """``label`` behind the problem marker: a red `!` for an error finding, a yellow one for a
    warning. First on the line, so that a narrow browser never cuts it."""
    if level not in ("Error", "Warning"):
        return label
    return Text.assemble(("! ", "bold red" if level == "Error" else "bold yellow"), label)
