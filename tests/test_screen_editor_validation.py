"""The route editor shows Istio's validation of the pending edit beside it."""

from __future__ import annotations

from pathlib import Path

from test_screen_editor import files_app
from test_screen_editor_actions import audit_dir, demo_dir, form, open_backend, screen_name  # noqa: F401 (fixtures)
from ui_helpers import wait_for


async def test_pending_edit_shows_istios_error(demo_dir: Path) -> None:  # noqa: F811
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_backend(pilot, app, ("rule", 1))
        await form(pilot, app, "f", delay="0.0005s", delay_pct="5")
        await wait_for(pilot, lambda: screen_name(app) == "RouteEditor")

        def pending() -> str:
            return str(app.screen.query_one("#editor-pending").render())

        await wait_for(pilot, lambda: "duration must be greater than 1ms" in pending())
        assert "error: [IST0106]" in pending()
