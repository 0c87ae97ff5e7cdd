"""Sessions from calendars: vdir folders as khal and vdirsyncer keep them, a Google export
with X-WR-TIMEZONE and floating times, an Exchange export with a Windows-named zone; on a
fixed clock, with the coach's zone fixed to Europe/London (the clocks change on 29 March
2026, two weeks after the frozen Monday)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from trustdesk import config
from trustdesk.calendar_sync import CalendarError, sync_calendars
from trustdesk.store.models import CalendarSource, Client, Session
from trustdesk.trust import sessions

FIXTURES = Path(__file__).parent / "fixtures" / "calendar"
LONDON = config.Settings(time_zone="Europe/London", my_addresses=("morgan@reyes.example",))
BEN_WEEKLY = "4f1c9a2e-ben-weekly.ics"


@pytest.fixture
def clients(coach, today):
    made = {}
    for name, email, more in (
        ("Ana Lima", "ana.lima@example.org", ""),
        ("Ben Okafor", "", "ben.home@example.com\nBen@Okafor.example"),
        ("Cara Jones", "cara@example.com", ""),
        ("Dana Whyte", "dana@work.example", ""),
        ("Carlos Díaz", "carlos@example.com", ""),
    ):
        made[name.split()[0]] = Client.create(
            coach=coach, name=name, email=email, more_emails=more, started_on=today
        )
    return made


@pytest.fixture
def vdir(tmp_path):
    folder = tmp_path / "calendars" / "work"
    shutil.copytree(FIXTURES / "vdir", folder)
    return folder


def sync(coach, source, *, today, settings=LONDON, now=None, **kw):
    now = now or dt.datetime.combine(today, dt.time(8, 0))
    return sync_calendars(coach, [str(source)], settings=settings, today=today, now=now, **kw)


def synced(client=None):
    query = Session.select().where(Session.calendar_key.is_null(False))
    if client is not None:
        query = query.where(Session.client == client)
    return list(query.order_by(Session.scheduled_start, Session.client))


def at(month, day, hour, minute=0):
    return dt.datetime(2026, month, day, hour, minute)


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --- a vdir: series, exceptions, groups, zones -------------------------------------------


def test_a_vdir_gives_each_clients_sessions_once(coach, today, clients, vdir):
    result = sync(coach, vdir, today=today)
    assert (result.scheduled, result.moved, result.cancelled, result.skipped) == (13, 0, 0, 1)
    ben = [(s.scheduled_start, s.duration_minutes) for s in synced(clients["Ben"])]
    # Weekly on Tuesdays at 10:00 for 8 weeks: the 24th moved to 15:00 (RECURRENCE-ID),
    # the 31st taken out (EXDATE); the group session on Friday the 20th as well.
    assert ben == [
        (at(3, 17, 10), 50),
        (at(3, 20, 16), 90),
        (at(3, 24, 15), 50),
        (at(4, 7, 10), 50),
        (at(4, 14, 10), 50),
        (at(4, 21, 10), 50),
        (at(4, 28, 10), 50),
        (at(5, 5, 10), 50),
    ]
    # A series kept in UTC stays at 10:00 UTC: 10:00 in London, then 11:00 from 29 March.
    dana = [s.scheduled_start for s in synced(clients["Dana"])]
    assert dana == [at(3, 19, 10), at(3, 26, 10), at(4, 2, 11), at(4, 9, 11)]
    # The group event is one session for each client on it, sharing the event's key.
    (ana,) = synced(clients["Ana"])
    assert ana.calendar_key == "c2e8-group" and ana.scheduled_start == at(3, 20, 16)
    assert synced(clients["Ben"])[0].calendar_key == "4f1c9a2e-ben-weekly/2026-03-17"
    # A cancelled event that never was a session makes none; nothing is held.
    assert synced(clients["Cara"]) == []
    assert {s.status for s in synced()} == {"scheduled"}


def test_a_second_sync_with_nothing_changed_changes_nothing_and_reads_no_file(
    coach, today, clients, vdir
):
    sync(coach, vdir, today=today)
    before = [(s.id, s.scheduled_start, s.version) for s in synced()]
    again = sync(coach, vdir, today=today)
    assert (again.scheduled, again.moved, again.cancelled) == (0, 0, 0)
    (source,) = again.sources
    assert (source.files_read, source.files_unchanged) == (0, 5)
    assert [(s.id, s.scheduled_start, s.version) for s in synced()] == before
    # A day later the window has moved: files with series are read again, the others not.
    later = sync(coach, vdir, today=today + dt.timedelta(days=1))
    (source,) = later.sources
    assert (source.files_read, source.files_unchanged) == (2, 3)
    assert (later.scheduled, later.moved, later.cancelled) == (0, 0, 0)
    assert [(s.id, s.scheduled_start, s.version) for s in synced()] == before


def test_a_moved_event_moves_its_sessions(coach, today, clients, vdir):
    sync(coach, vdir, today=today)
    rewrite(vdir / "c2e8-group.ics", "20260320T160000", "20260320T090000")
    rewrite(vdir / "c2e8-group.ics", "20260320T173000", "20260320T100000")
    result = sync(coach, vdir, today=today)
    assert (result.scheduled, result.moved, result.cancelled) == (0, 2, 0)
    assert {c.client_name for c in result.changes} == {"Ana Lima", "Ben Okafor"}
    (ana,) = synced(clients["Ana"])
    assert (ana.scheduled_start, ana.duration_minutes) == (at(3, 20, 9), 60)


def test_an_instance_moved_or_taken_out_of_a_series_follows(coach, today, clients, vdir):
    sync(coach, vdir, today=today)
    ben = vdir / BEN_WEEKLY
    # The 24th moves again; the 14 April is taken out of the series.
    rewrite(
        ben,
        "DTSTART;TZID=Europe/London:20260324T150000",
        "DTSTART;TZID=Europe/London:20260324T170000",
    )  # noqa: E501
    rewrite(
        ben, "DTEND;TZID=Europe/London:20260324T155000", "DTEND;TZID=Europe/London:20260324T175000"
    )  # noqa: E501
    rewrite(
        ben,
        "EXDATE;TZID=Europe/London:20260331T100000",
        "EXDATE;TZID=Europe/London:20260331T100000,20260414T100000",
    )  # noqa: E501
    result = sync(coach, vdir, today=today)
    assert (result.scheduled, result.moved, result.cancelled) == (0, 1, 1)
    by_key = {s.calendar_key: s for s in synced(clients["Ben"])}
    assert by_key["4f1c9a2e-ben-weekly/2026-03-24"].scheduled_start == at(3, 24, 17)
    gone = by_key["4f1c9a2e-ben-weekly/2026-04-14"]
    assert (gone.status, gone.cancelled_by) == ("cancelled", None)


def test_cancelled_or_deleted_events_cancel_only_sessions_still_to_come(
    coach, today, clients, vdir
):
    sync(coach, vdir, today=today)
    rewrite(vdir / "c2e8-group.ics", "SUMMARY:Group", "STATUS:CANCELLED\nSUMMARY:Group")
    (vdir / BEN_WEEKLY).unlink()
    # A week on: Ben's sessions of the 17th and 20th are over (waiting for an outcome).
    later = today + dt.timedelta(days=7)
    result = sync(coach, vdir, today=later, now=dt.datetime.combine(later, dt.time(8)))
    # The group's two (the calendar says it did not happen, though it is past), and
    # Ben's six still to come.
    assert result.cancelled == 2 + 6
    statuses = [(s.scheduled_start, s.status) for s in synced(clients["Ben"])]
    assert statuses[:2] == [(at(3, 17, 10), "scheduled"), (at(3, 20, 16), "cancelled")]
    assert {status for _, status in statuses[2:]} == {"cancelled"}
    # Nothing more to do the next time.
    again = sync(coach, vdir, today=later, now=dt.datetime.combine(later, dt.time(8)))
    assert (again.scheduled, again.moved, again.cancelled) == (0, 0, 0)


def test_held_sessions_are_never_changed_and_past_ones_wait_for_an_outcome(
    coach, today, clients, vdir
):
    sync(coach, vdir, today=today)
    after = at(3, 21, 9)
    config.set_today(after.date())
    waiting = {s.session_id for s in sessions.awaiting_outcome(coach, after)}
    past = {s.id for s in synced() if s.scheduled_start + dt.timedelta(hours=2) < after}
    assert past and past <= waiting  # nothing is marked held by itself
    (group_ana,) = synced(clients["Ana"])
    sessions.set_session_status(coach, group_ana.id, "held")
    rewrite(vdir / "c2e8-group.ics", "20260320T160000", "20260320T150000")
    result = sync(coach, vdir, today=after.date(), now=after)
    assert [c.client_name for c in result.changes] == ["Ben Okafor"]  # Ana's was held
    held = Session.get_by_id(group_ana.id)
    assert (held.status, held.scheduled_start) == ("held", at(3, 20, 16))


def test_a_session_moved_by_hand_stays_until_the_calendar_moves_it(coach, today, clients, vdir):
    sync(coach, vdir, today=today)
    (ana,) = synced(clients["Ana"])
    sessions.reschedule_session(coach, ana.id, start=at(3, 20, 11), duration_minutes=60)
    group = vdir / "c2e8-group.ics"
    os.utime(group, ns=(0, group.stat().st_mtime_ns + 10**9))  # touched, not changed
    assert sync(coach, vdir, today=today).sources[0].files_read == 1
    assert Session.get_by_id(ana.id).scheduled_start == at(3, 20, 11)
    rewrite(group, "20260320T160000", "20260320T140000")
    sync(coach, vdir, today=today)
    assert Session.get_by_id(ana.id).scheduled_start == at(3, 20, 14)


def test_a_client_taken_off_an_event_loses_that_session_only(coach, today, clients, vdir):
    sync(coach, vdir, today=today)
    rewrite(vdir / "c2e8-group.ics", "ATTENDEE;CN=Ana Lima:mailto:ana.lima@example.org\n", "")
    result = sync(coach, vdir, today=today)
    assert [(c.action, c.client_name) for c in result.changes] == [("cancelled", "Ana Lima")]
    assert [s.status for s in synced(clients["Ben"]) if s.calendar_key == "c2e8-group"] == [
        "scheduled"
    ]


def test_a_dry_run_says_what_it_would_do_and_writes_nothing(coach, today, clients, vdir):
    dry = sync(coach, vdir, today=today, dry_run=True)
    assert (dry.scheduled, dry.dry_run) == (13, True)
    assert {c.session_id for c in dry.changes} == {None}
    assert synced() == [] and CalendarSource.select().count() == 0
    real = sync(coach, vdir, today=today)
    assert real.scheduled == 13
    (vdir / BEN_WEEKLY).unlink()
    mark = CalendarSource.get().mark
    dry = sync(coach, vdir, today=today, dry_run=True)
    assert dry.cancelled == 7
    assert CalendarSource.get().mark == mark
    assert {s.status for s in synced()} == {"scheduled"}


def test_a_file_that_is_not_a_calendar_is_left_out_and_named(coach, today, clients, vdir):
    (vdir / "broken.ics").write_text("BEGIN:VCALENDAR\nthis is not\n")
    (vdir / ".hidden.ics").write_text("nonsense")
    (vdir / "notes.txt").write_text("nonsense")
    result = sync(coach, vdir, today=today)
    assert result.sources[0].unreadable == ("broken.ics",)
    assert result.scheduled == 13


# --- matching ----------------------------------------------------------------------------


def test_archived_and_ambiguous_clients_are_no_match(coach, today, clients, vdir):
    Client.update(status="archived").where(Client.id == clients["Dana"].id).execute()
    Client.create(coach=coach, name="Ana's twin", email="ANA.LIMA@example.org", started_on=today)
    result = sync(coach, vdir, today=today)
    assert synced(clients["Dana"]) == []
    # The group's Ana address is now two clients': only Ben is sure.
    assert [s.client_id for s in synced() if s.calendar_key == "c2e8-group"] == [clients["Ben"].id]
    assert result.skipped == 2  # lunch, and Dana's series


def test_a_client_added_later_gets_the_events_of_files_already_read(coach, today, clients, vdir):
    sync(coach, vdir, today=today)
    lunch = Client.create(coach=coach, name="Lee", email="", started_on=today)
    assert sync(coach, vdir, today=today).scheduled == 0
    rewrite(
        vdir / "e5a0-lunch.ics", "UID:e5a0-lunch", "UID:e5a0-lunch\nATTENDEE:mailto:lee@x.example"
    )
    Client.update(email="lee@x.example").where(Client.id == lunch.id).execute()
    os.utime(vdir / "e5a0-lunch.ics", ns=(0, 10**18))
    result = sync(coach, vdir, today=today)
    assert (result.scheduled, result.skipped) == (1, 0)
    # Another client's address, unlike the file, made every file be read again.
    Client.update(email="dana@home.example").where(Client.id == clients["Dana"].id).execute()
    result = sync(coach, vdir, today=today)
    assert result.sources[0].files_read == 5
    assert (result.cancelled, result.skipped) == (4, 1)


def test_a_summary_names_a_client_only_when_the_setting_allows(coach, today, clients, tmp_path):
    ics = tmp_path / "cal.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:s1\nDTSTART:20260318T150000\n"
        "SUMMARY:Session with CARLOS DIAZ\nEND:VEVENT\nBEGIN:VEVENT\nUID:s2\n"
        "DTSTART:20260318T170000\nSUMMARY:Carlos\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    assert sync(coach, ics, today=today).scheduled == 0
    by_name = config.Settings(time_zone="Europe/London", calendar_match_summary=True)
    result = sync(coach, ics, today=today, settings=by_name)
    # The whole name, accents and case aside; a first name alone names no one for sure.
    assert (result.scheduled, result.skipped) == (1, 1)
    (carlos,) = synced(clients["Carlos"])
    # No DTEND and no DURATION: the usual hour.
    assert (carlos.scheduled_start, carlos.duration_minutes) == (at(3, 18, 15), 60)


# --- other tools' files ------------------------------------------------------------------


def test_a_google_calendar_with_x_wr_timezone_and_floating_times(coach, today, clients):
    result = sync(coach, FIXTURES / "google.ics", today=today)
    # The organizer is the coach, who is no client; the dentist names no one; the
    # all-day event is no session.
    assert (result.scheduled, result.skipped) == (2, 1)
    ana = [(s.scheduled_start, s.duration_minutes) for s in synced(clients["Ana"])]
    # 09:00 floating in New York (summer time there since 8 March) is 13:00 in London;
    # 21:30 UTC is 21:30 in London until 29 March.
    assert ana == [(at(3, 18, 13), 50), (at(3, 19, 21, 30), 45)]


def test_an_exchange_calendar_with_a_windows_zone_name(coach, today, clients):
    utc = config.Settings(time_zone="UTC")
    sync(coach, FIXTURES / "outlook.ics", today=today, settings=utc)
    (ana,) = synced(clients["Ana"])
    # 14:00 "GMT Standard Time" on 1 April is British Summer Time: 13:00 UTC.
    assert ana.scheduled_start == at(4, 1, 13)


def test_a_missing_source_refuses_before_anything_is_written(coach, today, clients, vdir):
    with pytest.raises(CalendarError, match="no calendar at"):
        sync_calendars(coach, [str(vdir), "/no/such/calendar.ics"], settings=LONDON, today=today)
    with pytest.raises(CalendarError, match="name a calendar"):
        sync_calendars(coach, [], settings=LONDON, today=today)
    assert synced() == []


def test_a_file_source_that_is_not_a_calendar_is_one_line(coach, today, clients, tmp_path):
    bad = tmp_path / "cal.ics"
    bad.write_text("hello")
    with pytest.raises(CalendarError, match=r"cannot read .*cal.ics: not an iCalendar file$"):
        sync(coach, bad, today=today)


# --- the command line, in-process ----------------------------------------------------------


@pytest.fixture
def cli(database, isolated_home, clients):
    from trustdesk.cli import main

    path = database.path if hasattr(database, "path") else None
    (isolated_home / "settings.toml").write_text(
        'time_zone = "Europe/London"\nmy_addresses = ["morgan@reyes.example"]\n'
    )

    def call(*args):
        return main(["--db", str(path), "--today", "2026-03-16", *args])

    return call


@pytest.mark.sqlite_only
def test_cli_says_what_changed_in_a_line_per_calendar(cli, capsys, vdir):
    assert cli("calendar", "sync", str(vdir)) == 0
    out = capsys.readouterr().out
    assert out == f"From {vdir}: 13 sessions scheduled; 1 event matched no client.\n"
    rewrite(vdir / "c2e8-group.ics", "20260320T160000", "20260320T090000")
    (vdir / "d41f-dana-utc.ics").unlink()
    assert cli("calendar", "sync", str(vdir)) == 0
    out = capsys.readouterr().out
    assert out == f"From {vdir}: 2 sessions moved, 4 cancelled; 1 event matched no client.\n"


def test_a_calendar_under_the_home_folder_is_shown_from_there(monkeypatch, tmp_path):
    from trustdesk.cli.calendar import shown_path

    monkeypatch.setenv("HOME", str(tmp_path))
    assert shown_path(f"{tmp_path}/.calendars/work") == "~/.calendars/work"
    assert shown_path(f"{tmp_path}x/cal.ics") == f"{tmp_path}x/cal.ics"


@pytest.mark.sqlite_only
def test_cli_json_and_dry_run(cli, capsys, vdir):
    assert cli("calendar", "sync", str(vdir), "--dry-run", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"dry_run", "scheduled", "moved", "cancelled", "unchanged", "skipped",
                         "sources"}  # fmt: skip
    assert (data["dry_run"], data["scheduled"], data["skipped"]) == (True, 13, 1)
    (source,) = data["sources"]
    first = source["changes"][0]
    assert first == {
        "action": "scheduled",
        "session_id": None,
        "client_id": first["client_id"],
        "client": "Ben Okafor",
        "start": "2026-03-17T10:00",
        "minutes": 50,
        "calendar_key": "4f1c9a2e-ben-weekly/2026-03-17",
        "event": "Ben: weekly coaching",
    }
    assert synced() == []
    assert cli("calendar", "sync", str(vdir), "--dry-run") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"From {vdir} (dry run, nothing written): would have 13 sessions")
    assert len(lines) == 1 + 13


@pytest.mark.sqlite_only
def test_cli_sources_from_settings_and_errors_in_one_line(cli, capsys, isolated_home, vdir):
    assert cli("calendar", "sync") == 1
    err = capsys.readouterr().err
    assert err.startswith("trustdesk: name a calendar to read") and err.count("\n") == 1
    assert cli("calendar", "sync", str(vdir / "nope")) == 1
    assert (
        capsys.readouterr().err
        == f"trustdesk: no calendar at {vdir / 'nope'}: name an .ics file or a vdir folder\n"
    )  # noqa: E501
    settings = isolated_home / "settings.toml"
    settings.write_text(settings.read_text() + f'calendar_sources = ["{vdir}"]\n')
    assert cli("calendar", "sync") == 0
    assert "13 sessions scheduled" in capsys.readouterr().out


@pytest.mark.sqlite_only
def test_cli_shows_an_events_title_literally(cli, capsys, tmp_path):
    ics = tmp_path / "cal.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x1\nDTSTART:20260318T150000\n"
        "SUMMARY:\x1b[2J\x1b]52;c;aGk=\x07Ana [b]bold[/b]\nATTENDEE:mailto:ana.lima@example.org\n"
        "END:VEVENT\nEND:VCALENDAR\n"
    )
    assert cli("calendar", "sync", str(ics), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "[b]bold[/b]" in out
