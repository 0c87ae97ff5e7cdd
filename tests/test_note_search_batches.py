"""The note search shows hits as they are found: the first at once, the rest in batches."""

from __future__ import annotations

import asyncio
import threading

import pytest
from helpers import RecordingApp, settle, type_into, wait_for_screen
from textual.widgets import DataTable, Static

from trustdesk.demo import DEMO_PASSPHRASE
from trustdesk.store import current_coach
from trustdesk.store.models import Client
from trustdesk.trust.notes import add_note
from trustdesk.tui.screens import note_search
from trustdesk.tui.screens.note_search import NoteSearchScreen

SIZE = (100, 32)


@pytest.fixture
def practice(demo_practice):
    return demo_practice(12), current_coach()


def run(practice, scenario):
    database, coach = practice

    async def main() -> None:
        app = RecordingApp(database, coach, demo_passphrase=DEMO_PASSPHRASE)
        assert app.vault.unlock_with_passphrase(DEMO_PASSPHRASE).unlocked
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await scenario(app, pilot)

    asyncio.run(main())


def progress(app) -> str:
    return str(app.screen.query_one("#search-progress", Static).render())


def add_zebras(app, count: int) -> None:
    clients = [c.id for c in Client.select().where(Client.coach == app.coach).limit(4)]
    for n in range(count):
        add_note(app.vault, clients[n % len(clients)], "goal", f"The zebra crossing, take {n}")


def test_hits_come_in_batches_not_one_call_per_hit(practice, monkeypatch):
    """Hundreds of hits reach the screen in a few calls, and every one of them is shown."""
    calls: list[int] = []
    real_step = NoteSearchScreen._step

    def counting(self, words, opened, total, hits):
        calls.append(len(hits))
        return real_step(self, words, opened, total, hits)

    monkeypatch.setattr(NoteSearchScreen, "_step", counting)
    monkeypatch.setattr(note_search, "BATCH_SECONDS", 10.0)  # one batch after the first hit

    async def scenario(app, pilot):
        add_zebras(app, 120)
        await pilot.press("ctrl+f")
        await wait_for_screen(pilot, NoteSearchScreen)
        await type_into(pilot, "#search-words", "zebra")
        await pilot.press("enter")
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 120
        assert "120 notes found" in progress(app)
        assert sum(calls) == 120
        # The opening progress line, the first hit alone, then the rest at the end.
        assert len(calls) <= 4, calls
        assert 1 in calls

    run(practice, scenario)


def test_the_first_hit_is_on_screen_while_the_rest_are_still_read(practice, monkeypatch):
    """A search held after its second hit: the first is shown (the second waits for its
    batch), and once the scan ends both are there, newest first."""
    release = threading.Event()
    real = note_search.search_notes_stream

    def held(vault, words, client_id=None):
        seen = 0
        for step in real(vault, words, client_id=client_id):
            yield step
            seen += len(step.hits)
            if seen == 2:
                release.wait(10)  # the rest of the practice is "still being read"

    monkeypatch.setattr(note_search, "search_notes_stream", held)
    monkeypatch.setattr(note_search, "BATCH_SECONDS", 10.0)

    async def scenario(app, pilot):
        add_zebras(app, 3)
        await pilot.press("ctrl+f")
        await wait_for_screen(pilot, NoteSearchScreen)
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


def test_progress_moves_while_nothing_is_found(practice, monkeypatch):
    """With no hit yet, the progress line still moves (at most once a batch)."""
    monkeypatch.setattr(note_search, "BATCH_SECONDS", 0.0)
    lines: list[str] = []
    real_progress = NoteSearchScreen._progress

    def recording(self, line):
        lines.append(line)
        return real_progress(self, line)

    monkeypatch.setattr(NoteSearchScreen, "_progress", recording)

    async def scenario(app, pilot):
        await pilot.press("ctrl+f")
        await wait_for_screen(pilot, NoteSearchScreen)
        await type_into(pilot, "#search-words", "no such words anywhere")
        await pilot.press("enter")
        await settle(pilot)
        assert any(line.startswith("Searching… ") and " read, " in line for line in lines)
        assert progress(app) == "No note holds those words."

    run(practice, scenario)
