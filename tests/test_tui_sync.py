"""Sync on start: mail and calendar sync run after the dashboard's first paint, the
dashboard reloads when something was logged, and what happened (or failed) is one line.

The sync modules are stood in for through sys.modules: what is tested here is the call,
the summary and the app around them, not the parsing of mail or calendars.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import types

import pytest
from helpers import RecordingApp, settle, wait_for_screen
from textual.widgets import Static

from trustdesk import sync
from trustdesk.config import Settings
from trustdesk.store.models import Client, Touch
from trustdesk.sync import SyncSummary, sync_everything
from trustdesk.trust.common import ActionError
from trustdesk.tui.screens.dashboard import DashboardScreen

TODAY = dt.date(2026, 3, 16)
NOW = dt.datetime(2026, 3, 16, 8, 0)
SOURCES = {"mail_sources": ("~/Maildir",), "calendar_sources": ("~/cal",)}


def fake_module(monkeypatch, name: str, function: str, work) -> list:
    calls: list = []

    def call(coach, sources, *, settings, today, now):
        calls.append((tuple(sources), today))
        return work()

    monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**{function: call}))
    return calls


def test_both_halves_run_and_count(database, coach, monkeypatch):
    mail = fake_module(monkeypatch, "trustdesk.mail_sync", "sync_mail",
                       lambda: types.SimpleNamespace(logged=3, replies=1))  # fmt: skip
    cal = fake_module(monkeypatch, "trustdesk.calendar_sync", "sync_calendars",
                      lambda: types.SimpleNamespace(scheduled=0, moved=1, cancelled=2))  # fmt: skip
    summary = sync_everything(coach, Settings(**SOURCES), TODAY, NOW)
    assert mail == [(("~/Maildir",), TODAY)] and cal == [(("~/cal",), TODAY)]
    assert summary == SyncSummary(True, True, touches=3, replies=1, moved=1, cancelled=2)
    assert summary.changed and not summary.failed
    assert summary.words() == (
        "Mail: 3 new touches (1 reply to a prompt); calendar: 1 session moved, 2 sessions cancelled"
    )


def test_an_empty_source_list_skips_its_half_and_a_failure_keeps_the_other(
    database, coach, monkeypatch
):
    def refuse():
        raise ActionError("cannot read ~/Maildir: no such folder\nsecond line")

    mail = fake_module(monkeypatch, "trustdesk.mail_sync", "sync_mail", refuse)
    cal = fake_module(monkeypatch, "trustdesk.calendar_sync", "sync_calendars",
                      lambda: types.SimpleNamespace(scheduled=1, moved=0, cancelled=0))  # fmt: skip
    assert sync_everything(coach, Settings(), TODAY, NOW) == SyncSummary()
    assert mail == cal == []
    assert SyncSummary().words() == ""

    summary = sync_everything(coach, Settings(**SOURCES), TODAY, NOW)
    assert summary.failed and summary.changed
    assert (
        summary.words() == "Mail: cannot read ~/Maildir: no such folder; calendar: 1 session added"
    )
    only_calendar = sync_everything(coach, Settings(calendar_sources=("~/cal",)), TODAY, NOW)
    assert only_calendar.words() == "Calendar: 1 session added" and not only_calendar.mail_ran


# --- in the app ----------------------------------------------------------------------------


@pytest.fixture
def ann(database, coach):
    return Client.create(coach=coach, name="Ann Lee", started_on=TODAY - dt.timedelta(days=60))


def summary_text(app) -> str:
    return str(app.screen.query_one("#summary", Static).render())


async def test_sync_waits_for_the_first_paint_then_reloads_and_says_so(
    database, coach, ann, today, monkeypatch
):
    started, go = threading.Event(), threading.Event()

    def slow_sync(coach_, settings, today_, now):
        started.set()
        assert go.wait(10), "the test never let the sync finish"
        Touch.create(coach=coach_, client=ann.id, occurred_on=today_, channel="email",
                     direction="inbound", source="mail", message_id="<a@x>")  # fmt: skip
        return SyncSummary(mail_ran=True, touches=1)

    monkeypatch.setattr(sync, "sync_everything", slow_sync)
    app = RecordingApp(database, coach, settings=Settings(sync_on_start=True, **SOURCES))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, DashboardScreen)
        for _ in range(100):
            if started.is_set():
                break
            await pilot.pause(0.05)
        # The sync is running and blocked, and the dashboard already shows its numbers.
        assert started.is_set()
        assert "1 quiet, 0 due" in summary_text(app)
        refreshes = app.screen._refreshes
        go.set()
        await settle(pilot)
        assert app.said == ["Mail: 1 new touch"]
        assert app.screen._refreshes > refreshes
        assert "0 quiet, 0 due" in summary_text(app)
    assert Touch.select().where(Touch.source == "mail").count() == 1


async def test_a_sync_that_fails_is_one_line_and_the_app_carries_on(
    database, coach, ann, today, monkeypatch
):
    def broken(*args):
        raise OSError("disk gone\nmore")

    monkeypatch.setattr(sync, "sync_everything", broken)
    app = RecordingApp(database, coach, settings=Settings(sync_on_start=True, **SOURCES))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, DashboardScreen)
        await settle(pilot)
        assert app.said == ["could not sync mail and calendar (OSError: disk gone)"]
        assert isinstance(app.screen, DashboardScreen)


async def test_nothing_new_is_silent_and_the_setting_off_never_syncs(
    database, coach, ann, today, monkeypatch
):
    calls = []

    def quiet(*args):
        calls.append(args)
        return SyncSummary(mail_ran=True, calendar_ran=True)

    monkeypatch.setattr(sync, "sync_everything", quiet)
    for on, expected in ((False, 0), (True, 1)):
        app = RecordingApp(database, coach, settings=Settings(sync_on_start=on, **SOURCES))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for_screen(pilot, DashboardScreen)
            await settle(pilot)
            app.screen.reload()  # a reload later does not sync again
            await settle(pilot)
            assert app.said == []
        assert len(calls) == expected


# --- what sync logged, in the client workspace ------------------------------------------------


def logged_by_sync(coach, ann):
    """Two messages read from mail, one prompt sent by email, and one touch the coach typed."""
    rows = [
        (TODAY, "inbound", "mail", "Re: What \x1b[2Jmattered", "<r1@x>"),
        (TODAY - dt.timedelta(days=1), "outbound", "sent", "What mattered", "<p1@x>"),
        (TODAY - dt.timedelta(days=3), "outbound", "mail", "Notes from [b]Monday[/b]", "<n1@x>"),
        (TODAY - dt.timedelta(days=2), "outbound", "", "Called about Thursday", None),
    ]
    for day, way, source, subject, message_id in rows:
        Touch.create(coach=coach, client=ann, occurred_on=day, channel="email", direction=way,
                     summary=subject, source=source, message_id=message_id)  # fmt: skip
    for n in range(4):  # older mail: only the five latest messages are shown
        Touch.create(coach=coach, client=ann, occurred_on=TODAY - dt.timedelta(days=10 + n),
                     channel="email", direction="inbound", summary=f"old {n}", source="mail",
                     message_id=f"<old{n}@x>")  # fmt: skip


def test_the_workspace_reads_the_last_five_messages_and_each_touch_source(database, coach, ann):
    from trustdesk.trust.workspace import client_workspace

    logged_by_sync(coach, ann)
    ws = client_workspace(coach, ann.id, TODAY)
    assert [(m.occurred_on.day, m.direction, m.subject, m.source) for m in ws.last_messages] == [
        (16, "inbound", "Re: What \x1b[2Jmattered", "mail"),
        (15, "outbound", "What mattered", "sent"),
        (13, "outbound", "Notes from [b]Monday[/b]", "mail"),
        (6, "inbound", "old 0", "mail"),
        (5, "inbound", "old 1", "mail"),
    ]
    assert [t.source for t in ws.touches[:4]] == ["mail", "sent", "", "mail"]


async def test_the_contact_tab_marks_synced_touches_and_shows_the_last_messages(
    database, coach, ann, today
):
    from trustdesk.tui.screens.client import ClientScreen
    from trustdesk.tui.screens.client.contact import ContactTable

    logged_by_sync(coach, ann)
    typed = Touch.get(Touch.summary == "Called about Thursday")
    app = RecordingApp(database, coach, settings=Settings())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(ClientScreen(ann.id))
        await wait_for_screen(pilot, ClientScreen)
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one(ContactTable)
        via = [c.key.value for c in table.columns.values()].index("source")
        marks = {
            Touch.get_by_id(int(key.value)).summary: table.get_row(key)[via].plain
            for key in table.rows
        }
        assert marks["Re: What \x1b[2Jmattered"] == "mail"
        assert marks["What mattered"] == "sent"
        assert table.get_row(str(typed.id))[via].plain == ""
        block = app.screen.query_one("#contact-messages", Static)
        assert block.display
        lines = block.render().plain.splitlines()
        assert lines[0] == "Last messages"
        assert lines[1] == "  16 Mar     ← Re: What \\x1b[2Jmattered"
        assert lines[3] == "  13 Mar     → Notes from [b]Monday[/b]"
        assert len(lines) == 6
