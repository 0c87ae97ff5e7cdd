"""Two calendar syncs at once make each session once, on both backends.

Each sync runs in its own thread with its own connection. On PostgreSQL both are made
to be inside their transactions together (a barrier where they start, or once each
holds its calendar's row), so the second one's writes meet the first one's uncommitted
ones; on SQLite a write transaction holds the file, and the second waits for the first.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from pathlib import Path

import pytest

from trustdesk import calendar_sync, config
from trustdesk.store.models import CalendarSource, Client, Session

FIXTURES = Path(__file__).parent / "fixtures" / "calendar"
LONDON = config.Settings(time_zone="Europe/London", my_addresses=("morgan@reyes.example",))
NOW = dt.datetime(2026, 3, 16, 8, 0)


@pytest.fixture
def clients(coach, today):
    for name, email in (("Ana Lima", "ana.lima@example.org"), ("Ben Okafor", "ben@okafor.example"),
                        ("Dana Whyte", "dana@work.example")):  # fmt: skip
        Client.create(coach=coach, name=name, email=email, started_on=today)


def _race(database, store_backend, monkeypatch, coach, today, sources, *, meet_after_row):
    """Run one sync per source at once; their results, in the order of `sources`."""
    meet = threading.Barrier(len(sources), timeout=5)
    taking_row = calendar_sync._source_row

    def wait():
        if store_backend == "postgresql":  # on SQLite the second waits for the file
            meet.wait()

    def source_row(*args):
        if not meet_after_row:
            wait()
        row = taking_row(*args)
        if meet_after_row:
            wait()
        return row

    monkeypatch.setattr(calendar_sync, "_source_row", source_row)
    results: dict[int, object] = {}

    def run(i: int, source: str) -> None:
        try:
            with database.connection_context():
                results[i] = calendar_sync.sync_calendars(
                    coach, [source], settings=LONDON, today=today, now=NOW
                )
        except BaseException as exc:  # noqa: BLE001 - handed to the test below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(sources)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for i in range(len(sources)):
        assert not isinstance(results[i], BaseException), results[i]
    return [results[i] for i in range(len(sources))]


def test_two_syncs_of_one_calendar_at_once_schedule_each_session_once(
    database, store_backend, monkeypatch, coach, today, clients, tmp_path
):
    vdir = tmp_path / "work"
    vdir.mkdir()
    # Synced once while empty: the calendar's row is there, so neither sync waits on
    # making it, and both read the same (empty) mark.
    calendar_sync.sync_calendars(coach, [str(vdir)], settings=LONDON, today=today, now=NOW)
    for event in (FIXTURES / "vdir").iterdir():
        shutil.copy(event, vdir)
    first, second = _race(database, store_backend, monkeypatch, coach, today,
                          [str(vdir), str(vdir)], meet_after_row=False)  # fmt: skip
    # The second took the calendar's row once the first had written: nothing left to do.
    assert sorted([first.scheduled, second.scheduled]) == [0, 13]
    assert Session.select().count() == 13
    assert CalendarSource.select().count() == 1


def test_one_event_in_two_calendars_synced_at_once_is_one_session(
    database, store_backend, monkeypatch, coach, today, clients, tmp_path
):
    # The same group event (same UID) in a vdir and in a calendar's .ics export.
    vdir = tmp_path / "work"
    vdir.mkdir()
    shutil.copy(FIXTURES / "vdir" / "c2e8-group.ics", vdir)
    export = tmp_path / "export.ics"
    shutil.copy(FIXTURES / "vdir" / "c2e8-group.ics", export)
    first, second = _race(database, store_backend, monkeypatch, coach, today,
                          [str(vdir), str(export)], meet_after_row=True)  # fmt: skip
    assert first.scheduled + second.scheduled == 2
    assert first.unchanged + second.unchanged == 2
    keys = [(s.client_id, s.calendar_key) for s in Session.select()]
    assert sorted(keys) == sorted(set(keys)) and len(keys) == 2
    assert CalendarSource.select().count() == 2
