"""A client's whole life in the app: `n` adds, `E` edits, `S` moves the status, `D` deletes
with the name typed back; each checked in the database afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.widgets import Button, Select, Static

from trustdesk.config import Settings
from trustdesk.store import current_coach
from trustdesk.store.models import Client, Commitment, Note, Session, Stage, Touch
from trustdesk.tui.flows.clients import ClientForm, DeleteClientForm
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.screens.client import ClientScreen
from trustdesk.tui.screens.dashboard import DashboardScreen
from trustdesk.tui.widgets.virtual_table import VirtualTable

SIZE = (100, 32)
TODAY = dt.date(2026, 3, 16)


@pytest.fixture
def empty_app(database, today):
    return RecordingApp(database, current_coach(), settings=Settings())


@pytest.fixture
def demo(demo_practice):
    database = demo_practice(12)
    return RecordingApp(database, current_coach(), settings=Settings())


def _active_client() -> Client:
    return (
        Client.select()
        .where(
            (Client.status == "active")
            & Client.id.in_(Note.select(Note.client))
            & Client.id.in_(Commitment.select(Commitment.client))
            & Client.program.is_null(False)
        )
        .order_by(Client.id)
        .first()
    )


async def _workspace(app, pilot, client_id: int) -> ClientScreen:
    await settle(pilot)
    await app.push_screen(ClientScreen(client_id))
    await settle(pilot)
    return app.screen


async def test_an_empty_practice_says_how_to_add_or_import_and_n_adds_a_client(empty_app):
    app = empty_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        hint = app.screen.query_one("#clients-empty-hint", Static)
        assert (
            hint.display
            and "n" in str(hint.render())
            and "trustdesk import FILE" in str(hint.render())
        )
        assert app.screen.query_one("#clients", VirtualTable).empty_text == "No clients yet."

        await pilot.press("n")
        await wait_for_screen(pilot, ClientForm)
        await type_into(pilot, "#field-name", "Ana Ruiz")
        await type_into(pilot, "#field-emails", "ana@work.example, ana@home.example")
        await type_into(pilot, "#field-phones", "+1 555 0100")
        await type_into(pilot, "#field-ideal_gap_days", "5")
        await type_into(pilot, "#field-max_gap_days", "4")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # The maximum below the ideal is marked on its field; nothing is saved.
        assert isinstance(app.screen, ClientForm)
        assert "shorter than the ideal gap" in str(
            app.screen.query_one("#error-max_gap_days", Static).render()
        )
        assert Client.select().count() == 0
        await type_into(pilot, "#field-max_gap_days", "12")
        await type_into(pilot, "#field-contact_preferences", "Texts, mornings")
        await type_into(pilot, "#field-last_contact_on", "2026-03-13")
        await pilot.press("ctrl+s")
        await settle(pilot)

        assert isinstance(app.screen, DashboardScreen)
        client = Client.get()
        assert (client.name, client.email, client.more_emails, client.phone) == (
            "Ana Ruiz",
            "ana@work.example",
            "ana@home.example",
            "+1 555 0100",
        )
        assert (client.ideal_gap_days, client.max_gap_days, client.status) == (5, 12, "active")
        assert client.contact_preferences == "Texts, mornings"
        assert client.started_on == TODAY
        assert Touch.get(Touch.client == client.id).occurred_on == dt.date(2026, 3, 13)
        assert "Added Ana Ruiz" in app.said
        assert not app.screen.query_one("#clients-empty-hint", Static).display
        assert app.screen.query_one("#clients", VirtualTable).total == 1


async def test_E_edits_the_client_in_the_workspace(demo):
    app = demo
    client = _active_client()
    other_stage = (
        Stage.select()
        .where((Stage.program == client.program_id) & (Stage.id != client.stage_id))
        .order_by(Stage.position)
        .first()
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await _workspace(app, pilot, client.id)
        await pilot.press("E")
        await wait_for_screen(pilot, ClientForm)
        form = app.screen
        assert form.query_one("#field-name").value == client.name
        await type_into(pilot, "#field-name", "Renamed Client")
        await type_into(pilot, "#field-phones", "555 0199, 555 0200")
        form.query_one("#field-journey", Select).value = f"s{other_stage.id}"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        saved = Client.get_by_id(client.id)
        assert saved.name == "Renamed Client" and saved.sort_name == "renamed client"
        assert (saved.phone, saved.more_phones) == ("555 0199", "555 0200")
        assert saved.stage_id == other_stage.id and saved.version == client.version + 1
        assert saved.email == client.email  # untouched fields stay as they were
        assert "Renamed Client" in str(screen.query_one("#top-text", Static).render())


async def test_an_edit_saved_elsewhere_meanwhile_is_not_written_over(demo):
    app = demo
    client = _active_client()
    async with app.run_test(size=SIZE) as pilot:
        await _workspace(app, pilot, client.id)
        await pilot.press("E")
        await wait_for_screen(pilot, ClientForm)
        # Another terminal changes the client while the form is open.
        Client.update(contact_preferences="Calls only").where(Client.id == client.id).execute()
        await type_into(pilot, "#field-name", "Typed Here")
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = Client.get_by_id(client.id)
        assert saved.name == client.name and saved.contact_preferences == "Calls only"
        # The form is back, with what is saved now and the name as typed.
        await wait_for_screen(pilot, ClientForm)
        assert app.screen.query_one("#field-name").value == "Typed Here"
        assert app.screen.query_one("#field-contact_preferences").value == "Calls only"
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = Client.get_by_id(client.id)
        assert saved.name == "Typed Here" and saved.contact_preferences == "Calls only"


async def test_S_moves_the_status(demo):
    app = demo
    client = _active_client()
    async with app.run_test(size=SIZE) as pilot:
        await _workspace(app, pilot, client.id)
        await pilot.press("S")
        await wait_for_screen(pilot, FormScreen)
        select = app.screen.query_one("#field-status", Select)
        assert select.value == "paused"  # the usual next move first
        offered = {value for _, value in app.screen.fields[0].choices}
        assert offered == {"paused", "completed", "archived"}
        select.value = "completed"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Client.get_by_id(client.id).status == "completed"
        assert "cadence not tracked while completed" in str(
            app.screen.query_one("#top-text", Static).render()
        )


async def test_X_deletes_only_once_the_name_is_typed_back(demo):
    app = demo
    client = _active_client()
    others = Client.select().where(Client.id != client.id).count()
    async with app.run_test(size=SIZE) as pilot:
        await _workspace(app, pilot, client.id)
        await pilot.press("X")
        await wait_for_screen(pilot, DeleteClientForm)
        button = app.screen.query_one("#save", Button)
        assert button.disabled
        await type_into(pilot, "#field-typed", client.name[:3])
        assert button.disabled
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeleteClientForm)  # refused on its field
        assert Client.get_or_none(Client.id == client.id) is not None
        await type_into(pilot, "#field-typed", client.name.upper())
        assert not button.disabled
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert Client.get_or_none(Client.id == client.id) is None
        for model in (Session, Commitment, Touch, Note):
            assert not model.select().where(model.client == client.id).exists(), model
        assert Client.select().count() == others
        assert f"Deleted {client.name}" in app.said


def test_the_keys_are_in_help_and_the_palette():
    from trustdesk.tui.screens.help import sections

    keys = {(b.key, b.description) for _, bindings in sections() for b in bindings}
    assert {("n", "New"), ("E", "Edit client"), ("S", "Change status")} <= keys
    assert ("X", "Delete client") in keys
