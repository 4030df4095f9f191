"""Keys that arrive in one burst (tmux send-keys, a paste, a fast typist over SSH) are applied in
the order they were typed in every text field (issue 12: ``BSpace BSpace 30`` gave ``23``)."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Input, Static

from meshtui.screens.edit_form import FormField, FormScreen


class FormHost(App[None]):
    """A bare app that opens the route editor's form for an exact weight, prefilled with 10."""

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(FormScreen("Weight of v1", [FormField("weight", "weight (0-100)", default="10")],
                                    submit=lambda values: None))


def burst(app: App[None], *keys: tuple[str, str | None]) -> None:
    """Post every key at once, as the terminal driver does for one read of several bytes."""
    for key, char in keys:
        app.post_message(events.Key(key, char))


BSPACE = ("backspace", "\x7f")


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ((BSPACE, BSPACE, ("3", "3"), ("0", "0")), "30"),
        (( ("end", None), BSPACE, BSPACE, ("3", "3"), ("0", "0")), "30"),
        ((("end", None), BSPACE, ("5", "5")), "15"),
        ((("end", None), ("left", None), ("7", "7"), ("delete", None)), "17"),
        ((("home", None), ("delete", None), ("2", "2")), "20"),
    ],
)
async def test_a_burst_of_keys_in_a_form_field_is_applied_in_order(
    keys: tuple[tuple[str, str | None], ...], expected: str
) -> None:
    app = FormHost()
    async with app.run_test() as pilot:
        await pilot.pause()
        field = app.screen.query_one("#field-weight", Input)
        assert field.value == "10"
        burst(app, *keys)
        await pilot.pause()
        await pilot.pause()
        assert field.value == expected


# -- the real app: keys typed right after a key that opens a dialog, a prompt or a filter -------

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from test_screen_editor import files_app, open_editor_at  # noqa: E402
from ui_helpers import wait_for  # noqa: E402

import meshtui  # noqa: E402

DEMO = Path(meshtui.__file__).parent / "demo"


@pytest.fixture()
def demo_dir(tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def typed(text: str) -> list[tuple[str, str | None]]:
    """The key events a terminal sends for ``text``."""
    names = {"/": "slash", ":": "colon", " ": "space"}
    return [(names.get(ch, ch), ch) for ch in text]


async def test_slash_then_a_name_in_one_burst_filters_and_opens_nothing(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        home = app.screen
        burst(app, *typed("/ratings"))  # 'a' and 't' are Analyze and Trace on the mesh screen
        await wait_for(pilot, lambda: home.query_one("#filter", Input).value == "ratings")
        await pilot.pause()
        assert app.screen is home


async def test_colon_command_enter_in_one_burst_opens_the_view(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        burst(app, *typed(":pods"), ("enter", "\r"))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "KindScreen")
        assert [type(s).__name__ for s in app.screen_stack][-2:] == ["MeshScreen", "KindScreen"]


async def test_exact_weight_dialog_typed_in_one_burst(demo_dir: Path) -> None:
    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await open_editor_at(pilot, app, "default", "backend-service", ("dest", 2, 1))
        burst(app, ("equals_sign", "="), BSPACE, BSPACE, ("3", "3"), ("0", "0"))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen"
                       and app.screen.query_one(Input).value == "30", timeout=10)


async def test_keys_overtaken_twice_still_land_in_the_dialog(demo_dir: Path) -> None:
    """``w``, then the arrows for the route editor, then ``=`` and the value, all in one burst."""
    from meshtui.widgets.mesh_tree import MeshTree

    app = files_app(demo_dir)
    async with app.run_test(size=(150, 50)) as pilot:
        await wait_for(pilot, lambda: app.index is not None)
        tree = app.screen.query_one(MeshTree)
        for _ in range(100):
            if tree.cursor_node is not None and tree.cursor_node.data == ("svc", "Service", "default",
                                                                          "backend-service"):
                break
            await pilot.press("down")
        burst(app, ("w", "w"), *[("down", None)] * 13, ("equals_sign", "="), BSPACE, BSPACE,
              ("3", "3"), ("0", "0"))
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FormScreen"
                       and app.screen.query_one(Input).value == "30", timeout=10)
        assert "Weight of v1 in rule default" in str(app.screen.query_one("#form-title", Static).render())
