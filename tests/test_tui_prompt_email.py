"""Sending a prompt by email from the prompt screen: confirmed, sent off the UI thread, logged
only once it left; hidden when the client has no email. Every outcome checked in the database."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import stat
import textwrap

import pytest
from helpers import RecordingApp, settle, wait_for_screen
from textual.pilot import Pilot
from textual.widgets import Button, Static

from trustdesk.config import Settings
from trustdesk.store import current_coach
from trustdesk.store.models import Client, Coach, Touch
from trustdesk.trust.prompts import awaiting_reply, ensure_library, list_prompts
from trustdesk.tui.forms import ConfirmForm
from trustdesk.tui.screens.send_prompt import SendPromptScreen

SIZE = (80, 24)


def script(folder, text: str) -> str:
    path = folder / "sendmail"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(text))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def practice(demo_practice):
    database = demo_practice(8)
    coach = current_coach()
    Coach.update(email="morgan@example.org").where(Coach.id == coach.id).execute()
    ensure_library(coach)
    return database, Coach.get_by_id(coach.id)


@pytest.fixture
def kwame(practice) -> tuple[int, str, str]:
    client = (
        Client.select()
        .where((Client.status == "active") & (Client.email != ""))
        .order_by(Client.id)
        .first()
    )
    return client.id, client.name, client.email


def app_sending_with(practice, program: str) -> RecordingApp:
    database, coach = practice
    settings = dataclasses.replace(Settings(), send_with="sendmail", sendmail_command=program)
    return RecordingApp(database, coach, settings=settings)


def sent_touches(client_id: int) -> list[Touch]:
    return list(
        Touch.select()
        .where((Touch.client == client_id) & (Touch.source == "sent"))
        .order_by(Touch.id)
    )


def footer_keys(app) -> set[str]:
    return {
        b.binding.id for b in app.screen.active_bindings.values() if b.enabled and b.binding.show
    }


async def open_screen(app, pilot: Pilot, client_id: int, name: str, prompt) -> SendPromptScreen:
    await settle(pilot)
    screen = SendPromptScreen(client_id, name, prompt)
    app.push_screen(screen)
    await wait_for_screen(pilot, SendPromptScreen)
    await settle(pilot)
    return screen


async def test_send_by_email_confirms_sends_and_logs_it(practice, kwame, tmp_path):
    client_id, name, address = kwame
    coach = practice[1]
    prompt = list_prompts(coach, "depth")[0]
    box = tmp_path / "box"
    box.mkdir()
    # A server that takes its time (until the test lets it go): meanwhile the screen says
    # so and offers no second send.
    hold = f'for _ in $(seq 600); do [ -e "{box}/go" ] && break; sleep 0.05; done\n'
    app = app_sending_with(practice, script(tmp_path, f'{hold}cat > "{box}/message"\n'))
    done = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = SendPromptScreen(client_id, name, prompt, done=lambda: done.append(1))
        app.push_screen(screen)
        await wait_for_screen(pilot, SendPromptScreen)
        await settle(pilot)
        assert "prompt_send_email" in footer_keys(app)
        await pilot.press("e")
        await wait_for_screen(pilot, ConfirmForm)
        intro = str(app.screen.query_one(".dialog-intro", Static).render())
        assert f"Send to {name} <{address}>?" in intro
        await pilot.press("enter")
        await wait_for_screen(pilot, SendPromptScreen)
        assert str(screen.query_one("#send-hint", Static).render()) == "Sending…"
        assert "prompt_send_email" not in footer_keys(app)
        assert not (box / "message").exists()
        (box / "go").touch()
        for _ in range(50):
            if not app.workers._workers:
                break
            await pilot.pause(0.05)
        await settle(pilot)
        assert not isinstance(app.screen, SendPromptScreen)
    message = email.message_from_bytes((box / "message").read_bytes(), policy=email.policy.default)
    assert message["Subject"] == prompt.title
    [touch] = sent_touches(client_id)
    assert touch.message_id == message["Message-ID"] and touch.prompt_id == prompt.prompt_id
    assert any(said.startswith(f"Sent “{prompt.title}” to {name} <{address}>") for said in app.said)
    assert done == [1]
    assert prompt.prompt_id in {w.prompt_id for w in awaiting_reply(coach, app.today)}


async def test_a_failed_send_says_why_and_logs_nothing(practice, kwame, tmp_path):
    client_id, name, _ = kwame
    prompt = list_prompts(practice[1], "depth")[0]
    app = app_sending_with(
        practice, script(tmp_path, "cat >/dev/null\necho 'relay refused' >&2\nexit 1\n")
    )
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(app, pilot, client_id, name, prompt)
        await pilot.press("e")
        await wait_for_screen(pilot, ConfirmForm)
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.05)
            if "cannot send: sendmail: relay refused" in app.said:
                break
        await settle(pilot)
        assert "cannot send: sendmail: relay refused" in app.said
        assert isinstance(app.screen, SendPromptScreen)  # still there, to copy or try again
        assert "prompt_send_email" in footer_keys(app)
        assert not app.screen.query_one("#send-email", Button).disabled
    assert sent_touches(client_id) == []


async def test_cancelling_the_confirmation_sends_nothing(practice, kwame, tmp_path):
    client_id, name, _ = kwame
    prompt = list_prompts(practice[1], "depth")[0]
    box = tmp_path / "box"
    box.mkdir()
    app = app_sending_with(practice, script(tmp_path, f'cat > "{box}/message"\n'))
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(app, pilot, client_id, name, prompt)
        await pilot.press("e")
        await wait_for_screen(pilot, ConfirmForm)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SendPromptScreen)
    assert list(box.iterdir()) == [] and sent_touches(client_id) == []


async def test_no_email_on_file_hides_the_key_and_the_button(practice, kwame, tmp_path):
    client_id, name, _ = kwame
    Client.update(email="", more_emails="").where(Client.id == client_id).execute()
    prompt = list_prompts(practice[1], "depth")[0]
    app = app_sending_with(practice, script(tmp_path, "exit 0\n"))
    async with app.run_test(size=SIZE) as pilot:
        await open_screen(app, pilot, client_id, name, prompt)
        keys = footer_keys(app)
        assert "prompt_copy" in keys and "prompt_send_email" not in keys
        assert not app.screen.query_one("#send-email", Button).display
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, SendPromptScreen)
    assert sent_touches(client_id) == []
