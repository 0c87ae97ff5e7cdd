"""Sessions as contact, who cancelled, the day's agenda, sessions waiting for an outcome,
overlaps, and clients who fell: the rules, on a fixed clock, on both backends."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from trustdesk.store.models import Client, Commitment, Session, Touch, db
from trustdesk.store.practice import delete_rows
from trustdesk.trust import contact, sessions
from trustdesk.trust.common import ActionError, ChangedElsewhere
from trustdesk.trust.contact import cadence, falls, log_touch
from trustdesk.trust.sessions import set_session_status

D = dt.timedelta


def client(coach, today, name="Ann", **kw):
    kw.setdefault("started_on", today - D(days=60))
    return Client.create(coach=coach, name=name, **kw)


def session(coach, who, start, **kw):
    return Session.create(coach=coach, client=who, scheduled_start=start, **kw)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def linked(s) -> list[Touch]:
    return list(Touch.select().where(Touch.session == s.id))


# --- a held session is contact, once -------------------------------------------------


def test_holding_a_session_writes_one_counted_touch_on_its_day(coach, today):
    ann = client(coach, today)
    s = session(coach, ann, at(today - D(days=2)))
    assert cadence(coach, today)[0].last_touch_on is None
    set_session_status(coach, s.id, "held")
    (touch,) = linked(s)
    assert (touch.channel, touch.direction, touch.counts_for_cadence) == (
        "session", "outbound", True)  # fmt: skip
    assert touch.occurred_on == today - D(days=2)
    assert touch.client_id == ann.id
    row = cadence(coach, today)[0]
    assert (row.last_touch_on, row.days_since_touch) == (today - D(days=2), 2)


def test_holding_again_corrects_the_day_and_never_writes_a_second_touch(coach, today):
    ann = client(coach, today)
    s = session(coach, ann, at(today - D(days=2), 23, 30))
    set_session_status(coach, s.id, "held")
    set_session_status(coach, s.id, "held", actual_start=at(today - D(days=1), 0, 10))
    (touch,) = linked(s)
    assert touch.occurred_on == today - D(days=1)
    assert Touch.select().count() == 1


@pytest.mark.parametrize("status", ["scheduled", "no_show", "late_cancel", "cancelled"])
def test_taking_the_held_back_takes_the_touch_back(coach, today, status):
    ann = client(coach, today)
    log_touch(coach, ann.id, channel="email", direction="outbound", summary="",
              occurred_on=today - D(days=9), today=today)  # fmt: skip
    s = session(coach, ann, at(today - D(days=1)))
    set_session_status(coach, s.id, "held")
    assert cadence(coach, today)[0].last_touch_on == today - D(days=1)
    set_session_status(coach, s.id, status)
    assert linked(s) == []
    assert cadence(coach, today)[0].last_touch_on == today - D(days=9)
    assert Touch.select().count() == 1  # the email stays


def test_deleting_a_held_session_deletes_its_touch(coach, today):
    s = session(coach, client(coach, today), at(today - D(days=1)))
    set_session_status(coach, s.id, "held")
    with db.atomic():
        assert delete_rows(Session, (Session.id == s.id) & (Session.coach == coach)) == 1
    assert Touch.select().count() == 0


def test_a_refused_held_writes_no_touch(coach, today):
    s = session(coach, client(coach, today), at(today + D(days=1)))
    with pytest.raises(ActionError, match="before it has started"):
        set_session_status(coach, s.id, "held")
    with pytest.raises(ChangedElsewhere):
        set_session_status(coach, s.id, "no_show", version=s.version + 5)
    assert Touch.select().count() == 0


def test_two_terminals_holding_the_same_session_at_once_make_one_touch(coach, today):
    """Both hold at the same moment; the database lets one write and the touch is one."""
    s = session(coach, client(coach, today), at(today - D(days=1)))
    ready = threading.Barrier(2)
    outcomes: list[str] = []

    def hold() -> None:
        with db.obj.lease():
            ready.wait(5)
            try:
                set_session_status(coach, s.id, "held")
                outcomes.append("held")
            except ChangedElsewhere as exc:
                assert "\n" not in str(exc)
                outcomes.append("refused")

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert "held" in outcomes and len(outcomes) == 2
    assert len(linked(s)) == 1
    assert Session.get_by_id(s.id).status == "held"


def test_the_database_refuses_a_second_touch_for_one_session(coach, today):
    """The last line of defence, whatever a writer does: one touch per coach and session."""
    from peewee import IntegrityError

    ann = client(coach, today)
    s = session(coach, ann, at(today - D(days=1)))
    set_session_status(coach, s.id, "held")
    with pytest.raises(IntegrityError), db.atomic():
        Touch.create(coach=coach, client=ann, occurred_on=today, channel="session",
                     direction="outbound", session=s.id)  # fmt: skip
    assert len(linked(s)) == 1


# --- who cancelled -------------------------------------------------------------------


@pytest.mark.parametrize("status", ["cancelled", "late_cancel"])
@pytest.mark.parametrize("by", ["client", "coach"])
def test_cancelling_records_who_cancelled(coach, today, status, by):
    s = session(coach, client(coach, today), at(today + D(days=1)))
    set_session_status(coach, s.id, status, cancelled_by=by)
    assert Session.get_by_id(s.id).cancelled_by == by
    assert sessions.client_sessions(s.client_id)[0].cancelled_by == by


def test_who_cancelled_is_cleared_when_the_session_is_marked_otherwise(coach, today):
    s = session(coach, client(coach, today), at(today - D(days=1)))
    set_session_status(coach, s.id, "late_cancel", cancelled_by="client")
    set_session_status(coach, s.id, "held")
    assert Session.get_by_id(s.id).cancelled_by is None


@pytest.mark.parametrize(
    ("status", "by", "match"),
    [("held", "client", "only a cancelled"), ("no_show", "coach", "only a cancelled"),
     ("cancelled", "the dog", "client or the coach")],
)  # fmt: skip
def test_who_cancelled_refusals_change_nothing(coach, today, status, by, match):
    s = session(coach, client(coach, today), at(today - D(days=1)))
    with pytest.raises(ActionError, match=match):
        set_session_status(coach, s.id, status, cancelled_by=by)
    row = Session.get_by_id(s.id)
    assert (row.status, row.cancelled_by, row.version) == ("scheduled", None, 1)


# --- the agenda ----------------------------------------------------------------------


def test_the_days_agenda_has_its_sessions_in_time_order_without_cancelled_ones(coach, today):
    ann, bea = client(coach, today), client(coach, today, "Bea")
    late = session(coach, ann, at(today, 15))
    early = session(coach, bea, at(today, 9, 30), duration_minutes=45)
    session(coach, ann, at(today, 12), status="cancelled")
    session(coach, ann, at(today + D(days=1), 9))
    gone = client(coach, today, "Cy", status="archived")
    session(coach, gone, at(today, 11))
    agenda = sessions.sessions_on(coach, today)
    assert [s.session_id for s in agenda] == [early.id, late.id]
    assert agenda[0].client_name == "Bea"
    assert agenda[0].ends == at(today, 10, 15)


def test_a_session_waits_for_an_outcome_once_its_time_is_over(coach, today):
    ann = client(coach, today)
    over = session(coach, ann, at(today - D(days=3)))
    running = session(coach, ann, at(today, 9, 30))  # to 10:30
    ended = session(coach, ann, at(today, 8, 0))  # to 9:00
    session(coach, ann, at(today - D(days=2)), status="held")
    session(coach, ann, at(today + D(days=1)))
    now = at(today, 10, 0)
    waiting = sessions.awaiting_outcome(coach, now)
    assert [s.session_id for s in waiting] == [over.id, ended.id]
    assert running.id not in [s.session_id for s in sessions.awaiting_outcome(coach, now)]
    assert [s.session_id for s in sessions.upcoming_sessions(coach, now)][0] != running.id


def test_overlapping_finds_any_shared_minute_but_not_back_to_back(coach, today):
    ann, bea = client(coach, today), client(coach, today, "Bea")
    ten = session(coach, ann, at(today + D(days=1), 10), duration_minutes=60)
    session(coach, bea, at(today + D(days=1), 8), status="cancelled")
    day = today + D(days=1)
    assert sessions.overlapping(coach, at(day, 11), 30) == []
    assert sessions.overlapping(coach, at(day, 9), 60) == []
    assert [s.session_id for s in sessions.overlapping(coach, at(day, 10, 59), 30)] == [ten.id]
    assert [s.session_id for s in sessions.overlapping(coach, at(day, 8), 480)] == [ten.id]
    assert sessions.overlapping(coach, at(day, 10), 60, leave_out=ten.id) == []


# --- clients who fell ----------------------------------------------------------------


def test_a_no_show_with_no_contact_since_is_a_fall_until_the_coach_reaches_out(coach, today):
    ann = client(coach, today)
    log_touch(coach, ann.id, channel="email", direction="outbound", summary="",
              occurred_on=today - D(days=10), today=today)  # fmt: skip
    s = session(coach, ann, at(today - D(days=6)))
    set_session_status(coach, s.id, "no_show")
    (fall,) = falls(coach, today)
    assert (fall.client_id, fall.kind, fall.on) == (ann.id, "no_show", today - D(days=6))
    assert fall.words("Tue 10 Mar") == "missed Tue 10 Mar session"
    assert fall.last_contact_on == today - D(days=10)
    log_touch(coach, ann.id, channel="call", direction="outbound", summary="",
              occurred_on=today - D(days=6), today=today)  # fmt: skip
    assert falls(coach, today) == []


def test_a_late_cancel_by_the_client_is_a_fall_and_by_the_coach_is_not(coach, today):
    ann, bea = client(coach, today), client(coach, today, "Bea")
    a = session(coach, ann, at(today - D(days=2)))
    b = session(coach, bea, at(today - D(days=2)))
    set_session_status(coach, a.id, "late_cancel", cancelled_by="client")
    set_session_status(coach, b.id, "late_cancel", cancelled_by="coach")
    (fall,) = falls(coach, today)
    assert (fall.client_name, fall.kind) == ("Ann", "late_cancel")
    assert "cancelled" in fall.words("Sat 14 Mar")


def test_a_clients_own_promise_gone_past_due_is_a_fall(coach, today):
    ann, bea = client(coach, today), client(coach, today, "Bea")
    for who, owner in ((ann, "client"), (bea, "coach")):
        Commitment.create(coach=coach, client=who, owner=owner, title="Journal daily",
                          promised_on=today - D(days=9), due_on=today - D(days=3))  # fmt: skip
    Commitment.create(coach=coach, client=ann, owner="client", title="Due today",
                      promised_on=today - D(days=9), due_on=today)  # fmt: skip
    (fall,) = falls(coach, today)
    assert (fall.client_name, fall.kind, fall.on) == ("Ann", "promise", today - D(days=3))
    assert fall.promise_title == "Journal daily"
    assert fall.words("Fri 13 Mar") == "promise due Fri 13 Mar not kept"
    # Contact on the due day was before it was late; the day after catches them.
    log_touch(coach, ann.id, channel="email", direction="outbound", summary="",
              occurred_on=today - D(days=3), today=today)  # fmt: skip
    assert [f.client_name for f in falls(coach, today)] == ["Ann"]
    log_touch(coach, ann.id, channel="email", direction="inbound", summary="",
              occurred_on=today - D(days=2), today=today)  # fmt: skip
    assert falls(coach, today) == []


def test_a_touch_that_does_not_count_does_not_catch_a_fall(coach, today):
    ann = client(coach, today)
    s = session(coach, ann, at(today - D(days=2)))
    set_session_status(coach, s.id, "no_show")
    log_touch(coach, ann.id, channel="email", direction="outbound", summary="invoice",
              occurred_on=today - D(days=1), today=today, counts_for_cadence=False)  # fmt: skip
    assert [f.kind for f in falls(coach, today)] == ["no_show"]


def test_the_latest_fall_is_the_one_told_and_only_active_clients_fall(coach, today):
    ann = client(coach, today)
    paused = client(coach, today, "Pat", status="paused")
    s = session(coach, ann, at(today - D(days=8)))
    set_session_status(coach, s.id, "no_show")
    Commitment.create(coach=coach, client=ann, owner="client", title="Read",
                      promised_on=today - D(days=9), due_on=today - D(days=2))  # fmt: skip
    p = session(coach, paused, at(today - D(days=1)))
    set_session_status(coach, p.id, "no_show")
    (fall,) = falls(coach, today)
    assert (fall.kind, fall.on) == ("promise", today - D(days=2))
    assert falls(coach, today, client_ids=[paused.id]) == []


def test_falls_and_agenda_never_show_another_coachs_rows(coach, today, database):
    """(On a practice, row-level security fences coaches apart; this is the queries' part.)"""
    from peewee import PostgresqlDatabase

    from trustdesk.store.models import Coach

    if isinstance(db.obj, PostgresqlDatabase):
        pytest.skip("a coach of a practice cannot add another coach")
    other = Coach.create(name="Other")
    them = client(other, today, "Theirs")
    s = session(other, them, at(today))
    set_session_status(other, s.id, "no_show")
    assert falls(coach, today) == []
    assert sessions.sessions_on(coach, today) == []
    assert sessions.awaiting_outcome(coach, at(today, 23)) == []


def test_contact_after_holding_reads_as_in_touch(coach, today):
    ann = client(coach, today, ideal_gap_days=7, max_gap_days=21)
    s = session(coach, ann, at(today - D(days=1)))
    assert cadence(coach, today)[0].state == "quiet"
    set_session_status(coach, s.id, "held")
    assert cadence(coach, today)[0].state == "ok"
    assert contact.cadence_counts(coach, today)["ok"] == 1


# --- upgrading a file from before held sessions were contact -------------------------


def test_upgrading_to_0010_makes_every_held_session_contact_once(tmp_path):
    """An unlinked "session" touch on the day is adopted; a held session without one gets one."""
    import shutil

    from trustdesk.store import open_database
    from trustdesk.store.database import MIGRATIONS_DIR

    before = tmp_path / "before-0010"
    before.mkdir()
    for script in MIGRATIONS_DIR.glob("000[1-9]_*.py"):
        shutil.copy(script, before)
    path = tmp_path / "td.sqlite3"
    database = open_database(path, create=True, migrations_dir=before)
    run = database.execute_sql
    run("INSERT INTO coach (name, email, created_at) VALUES ('M', '', '2026')")
    run(
        "INSERT INTO client (coach_id, name, sort_name, email, phone, status, started_on, "
        "ideal_gap_days, max_gap_days, reference_consent, created_at, uid) "
        "VALUES (1, 'Ann', 'ann', '', '', 'active', '2026-01-01', 7, 21, 0, '2026', 'u1')"
    )
    for sid, day, status in ((1, "2026-03-02", "held"), (2, "2026-03-09", "held"),
                             (3, "2026-03-12", "no_show")):  # fmt: skip
        run(
            "INSERT INTO session (id, coach_id, client_id, scheduled_start, actual_start, "
            "duration_minutes, status) VALUES (?, 1, 1, ?, ?, 60, ?)",
            (sid, f"{day} 10:00:00", f"{day} 10:03:00" if status == "held" else None, status),
        )
    for day, channel in (("2026-03-02", "session"), ("2026-03-02", "email"),
                         ("2026-03-12", "session")):  # fmt: skip
        run(
            "INSERT INTO touch (coach_id, client_id, occurred_on, channel, direction, "
            "counts_for_cadence, summary) VALUES (1, 1, ?, ?, 'outbound', 1, 'by hand')",
            (day, channel),
        )
    database.close()
    database = open_database(path)
    try:
        rows = run(
            "SELECT session_id, occurred_on, channel, summary FROM touch ORDER BY id"
        ).fetchall()
        assert rows == [
            (1, "2026-03-02", "session", "by hand"),  # adopted: not counted twice
            (None, "2026-03-02", "email", "by hand"),
            (None, "2026-03-12", "session", "by hand"),  # no held session that day
            (2, "2026-03-09", "session", "Session held"),  # written for the held one
        ]
        assert run("SELECT COUNT(*) FROM session WHERE cancelled_by IS NULL").fetchone() == (3,)
        assert run("PRAGMA foreign_key_check").fetchall() == []
        run("DELETE FROM session WHERE id = 2")
        assert run("SELECT COUNT(*) FROM touch").fetchone() == (3,)
    finally:
        database.close()


def test_the_agendas_promises_due_put_the_coachs_own_first(coach, today):
    from trustdesk.trust.agenda import build_agenda

    ann, bea = client(coach, today), client(coach, today, "Bea")
    for who, owner, due, title in (
        (ann, "client", 0, "Journal"), (bea, "coach", 3, "Send notes"),
        (ann, "coach", 1, "Book room"), (bea, "client", 9, "Too far"),
        (ann, "coach", -1, "Overdue"),
    ):  # fmt: skip
        Commitment.create(coach=coach, client=who, owner=owner, title=title,
                          promised_on=today - D(days=5), due_on=today + D(days=due))  # fmt: skip
    agenda = build_agenda(coach, today, dt.datetime.combine(today, dt.time(9)))
    assert [p.title for p in agenda.due_today] == ["Journal"]
    assert [p.title for p in agenda.due_this_week] == ["Book room", "Send notes"]


def test_the_demo_writes_exactly_the_linked_touch_of_each_held_session(demo_practice, today):
    demo_practice(12)
    held = {s.id for s in Session.select().where(Session.status == "held")}
    linked_touches = [t.session_id for t in Touch.select().where(Touch.session.is_null(False))]
    assert held and sorted(linked_touches) == sorted(held)
    loose = Touch.select().where((Touch.channel == "session") & Touch.session.is_null())
    assert loose.count() == 0
    waiting = sessions.awaiting_outcome(coach=_only_coach(), now=at(today, 8))
    assert waiting  # the demo leaves one session for the coach to say how it went


def _only_coach():
    from trustdesk.store import current_coach

    return current_coach()


def test_the_report_tells_who_fell(coach, today):
    from trustdesk.config import Settings
    from trustdesk.trust.report import build_report, report_json, report_text

    ann = client(coach, today, "[b]Ann[/]")
    s = session(coach, ann, at(dt.date(2025, 12, 30)))
    set_session_status(coach, s.id, "no_show")
    report = build_report(coach, today, Settings())
    (fell,) = report_json(report)["fell"]
    assert fell == {"client_id": ann.id, "client": "[b]Ann[/]", "what": "no_show",
                    "on": "2025-12-30", "promise": None,
                    "words": "missed Tue 30 Dec 2025 session"}  # fmt: skip
    text = report_text(report)
    assert "Fell, with no contact since: 1\n  [b]Ann[/]: missed Tue 30 Dec 2025 session" in text
