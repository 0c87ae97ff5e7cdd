"""Searching notes in the app: `/` in the notes tab, Ctrl+F and the palette for every note."""

from __future__ import annotations

import asyncio
import threading

import pytest
from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.widgets import DataTable, Static

from trustdesk.demo import DEMO_PASSPHRASE
from trustdesk.store import current_coach
from trustdesk.store.models import Client, Note
from trustdesk.trust.notes import add_note, first_line, read_note
from trustdesk.tui.screens import note_search
from trustdesk.tui.screens.client import ClientScreen
from trustdesk.tui.screens.client.notes import NotesTable
from trustdesk.tui.screens.note_search import NoteSearchScreen
from trustdesk.tui.screens.note_view import NoteScreen

SIZE = (100, 32)


@pytest.fixture
def practice(demo_practice):
    return demo_practice(12), current_coach()


def run(practice, scenario, *, client=None, unlocked=True):
    database, coach = practice

    async def main() -> None:
        app = RecordingApp(database, coach, demo_passphrase=DEMO_PASSPHRASE)
        if unlocked:
            assert app.vault.unlock_with_passphrase(DEMO_PASSPHRASE).unlocked
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            if client is not None:
                await app.push_screen(ClientScreen(client))
                await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())


def a_client_with_notes() -> int:
    return Note.select(Note.client).order_by(Note.client).first().client_id


def progress(app) -> str:
    return str(app.screen.query_one("#search-progress", Static).render())


def test_slash_in_the_notes_tab_searches_that_clients_notes(practice):
    client_id = a_client_with_notes()
    coach = practice[1]
    other = Client.select().where((Client.coach == coach) & (Client.id != client_id)).first()

    async def scenario(app, pilot):
        add_note(app.vault, client_id, "goal", "Open with the [b]budget[/b] story")
        add_note(app.vault, other.id, "goal", "Another budget, not theirs")
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("slash")
        await wait_for_screen(pilot, NoteSearchScreen)
        assert app.screen.client_id == client_id
        await type_into(pilot, "#search-words", "BUDGET")
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        (hit,) = app.screen.hits.values()
        assert hit.client_id == client_id
        cells = [c.plain for c in table.get_row(str(hit.id))]
        assert cells[-1] == "Open with the [b]budget[/b] story"  # literal, markup not read
        assert "1 note found" in progress(app)
        await pilot.press("enter")  # opens the note
        await wait_for_screen(pilot, NoteScreen)
        await pilot.press("escape")
        await wait_for_screen(pilot, NoteSearchScreen)
        await pilot.press("escape")
        await wait_for_screen(pilot, ClientScreen)

    run(practice, scenario, client=client_id)


def test_the_notes_list_shows_first_lines_only_while_unlocked(practice):
    client_id = a_client_with_notes()

    async def scenario(app, pilot):
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one(NotesTable)
        note_id = table.current()
        first = first_line(read_note(app.vault, note_id.id).body)
        assert first and table.get_row(str(note_id.id))[-1].plain == first
        app.action_lock()
        await settle(pilot)
        assert table.get_row(str(note_id.id))[-1].plain.endswith(" chars")
        assert table.first_lines == {}

    run(practice, scenario, client=client_id)


def test_ctrl_f_searches_every_note_and_shows_the_first_hit_before_the_end(practice, monkeypatch):
    """A search that is held after its first hit: the hit is on screen while it still runs."""
    release = threading.Event()
    real = note_search.search_notes_stream

    def held(vault, words, client_id=None):
        steps = real(vault, words, client_id=client_id)
        for step in steps:
            yield step
            if step.hits:
                release.wait(10)  # the rest of the practice is "still being read"

    monkeypatch.setattr(note_search, "search_notes_stream", held)

    async def scenario(app, pilot):
        coach = app.coach
        ids = [c.id for c in Client.select().where(Client.coach == coach).limit(3)]
        for n, cid in enumerate(ids):
            add_note(app.vault, cid, "belief", f"Believes the zebra line {n}")
        await pilot.press("ctrl+f")
        await wait_for_screen(pilot, NoteSearchScreen)
        assert app.screen.client_id is None
        await type_into(pilot, "#search-words", "zebra")
        await pilot.press("enter")
        table = app.screen.query_one(DataTable)
        for _ in range(100):
            await pilot.pause(0.02)
            if table.row_count:
                break
        assert table.row_count == 1
        assert app.screen.searching is not None and app.screen.searching.is_running
        assert progress(app).startswith("Searching…")
        release.set()
        await settle(pilot)
        assert table.row_count == 3
        assert "3 notes found" in progress(app)

    run(practice, scenario)


