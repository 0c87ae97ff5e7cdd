"""How the screens look, at 80x24 and 120x40, with the clock frozen and the demo practice.

Regenerate after a deliberate change with: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import settle
from textual.widgets import DataTable, Input

from trustdesk import config
from trustdesk.config import Settings
from trustdesk.store import current_coach
from trustdesk.tui.app import TrustdeskApp

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.fixture(autouse=True)
def noon(monkeypatch):
    """The time of day frozen too: which of today's sessions are over shows on screen."""
    monkeypatch.setattr(config, "now", lambda: dt.datetime.combine(config.today(), dt.time(12)))


@pytest.fixture
def app(demo_practice):
    database = demo_practice(40)
    return TrustdeskApp(database, current_coach(), settings=Settings(), demo_passphrase="demo")


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES)
def test_due_soon_promises(snap_compare, app, size):
    """The promises pane with the cursor on the first promise due soon, after the overdue."""

    async def run_before(pilot):
        await settle(pilot)
        table = pilot.app.screen.query_one("#overdue")
        table.focus()
        await settle(pilot)
        from trustdesk.trust.promises import count_overdue

        table.cursor = count_overdue(current_coach(), pilot.app.today)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_unlock_screen(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.request_unlock()
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_form_with_a_validation_error(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.screen.query_one("#overdue").focus()
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        pilot.app.screen.query_one("#field-due_on", Input).value = "2026-02-30"
        await pilot.press("ctrl+s")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def _first_active_client() -> int:
    from trustdesk.store import Client, Note

    with_notes = Note.select(Note.client).where(Note.kind == "struggle")
    client = (
        Client.select()
        .where((Client.status == "active") & (Client.id << with_notes))
        .order_by(Client.name)
        .first()
    )
    return client.id


async def _open_workspace(pilot, tab: str | None = None) -> None:
    from trustdesk.tui.screens.client import ClientScreen

    await settle(pilot)
    pilot.app.push_screen(ClientScreen(_first_active_client()))
    await settle(pilot)
    if tab:
        await pilot.press(tab)
        await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_client_workspace(snap_compare, app, size):
    assert snap_compare(app, terminal_size=size, run_before=_open_workspace)


@pytest.mark.parametrize("size", SIZES)
def test_client_promises_tab(snap_compare, app, size):
    async def run_before(pilot):
        await _open_workspace(pilot, "3")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notes_locked(snap_compare, app, size):
    async def run_before(pilot):
        await _open_workspace(pilot, "5")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notes_unlocked_with_a_note_open(snap_compare, app, size):
    async def run_before(pilot):
        pilot.app.vault.unlock_with_passphrase("demo")
        await _open_workspace(pilot, "5")
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_journey_tab(snap_compare, app, size):
    async def run_before(pilot):
        await _open_workspace(pilot, "1")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_program_editor(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("P")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_references(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_client_form(snap_compare, app, size):
    """`E` in the workspace: the client form, filled from the client as saved."""

    async def run_before(pilot):
        await _open_workspace(pilot)
        await pilot.press("E")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_agenda(snap_compare, app, size):
    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_delete_client_form(snap_compare, app, size):
    async def run_before(pilot):
        await _open_workspace(pilot)
        await pilot.press("X")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_client_sessions_tab(snap_compare, app, size):
    async def run_before(pilot):
        await _open_workspace(pilot, "2")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_cancel_asks_who(snap_compare, app, size):
    async def run_before(pilot):
        await _open_workspace(pilot, "2")
        await pilot.press("c")
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_your_name_form(snap_compare, app, size):
    """The palette's "Your name": the name and email that sign the coach's prompts."""

    async def run_before(pilot):
        from trustdesk.tui.flows.coach import rename_coach

        await settle(pilot)
        rename_coach(pilot.app)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_notes_search(snap_compare, app, size):
    async def run_before(pilot):
        pilot.app.vault.unlock_with_passphrase("demo")
        await settle(pilot)
        await pilot.press("ctrl+f")
        await settle(pilot)
        pilot.app.screen.query_one("#search-words", Input).value = "the"
        await pilot.press("enter")
        await settle(pilot)
        # The hits are put newest first at the end, the cursor kept on the hit it was on:
        # which hit that is depends on how the batches fell, so the picture is taken with
        # the cursor on the newest.
        table = pilot.app.screen.query_one(DataTable)
        table.move_cursor(row=0, animate=False)
        table.scroll_home(animate=False)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_send_prompt_screen_with_send_by_email(snap_compare, app):
    """The prompt screen offers "Send by email" beside copy, save and mark as sent."""

    async def run_before(pilot):
        from trustdesk.store import Client, current_coach
        from trustdesk.trust.prompts import ensure_library, list_prompts
        from trustdesk.tui.screens.send_prompt import SendPromptScreen

        await settle(pilot)
        client = Client.get_by_id(_first_active_client())
        ensure_library(current_coach())
        prompt = list_prompts(current_coach(), "depth")[0]
        pilot.app.push_screen(SendPromptScreen(client.id, client.name, prompt))
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_contact_tab_with_synced_touches(snap_compare, app, size):
    """Touches read from mail and a prompt sent by email: the Via column and Last messages."""
    from trustdesk.store.models import Client, Touch

    async def run_before(pilot):
        client = Client.get_by_id(_first_active_client())
        today = pilot.app.today
        for days, way, source, subject in (
            (0, "inbound", "mail", "Re: What mattered this week?"),
            (1, "outbound", "sent", "What mattered this week?"),
            (4, "outbound", "mail", "Notes from our session, and the reading list I promised"),
        ):
            Touch.create(coach=client.coach, client=client, direction=way, source=source,
                         occurred_on=today - dt.timedelta(days=days), channel="email",
                         summary=subject, message_id=f"<{days}@example.com>")  # fmt: skip
        await _open_workspace(pilot, "4")

    assert snap_compare(app, terminal_size=size, run_before=run_before)
