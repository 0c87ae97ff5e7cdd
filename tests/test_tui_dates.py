"""Every date field of the app reads dates as people type them."""

from __future__ import annotations

import asyncio
import datetime as dt

from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.widgets import Static

from trustdesk.store import current_coach
from trustdesk.store.models import Client, Commitment, Session
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.screens.client import ClientScreen

TODAY = dt.date(2026, 3, 16)  # the `today` fixture's Monday


def _play(demo_practice, scenario) -> int:
    database = demo_practice(12)
    client = Client.select().where(Client.status == "active").order_by(Client.id).first()

    async def main() -> None:
        app = RecordingApp(database, current_coach())
        async with app.run_test(size=(100, 32)) as pilot:
            await settle(pilot)
            await app.push_screen(ClientScreen(client.id))
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())
    return client.id


def test_a_promise_due_fri_is_due_on_the_coming_friday(demo_practice):
    async def scenario(app, pilot):
        await pilot.press("3", "a")
        await wait_for_screen(pilot, FormScreen)
        await type_into(pilot, "#field-title", "Send the reading list")
        await type_into(pilot, "#field-due_on", "fri")
        await pilot.press("ctrl+s")
        await settle(pilot)

    client_id = _play(demo_practice, scenario)
    promise = Commitment.get(
        (Commitment.client == client_id) & (Commitment.title == "Send the reading list")
    )
    assert promise.due_on == dt.date(2026, 3, 20)


def test_a_session_at_tomorrow_10_and_an_ambiguous_day_refused(demo_practice):
    async def scenario(app, pilot):
        await pilot.press("2", "a")
        await wait_for_screen(pilot, FormScreen)
        form = app.screen
        await type_into(pilot, "#field-start", "03/04 10:00")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # refused, still open, nothing saved
        error = str(form.query_one("#error-start", Static).render())
        assert "could be read two ways" in error and "3 apr or 4 mar" in error
        await type_into(pilot, "#field-start", "tomorrow 10:00")
        await pilot.press("ctrl+s")
        await settle(pilot)

    client_id = _play(demo_practice, scenario)
    assert (
        Session.select()
        .where(
            (Session.client == client_id)
            & (Session.scheduled_start == dt.datetime(2026, 3, 17, 10, 0))
        )
        .exists()
    )
