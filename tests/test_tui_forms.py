"""A form refused at save stays open: the reason on its field (or at the top), the words kept."""

from __future__ import annotations

import asyncio

import pytest
from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.widgets import Button, Input, Static

from trustdesk.store import current_coach
from trustdesk.store.models import Client, Touch
from trustdesk.trust.common import ActionError
from trustdesk.tui.flows.base import ask_then_perform
from trustdesk.tui.forms import Field, FormScreen


@pytest.fixture
def practice(demo_practice):
    return demo_practice(12), current_coach()


def run(practice, scenario, size=(80, 24)):
    database, coach = practice

    async def main() -> None:
        app = RecordingApp(database, coach)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())


class Refusal(ActionError):
    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.field = field


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def test_a_refusal_about_a_field_is_shown_on_it_and_the_words_stay(practice):
    tries: list[dict] = []
    done: list[bool] = []

    def work(values: dict) -> None:
        tries.append(values)
        if len(tries) == 1:
            raise Refusal("that title is taken", "title")

    async def scenario(app, pilot):
        form = FormScreen("Name it", [Field("title", "Title"), Field("more", "More")])
        ask_then_perform(app, form, work, "Saved it", lambda: done.append(True))
        await wait_for_screen(pilot, FormScreen)
        await pilot.pause()
        await type_into(pilot, "#field-title", "Quarterly plan")
        await type_into(pilot, "#field-more", "with numbers")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # still open
        assert shown(form, "#error-title") == "that title is taken"
        assert form.query_one("#field-title", Input).has_class("-invalid-field")
        assert form.query_one("#field-more", Input).value == "with numbers"
        assert form.query_one("#field-title", Input).value == "Quarterly plan"
        assert not form.query_one("#save", Button).disabled
        assert "Saved it" not in app.said and len(done) == 1  # what is behind it reloads
        await type_into(pilot, "#field-title", "Quarterly plan B")
        assert shown(form, "#error-title") == ""  # typing again clears it
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
        assert tries[-1] == {"title": "Quarterly plan B", "more": "with numbers"}
        assert len(done) == 2 and "Saved it" in app.said

    run(practice, scenario)


def test_a_refusal_about_no_field_is_shown_at_the_top(practice):
    from trustdesk.store.practice import delete_rows
    from trustdesk.tui.flows.contact import log_touch

    async def scenario(app, pilot):
        client = Client.select().where(Client.status == "active").first()
        log_touch(app, client.id, client.name, None)
        await wait_for_screen(pilot, FormScreen)
        await pilot.pause()
        form = app.screen
        await type_into(pilot, "#field-summary", "Called about the offsite")
        # Meanwhile another terminal removes the client: the rule refuses the touch.
        delete_rows(Client, Client.id == client.id)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert shown(form, "#form-refused") == "that client no longer exists"
        assert form.query_one("#field-summary", Input).value == "Called about the offsite"
        assert Touch.select().where(Touch.client == client.id).count() == 0
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is not form

    run(practice, scenario)


def test_the_touch_form_has_its_buttons_on_screen_at_80x24(practice):
    async def scenario(app, pilot):
        client = Client.select().where(Client.status == "active").first()
        from trustdesk.tui.flows.contact import log_touch

        log_touch(app, client.id, client.name, None)
        await wait_for_screen(pilot, FormScreen)
        await settle(pilot)
        assert len(app.screen.query(Button)) == 2
        for button in app.screen.query(Button):
            region = button.region
            assert region.height and region.bottom <= 23, (button.id, region)

    run(practice, scenario)
