"""The route editor's tree: one VirtualService's HTTP rules with the pending edits marked.

Rules, their match conditions, their actions (rewrite, mirror, fault, timeout) and their
destinations with weight bars. Whatever the pending edits change is shown against the object as
read: ``90% → 70%`` for a weight, ``(new)`` / ``(removed)`` for conditions, destinations and
actions, ``(moved from #k)`` for a rule. Node data says what a node is, for the editor's keys:
``("rule", i)``, ``("dest", i, j)``, ``("cond", i, block, field, name)``, ``("action", i, key)``.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from meshtui.routing.rules import current_weights
from meshtui.widgets import describe
from meshtui.write.edit_api import dest_key

_STYLES = ("green", "cyan", "magenta", "yellow", "blue", "bright_red", "bright_green")
_SINGLE = ("uri", "method", "authority", "scheme")
_NAMED = (("headers", "header"), ("withoutHeaders", "without header"), ("queryParams", "query"))
_ACTIONS = ("rewrite", "mirror", "mirrorPercentage", "mirrors", "fault", "timeout", "retries", "redirect",
            "directResponse", "headers", "corsPolicy", "delegate")


def string_match_text(sm: Any) -> str:
    """``exact "v"`` / ``prefix /x`` / ``regex ^a.*`` / ``present``."""
    if not isinstance(sm, dict) or not sm:
        return "present"
    kind, value = next(iter(sm.items()))
    return f'{kind} "{value}"' if kind == "exact" else f"{kind} {value}"


def conditions(block: Any) -> list[tuple[str, str | None, str]]:
    """The conditions of one match block: ``(field, name, text)``."""
    out: list[tuple[str, str | None, str]] = []
    if not isinstance(block, dict):
        return out
    for field in _SINGLE:
        if field in block:
            extra = " (ignore case)" if field == "uri" and block.get("ignoreUriCase") else ""
            out.append((field, None, f"{field} {string_match_text(block[field])}{extra}"))
    for field, word in _NAMED:
        for name, sm in (block.get(field) or {}).items():
            out.append((field, str(name), f"{word} {name} {string_match_text(sm)}"))
    for field in sorted(set(block) - set(_SINGLE) - {f for f, _ in _NAMED} - {"ignoreUriCase", "name"}):
        out.append((field, None, f"{field} {json.dumps(block[field], sort_keys=True)}"))
    return out


def action_lines(rule: dict[str, Any]) -> list[tuple[str, str]]:
    """``(key, text)`` for each action field of a rule (rewrite, mirror, fault, ...)."""
    out = []
    for key in _ACTIONS:
        if key not in rule:
            continue
        value = rule[key]
        if key == "mirror" and isinstance(value, dict):
            pct = (rule.get("mirrorPercentage") or {}).get("value", 100)
            text = f"mirror {pct}% → {value.get('host')} {value.get('subset') or ''}".rstrip()
        elif key == "mirrorPercentage":
            continue
        elif key == "rewrite" and isinstance(value, dict):
            parts = [f"uri → {value['uri']}"] if "uri" in value else []
            if "uriRegexRewrite" in value:
                rr = value["uriRegexRewrite"] or {}
                parts.append(f"uri regex {rr.get('match')} → {rr.get('rewrite')}")
            if "authority" in value:
                parts.append(f"authority → {value['authority']}")
            text = "rewrite " + ", ".join(parts)
        elif key == "fault" and isinstance(value, dict):
            parts = []
            if "delay" in value:
                d = value["delay"] or {}
                parts.append(f"delay {d.get('fixedDelay')} for {(d.get('percentage') or {}).get('value', 100)}%")
            if "abort" in value:
                a = value["abort"] or {}
                parts.append(f"abort {a.get('httpStatus')} for {(a.get('percentage') or {}).get('value', 100)}%")
            text = "fault " + ", ".join(parts)
        elif key == "timeout" and isinstance(value, str):
            text = f"timeout {value}"
        elif key == "retries" and isinstance(value, dict) and "attempts" in value \
                and set(value) <= {"attempts", "perTryTimeout", "retryOn"}:
            text = f"retries {value['attempts']}"
            if "perTryTimeout" in value:
                text += f" ({value['perTryTimeout']} per try)"
            if "retryOn" in value:
                text += f" on {value['retryOn']}"
        else:
            text = f"{key} {json.dumps(value, sort_keys=True)}"
        out.append((key, text))
    return out


def _base_rule(base_rules: list[dict[str, Any]], rule: dict[str, Any], index: int) -> tuple[int | None, dict | None]:
    name = rule.get("name")
    if name:
        for i, r in enumerate(base_rules):
            if r.get("name") == name:
                return i, r
        return None, None
    if index < len(base_rules) and not base_rules[index].get("name"):
        return index, base_rules[index]
    return None, None


class EditTree(Tree[Any], inherit_bindings=False):
    """The pending state of one VirtualService, compared with the object as read.

    The tree keeps only cursor keys of its own: the editor screen's weight keys (arrows, ``-``,
    ``+``, ``enter``) must reach the screen."""

    BINDINGS = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "Bottom", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("space", "toggle_node", "Toggle", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("routes", **kwargs)
        self.show_root = False
        self.guide_depth = 3
        self.styles_by_subset: dict[str, str] = {}
        self._settling: Any = None

    def _style(self, subset: str) -> str:
        if subset not in self.styles_by_subset:
            self.styles_by_subset[subset] = _STYLES[len(self.styles_by_subset) % len(_STYLES)]
        return self.styles_by_subset[subset]

    def show(self, base: dict[str, Any], current: dict[str, Any], select: Any = None) -> None:
        """Draw ``current`` marked against ``base``; put the cursor on the node whose data is
        ``select`` (default: where it was)."""
        keep = select if select is not None else (self.cursor_node.data if self.cursor_node else None)
        self.clear()
        base_rules = ((base.get("spec") or {}).get("http")) or []
        rules = ((current.get("spec") or {}).get("http")) or []
        for i, rule in enumerate(rules):
            was_at, was = _base_rule(base_rules, rule, i)
            self._add_rule(i, rule, was_at, was)
        target = self._find(keep) if keep is not None else None
        target = target or (self.root.children[0] if self.root.children else None)
        # Line numbers of new nodes exist only after the next layout: move the cursor then too.
        # Until then the cursor is not reliable, and a key pressed meanwhile (a held-down ←)
        # must act on the node just selected: ``selected_data`` says which.
        self._settling = target.data if target is not None else None
        self.move_cursor(target)
        self.call_after_refresh(self._settle, target)

    def _settle(self, target: TreeNode[Any] | None) -> None:
        self._settling = None
        if target is not None and target.tree is self and self._find(target.data) is target:
            self.move_cursor(target)

    def action_cursor_up(self) -> None:
        """Up one node (the user's choice now overrides a redraw's)."""
        self._settling = None
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        """Down one node."""
        self._settling = None
        super().action_cursor_down()

    @property
    def selected_data(self) -> Any:
        """The data of the node under the cursor (or about to be, right after a redraw)."""
        if self._settling is not None:
            return self._settling
        return self.cursor_node.data if self.cursor_node is not None else None

    def _find(self, data: Any) -> TreeNode[Any] | None:
        stack = list(self.root.children)
        while stack:
            node = stack.pop(0)
            if node.data == data:
                return node
            stack[:0] = list(node.children)
        return None

    def _add_rule(self, i: int, rule: dict[str, Any], was_at: int | None, was: dict[str, Any] | None) -> None:
        title = Text(f"http[{i}]", style="bold")
        if rule.get("name"):
            title.append(f" {rule['name']}", style="bold magenta")
        if was is None:
            title.append("  (new)", style="bold green")
        elif was_at != i:
            title.append(f"  (moved from #{was_at})", style="bold yellow")
        node = self.add_rule_node(title, i)
        self._add_conditions(node, i, rule, was)
        old_actions = dict(action_lines(was)) if was is not None else {}
        new_actions = dict(action_lines(rule))
        for key, text in new_actions.items():
            line = Text(text, style="italic")
            if was is not None and old_actions.get(key) != text:
                line.append("  (new)" if key not in old_actions else "  (changed)", style="bold green")
            node.add_leaf(line, data=("action", i, key))
        for key, text in old_actions.items():
            if key not in new_actions:
                node.add_leaf(Text(f"{text}  (removed)", style="strike dim red"))
        self._add_destinations(node, i, rule, was)

    def add_rule_node(self, title: Text, i: int) -> TreeNode[Any]:
        """The node of rule ``i`` (expanded)."""
        return self.root.add(title, data=("rule", i), expand=True)

    def _add_conditions(self, node: TreeNode[Any], i: int, rule: dict[str, Any], was: dict[str, Any] | None) -> None:
        blocks = rule.get("match") or []
        old = {text for b in ((was or {}).get("match") or []) for _, _, text in conditions(b)}
        new: set[str] = set()
        if not blocks:
            node.add_leaf(Text("when (every request)", style="dim yellow"), data=("cond", i, 0, None, None))
        for b, block in enumerate(blocks):
            for n, (field, name, text) in enumerate(conditions(block)):
                prefix = ("when " if b == 0 else "or   ") if n == 0 else "and  "
                line = Text(prefix + text, style="yellow")
                if was is not None and text not in old:
                    line.append("  (new)", style="bold green")
                new.add(text)
                node.add_leaf(line, data=("cond", i, b, field, name))
        for text in sorted(old - new):
            node.add_leaf(Text(f"     {text}  (removed)", style="strike dim red"))

    def _add_destinations(self, node: TreeNode[Any], i: int, rule: dict[str, Any], was: dict[str, Any] | None) -> None:
        route = rule.get("route") or []
        weights = current_weights(rule)
        old_route = (was or {}).get("route") or []
        old = dict(zip((dest_key(d) for d in old_route), current_weights(was or {}))) if was is not None else {}
        for j, (d, w) in enumerate(zip(route, weights)):
            key = dest_key(d)
            style = self._style(key[1] or key[0])
            line = Text("→ ")
            line.append(f"{key[0]} {key[1]}".strip().ljust(32), style=style)
            line.append_text(describe.weight_bar(w, style))
            if was is not None and key not in old:
                line.append(f" {w:>3}%")
                line.append("  (new)", style="bold green")
            elif was is not None and old[key] != w:
                line.append(f" {old[key]:>3}% → {w}%", style="bold yellow")
            else:
                line.append(f" {w:>3}%")
            node.add_leaf(line, data=("dest", i, j))
        keys = {dest_key(d) for d in route}
        for key, w in old.items():
            if key not in keys:
                node.add_leaf(Text(f"→ {key[0]} {key[1]}  {w}%  (removed)", style="strike dim red"))
