"""What every writing key of the UI shares: why writes are refused, the mesh as context for the
checks, and the flows that end in a ``ChangePreview``: undo / revert of an audited change and
editing an object as YAML in ``$EDITOR`` (the text round trip: ``meshtui.write.editor``).

Anything that reads files, the audit log or the source runs in a thread worker; the preview is
pushed from the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App

from meshtui.session.mesh_session import MeshSession
from meshtui.sources.base import ObjectKey, RawObject
from meshtui.widgets.host import SessionHost
from meshtui.write.editor import edit_loop, run_editor
from meshtui.write.scope import affected_objects

# How long an undo waits for the watch to bring in our own write before judging the object.
_CATCH_UP_SECONDS = 5.0


def session_of_app(app: App[Any]) -> MeshSession | None:
    """The session an app hosts (None in an app without one)."""
    return app.session if isinstance(app, SessionHost) else None


def read_only_reason(app: App[Any]) -> str | None:
    """Why this session may not write (``--read-only``, read-only credentials, RBAC, a 403
    met by a write), or None. Uses what the app established at load time: no I/O here."""
    session = session_of_app(app)
    return session.write_block_reason() if session is not None else None


def refuse_if_read_only(app: App[Any], what: str = "this change") -> bool:
    """Notify the reason and return True when writes are refused."""
    reason = read_only_reason(app)
    if reason:
        said = reason if reason.lower().startswith("read-only") else f"read-only ({reason})"
        app.notify(f"{said}: {what} cannot be made", severity="warning", timeout=8)
        return True
    session = session_of_app(app)
    if session is None or session.source is None or session.index is None:
        app.notify("the mesh is still loading", severity="warning")
        return True
    return False


def open_preview(app: Any, plan: Any, *, warnings: list[str] | None = None,
                 done: Callable[[Any], None] | None = None) -> None:
    """Show the preview of ``plan``; ``done`` gets the outcome when it closes."""
    from meshtui.screens.change_preview import ChangePreview

    app.push_screen(ChangePreview(plan, warnings=warnings), done)


# -- undo and revert ------------------------------------------------------------------------------


def _current(app: App[Any], session: MeshSession, entry: Any) -> RawObject | None:
    """The object ``entry`` changed, once the index has caught up with our own write."""
    from meshtui.write.plan import fingerprint
    from meshtui.write.undo import edited_part

    key = entry.key
    deadline = time.monotonic() + _CATCH_UP_SECONDS
    while True:
        index = app.call_from_thread(lambda: session.index)
        obj = index.get(key.kind, key.namespace, key.name) if index is not None else None
        raw = obj.raw if obj is not None else None
        if raw is None or time.monotonic() > deadline:
            return raw
        now = fingerprint(edited_part(raw))
        if now == fingerprint(edited_part(entry.after)) or now != fingerprint(edited_part(entry.before)):
            return raw
        time.sleep(0.1)


def revert(app: App[Any], entry: Any = None, done: Callable[[Any], None] | None = None) -> None:
    """Undo ``entry`` (default: the last change applied to this source that is not undone
    yet), through the preview and the same checks as any change."""
    session = session_of_app(app)
    if refuse_if_read_only(app, "undo") or session is None or session.source is None:
        return
    source = session.source

    def work() -> None:
        from meshtui.write.apply import Writer
        from meshtui.write.undo import UndoConflict, UndoError, last_change, plan_undo

        writer = Writer()
        try:
            target = entry or last_change(source, writer.audit)
            if target.result != "applied":
                raise UndoError(f"only an applied change can be reverted (this one: {target.result})")
            current = _current(app, session, target)
            plan = plan_undo(source, target, current,
                             context=app.call_from_thread(_affected_now, session, [current, target.before, target.after]))
        except UndoConflict as exc:
            app.call_from_thread(app.notify, f"{exc}\n{exc.diff[:800]}", severity="error", timeout=15)
            return
        except UndoError as exc:
            app.call_from_thread(app.notify, str(exc), severity="warning", timeout=8)
            return
        def show() -> None:
            app.push_screen(_preview(plan, writer), done)

        app.call_from_thread(show)

    app.run_worker(work, thread=True, group="undo", exit_on_error=False)


def _affected_now(session: MeshSession, objects: list[RawObject | None]) -> list[RawObject]:
    """What an undo of ``objects`` can affect, read from the live index on the event loop."""
    if session.index is None:
        return []
    return affected_objects(session.index, [o for o in objects if o])


def _preview(plan: Any, writer: Any) -> Any:
    from meshtui.screens.change_preview import ChangePreview

    return ChangePreview(plan, writer)


# -- $EDITOR ----------------------------------------------------------------------------------------


def edit_in_editor(app: App[Any], key: tuple[str, str, str]) -> None:
    """``e``: edit the object ``key`` in ``$EDITOR``, then preview and write it like any change."""
    session = session_of_app(app)
    if refuse_if_read_only(app, "editing") or session is None or session.index is None or session.source is None:
        return
    found = session.index.get(*key)
    if found is None:
        app.notify(f"{key[0]} {key[1]}/{key[2]} no longer exists", severity="error")
        return
    obj, source, index = found.raw, session.source, session.index

    def finish(edited: RawObject | None, message: str | None) -> None:
        from meshtui.write.plan import ChangePlan
        from meshtui.write.yaml_edit import describe_changes, three_way_edit

        if edited is None:
            app.notify(message or "nothing was changed", severity="warning")
            return
        plan = ChangePlan.build(source, obj, three_way_edit(obj, edited), describe_changes(obj, edited),
                                affected_objects(index, [obj, edited]))
        if not plan.changed():
            app.notify(f"no change to {ObjectKey.of(obj)}")
            return
        open_preview(app, plan)

    from textual.app import SuspendNotSupported

    try:
        with app.suspend():
            edited, message = edit_loop(obj, run_editor)
    except SuspendNotSupported:
        # No terminal to hand over (headless, web): the editor runs without one, off the loop.
        def work() -> None:
            result = edit_loop(obj, run_editor)
            app.call_from_thread(finish, *result)

        app.run_worker(work, thread=True, group="editor", exit_on_error=False)
        return
    finish(edited, message)
