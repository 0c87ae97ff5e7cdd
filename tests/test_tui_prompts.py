"""Sending a prompt and logging the reply, driven by keys; every outcome checked in the database."""

from __future__ import annotations

import base64
import datetime as dt
import os
import stat

import pytest
from helpers import RecordingApp, settle, wait_for_screen
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static, TextArea

from trustdesk.store import current_coach
from trustdesk.store.models import Client, Prompt, Touch
from trustdesk.store.practice import delete_rows
from trustdesk.trust.prompts import (
    awaiting_reply,
    compose,
    ensure_library,
    library,
    list_prompts,
    send_prompt,
)
from trustdesk.tui.flows.prompts import log_reply_flow
from trustdesk.tui.forms import FormScreen
from trustdesk.tui.screens.prompts import PromptPicker, send_prompt_flow
from trustdesk.tui.screens.send_prompt import SendPromptScreen

SIZE = (100, 32)
TODAY = dt.date(2026, 3, 16)  # the `today` fixture's Monday
OSC52 = "\x1b]52;c;"


@pytest.fixture
def practice(demo_practice):
    database = demo_practice(8)
    # Start from a practice where no prompt has been sent or answered yet.
    Touch.update(prompt=None).where(Touch.prompt.is_null(False)).execute()
    return database, current_coach()


@pytest.fixture
def ann(practice) -> tuple[int, str]:
    """An active client on a program stage, with an email address."""
    client = (
        Client.select()
        .where((Client.status == "active") & Client.stage.is_null(False) & (Client.email != ""))
        .order_by(Client.id)
        .first()
    )
    assert client is not None
    return client.id, client.name


def open_app(practice) -> RecordingApp:
    database, coach = practice
    return RecordingApp(database, coach)


async def started(app: RecordingApp, pilot: Pilot) -> None:
    await settle(pilot)
    app.record_terminal()


async def wait_for(pilot: Pilot, kind: type) -> None:
    await wait_for_screen(pilot, kind)
    await settle(pilot)


def rows(table: DataTable) -> list[list[str]]:
    out = []
    for index in range(table.row_count):
        out.append([cell.plain if isinstance(cell, Text) else str(cell) for cell in
                    table.get_row_at(index)])  # fmt: skip
    return out


def journal_prompts() -> list[Touch]:
    return list(Touch.select().where(Touch.prompt.is_null(False)).order_by(Touch.id))


# --- sending -----------------------------------------------------------------------------


async def test_send_a_prompt_copy_it_with_osc52_and_mark_it_sent(practice, ann):
    client_id, name = ann
    app = open_app(practice)
    done = []
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        send_prompt_flow(app, client_id, name, lambda: done.append(True))
        await wait_for(pilot, PromptPicker)
        picker = app.screen
        # The library was copied in the first time the picker opened.
        assert Prompt.select().count() == len(library())
        table = picker.query_one("#prompt-list", DataTable)
        assert table.row_count == len(library())

        await pilot.press("f", "f")  # all -> clarity -> integrity
        shown = rows(table)
        assert shown and {row[0] for row in shown} == {"Integrity"}
        chosen = picker.current()
        assert chosen is not None and chosen.habit == "integrity"
        preview = picker.query_one("#prompt-preview", Static).render()
        assert chosen.body[:30] in str(preview)

        await pilot.press("enter")
        await wait_for(pilot, SendPromptScreen)
        screen = app.screen
        message = compose(app.coach, chosen.prompt_id, client_id)
        assert screen.message == message
        assert name.split()[0] in message.body
        assert journal_prompts() == []  # nothing is logged before it is marked sent

        await pilot.press("c")
        await settle(pilot)
        copied = f"{message.subject}\n\n{message.body}"
        assert app.clipboard == copied
        osc = f"{OSC52}{base64.b64encode(copied.encode()).decode()}\a"
        assert osc in app.written
        assert any("Press l once you have sent it" in said for said in app.said)
        assert journal_prompts() == []  # copying is not sending

        await pilot.press("l")
        await settle(pilot)
        assert not isinstance(app.screen, SendPromptScreen | PromptPicker)
        assert done == [True]
    (row,) = journal_prompts()
    assert (row.client_id, row.prompt_id, row.occurred_on) == (client_id, chosen.prompt_id, TODAY)
    assert (row.channel, row.direction, row.counts_for_cadence) == (
        "journal_prompt",
        "outbound",
        True,
    )
    assert row.summary == chosen.title
    assert [w.prompt_id for w in awaiting_reply(practice[1], TODAY, client_id=client_id)] == [
        chosen.prompt_id
    ]


async def test_escape_leaves_the_picker_without_sending(practice, ann):
    client_id, name = ann
    app = open_app(practice)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        send_prompt_flow(app, client_id, name, None)
        await wait_for(pilot, PromptPicker)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, PromptPicker | SendPromptScreen)
    assert journal_prompts() == []


async def test_save_writes_a_new_private_file_and_refuses_an_existing_one(practice, ann, tmp_path):
    client_id, name = ann
    coach = practice[1]
    ensure_library(coach)
    item = list_prompts(coach, "contact")[0]
    message = compose(coach, item.prompt_id, client_id)
    target = tmp_path / "prompt.txt"
    app = open_app(practice)

    async def save_as(pilot: Pilot, path) -> None:
        await pilot.press("s")
        await wait_for(pilot, FormScreen)
        app.screen.query_one("#field-path", Input).value = str(path)
        await pilot.press("ctrl+s")
        await settle(pilot)

    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.push_screen(SendPromptScreen(client_id, name, item))
        await wait_for(pilot, SendPromptScreen)

        await save_as(pilot, target)
        assert isinstance(app.screen, SendPromptScreen)
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
        saved = target.read_text(encoding="utf-8")
        assert saved == (f"To: {message.to_email}\nSubject: {message.subject}\n\n{message.body}\n")
        assert any(said.startswith(f"Saved to {target}") for said in app.said)

        target.write_text("the coach's own file")
        await save_as(pilot, target)
        assert target.read_text() == "the coach's own file"
        assert f"Not saved: {target} already exists; choose another name." in app.said

        await save_as(pilot, tmp_path / "no-such-folder" / "x.txt")
        assert any("does not exist" in said for said in app.said)
        assert not (tmp_path / "no-such-folder").exists()
    assert journal_prompts() == []  # saving is not sending