def test_escape_stops_a_search_under_way_then_closes(practice, monkeypatch):
    release = threading.Event()
    real = note_search.search_notes_stream

    def slow(vault, words, client_id=None):
        for step in real(vault, words, client_id=client_id):
            yield step
            release.wait(10)

    monkeypatch.setattr(note_search, "search_notes_stream", slow)

    async def scenario(app, pilot):
        await pilot.press("ctrl+f")
        await wait_for_screen(pilot, NoteSearchScreen)
        await type_into(pilot, "#search-words", "e")
        await pilot.press("enter")
        await pilot.pause(0.1)
        worker = app.screen.searching
        assert worker is not None and worker.is_running
        await pilot.press("escape")
        release.set()
        await settle(pilot)
        assert worker.is_cancelled
        assert isinstance(app.screen, NoteSearchScreen)
        assert progress(app).startswith("Stopped")
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, NoteSearchScreen)

    run(practice, scenario)


def test_search_from_the_palette_asks_to_unlock_first(practice):
    async def scenario(app, pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Search notes")
        await pilot.pause(0.3)
        await settle(pilot)  # the palette's search runs in a worker
        await pilot.press("enter")
        await wait_for_screen(pilot, "UnlockScreen")
        await type_into(pilot, "#passphrase", DEMO_PASSPHRASE)
        await pilot.press("enter")
        await wait_for_screen(pilot, NoteSearchScreen)

    run(practice, scenario, unlocked=False)


def test_locking_hides_what_was_found(practice):
    async def scenario(app, pilot):
        await pilot.press("ctrl+f")
        await wait_for_screen(pilot, NoteSearchScreen)
        screen = app.screen
        await type_into(pilot, "#search-words", "e")
        await pilot.press("enter")
        await settle(pilot)
        assert screen.hits
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert not screen.hits  # the words found are gone, and so is the screen
        assert not isinstance(app.screen, NoteSearchScreen)

    run(practice, scenario)


def test_a_found_line_keeps_the_words_in_view_and_marked():
    import datetime as dt
    import uuid

    from trustdesk.trust.notes import NoteHit
    from trustdesk.tui.screens.note_search import found_line

    line = "x" * 70 + " budget \x1b[31m"
    hit = NoteHit(uuid.uuid4(), 1, "Ann", "goal", dt.date(2026, 3, 1), "", line, 71, 6)
    shown = found_line(hit, 40)
    assert shown.plain.startswith("…") and "budget" in shown.plain[:40]
    assert "\\x1b" in shown.plain  # the escape is shown, never sent to the terminal
    start = shown.plain.index("budget")
    assert [s.style for s in shown.spans if s.start == start] == ["bold reverse"]
    short = NoteHit(uuid.uuid4(), 1, "Ann", "goal", dt.date(2026, 3, 1), "", "a budget", 2, 6)
    assert found_line(short, 40).plain == "a budget"


def test_when_the_search_ends_the_hits_are_newest_first(practice):
    async def scenario(app, pilot):
        await pilot.press("ctrl+f")
        await wait_for_screen(pilot, NoteSearchScreen)
        await type_into(pilot, "#search-words", "e")
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count > 3
        shown = [screen.hits[table.coordinate_to_cell_key((i, 0)).row_key.value]
                 for i in range(table.row_count)]  # fmt: skip
        days = [h.written_on for h in shown]
        assert days == sorted(days, reverse=True)

    run(practice, scenario)
