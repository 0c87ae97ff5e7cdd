"""`trustdesk session ...` and `trustdesk today`, through a real process, with their errors."""

from __future__ import annotations

import json

import pytest
from helpers import TODAY, one_line_error, text


@pytest.fixture
def practice(initialised, tmp_path):
    """A practice with two clients, and `td` running commands on the fixed Monday."""
    people = tmp_path / "clients.csv"
    people.write_text(
        "name,started_on,ideal_gap_days,max_gap_days\n"
        "Ann Lee,2026-01-05,7,21\nBo Chen,2026-01-05,7,21\n"
    )
    assert initialised("import", str(people)).returncode == 0

    def td(*args, **kw):
        return initialised("--today", TODAY, *args, **kw)

    return td


def tables(td) -> dict:
    result = td("export", "--json")
    assert result.returncode == 0, text(result)
    return json.loads(result.stdout)["tables"]


def add(td, who: str, at: str, *more: str) -> int:
    result = td("session", "add", who, "--at", at, *more)
    assert result.returncode == 0, text(result)
    return int(result.stdout.strip())


def test_add_schedules_a_session_and_list_shows_what_is_to_come(practice):
    sid = add(practice, "ann", "wed 10:00", "--minutes", "45")
    add(practice, "Bo", "2026-03-13 09:00")  # last Friday: not to come
    result = practice("session", "list", "--json")
    assert result.returncode == 0, text(result)
    (only,) = json.loads(result.stdout)["sessions"]
    assert only == {
        "id": sid,
        "client_id": only["client_id"],
        "client": "Ann Lee",
        "start": "2026-03-18T10:00",
        "end": "2026-03-18T10:45",
        "minutes": 45,
        "status": "scheduled",
        "cancelled_by": None,
    }
    human = practice("session", "list")
    assert "Wed 18 Mar 10:00–10:45  Ann Lee  scheduled" in text(human)[0]
    week = json.loads(practice("session", "list", "--week", "--json").stdout)["sessions"]
    assert [s["client"] for s in week] == ["Ann Lee"]  # Monday 16 to Sunday 22 March


def test_an_overlapping_session_is_added_with_a_warning(practice):
    first = add(practice, "ann", "wed 10:00")
    result = practice("session", "add", "bo", "--at", "wed 10:30", "--minutes", "30")
    assert result.returncode == 0, text(result)
    err = text(result)[1]
    assert f"warning: it overlaps session {first} with Ann Lee, Wed 18 Mar 10:00–11:00" in err
    assert len(tables(practice)["session"]) == 2
    result = practice("session", "add", "bo", "--at", "wed 11:00")
    assert "overlaps" not in text(result)[1]


def test_held_counts_as_contact_once_and_cancelling_takes_it_back(practice):
    sid = add(practice, "ann", "2026-03-13 10:00")
    result = practice("session", "held", str(sid), "--started", "10:07")
    assert result.returncode == 0, text(result)
    assert "marked held, 7 min late" in text(result)[1]
    touches = tables(practice)["touch"]
    assert [(t["channel"], t["occurred_on"], t["session"]) for t in touches] == [
        ("session", "2026-03-13", sid)
    ]
    assert practice("session", "held", str(sid)).returncode == 0  # again: still one
    assert len(tables(practice)["touch"]) == 1
    today = json.loads(practice("today", "--json").stdout)
    assert "Ann Lee" not in [c["client"] for c in today["due_for_contact"]]

    result = practice("session", "cancel", str(sid), "--late", "--by", "client")
    assert result.returncode == 0, text(result)
    data = tables(practice)
    assert data["touch"] == []
    (row,) = data["session"]
    assert (row["status"], row["cancelled_by"]) == ("late_cancel", "client")
    fell = json.loads(practice("today", "--json").stdout)["fell"]
    assert [(f["client"], f["what"], f["words"]) for f in fell] == [
        ("Ann Lee", "late_cancel", "cancelled Fri 13 Mar session late")
    ]


def test_no_show_and_cancel_by_the_coach(practice):
    a = add(practice, "ann", "2026-03-12 10:00")
    b = add(practice, "bo", "2026-03-20 10:00")
    assert practice("session", "no-show", str(a)).returncode == 0
    assert practice("session", "cancel", str(b), "--by", "coach").returncode == 0
    rows = {s["id"]: s for s in tables(practice)["session"]}
    assert (rows[a]["status"], rows[a]["cancelled_by"]) == ("no_show", None)
    assert (rows[b]["status"], rows[b]["cancelled_by"]) == ("cancelled", "coach")
    out = text(practice("today"))[0]
    assert "Ann Lee: missed Thu 12 Mar session" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("session", "add", "nobody", "--at", "wed 10:00"), "no client called 'nobody'"),
        (("session", "add", "ann", "--at", "03/12 10:00"), "--at:"),
        (("session", "add", "ann", "--at", "wed 10:00", "--minutes", "2"), "between 5 minutes"),
        (("session", "held", "999"), "no session 999"),
        (("session", "no-show", "999"), "no session 999"),
        (("session", "cancel", "999", "--by", "coach"), "no session 999"),
        (("session", "cancel", "1", "--by", "dog"), "invalid choice"),
        (("session", "held", "1", "--started", "soonish"), "--started"),
        (("session", "held", "1"), "before it has started"),
    ],
)
def test_session_errors_are_one_line_and_write_nothing(practice, args, fragment):
    add(practice, "ann", "wed 10:00")  # session 1, still to come
    before = tables(practice)
    line = one_line_error(practice(*args))
    assert fragment in line
    assert tables(practice) == before


def test_today_on_an_empty_day_says_so(practice):
    result = practice("today")
    assert result.returncode == 0, text(result)
    # Two clients, started in January and never touched: due for contact.
    assert "Due for contact" in text(result)[0]
    empty = practice("--today", "2026-01-06", "today")
    assert text(empty)[0] == "Nothing needs you today.\n"


def test_today_lists_sessions_waiting_and_promises(practice):
    today_session = add(practice, "ann", "today 23:00")
    waiting = add(practice, "bo", "2026-03-13 10:00")
    data = json.loads(practice("today", "--json").stdout)
    assert set(data) == {
        "today", "sessions", "promises_due_today", "promises_due_this_week",
        "due_for_contact", "awaiting_outcome", "fell",
    }  # fmt: skip
    assert data["today"] == TODAY
    assert [s["id"] for s in data["sessions"]] == [today_session]
    assert [s["id"] for s in data["awaiting_outcome"]] == [waiting]
    out = text(practice("today"))[0]
    assert "23:00–00:00  Ann Lee" in out
    assert f"Fri 13 Mar 10:00  Bo Chen  (session {waiting})" in out
