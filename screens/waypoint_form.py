"""`W` on the mesh browser: choose the waypoint of the namespace, Service or ServiceEntry under the
cursor (its ``istio.io/use-waypoint`` label), then the change preview of that label edit.

The choices and the change come from :mod:`meshtui.session.waypoint_enrolment` (the edit API of
``meshtui waypoint use|remove``); this module only composes the form and the preview.
"""

from __future__ import annotations

from typing import Any

from meshtui.routing.rules import ReleaseError
from meshtui.screens.edit_form import FormField, FormScreen
from meshtui.screens.write_actions import open_preview, refuse_if_read_only, session_of_app
from meshtui.session.waypoint_enrolment import EnrolmentError, enrolment_choices, enrolment_plan
from meshtui.write.plan import ChangePlan


def open_waypoint_form(app: Any, key: tuple[str, str, str]) -> None:
    """Ask which waypoint ``key`` (kind, namespace, name) should use; `enter` opens the preview."""
    if refuse_if_read_only(app, "a waypoint enrolment"):
        return
    session = session_of_app(app)
    if session is None or session.index is None or session.source is None:
        return
    index, source = session.index, session.source
    kind, namespace, name = key
    try:
        choices = enrolment_choices(index, kind, namespace, name)
    except EnrolmentError as exc:
        app.notify(str(exc), severity="warning")
        return
    planned: list[ChangePlan] = []

    def submit(values: dict[str, str]) -> str | None:
        try:
            plan = enrolment_plan(source, index, kind, namespace, name, values["waypoint"])
        except (EnrolmentError, ReleaseError) as exc:
            return str(exc)
        if not plan.changed():
            return "already so: nothing to change"
        planned.append(plan)
        return None

    def done(values: dict[str, str] | None) -> None:
        if values is not None and planned:
            open_preview(app, planned[-1])

    where = f"{namespace}/{name}" if namespace else name
    width = max((len(c.token) for c in choices), default=0)
    note = "\n".join(("● " if c.current else "  ") + f"{c.token:<{width}}  {c.text}" for c in choices)
    default = next((c.token for c in choices if not c.current), "")
    field = FormField("waypoint", "waypoint", default=default, choices=[c.token for c in choices])
    app.push_screen(FormScreen(f"Waypoint for {kind} {where}", [field], submit, note=note), done)
