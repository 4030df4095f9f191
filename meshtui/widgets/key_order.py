"""Keys reach what the user was typing into, in the order typed, however fast they arrive.

Textual runs a non-priority binding only after the key has bubbled from the focused widget up
to the app, and moves focus or screens on a later turn of the loop; keys that arrive in one
burst (tmux ``send-keys``, a paste, a fast typist over SSH) were inserted out of order, went to
the widget that had focus before, or were dropped. The pieces here put them where they belong.
"""

from __future__ import annotations

from textual import events
from textual.binding import BindingsMap
from textual.widgets import Input


class KeyOrderedInput(Input):
    """``Input`` whose own editing keys (backspace, delete, arrows, home/end …) act at once.

    Textual inserts a printable key in the focused input's key handler, but runs a non-priority
    binding only after the key event has bubbled up to the app. When keys arrive in one burst
    (tmux ``send-keys``, a paste, a fast typist over SSH) the printable keys that follow a
    backspace are inserted before the backspace runs: ``BSpace BSpace 3 0`` on "10" gave "3".
    Running the input's own bindings from its key handler keeps the typed order.
    """

    _ORDERED_KEYS = BindingsMap(Input.BINDINGS).key_to_bindings

    async def _on_key(self, event: events.Key) -> None:
        """Run the input's own editing keys now, in the order they came."""
        bindings = self._ORDERED_KEYS.get(event.key) if not event.is_printable else None
        if bindings:
            event.stop()
            event.prevent_default()  # Textual calls every class's _on_key unless told not to
            await self.run_action(bindings[0].action)
        # Otherwise Input._on_key runs next, as Textual dispatches along the MRO.


class FirstFieldTakesEarlyKeys:
    """Mixin for a modal screen of text fields: keys typed before a field has focus go to the first.

    A key that opens the dialog and the keys typed right after it often arrive in one burst;
    those reach the new screen before its first field has been focused (Textual focuses on a
    later turn of the loop) and were dropped. They are re-posted, in order, to the first field.
    """

    def first_field(self) -> Input | None:
        """The field that takes keys typed before anything has focus."""
        found = self.query(Input)  # type: ignore[attr-defined]
        return found.first() if found else None

    async def on_key(self, event: events.Key) -> None:
        """Hand an early key to the first field (a fresh copy: this one stops here)."""
        if self.focused is not None:  # type: ignore[attr-defined]
            return
        field = self.first_field()
        if field is None:
            return
        event.stop()
        event.prevent_default()
        field.focus()
        field._forward_event(events.Key(event.key, event.character))


class KeysFollowFocus:
    """App mixin: a key that comes back unhandled after its screen or focus changed goes on.

    The app forwards each key to the widget focused at arrival. When that key bubbles back
    unhandled and, meanwhile, a binding has opened or closed a screen or moved focus to a text
    field (``w`` then ``→``, ``=`` then ``30``, ``/`` then ``ratings``), the key was typed for
    the new target: it is delivered there instead of being run against the new screen's
    bindings (or dropped).
    """

    _KEEP = 256  # keys in flight are few; forget the oldest that a widget consumed

    def _sent_to(self) -> dict[events.Key, tuple[object, object]]:
        table: dict[events.Key, tuple[object, object]] | None = self.__dict__.get("_key_targets")
        if table is None:
            table = self.__dict__["_key_targets"] = {}
        return table

    async def on_event(self, event: events.Event) -> None:
        """Remember where a key from the terminal is sent."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            table = self._sent_to()
            screen = self.screen  # type: ignore[attr-defined]
            table[event] = (screen, screen.focused)
            while len(table) > self._KEEP:
                del table[next(iter(table))]
        await super().on_event(event)  # type: ignore[misc]

    async def _on_key(self, event: events.Key) -> None:
        """Send a key typed for another screen or field on to it."""
        sent = self._sent_to().pop(event, None)
        screen = self.screen  # type: ignore[attr-defined]
        if sent is not None:
            old_screen, old_focus = sent
            focus = screen.focused
            if old_screen is not screen or (focus is not old_focus and isinstance(focus, Input)):
                event.prevent_default()  # not App._on_key: the key's bindings are the new target's
                again = events.Key(event.key, event.character)
                # Remembered too: a key can be overtaken twice (``w``, ``=``, then ``30``).
                self._sent_to()[again] = (screen, focus)
                (focus or screen)._forward_event(again)
        # Otherwise App._on_key runs next (bindings), as Textual dispatches along the MRO.
