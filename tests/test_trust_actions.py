"""What the coach does from the dashboard, checked in the database afterwards, on a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest

from trustdesk.store.models import Client, Coach, Commitment, Program, Session, Stage, Touch
from trustdesk.trust import contact, promises, sessions
from trustdesk.trust.common import MAX_TEXT, ActionError
from trustdesk.trust.contact import cadence, log_touch, snooze
from trustdesk.trust.promises import (
    add_commitment,
    drop,
    edit_commitment,
    follow_through,
    mark_done,
    overdue_promises,
    renegotiate,
)
from trustdesk.trust.sessions import punctuality, schedule_session, set_session_status

D = dt.timedelta


# --- a tiny builder ------------------------------------------------------------------


def client(coach, today, name="Ann", **kw):
    kw.setdefault("started_on", today - D(days=100))
    return Client.create(coach=coach, name=name, **kw)


def promise(coach, who, today, *, due=5, status="open", owner="coach", title="Send the plan"):
    return Commitment.create(
        coach=coach,
        client=who,
        owner=owner,
        title=title,
        promised_on=today - D(days=20),
        due_on=today + D(days=due),
        status=status,
        done_on=None if status == "open" else today - D(days=1),
    )


def touch(coach, who, day):
    return Touch.create(
        coach=coach, client=who, occurred_on=day, channel="email", direction="outbound"
    )


def session(coach, who, start):
    return Session.create(coach=coach, client=who, scheduled_start=start)


def refused(call, *args, match=None, **kwargs) -> str:
    """Call an action that must refuse, and return its message, which must be one plain line."""
    with pytest.raises(ActionError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert message and "\n" not in message and "\r" not in message
    if match is not None:
        assert match in message
    return message


def row(promise_row):
    """The promise as the database has it now, as a comparable tuple."""
    p = Commitment.get_by_id(promise_row.id)
    return (p.status, p.title, p.due_on, p.done_on, p.reason)


# --- add and edit a promise --------------------------------------------------------------


def test_add_commitment_stores_an_open_promise(coach, today):
    ann = client(coach, today)
    new_id = add_commitment(
        coach,
        ann.id,
        owner="client",
        title="Journal each morning",
        due_on=today + D(days=7),
        promised_on=today,
    )
    p = Commitment.get_by_id(new_id)
    assert (p.coach_id, p.client_id, p.owner, p.title) == (
        coach.id,
        ann.id,
        "client",
        "Journal each morning",
    )
    assert (p.promised_on, p.due_on, p.done_on, p.status) == (
        today,
        today + D(days=7),
        None,
        "open",
    )


def test_add_commitment_due_on_the_day_it_is_promised_is_allowed(coach, today):
    ann = client(coach, today)
    new_id = add_commitment(
        coach, ann.id, owner="coach", title="Call back", due_on=today, promised_on=today
    )
    assert Commitment.get_by_id(new_id).due_on == today


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"due_on": dt.date(2026, 3, 15)}, "before the day it was promised"),
        ({"owner": "nobody"}, "'nobody'"),
        ({"title": "   "}, "is empty"),
        ({"title": "x" * (MAX_TEXT + 1)}, f"longer than {MAX_TEXT}"),
    ],
)
def test_add_commitment_refusals_create_nothing(coach, today, changes, match):
    ann = client(coach, today)
    kwargs = {"owner": "coach", "title": "Send the plan", "due_on": today, "promised_on": today}
    kwargs.update(changes)
    refused(add_commitment, coach, ann.id, match=match, **kwargs)
    assert Commitment.select().count() == 0


def test_edit_commitment_changes_title_and_due_date(coach, today):
    p = promise(coach, client(coach, today), today)
    edit_commitment(coach, p.id, title="Send the revised plan", due_on=today + D(days=9))
    assert row(p) == ("open", "Send the revised plan", today + D(days=9), None, "")


def test_edit_commitment_refusals_change_nothing(coach, today):
    p = promise(coach, client(coach, today), today)
    before = row(p)
    refused(
        edit_commitment,
        coach,
        p.id,
        title="x",
        due_on=today - D(days=21),
        match="before the day it was promised",
    )
    refused(edit_commitment, coach, p.id, title="", due_on=today, match="is empty")
    assert row(p) == before


def test_edit_commitment_refuses_a_closed_promise(coach, today):
    p = promise(coach, client(coach, today), today, status="done")
    before = row(p)
    refused(edit_commitment, coach, p.id, title="new", due_on=today, match="already done")
    assert row(p) == before


# --- keep, renegotiate, drop -----------------------------------------------------------


def test_mark_done_closes_the_promise_on_the_day_given(coach, today):
    p = promise(coach, client(coach, today), today, due=-2)
    mark_done(coach, p.id, today)
    assert row(p) == ("done", "Send the plan", today - D(days=2), today, "")


@pytest.mark.parametrize("status", ["done", "dropped", "renegotiated"])
def test_mark_done_refuses_a_promise_already_closed(coach, today, status):
    p = promise(coach, client(coach, today), today, status=status)
    before = row(p)
    message = refused(mark_done, coach, p.id, today)
    assert f"already {status}" in message
    assert row(p) == before


def test_mark_done_refuses_a_day_before_it_was_promised(coach, today):
    p = promise(coach, client(coach, today), today)
    refused(mark_done, coach, p.id, today - D(days=21), match="before it was made")
    assert row(p)[0] == "open"


def test_renegotiate_opens_exactly_one_successor_that_points_back(coach, today):
    ann = client(coach, today)
    old = promise(coach, ann, today, due=-3, owner="client", title="Draft the letter")
    new_id = renegotiate(coach, old.id, today + D(days=10), today).successor_id
    assert Commitment.select().count() == 2
    new = Commitment.get_by_id(new_id)
    assert new.renegotiated_from_id == old.id
    assert (new.coach_id, new.client_id, new.owner, new.title) == (
        coach.id,
        ann.id,
        "client",
        "Draft the letter",
    )
    assert (new.status, new.promised_on, new.due_on, new.done_on) == (
        "open",
        today,
        today + D(days=10),
        None,
    )
    old = Commitment.get_by_id(old.id)
    assert (old.status, old.done_on, old.due_on) == ("renegotiated", today, today - D(days=3))


def test_renegotiate_to_today_is_allowed(coach, today):
    old = promise(coach, client(coach, today), today, due=-3)
    new_id = renegotiate(coach, old.id, today, today).successor_id
    assert Commitment.get_by_id(new_id).due_on == today


@pytest.mark.parametrize(
    ("new_due", "match"),
    [(-1, "in the past"), (5, "same as the old one")],
)
def test_renegotiate_refusals_change_nothing(coach, today, new_due, match):
    p = promise(coach, client(coach, today), today, due=5)
    before = row(p)
    refused(renegotiate, coach, p.id, today + D(days=new_due), today, match=match)
    assert row(p) == before
    assert Commitment.select().count() == 1


def test_drop_keeps_the_reason(coach, today):
    p = promise(coach, client(coach, today), today)
    drop(coach, p.id, "client changed role", today)
    assert row(p) == ("dropped", "Send the plan", today + D(days=5), today, "client changed role")


@pytest.mark.parametrize("reason", ["", "   \n"])
def test_drop_without_a_reason_is_refused(coach, today, reason):
    p = promise(coach, client(coach, today), today)
    before = row(p)
    refused(drop, coach, p.id, reason, today, match="reason is empty")
    assert row(p) == before


# --- closed elsewhere --------------------------------------------------------------------


PROMISE_ACTIONS = {
    "mark_done": lambda coach, pid, today: mark_done(coach, pid, today),
    "renegotiate": lambda coach, pid, today: renegotiate(coach, pid, today + D(days=30), today),
    "drop": lambda coach, pid, today: drop(coach, pid, "no longer needed", today),
    "edit": lambda coach, pid, today: edit_commitment(coach, pid, title="t", due_on=today),
}


def close_elsewhere(p, today):
    Commitment.update(status="done", done_on=today - D(days=1)).where(
        Commitment.id == p.id
    ).execute()


@pytest.mark.parametrize("action", sorted(PROMISE_ACTIONS))
def test_a_promise_closed_elsewhere_before_the_action_is_refused(coach, today, action):
    p = promise(coach, client(coach, today), today)
    close_elsewhere(p, today)
    before = row(p)
    refused(PROMISE_ACTIONS[action], coach, p.id, today, match="already done")
    assert row(p) == before
    assert Commitment.select().count() == 1


@pytest.mark.parametrize("action", sorted(PROMISE_ACTIONS))
def test_a_promise_closed_elsewhere_after_it_was_loaded_is_refused(
    coach, today, monkeypatch, action
):
    """The row is read while open, then another window closes it before the write."""
    p = promise(coach, client(coach, today), today)
    load = promises._open_commitment

    def load_then_lose_the_race(*args):
        loaded = load(*args)
        close_elsewhere(p, today)
        return loaded

    monkeypatch.setattr(promises, "_open_commitment", load_then_lose_the_race)
    before_action = (
        "done",
        "Send the plan",
        today + D(days=5),
        today - D(days=1),
        "",
    )
    refused(PROMISE_ACTIONS[action], coach, p.id, today, match="changed elsewhere")
    assert row(p) == before_action
    assert Commitment.select().count() == 1  # a renegotiation left no orphan successor


# --- another coach's rows ------------------------------------------------------------------


@pytest.fixture
def other_coachs_rows(database, today):
    other = Coach.create(name="Other Coach")
    theirs = client(other, today, name="Theirs")
    return {
        "other": other,
        "client": theirs,
        "promise": promise(other, theirs, today),
        "session": session(other, theirs, dt.datetime.combine(today, dt.time(9))),
    }


def _missing_ids():
    return {"client": 999_999, "promise": 999_999, "session": 999_999}


ROW_ACTIONS = {
    "add_commitment": (
        "client",
        lambda coach, i, today: add_commitment(
            coach, i, owner="coach", title="x", due_on=today, promised_on=today
        ),
    ),
    "log_touch": (
        "client",
        lambda coach, i, today: log_touch(
            coach,
            i,
            channel="call",
            direction="outbound",
            summary="",
            occurred_on=today,
            today=today,
        ),
    ),
    "snooze": ("client", lambda coach, i, today: snooze(coach, i, today, today)),
    "schedule_session": (
        "client",
        lambda coach, i, today: schedule_session(
            coach, i, start=dt.datetime.combine(today, dt.time(9))
        ),
    ),
    "mark_done": ("promise", lambda coach, i, today: mark_done(coach, i, today)),
    "renegotiate": (
        "promise",
        lambda coach, i, today: renegotiate(coach, i, today + D(days=30), today),
    ),
    "drop": ("promise", lambda coach, i, today: drop(coach, i, "why", today)),
    "edit_commitment": (
        "promise",
        lambda coach, i, today: edit_commitment(coach, i, title="t", due_on=today),
    ),
    "set_session_status": (
        "session",
        lambda coach, i, today: set_session_status(coach, i, "held"),
    ),
}


def snapshot():
    """Every row an action could touch, to show a refusal changed nothing."""
    return (
        sorted(Client.select().tuples()),
        sorted(Commitment.select().tuples()),
        sorted(Session.select().tuples()),
        sorted(Touch.select().tuples()),
    )


@pytest.mark.parametrize("action", sorted(ROW_ACTIONS))
@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_another_coachs_row_is_refused_as_if_it_did_not_exist(
    coach, today, other_coachs_rows, action
):
    kind, call = ROW_ACTIONS[action]
    before = snapshot()
    theirs = refused(call, coach, other_coachs_rows[kind].id, today)
    missing = refused(call, coach, _missing_ids()[kind], today)
    assert theirs == missing
    assert "no longer exists" in theirs
    assert snapshot() == before


# --- contact -------------------------------------------------------------------------------


def test_log_touch_stores_the_touch(coach, today):
    ann = client(coach, today)
    tid = log_touch(
        coach,
        ann.id,
        channel="journal_prompt",
        direction="inbound",
        summary="replied about values",
        occurred_on=today - D(days=1),
        today=today,
        counts_for_cadence=False,
    )
    t = Touch.get_by_id(tid)
    assert (t.coach_id, t.client_id, t.occurred_on, t.channel, t.direction) == (
        coach.id,
        ann.id,
        today - D(days=1),
        "journal_prompt",
        "inbound",
    )
    assert (t.summary, t.counts_for_cadence) == ("replied about values", False)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"occurred_on": dt.date(2026, 3, 17)}, "in the future"),
        ({"channel": "pigeon"}, "unknown channel"),
        ({"channel": "sms\nrm -rf"}, "unknown channel"),
        ({"direction": "sideways"}, "unknown direction"),
        ({"summary": "x" * (MAX_TEXT + 1)}, f"longer than {MAX_TEXT}"),
    ],
)
def test_log_touch_refusals_store_nothing(coach, today, changes, match):
    ann = client(coach, today)
    kwargs = {
        "channel": "email",
        "direction": "outbound",
        "summary": "",
        "occurred_on": today,
        "today": today,
    }
    kwargs.update(changes)
    refused(log_touch, coach, ann.id, match=match, **kwargs)
    assert Touch.select().count() == 0


def test_snooze_sets_lifts_and_refuses_yesterday(coach, today):
    ann = client(coach, today)
    snooze(coach, ann.id, today + D(days=14), today)
    assert Client.get_by_id(ann.id).snoozed_until == today + D(days=14)
    refused(snooze, coach, ann.id, today - D(days=1), today, match="today or later")
    assert Client.get_by_id(ann.id).snoozed_until == today + D(days=14)
    snooze(coach, ann.id, today, today)  # through the end of today is fine
    assert Client.get_by_id(ann.id).snoozed_until == today
    snooze(coach, ann.id, None, today)
    assert Client.get_by_id(ann.id).snoozed_until is None


# --- sessions ----------------------------------------------------------------------------------


def test_schedule_session_drops_seconds_and_takes_the_clients_stage(coach, today):
    program = Program.create(coach=coach, name="Leadership")
    stage = Stage.create(coach=coach, program=program, position=1, name="Discover")
    ann = client(coach, today, program=program, stage=stage)
    start = dt.datetime.combine(today + D(days=2), dt.time(10, 0, 42, 123))
    sid = schedule_session(coach, ann.id, start=start, duration_minutes=90)
    s = Session.get_by_id(sid)
    assert s.scheduled_start == dt.datetime.combine(today + D(days=2), dt.time(10, 0))
    assert (s.status, s.duration_minutes, s.stage_id, s.client_id, s.coach_id) == (
        "scheduled",
        90,
        stage.id,
        ann.id,
        coach.id,
    )


@pytest.mark.parametrize(("minutes", "ok"), [(4, False), (5, True), (480, True), (481, False)])
def test_schedule_session_duration_limits(coach, today, minutes, ok):
    ann = client(coach, today)
    start = dt.datetime.combine(today, dt.time(9))
    if ok:
        schedule_session(coach, ann.id, start=start, duration_minutes=minutes)
        assert Session.select().count() == 1
    else:
        refused(schedule_session, coach, ann.id, start=start, duration_minutes=minutes)
        assert Session.select().count() == 0


def test_held_late_keeps_late_minutes_until_the_held_is_taken_back(coach, today):
    start = dt.datetime.combine(today - D(days=1), dt.time(10, 0))
    s = session(coach, client(coach, today), start)
    set_session_status(coach, s.id, "held", actual_start=start + D(minutes=7, seconds=40))
    s = Session.get_by_id(s.id)
    assert (s.status, s.actual_start, s.late_minutes) == ("held", start + D(minutes=7), 7)
    set_session_status(coach, s.id, "no_show")
    s = Session.get_by_id(s.id)
    assert (s.status, s.actual_start, s.late_minutes) == ("no_show", None, None)
    refused(set_session_status, coach, s.id, "no_show", match="already no show")


def test_a_session_in_the_future_cannot_be_marked_held(coach, today):
    start = dt.datetime.combine(today + D(days=3), dt.time(10, 0))
    s = session(coach, client(coach, today), start)
    refused(set_session_status, coach, s.id, "held", match="before it has started")
    assert Session.get_by_id(s.id).status == "scheduled"


def test_held_without_a_start_time_is_taken_as_on_time(coach, today):
    start = dt.datetime.combine(today - D(days=1), dt.time(10, 0))
    s = session(coach, client(coach, today), start)
    set_session_status(coach, s.id, "held")
    s = Session.get_by_id(s.id)
    assert (s.actual_start, s.late_minutes) == (start, 0)


def test_an_unknown_session_status_is_refused(coach, today):
    s = session(coach, client(coach, today), dt.datetime.combine(today, dt.time(10)))
    refused(set_session_status, coach, s.id, "rescheduled", match="unknown session status")
    assert Session.get_by_id(s.id).status == "scheduled"


# --- after an action, the rules agree ------------------------------------------------------------


def test_after_mark_done_an_overdue_promise_is_no_longer_overdue(coach, today):
    ann = client(coach, today)
    p = promise(coach, ann, today, due=-2)
    assert [o.commitment_id for o in overdue_promises(coach, today)] == [p.id]
    mark_done(coach, p.id, today)
    assert overdue_promises(coach, today) == []
    ft = follow_through(coach, today)
    assert (ft.practice.kept, ft.practice.counted) == (0, 1)  # kept, but late


def test_after_mark_done_on_time_follow_through_counts_it_kept(coach, today):
    p = promise(coach, client(coach, today), today, due=3)
    assert follow_through(coach, today).practice.counted == 0
    mark_done(coach, p.id, today)
    ft = follow_through(coach, today)
    assert (ft.practice.kept, ft.practice.counted) == (1, 1)


def test_after_renegotiate_only_the_successor_counts(coach, today):
    p = promise(coach, client(coach, today), today, due=-2)
    new_id = renegotiate(coach, p.id, today + D(days=7), today).successor_id
    assert overdue_promises(coach, today) == []
    assert follow_through(coach, today).practice.counted == 0  # successor not yet due
    later = today + D(days=8)
    assert [o.commitment_id for o in overdue_promises(coach, later)] == [new_id]


def test_after_drop_follow_through_counts_it_against(coach, today):
    p = promise(coach, client(coach, today), today, due=10)
    drop(coach, p.id, "out of scope", today)
    ft = follow_through(coach, today)
    assert (ft.practice.kept, ft.practice.counted) == (0, 1)


def test_after_log_touch_today_a_due_client_is_ok(coach, today):
    ann = client(coach, today)
    touch(coach, ann, today - D(days=9))
    assert [c.state for c in cadence(coach, today)] == ["due"]
    log_touch(
        coach,
        ann.id,
        channel="call",
        direction="outbound",
        summary="",
        occurred_on=today,
        today=today,
    )
    (row_,) = cadence(coach, today)
    assert (row_.state, row_.last_touch_on, row_.days_since_touch) == ("ok", today, 0)


def test_a_touch_that_does_not_count_leaves_cadence_alone(coach, today):
    ann = client(coach, today)
    touch(coach, ann, today - D(days=9))
    log_touch(
        coach,
        ann.id,
        channel="message",
        direction="outbound",
        summary="automatic reminder",
        occurred_on=today,
        today=today,
        counts_for_cadence=False,
    )
    assert [c.state for c in cadence(coach, today)] == ["due"]


def test_after_snooze_a_quiet_client_is_snoozed_and_lifting_it_brings_them_back(coach, today):
    ann = client(coach, today)
    touch(coach, ann, today - D(days=40))
    assert [c.state for c in cadence(coach, today)] == ["quiet"]
    snooze(coach, ann.id, today + D(days=7), today)
    assert [c.state for c in cadence(coach, today)] == ["snoozed"]
    snooze(coach, ann.id, None, today)
    assert [c.state for c in cadence(coach, today)] == ["quiet"]


def test_after_a_late_held_session_punctuality_counts_it_late(coach, today):
    start = dt.datetime.combine(today - D(days=1), dt.time(10))
    s = session(coach, client(coach, today), start)
    set_session_status(coach, s.id, "held", actual_start=start + D(minutes=12))
    result = punctuality(coach, today)
    assert (result.practice.kept, result.practice.counted) == (0, 1)


# --- rescheduling a session --------------------------------------------------------------------


def test_reschedule_session_moves_it_and_drops_seconds(coach, today):
    s = session(coach, client(coach, today), dt.datetime.combine(today + D(days=2), dt.time(10)))
    new_start = dt.datetime.combine(today + D(days=4), dt.time(14, 30, 59, 999))
    sessions.reschedule_session(coach, s.id, start=new_start, duration_minutes=45)
    s = Session.get_by_id(s.id)
    assert (s.scheduled_start, s.duration_minutes, s.status) == (
        dt.datetime.combine(today + D(days=4), dt.time(14, 30)),
        45,
        "scheduled",
    )
    assert (s.actual_start, s.late_minutes) == (None, None)


@pytest.mark.parametrize(("minutes", "ok"), [(4, False), (5, True), (480, True), (481, False)])
def test_reschedule_session_duration_limits_match_scheduling(coach, today, minutes, ok):
    start = dt.datetime.combine(today + D(days=2), dt.time(10))
    s = session(coach, client(coach, today), start)
    later = start + D(days=1)
    if ok:
        sessions.reschedule_session(coach, s.id, start=later, duration_minutes=minutes)
        assert Session.get_by_id(s.id).duration_minutes == minutes
    else:
        refused(
            sessions.reschedule_session,
            coach,
            s.id,
            start=later,
            duration_minutes=minutes,
            match="between 5 minutes and 8 hours",
        )
        assert (
            Session.get_by_id(s.id).scheduled_start,
            Session.get_by_id(s.id).duration_minutes,
        ) == (
            start,
            60,
        )


@pytest.mark.parametrize("status", ["held", "no_show", "late_cancel", "cancelled"])
def test_reschedule_refuses_a_session_that_is_no_longer_scheduled(coach, today, status):
    start = dt.datetime.combine(today - D(days=1), dt.time(10))
    s = session(coach, client(coach, today), start)
    set_session_status(coach, s.id, status)
    before = sorted(Session.select().tuples())
    message = refused(
        sessions.reschedule_session,
        coach,
        s.id,
        start=start + D(days=7),
        duration_minutes=60,
        match="only a scheduled one can be moved",
    )
    assert status.replace("_", " ") in message
    assert sorted(Session.select().tuples()) == before


def test_a_session_changed_elsewhere_before_the_move_is_refused(coach, today, monkeypatch):
    start = dt.datetime.combine(today + D(days=1), dt.time(10))
    s = session(coach, client(coach, today), start)
    load = sessions._scheduled_session

    def load_then_lose_the_race(*args):
        loaded = load(*args)
        Session.update(status="cancelled").where(Session.id == s.id).execute()
        return loaded

    monkeypatch.setattr(sessions, "_scheduled_session", load_then_lose_the_race)
    refused(
        sessions.reschedule_session,
        coach,
        s.id,
        start=start + D(days=1),
        duration_minutes=60,
        match="changed elsewhere",
    )
    s = Session.get_by_id(s.id)
    assert (s.status, s.scheduled_start) == ("cancelled", start)


# --- correcting and removing a touch ----------------------------------------------------------


def edit_kwargs(today, **changes):
    kwargs = {
        "channel": "call",
        "direction": "inbound",
        "summary": "asked to move [b]Friday[/b]",
        "occurred_on": today - D(days=2),
        "today": today,
        "counts_for_cadence": False,
    }
    kwargs.update(changes)
    return kwargs


def touch_row(t):
    t = Touch.get_by_id(t.id)
    return (t.client_id, t.occurred_on, t.channel, t.direction, t.summary, t.counts_for_cadence)


def test_edit_touch_changes_every_field(coach, today):
    ann = client(coach, today)
    t = touch(coach, ann, today - D(days=5))
    contact.edit_touch(coach, t.id, **edit_kwargs(today))
    assert touch_row(t) == (
        ann.id,
        today - D(days=2),
        "call",
        "inbound",
        "asked to move [b]Friday[/b]",
        False,
    )
    assert Touch.select().count() == 1


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"occurred_on": dt.date(2026, 3, 17)}, "in the future"),
        ({"channel": "pigeon"}, "unknown channel"),
        ({"channel": "sms\nrm -rf"}, "unknown channel"),
        ({"direction": "sideways"}, "unknown direction"),
        ({"summary": "x" * (MAX_TEXT + 1)}, f"longer than {MAX_TEXT}"),
        ({"counts_for_cadence": "no"}, "yes or no"),
    ],
)
def test_edit_touch_refusals_change_nothing(coach, today, changes, match):
    t = touch(coach, client(coach, today), today - D(days=5))
    before = touch_row(t)
    refused(contact.edit_touch, coach, t.id, match=match, **edit_kwargs(today, **changes))
    assert touch_row(t) == before


def test_edited_touch_moves_cadence(coach, today):
    ann = client(coach, today)
    t = touch(coach, ann, today - D(days=9))
    assert [c.state for c in cadence(coach, today)] == ["due"]
    contact.edit_touch(
        coach, t.id, **edit_kwargs(today, occurred_on=today, counts_for_cadence=True)
    )
    assert [c.state for c in cadence(coach, today)] == ["ok"]
    contact.edit_touch(coach, t.id, **edit_kwargs(today, counts_for_cadence=False))
    assert [c.last_touch_on for c in cadence(coach, today)] == [None]


def test_remove_touch_removes_only_that_touch(coach, today):
    ann = client(coach, today)
    kept = touch(coach, ann, today - D(days=3))
    gone = touch(coach, ann, today - D(days=1))
    contact.remove_touch(coach, gone.id)
    assert [t.id for t in Touch.select()] == [kept.id]
    refused(contact.remove_touch, coach, gone.id, match="that touch no longer exists")
    assert [t.id for t in Touch.select()] == [kept.id]


NEW_ROW_ACTIONS = {
    "reschedule_session": (
        "session",
        lambda coach, i, today: sessions.reschedule_session(
            coach, i, start=dt.datetime.combine(today, dt.time(11)), duration_minutes=60
        ),
    ),
    "edit_touch": (
        "touch",
        lambda coach, i, today: contact.edit_touch(coach, i, **edit_kwargs(today)),
    ),
    "remove_touch": ("touch", lambda coach, i, today: contact.remove_touch(coach, i)),
}


@pytest.mark.parametrize("action", sorted(NEW_ROW_ACTIONS))
@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_another_coachs_session_or_touch_is_refused_as_if_it_did_not_exist(
    coach, today, other_coachs_rows, action
):
    kind, call = NEW_ROW_ACTIONS[action]
    rows = dict(other_coachs_rows)
    rows["touch"] = touch(rows["other"], rows["client"], today - D(days=1))
    before = snapshot()
    theirs = refused(call, coach, rows[kind].id, today)
    missing = refused(call, coach, 999_999, today)
    assert theirs == missing
    assert "no longer exists" in theirs
    assert snapshot() == before
