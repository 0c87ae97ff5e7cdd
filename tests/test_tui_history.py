"""The coach's name from the palette, `p` in the client workspace, and a start date still
ahead as a coach reads it; each driven by keys and checked in the database."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.widgets import Input

from trustdesk.store import current_coach
from trustdesk.store.models import Client, Coach, Touch
from trustdesk.trust.prompts import compose
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.labels import since_contact, since_contact_short
from trustdesk.tui.screens.client import ClientScreen
from trustdesk.tui.screens.prompts import PromptPicker
from trustdesk.tui.screens.send_prompt import SendPromptScreen

SIZE = (80, 24)
TODAY = dt.date(2026, 3, 16)  # the `today` fixture's Monday


@pytest.fixture
def practice(demo_practice):
    database = demo_practice(8)
    # Start from a practice where no prompt has been sent yet.
    Touch.update(prompt=None).where(Touch.prompt.is_null(False)).execute()
    return database, current_coach()


@pytest.fixture
def ann(practice) -> tuple[int, str]:
    client = (
        Client.select()
        .where((Client.status == "active") & (Client.email != ""))
        .order_by(Client.id)
        .first()
    )
    assert client is not None
    return client.id, client.name


def sent_prompts() -> list[Touch]:
    return list(Touch.select().where(Touch.prompt.is_null(False)).order_by(Touch.id))


async def test_your_name_in_the_palette_renames_the_coach_and_signs_prompts(practice, ann):
    database, coach = practice
    app = RecordingApp(database, coach)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Your name")
        await pilot.pause(0.3)
        await settle(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, FormScreen)
        await settle(pilot)
        assert app.screen.query_one("#field-name", Input).value == coach.name
        await type_into(pilot, "#field-name", "  Morgan Lee ")
        await type_into(pilot, "#field-email", "morgan@example.com")
        await pilot.press("ctrl+s")
        for _ in range(40):
            await settle(pilot)
            if Coach.get_by_id(coach.id).name == "Morgan Lee":
                break
            await pilot.pause(0.05)
        assert not isinstance(app.screen, FormScreen)
        assert any("now signed Morgan Lee" in said for said in app.said)
    saved = Coach.get_by_id(coach.id)
    assert (saved.name, saved.email) == ("Morgan Lee", "morgan@example.com")
    # The running app signs with the new name at once, without a restart.
    assert app.coach.name == "Morgan Lee"
    prompt_id = _any_prompt(app.coach)
    assert compose(app.coach, prompt_id, ann[0]).body.endswith("Warm regards,\nMorgan Lee")


async def test_a_name_changed_elsewhere_is_not_overwritten(practice):
    database, coach = practice
    app = RecordingApp(database, coach)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from trustdesk.tui.flows.coach import rename_coach

        rename_coach(app)
        await wait_for_screen(pilot, FormScreen)
        await settle(pilot)
        # Another terminal: `trustdesk coach --name "Sam Other"`.
        Coach.update(name="Sam Other").where(Coach.id == coach.id).execute()
        await type_into(pilot, "#field-name", "Morgan Lee")
        await pilot.press("ctrl+s")
        for _ in range(40):
            await settle(pilot)
            if any("changed elsewhere" in said for said in app.said):
                break
            await pilot.pause(0.05)
        assert any("changed elsewhere to Sam Other" in said for said in app.said)
    assert Coach.get_by_id(coach.id).name == "Sam Other"
    assert app.coach.name == "Sam Other"


def _any_prompt(coach) -> int:
    from trustdesk.trust.prompts import ensure_library, list_prompts

    ensure_library(coach)
    return list_prompts(coach)[0].prompt_id


async def test_p_in_the_workspace_sends_this_client_a_prompt(practice, ann):
    database, coach = practice
    client_id, name = ann
    app = RecordingApp(database, coach)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(ClientScreen(client_id))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ClientScreen)
        keys = {b.binding.key for b in screen.active_bindings.values() if b.enabled}
        assert "p" in keys
        for tab in ("2", "3", "4", "5", "6", "1"):  # no tab takes `p` for itself
            await pilot.press(tab)
            await settle(pilot)
            assert screen.active_bindings["p"].binding.action == "send_prompt"
        await pilot.press("p")
        await wait_for_screen(pilot, PromptPicker)
        await settle(pilot)
        chosen = app.screen.current()
        assert chosen is not None
        await pilot.press("enter")
        await wait_for_screen(pilot, SendPromptScreen)
        await settle(pilot)
        assert app.screen.message == compose(coach, chosen.prompt_id, client_id)
        await pilot.press("l")
        for _ in range(40):
            await settle(pilot)
            if sent_prompts():
                break
            await pilot.pause(0.05)
        assert isinstance(app.screen, ClientScreen)
    (row,) = sent_prompts()
    assert (row.client_id, row.prompt_id, row.occurred_on) == (client_id, chosen.prompt_id, TODAY)
    assert (row.channel, row.direction) == ("journal_prompt", "outbound")


def test_p_is_hidden_until_the_client_is_loaded():
    screen = ClientScreen(1)
    assert screen.check_action("send_prompt", ()) is False
    assert screen.check_action("back", ()) is True


def test_the_help_lists_p_for_the_workspace():
    from trustdesk.tui.screens.help import sections

    (workspace,) = [bindings for title, bindings in sections() if title == "Client workspace"]
    assert ("p", "Prompt") in [(b.key, b.description) for b in workspace]


def test_a_start_still_ahead_reads_starts_in_days():
    assert since_contact(-5) == "starts in 5 days"
    assert since_contact(-1) == "starts in 1 day"
    assert since_contact(0) == "0 days since contact"
    assert since_contact(1) == "1 day since contact"
    assert since_contact_short(-5) == "in 5d"
    assert since_contact_short(12) == "12d"


async def test_an_imported_future_start_shows_no_negative_gap(practice):
    from trustdesk.config import Settings
    from trustdesk.importer import import_clients
    from trustdesk.trust.dashboard import client_page
    from trustdesk.tui.screens.dashboard_panes import format_client

    database, coach = practice
    import_clients(
        b"name,started_on\nZed Future,2026-03-21\n",
        coach=coach,
        today=TODAY,
        settings=Settings(),
    )
    (row,) = client_page(coach, TODAY, name_filter="Zed Future").rows
    assert format_client(row, TODAY)["since"].text == "in 5d"
    zed = Client.get(Client.name == "Zed Future")
    app = RecordingApp(database, coach)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(ClientScreen(zed.id))
        for _ in range(40):
            await settle(pilot)
            if app.screen.workspace is not None:
                break
            await pilot.pause(0.05)
        top = str(app.screen.query_one("#top-text").render())
        assert "starts in 5 days" in top
        assert "-5" not in top
