"""The calendar export: what a calendar subscribed to it sees, export after export.

Read back with icalendar (which writes it) and with vobject (which does not), so a
mistake the writer would read back kindly still shows.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat

import pytest
import vobject
from helpers import TODAY
from icalendar import Calendar

from trustdesk import cli
from trustdesk.ics import RECENT_DAYS, practice_ics
from trustdesk.store import Client, Commitment, Session, ensure_coach, open_database
from trustdesk.trust import promises

D = dt.timedelta
UTC = dt.UTC
LONDON = "Europe/London"


def parts(data: bytes, name: str) -> list:
    return [c for c in Calendar.from_ical(data).walk() if c.name == name]


def events(data: bytes) -> list:
    return parts(data, "VEVENT")


def todos(data: bytes) -> list:
    return parts(data, "VTODO")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def test_sessions_stay_for_a_month_and_what_was_called_off_is_marked_cancelled(coach, today):
    ann = Client.create(coach=coach, name="[b]Ann[/b] Lee", started_on=today - D(days=90))
    soon = at(today + D(days=2), 9, 30)
    rows = {
        "coming": Session.create(coach=coach, client=ann, scheduled_start=soon,
                                 duration_minutes=45),
        "held": Session.create(coach=coach, client=ann, scheduled_start=soon - D(days=9),
                               status="held"),
        "waiting": Session.create(coach=coach, client=ann, scheduled_start=soon - D(days=5)),
        "cancelled": Session.create(coach=coach, client=ann, scheduled_start=soon,
                                    status="cancelled", cancelled_by="client"),
        "late": Session.create(coach=coach, client=ann, scheduled_start=soon - D(days=3),
                               status="late_cancel", cancelled_by="coach"),
        "no_show": Session.create(coach=coach, client=ann,
                                  scheduled_start=at(today - D(days=RECENT_DAYS), 8),
                                  status="no_show"),
    }  # fmt: skip
    Session.create(coach=coach, client=ann, scheduled_start=at(today - D(days=RECENT_DAYS + 1), 8),
                   status="cancelled")  # fmt: skip  # called off long ago: gone
    data = practice_ics(coach, today, time_zone=LONDON)
    seen = {
        (e.decoded("dtstart").replace(tzinfo=None), str(e["status"]), str(e.get("description")))
        for e in events(data)
    }
    r = rows
    assert seen == {
        (r["coming"].scheduled_start, "CONFIRMED", "None"),
        (r["held"].scheduled_start, "CONFIRMED", "Held"),
        (r["waiting"].scheduled_start, "CONFIRMED", "None"),
        (r["cancelled"].scheduled_start, "CANCELLED", "Cancelled by the client"),
        (r["late"].scheduled_start, "CANCELLED", "Cancelled late by the coach"),
        (r["no_show"].scheduled_start, "CANCELLED", "No-show"),
    }
    coming = [e for e in events(data) if e.decoded("dtstart").replace(tzinfo=None) == soon
              and str(e["status"]) == "CONFIRMED"][0]  # fmt: skip
    assert str(coming["summary"]) == "Coaching session: [b]Ann[/b] Lee"
    assert coming.decoded("dtend") - coming.decoded("dtstart") == D(minutes=45)
    assert len({str(e["uid"]) for e in events(data)}) == len(rows)


def test_times_carry_the_coachs_zone_and_a_vtimezone_that_knows_the_clocks_change(coach, today):
    # The clocks go forward in London on 29 March 2026: 09:30 is 09:30 UTC before, 08:30 after.
    ann = Client.create(coach=coach, name="Ann", started_on=today)
    before, after = at(dt.date(2026, 3, 27), 9, 30), at(dt.date(2026, 3, 30), 9, 30)
    for start in (before, after):
        Session.create(coach=coach, client=ann, scheduled_start=start)
    data = practice_ics(coach, today, time_zone=LONDON)
    text = data.decode()
    assert "DTSTART;TZID=Europe/London:20260327T093000" in text
    assert "DTSTART;TZID=Europe/London:20260330T093000" in text
    assert "X-WR-TIMEZONE:Europe/London" in text
    (zone,) = parts(data, "VTIMEZONE")
    assert str(zone["tzid"]) == LONDON
    first, second = events(data)
    assert first.decoded("dtstart").astimezone(UTC) == before.replace(tzinfo=UTC)
    assert second.decoded("dtstart").astimezone(UTC) == (after - D(hours=1)).replace(tzinfo=UTC)
    # vobject builds the zone from the VTIMEZONE the file carries, not from its own database.
    read = vobject.readOne(text)
    assert [z.tzid.value for z in read.vtimezone_list] == [LONDON]
    starts = sorted(e.dtstart.value.astimezone(UTC) for e in read.vevent_list)
    assert starts == [dt.datetime(2026, 3, 27, 9, 30, tzinfo=UTC),
                      dt.datetime(2026, 3, 30, 8, 30, tzinfo=UTC)]  # fmt: skip
    for event in read.vevent_list:
        assert event.dtstart.value.tzname() in ("GMT", "BST")  # the file's own zone names
        assert event.dtstamp.value.tzinfo is not None
    for line in text.splitlines():
        if line.startswith("DTSTAMP"):
            assert line.startswith("DTSTAMP:") and line.endswith("Z")


def test_a_session_across_the_clocks_going_back_lasts_its_minutes(coach, today):
    # London goes from 02:00 BST back to 01:00 GMT on 25 October 2026.
    ann = Client.create(coach=coach, name="Ann", started_on=today)
    Session.create(coach=coach, client=ann, scheduled_start=at(dt.date(2026, 10, 25), 0, 30),
                   duration_minutes=120)  # fmt: skip
    read = vobject.readOne(practice_ics(coach, today, time_zone=LONDON).decode())
    (event,) = read.vevent_list
    start, end = event.dtstart.value.astimezone(UTC), event.dtend.value.astimezone(UTC)
    assert (start, end - start) == (dt.datetime(2026, 10, 24, 23, 30, tzinfo=UTC), D(hours=2))


def test_a_coach_in_utc_gets_utc_times(coach, today):
    ann = Client.create(coach=coach, name="Ann", started_on=today)
    Session.create(coach=coach, client=ann, scheduled_start=at(today + D(days=1), 9, 30))
    text = practice_ics(coach, today, time_zone="UTC").decode()
    assert "DTSTART:20260317T093000Z" in text and "VTIMEZONE" not in text


def test_promises_are_to_dos_naming_the_client_and_who_owes_what(coach, today):
    kwame = Client.create(coach=coach, name="Kwame Mensah", started_on=today - D(days=60))

    def promise(owner: str, title: str, days_ago: int = 10, due_in: int = 4) -> int:
        return promises.add_commitment(
            coach, kwame.id, owner=owner, title=title, due_on=today + D(days=due_in),
            promised_on=today - D(days=days_ago),
        )  # fmt: skip

    promise("coach", "send the reading list")
    promise("client", "walk daily")
    kept = promise("coach", "book the room")
    promises.mark_done(coach, kept, today - D(days=2), today=today)
    dropped = promise("client", "journal")
    promises.drop(coach, dropped, "no longer wanted", today)
    old = promise("coach", "long kept", days_ago=90, due_in=-70)
    promises.mark_done(coach, old, today - D(days=RECENT_DAYS + 1), today=today)
    data = practice_ics(coach, today, time_zone=LONDON)
    assert not events(data)
    found = {str(t["summary"]): t for t in todos(data)}
    assert sorted(found) == [
        "Kwame Mensah promised: journal",
        "Kwame Mensah promised: walk daily",
        "You promised Kwame Mensah: book the room",
        "You promised Kwame Mensah: send the reading list",
    ]
    status = {s: str(t["status"]) for s, t in found.items()}
    assert status == {
        "Kwame Mensah promised: journal": "CANCELLED",
        "Kwame Mensah promised: walk daily": "NEEDS-ACTION",
        "You promised Kwame Mensah: book the room": "COMPLETED",
        "You promised Kwame Mensah: send the reading list": "NEEDS-ACTION",
    }
    sent = found["You promised Kwame Mensah: send the reading list"]
    assert sent.decoded("due") == today + D(days=4)
    assert str(sent["description"]).startswith("You promised Kwame Mensah: send the reading list")
    booked = found["You promised Kwame Mensah: book the room"]
    # Kept on the 14th where the coach is: midnight in London (GMT in March) is 00:00 UTC.
    assert booked.decoded("completed") == dt.datetime(2026, 3, 14, tzinfo=UTC)
    assert "COMPLETED" not in found["Kwame Mensah promised: journal"]
    # Read by vobject too:
    read = vobject.readOne(data.decode())
    assert sorted(t.status.value for t in read.vtodo_list) == [
        "CANCELLED", "COMPLETED", "NEEDS-ACTION", "NEEDS-ACTION"]  # fmt: skip
    assert all(t.due.value for t in read.vtodo_list)


def test_a_renegotiated_promise_is_the_same_to_do_with_the_new_due_date(coach, today):
    kwame = Client.create(coach=coach, name="Kwame", started_on=today - D(days=60))
    first = promises.add_commitment(coach, kwame.id, owner="coach", title="send notes",
                                    due_on=today + D(days=1), promised_on=today)  # fmt: skip
    (before,) = todos(practice_ics(coach, today))
    moved = promises.renegotiate(coach, first, today + D(days=8), today)
    (after,) = todos(practice_ics(coach, today))
    assert str(after["uid"]) == str(before["uid"])
    assert after.decoded("due") == today + D(days=8)
    assert int(after["sequence"]) > int(before["sequence"])
    assert str(after["status"]) == "NEEDS-ACTION"
    # Moved again, then the move undone: the to-do changes every time, never goes back.
    second = promises.renegotiate(coach, moved.successor_id, today + D(days=15), today)
    (again,) = todos(practice_ics(coach, today))
    promises.undo_close(coach, second)
    (undone,) = todos(practice_ics(coach, today))
    assert str(again["uid"]) == str(undone["uid"]) == str(before["uid"])
    assert undone.decoded("due") == today + D(days=8)
    sequences = [int(t["sequence"]) for t in (before, after, again, undone)]
    assert sequences == sorted(set(sequences))


def test_uids_stay_the_same_from_one_export_to_the_next_and_sequence_follows_edits(coach, today):
    ann = Client.create(coach=coach, name="Ann", started_on=today)
    session = Session.create(coach=coach, client=ann, scheduled_start=at(today, 15))
    promises.add_commitment(coach, ann.id, owner="client", title="Walk", due_on=today,
                            promised_on=today)  # fmt: skip
    first = practice_ics(coach, today)
    Session.update(scheduled_start=at(today, 16)).where(Session.id == session.id).execute()
    again = practice_ics(coach, today)
    uids = [str(c["uid"]) for c in events(first) + todos(first)]
    assert uids == [str(c["uid"]) for c in events(again) + todos(again)]
    assert len(set(uids)) == 2
    assert all(u.endswith("@trustdesk") for u in uids)
    # Named from the row and the practice, showing neither's id.
    assert re.fullmatch(r"session-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}@trustdesk", uids[0])
    assert (int(events(first)[0]["sequence"]), int(events(again)[0]["sequence"])) == (0, 1)


@pytest.mark.sqlite_only
def test_two_practices_never_share_a_uid(coach, today, isolated_home):
    def export() -> list[str]:
        client = Client.create(coach=1, name="Ann", started_on=today)
        Session.create(coach=1, client=client, scheduled_start=at(today, 15))
        return [str(e["uid"]) for e in events(practice_ics(coach, today))]

    here = export()
    other = open_database(isolated_home / "other.sqlite3", create=True)
    try:
        ensure_coach("Morgan Reyes")
        there = export()
    finally:
        other.close()
    assert here and there and not set(here) & set(there)


def test_a_reminder_before_each_session_still_to_come_when_asked(coach, today):
    ann = Client.create(coach=coach, name="Ann", started_on=today)
    now = at(today, 12)
    Session.create(coach=coach, client=ann, scheduled_start=at(today, 15))
    Session.create(coach=coach, client=ann, scheduled_start=at(today, 9))  # already begun
    Session.create(coach=coach, client=ann, scheduled_start=at(today, 17), status="cancelled")
    assert "VALARM" not in practice_ics(coach, today, now=now).decode()
    data = practice_ics(coach, today, alarm_minutes=15, now=now)
    alarms = [(e.decoded("dtstart").hour, a) for e in events(data) for a in e.subcomponents]
    assert [hour for hour, _ in alarms] == [15]
    (_, alarm) = alarms[0]
    assert str(alarm["action"]) == "DISPLAY"
    assert alarm.decoded("trigger") == -D(minutes=15)
    assert "Ann" in str(alarm["description"])
    assert "TRIGGER:-PT15M" in data.decode()
    (read,) = [e for e in vobject.readOne(data.decode()).vevent_list if hasattr(e, "valarm")]
    assert read.valarm.trigger.value == -D(minutes=15)


def test_calendar_text_never_holds_a_control_character(coach, today):
    from trustdesk.literal import needs_escape, visible

    payload = "\x1bc\x1b]52;c;eA==\x07\x9b31m\u202eevil\u200b\x7f"
    ann = Client.create(coach=coach, name="Ann " + payload, started_on=today)
    Session.create(coach=coach, client=ann, scheduled_start=at(today + D(days=2), 9, 30))
    Commitment.create(coach=coach, client=ann, owner="client", title="Plan " + payload,
                      promised_on=today, due_on=today + D(days=4))  # fmt: skip
    data = practice_ics(coach, today, alarm_minutes=10)
    assert not [ch for ch in data.decode("utf-8") if ch not in "\r\n" and needs_escape(ch)]
    (session,) = events(data)
    (promise,) = todos(data)
    assert str(session["summary"]) == "Coaching session: " + visible("Ann " + payload)
    assert str(promise["summary"]) == f"{visible('Ann ' + payload)} promised: " + visible(
        "Plan " + payload
    )


# --- the command line -------------------------------------------------------------------


@pytest.fixture
def practice_file(isolated_home):
    """A small practice in a file, closed, for the command line to open."""
    path = isolated_home / "trustdesk.sqlite3"
    database = open_database(path, create=True)
    try:
        coach = ensure_coach("Morgan Reyes")
        ann = Client.create(coach=coach, name="Ann Lee", started_on=dt.date(2026, 3, 1))
        Session.create(coach=coach, client=ann, scheduled_start=dt.datetime(2026, 3, 30, 9, 30))
    finally:
        database.close()
    return path


def export(path, *more: str) -> int:
    return cli.main(["--db", str(path), "--today", TODAY, "export", "--ics", *more])


def test_export_ics_writes_stdout_with_the_zone_of_the_settings(
    practice_file, isolated_home, capsysbinary
):
    (isolated_home / "settings.toml").write_text(
        'time_zone = "America/New_York"\nsession_alarm_minutes = 30\n'
    )
    assert export(practice_file) == 0
    out = capsysbinary.readouterr().out
    assert b"DTSTART;TZID=America/New_York:20260330T093000" in out
    assert b"TRIGGER:-PT30M" in out


def test_export_ics_replaces_the_file_a_calendar_subscribes_to(practice_file, tmp_path, capsys):
    dest = tmp_path / "web" / "trustdesk.ics"
    dest.parent.mkdir()
    assert export(practice_file, "-o", str(dest)) == 0
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    first = dest.read_bytes()
    os.chmod(dest, 0o644)  # published: the web server reads it
    assert export(practice_file, "-o", str(dest)) == 0
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o644
    assert [str(e["uid"]) for e in events(dest.read_bytes())] == [
        str(e["uid"]) for e in events(first)
    ]
    assert sorted(os.listdir(dest.parent)) == ["trustdesk.ics"]  # nothing left beside it
    assert "Wrote your sessions and promises to" in capsys.readouterr().err


def test_export_ics_refusals_are_one_line_and_write_nothing(
    practice_file, isolated_home, tmp_path, capsys
):
    folder = tmp_path / "a folder"
    folder.mkdir()
    assert export(practice_file, "-o", str(folder)) != 0
    assert os.listdir(folder) == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "it is a folder" in err

    dest = tmp_path / "kept.ics"
    dest.write_bytes(b"the old calendar")
    (isolated_home / "settings.toml").write_text('time_zone = "Mars/Olympus_Mons"\n')
    assert export(practice_file, "-o", str(dest)) != 0
    assert dest.read_bytes() == b"the old calendar"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "time_zone 'Mars/Olympus_Mons' is not a time zone" in err

    # The JSON and CSV exports hold client records: they still never overwrite a file.
    (isolated_home / "settings.toml").unlink()
    for kind in ("--json", "--csv"):
        assert cli.main(["--db", str(practice_file), "export", kind, "-o", str(dest)]) != 0
        assert dest.read_bytes() == b"the old calendar"
        assert "already exists; choose a new name" in capsys.readouterr().err
    assert cli.main(["--db", str(practice_file), "export", "--ics", "--decrypt"]) != 0
    assert "--decrypt goes with the JSON export" in capsys.readouterr().err