# --- the picker: adding and editing ------------------------------------------------------------


async def test_add_and_edit_a_prompt_from_the_picker_shown_literally(practice, ann):
    client_id, name = ann
    app = open_app(practice)
    title = "[bold]Loud[/bold] \x1b[31m"
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        send_prompt_flow(app, client_id, name, None)
        await wait_for(pilot, PromptPicker)
        picker = app.screen

        await pilot.press("n")
        await wait_for(pilot, FormScreen)
        form = app.screen
        form.query_one("#field-habit", Select).value = "contact"
        form.query_one("#field-title", Input).value = title
        form.query_one("#field-stage_hint", Input).value = "middle"
        form.query_one("#field-body", TextArea).text = "What did [i]you[/i] notice, {first_name}?"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is picker
        mine = Prompt.get(Prompt.title == title)
        assert (mine.habit, mine.stage_hint) == ("contact", "middle")
        table = picker.query_one("#prompt-list", DataTable)
        assert ["Contact", "[bold]Loud[/bold] \\x1b[31m", "middle"] in rows(table)
        assert picker.current().prompt_id == mine.id  # the cursor moved to the new prompt

        await pilot.press("e")
        await wait_for(pilot, FormScreen)
        form = app.screen
        # Stored control characters are shown escaped in the field, never sent to the terminal.
        assert form.query_one("#field-title", Input).value == "[bold]Loud[/bold] \\x1b[31m"
        form.query_one("#field-title", Input).value = "Quieter"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Prompt.get_by_id(mine.id).title == "Quieter"
        assert picker.current().title == "Quieter"

        # Chosen and composed, the markup in the question stays as typed.
        await pilot.press("enter")
        await wait_for(pilot, SendPromptScreen)
        body = str(app.screen.query_one("#send-body", Static).render())
        assert "What did [i]you[/i] notice, " in body


async def test_a_refused_edit_says_why_in_one_line(practice, ann):
    client_id, name = ann
    app = open_app(practice)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        send_prompt_flow(app, client_id, name, None)
        await wait_for(pilot, PromptPicker)
        current = app.screen.current()
        delete_rows(
            Prompt, Prompt.id == current.prompt_id
        )  # deleted elsewhere while the picker was open
        await pilot.press("e")
        await wait_for(pilot, FormScreen)
        app.screen.query_one("#field-title", Input).value = "Changed"
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Refused: the form stays open, saying why, with what was typed.
        form = app.screen
        assert isinstance(form, FormScreen)
        refused = str(form.query_one("#form-refused", Static).render())
        assert refused == "that prompt is not in your library"
        assert form.query_one("#field-title", Input).value == "Changed"


async def test_a_prompt_changed_elsewhere_comes_back_with_the_new_words(practice, ann):
    client_id, name = ann
    app = open_app(practice)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        send_prompt_flow(app, client_id, name, None)
        await wait_for(pilot, PromptPicker)
        current = app.screen.current()
        await pilot.press("e")
        await wait_for(pilot, FormScreen)
        Prompt.update(stage_hint="ending").where(Prompt.id == current.prompt_id).execute()
        app.screen.query_one("#field-body", TextArea).text = "A question in my own words"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_for(pilot, FormScreen)
        again = app.screen
        assert again.query_one("#field-body", TextArea).text == "A question in my own words"
        assert again.query_one("#field-stage_hint", Input).value == "ending"
        await pilot.press("ctrl+s")
        await settle(pilot)
        saved = Prompt.get_by_id(current.prompt_id)
        assert (saved.body, saved.stage_hint) == ("A question in my own words", "ending")


# --- logging the reply -----------------------------------------------------------------------


async def test_log_reply_links_the_reply_to_the_prompt(practice, ann):
    client_id, name = ann
    coach = practice[1]
    ensure_library(coach)
    older, latest = list_prompts(coach, "depth")[:2]
    send_prompt(coach, older.prompt_id, client_id, TODAY - dt.timedelta(days=9))
    send_prompt(coach, latest.prompt_id, client_id, TODAY - dt.timedelta(days=2))
    app = open_app(practice)
    done = []
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        log_reply_flow(app, client_id, name, lambda: done.append(True))
        await wait_for(pilot, FormScreen)
        form = app.screen
        choice = form.query_one("#field-prompt", Select)
        assert choice.value == latest.prompt_id  # the latest one sent is the likely answer
        form.query_one("#field-summary", Input).value = "A long, honest answer"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert done == [True]
    reply = Touch.select().where(Touch.channel == "reply", Touch.prompt.is_null(False)).get()
    assert (reply.client_id, reply.prompt_id, reply.direction, reply.occurred_on) == (
        client_id,
        latest.prompt_id,
        "inbound",
        TODAY,
    )
    assert reply.summary == "A long, honest answer"
    waiting = awaiting_reply(coach, TODAY, client_id=client_id)
    assert [w.prompt_id for w in waiting] == [older.prompt_id]


async def test_log_reply_with_nothing_awaiting_says_so(practice, ann):
    client_id, name = ann
    app = open_app(practice)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        log_reply_flow(app, client_id, name, None)
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)
        assert any("is awaiting a reply" in said for said in app.said)
