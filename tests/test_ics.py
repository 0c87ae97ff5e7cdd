"""The calendar export parses with icalendar and holds exactly what is coming."""

from __future__ import annotations

import datetime as dt
import os
import stat

from helpers import TODAY, one_line_error, text
from icalendar import Calendar

from trustdesk.ics import practice_ics
from trustdesk.store import Client, Commitment, Session

D = dt.timedelta


def events(data: bytes) -> list:
    return [c for c in Calendar.from_ical(data).walk() if c.name == "VEVENT"]


def test_sessions_to_come_and_open_promises_become_events(coach, today):
    ann = Client.create(coach=coach, name="[b]Ann[/b] Lee", started_on=today - D(days=30))
    at = dt.datetime.combine(today + D(days=2), dt.time(9, 30))
    Session.create(coach=coach, client=ann, scheduled_start=at, duration_minutes=45)
    Session.create(coach=coach, client=ann, scheduled_start=at - D(days=9), status="held")
    Session.create(coach=coach, client=ann, scheduled_start=at - D(days=9))  # past, not held
    Session.create(coach=coach, client=ann, scheduled_start=at, status="cancelled")
    for status in ("open", "done", "dropped"):
        Commitment.create(
            coach=coach,
            client=ann,
            owner="coach",
            title=f"Send the plan ({status})",
            promised_on=today - D(days=5),
            due_on=today + D(days=4),
            status=status,
        )
    found = events(practice_ics(coach, today))
    assert len(found) == 2
    session, promise = found
    assert str(session["summary"]) == "Coaching session: [b]Ann[/b] Lee"
    assert session.decoded("dtstart") == at
    assert session.decoded("dtend") == at + D(minutes=45)
    assert str(promise["summary"]) == "Due: Send the plan (open)"
    assert promise.decoded("dtstart") == today + D(days=4)
    assert str(promise["description"]) == "You promised [b]Ann[/b] Lee: Send the plan (open)"
    assert len({str(e["uid"]) for e in found}) == 2


def test_the_same_practice_gives_the_same_uids(coach, today):
    ann = Client.create(coach=coach, name="Ann", started_on=today)
    Commitment.create(
        coach=coach, client=ann, owner="client", title="Walk", promised_on=today, due_on=today
    )
    first = [str(e["uid"]) for e in events(practice_ics(coach, today))]
    again = [str(e["uid"]) for e in events(practice_ics(coach, today))]
    assert first == again and len(first) == 1


def test_export_ics_from_the_command_line(run, tmp_path):
    assert run("demo", "--no-tui", "--today", TODAY).returncode == 0
    result = run("--db", "demo.sqlite3", "--today", TODAY, "export", "--ics")
    assert result.returncode == 0, text(result)
    found = events(result.stdout)
    assert any(str(e["summary"]).startswith("Coaching session: ") for e in found)
    assert any(str(e["summary"]).startswith("Due: ") for e in found)
    dest = tmp_path / "trustdesk.ics"
    result = run("--db", "demo.sqlite3", "--today", TODAY, "export", "--ics", "-o", str(dest))
    assert result.returncode == 0, text(result)
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600
    assert len(events(dest.read_bytes())) == len(found)
    line = one_line_error(run("--db", "demo.sqlite3", "export", "--ics", "--decrypt"))
    assert "--decrypt goes with the JSON export" in line


def test_calendar_text_never_holds_a_control_character(coach, today):
    from trustdesk.literal import needs_escape, visible

    payload = "\x1bc\x1b]52;c;eA==\x07\x9b31m\u202eevil\u200b\x7f"
    ann = Client.create(coach=coach, name="Ann " + payload, started_on=today)
    at = dt.datetime.combine(today + D(days=2), dt.time(9, 30))
    Session.create(coach=coach, client=ann, scheduled_start=at, duration_minutes=45)
    Commitment.create(
        coach=coach,
        client=ann,
        owner="client",
        title="Plan " + payload,
        promised_on=today,
        due_on=today + D(days=4),
    )
    data = practice_ics(coach, today)
    assert not [ch for ch in data.decode("utf-8") if ch not in "\r\n" and needs_escape(ch)]
    session, promise = events(data)
    assert str(session["summary"]) == "Coaching session: " + visible("Ann " + payload)
    assert str(promise["summary"]) == "Due: " + visible("Plan " + payload)
