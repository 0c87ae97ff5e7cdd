"""The trust rules on a fixed clock, with every edge the coach relies on spelled out."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from helpers import QueryCounter

from trustdesk.config import Settings
from trustdesk.store.models import (
    Client,
    Commitment,
    Program,
    Session,
    Stage,
    Touch,
    minutes_late,
)
from trustdesk.trust import (
    build_report,
    cadence,
    cadence_state,
    contact_by_week,
    follow_through,
    journeys,
    overdue_promises,
    practice_contact_by_week,
    punctuality,
    report_json,
    report_text,
)

D = dt.timedelta


def add_client(coach, name, today, **kw):
    kw.setdefault("started_on", today - D(days=100))
    kw.setdefault("ideal_gap_days", 7)
    kw.setdefault("max_gap_days", 21)
    return Client.create(coach=coach, name=name, **kw)


def promise(coach, client, today, *, due, owner="coach", status="open", done=None, title="x"):
    return Commitment.create(
        coach=coach,
        client=client,
        owner=owner,
        title=title,
        promised_on=today - D(days=60),
        due_on=today + D(days=due),
        done_on=None if done is None else today + D(days=done),
        status=status,
    )


def touch(coach, client, day, *, direction="outbound", counts=True, channel="email"):
    return Touch.create(
        coach=coach,
        client=client,
        occurred_on=day,
        channel=channel,
        direction=direction,
        counts_for_cadence=counts,
    )


# --- overdue ------------------------------------------------------------------------


def test_due_today_is_not_overdue_but_yesterday_is(coach, today):
    ann = add_client(coach, "Ann", today)
    promise(coach, ann, today, due=0, title="due today")
    promise(coach, ann, today, due=-1, title="due yesterday")
    overdue = overdue_promises(coach, today)
    assert [o.title for o in overdue] == ["due yesterday"]
    assert overdue[0].days_overdue == 1


def test_overdue_ranks_coach_promises_first_then_longest_overdue(coach, today):
    ann = add_client(coach, "Ann", today)
    ben = add_client(coach, "Ben", today)
    promise(coach, ann, today, due=-30, owner="client", title="client, 30 late")
    promise(coach, ben, today, due=-2, owner="coach", title="coach, 2 late")
    promise(coach, ann, today, due=-9, owner="coach", title="coach, 9 late")
    promise(coach, ben, today, due=-5, owner="client", title="client, 5 late")
    titles = [o.title for o in overdue_promises(coach, today)]
    assert titles == ["coach, 9 late", "coach, 2 late", "client, 30 late", "client, 5 late"]


def test_only_open_promises_are_overdue(coach, today):
    ann = add_client(coach, "Ann", today)
    promise(coach, ann, today, due=-5, status="done", done=-1)
    promise(coach, ann, today, due=-5, status="dropped", done=-6)
    promise(coach, ann, today, due=-5, status="renegotiated")
    assert overdue_promises(coach, today) == []


def test_overdue_result_is_frozen(coach, today):
    ann = add_client(coach, "Ann", today)
    promise(coach, ann, today, due=-3)
    row = overdue_promises(coach, today)[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.title = "changed"
    assert row.client_name == "Ann" and row.due_on == today - D(days=3)


# --- follow-through ---------------------------------------------------------------------


def test_follow_through_edges(coach, today):
    ann = add_client(coach, "Ann", today)
    promise(coach, ann, today, due=-10, status="done", done=-10)  # kept on the day: for
    promise(coach, ann, today, due=-10, status="done", done=-12)  # kept early: for
    promise(coach, ann, today, due=-10, status="done", done=-9)  # a day late: against
    promise(coach, ann, today, due=-10, status="dropped", done=-11)  # dropped: against
    promise(coach, ann, today, due=-1)  # still open past due: against
    promise(coach, ann, today, due=0)  # open, due today: not yet counted
    promise(coach, ann, today, due=5)  # open, not yet due: not counted
    promise(coach, ann, today, due=-10, status="renegotiated")  # replaced: not counted
    ft = follow_through(coach, today)
    assert (ft.practice.kept, ft.practice.counted) == (2, 5)
    assert ft.practice.percent == 40
    assert ft.by_client[ann.id] == ft.practice


def test_dropped_before_its_due_date_counts_against_at_once(coach, today):
    ann = add_client(coach, "Ann", today)
    promise(coach, ann, today, due=20, status="dropped", done=-1)
    assert follow_through(coach, today).practice.counted == 1
    assert follow_through(coach, today).practice.kept == 0


def test_kept_early_counts_when_it_is_done(coach, today):
    ann = add_client(coach, "Ann", today)
    promise(coach, ann, today, due=20, status="done", done=-1)
    assert follow_through(coach, today).practice.kept == 1


def test_follow_through_window_is_the_last_90_days(coach, today):
    ann = add_client(coach, "Ann", today)
    promise(coach, ann, today, due=-89, status="done", done=-89)  # first day of the window
    promise(coach, ann, today, due=-90, status="done", done=-95)  # just outside
    ft = follow_through(coach, today)
    assert ft.window_start == today - D(days=89)
    assert ft.window_days == 90
    assert ft.practice.counted == 1


def test_follow_through_is_per_owner_and_per_client(coach, today):
    ann = add_client(coach, "Ann", today)
    ben = add_client(coach, "Ben", today)
    promise(coach, ann, today, due=-3, status="done", done=-3)
    promise(coach, ben, today, due=-3)
    promise(coach, ben, today, due=-3, owner="client", status="done", done=-4)
    mine = follow_through(coach, today)
    theirs = follow_through(coach, today, owner="client")
    assert mine.by_client[ann.id].rate == 1.0
    assert mine.by_client[ben.id].rate == 0.0
    assert mine.practice.percent == 50
    assert theirs.practice.percent == 100
    assert ann.id not in theirs.by_client


def test_no_promises_means_no_rate(coach, today):
    ft = follow_through(coach, today)
    assert ft.practice.rate is None and ft.practice.percent is None


# --- punctuality ----------------------------------------------------------------------------


def held(coach, client, start, late):
    actual = start + D(minutes=late)
    return Session.create(
        coach=coach,
        client=client,
        scheduled_start=start,
        actual_start=actual,
        late_minutes=minutes_late(start, actual),
        status="held",
    )


def test_punctuality_counts_held_sessions_within_the_grace(coach, today):
    ann = add_client(coach, "Ann", today)
    at = dt.datetime.combine(today - D(days=3), dt.time(10, 0))
    held(coach, ann, at, 0)
    held(coach, ann, at, 5)  # exactly the grace: on time
    held(coach, ann, at, 6)  # a minute past: late
    held(coach, ann, at, -3)  # early: on time
    Session.create(coach=coach, client=ann, scheduled_start=at, status="no_show")
    Session.create(coach=coach, client=ann, scheduled_start=at, status="late_cancel")
    result = punctuality(coach, today, grace_minutes=5)
    assert (result.practice.kept, result.practice.counted) == (3, 4)


def test_punctuality_window(coach, today):
    ann = add_client(coach, "Ann", today)
    held(coach, ann, dt.datetime.combine(today - D(days=90), dt.time(9)), 30)
    held(coach, ann, dt.datetime.combine(today, dt.time(23, 30)), 0)
    assert punctuality(coach, today).practice.counted == 1


def test_minutes_late():
    start = dt.datetime(2026, 3, 16, 10, 0)
    assert minutes_late(start, start + D(minutes=5)) == 5
    assert minutes_late(start, start + D(minutes=5, seconds=1)) == 6  # past a 5-minute grace
    assert minutes_late(start, start + D(minutes=6, seconds=59)) == 7
    assert minutes_late(start, start - D(minutes=2)) == -2
    assert minutes_late(start, start - D(minutes=2, seconds=30)) == -2


# --- cadence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_since", "state"),
    [(0, "ok"), (6, "ok"), (7, "due"), (21, "due"), (22, "quiet")],
)
def test_cadence_state_edges(today, days_since, state):
    got = cadence_state(
        today=today,
        counted_from=today - D(days=days_since),
        ideal_gap_days=7,
        max_gap_days=21,
        snoozed_until=None,
    )
    assert got == state


@pytest.mark.parametrize("snooze_days", [0, 1, 30])
def test_a_snoozed_client_is_never_due(today, snooze_days):
    state = cadence_state(
        today=today,
        counted_from=today - D(days=400),
        ideal_gap_days=7,
        max_gap_days=21,
        snoozed_until=today + D(days=snooze_days),
    )
    assert state == "snoozed"


def test_a_snooze_that_ended_yesterday_no_longer_holds(today):
    state = cadence_state(
        today=today,
        counted_from=today - D(days=8),
        ideal_gap_days=7,
        max_gap_days=21,
        snoozed_until=today - D(days=1),
    )
    assert state == "due"


def test_cadence_uses_the_last_touch_that_counts(coach, today):
    ann = add_client(coach, "Ann", today)
    touch(coach, ann, today - D(days=30))
    touch(coach, ann, today - D(days=9))
    touch(coach, ann, today - D(days=1), counts=False)  # e.g. an automatic reminder
    touch(coach, ann, today - D(days=4), direction="inbound", counts=False)
    (row,) = cadence(coach, today)
    assert row.last_touch_on == today - D(days=9)
    assert row.days_since_touch == 9
    assert row.due_on == today - D(days=2)
    assert row.state == "due"
    assert row.last_inbound_on == today - D(days=4)
    assert row.days_since_inbound == 4


def test_a_touch_dated_after_today_does_not_count_yet(coach, today):
    ann = add_client(coach, "Ann", today)
    touch(coach, ann, today - D(days=30))
    touch(coach, ann, today + D(days=20))
    touch(coach, ann, today + D(days=2), direction="inbound")
    (row,) = cadence(coach, today)
    assert row.last_touch_on == today - D(days=30) and row.state == "quiet"
    assert row.last_inbound_on is None


def test_a_client_never_touched_counts_from_the_day_they_started(coach, today):
    add_client(coach, "New", today, started_on=today - D(days=3))
    add_client(coach, "Forgotten", today, started_on=today - D(days=40))
    rows = {r.client_name: r for r in cadence(coach, today)}
    assert rows["New"].state == "ok" and rows["New"].counted_from == today - D(days=3)
    assert rows["New"].last_touch_on is None and rows["New"].days_since_inbound is None
    assert rows["Forgotten"].state == "quiet"


def test_cadence_ranks_by_urgency_and_only_active_clients(coach, today):
    quiet = add_client(coach, "Quiet", today)
    touch(coach, quiet, today - D(days=30))
    due_long = add_client(coach, "Due long", today)
    touch(coach, due_long, today - D(days=15))
    due_short = add_client(coach, "Due short", today)
    touch(coach, due_short, today - D(days=8))
    fine = add_client(coach, "Fine", today)
    touch(coach, fine, today - D(days=1))
    add_client(coach, "Snoozed", today, snoozed_until=today + D(days=3))
    add_client(coach, "Paused", today, status="paused")
    names = [r.client_name for r in cadence(coach, today)]
    assert names == ["Quiet", "Due long", "Due short", "Fine", "Snoozed"]


def test_contact_by_week_buckets_the_last_twelve_weeks(coach, today):
    ann = add_client(coach, "Ann", today)
    ben = add_client(coach, "Ben", today)
    touch(coach, ann, today)  # last bucket
    touch(coach, ann, today - D(days=6))  # last bucket
    touch(coach, ann, today - D(days=7))  # second to last
    touch(coach, ann, today - D(days=83))  # first bucket
    touch(coach, ann, today - D(days=84))  # too old
    touch(coach, ann, today - D(days=2), counts=False)  # does not count
    weeks = contact_by_week(coach, today, [ann.id, ben.id])
    assert weeks[ann.id].counts == (1,) + (0,) * 9 + (1, 2)
    assert weeks[ben.id].counts == (0,) * 12
    assert weeks[ann.id].week_starts[0] == today - D(days=83)
    assert weeks[ann.id].week_starts[-1] == today - D(days=6)
    practice = practice_contact_by_week(coach, today)
    assert practice.counts == weeks[ann.id].counts


# --- journey -------------------------------------------------------------------------------


def test_journey_shows_program_stage_and_sessions_held(coach, today):
    program = Program.create(coach=coach, name="Leadership", typical_sessions=8)
    stages = [
        Stage.create(coach=coach, program=program, position=i, name=f"Stage {i}") for i in (1, 2, 3)
    ]
    ann = add_client(coach, "Ann", today, program=program, stage=stages[1])
    add_client(coach, "Solo", today)
    at = dt.datetime.combine(today - D(days=5), dt.time(9))
    for _ in range(4):
        held(coach, ann, at, 0)
    Session.create(coach=coach, client=ann, scheduled_start=at, status="no_show")
    rows = {j.client_name: j for j in journeys(coach)}
    ann_j = rows["Ann"]
    assert (ann_j.program_name, ann_j.stage_name, ann_j.stage_position) == (
        "Leadership",
        "Stage 2",
        2,
    )
    assert ann_j.stage_count == 3
    assert ann_j.session_progress == "4 of 8"
    assert rows["Solo"].program_name is None and rows["Solo"].session_progress == "0"


# --- a fixed number of queries ---------------------------------------------------------------


def populate(coach, today, n):
    program = Program.create(coach=coach, name=f"P{n}", typical_sessions=6)
    stage = Stage.create(coach=coach, program=program, position=1, name="Start")
    at = dt.datetime.combine(today - D(days=4), dt.time(9))
    for i in range(n):
        c = add_client(coach, f"C{n}-{i}", today, program=program, stage=stage)
        touch(coach, c, today - D(days=i % 30))
        touch(coach, c, today - D(days=2), direction="inbound")
        promise(coach, c, today, due=-(i % 5))
        promise(coach, c, today, due=-3, status="done", done=-4, owner="client")
        held(coach, c, at, i % 10)


def run_every_rule(coach, today):
    overdue_promises(coach, today)
    follow_through(coach, today)
    punctuality(coach, today)
    rows = cadence(coach, today)
    contact_by_week(coach, today, [r.client_id for r in rows])
    practice_contact_by_week(coach, today)
    journeys(coach)
    from trustdesk.trust.journey import journey_progress
    from trustdesk.trust.sessions import sessions_this_week

    journey_progress(coach)
    sessions_this_week(coach, today)
    build_report(coach, today, Settings())


def test_the_rules_make_the_same_number_of_queries_for_3_or_60_clients(database, coach, today):
    populate(coach, today, 3)
    with QueryCounter(database) as small:
        run_every_rule(coach, today)
    populate(coach, today, 60)
    with QueryCounter(database) as large:
        run_every_rule(coach, today)
    assert small.count == large.count
    assert 12 <= large.count <= 25


# --- the report --------------------------------------------------------------------------------


def test_report_text_and_json_agree(coach, today):
    ann = add_client(coach, "[bold]Ann[/] \x1b[31m", today)
    promise(coach, ann, today, due=-4, title="Send the \u202eoffsite plan")
    touch(coach, ann, today - D(days=30))
    report = build_report(coach, today, Settings())
    data = report_json(report)
    assert data["overdue_promises"][0]["days_overdue"] == 4
    assert data["quiet"][0]["client"] == "[bold]Ann[/] \x1b[31m"
    text = report_text(report)
    assert "[bold]Ann[/] \\x1b[31m" in text
    assert "\x1b" not in text and "\u202e" not in text
    assert "Send the \\u202eoffsite plan" in text
    assert "Overdue promises: 1" in text
    assert "Gone quiet (past their maximum gap): 1" in text


# --- journey progress and the week ---------------------------------------------------------


def test_journey_progress_counts_active_clients_at_each_stage(coach, today):
    from trustdesk.trust.journey import journey_progress

    program = Program.create(coach=coach, name="Leadership", typical_sessions=8)
    first, second, _third = (
        Stage.create(coach=coach, program=program, position=i, name=f"Stage {i}") for i in (1, 2, 3)
    )
    add_client(coach, "A", today, program=program, stage=first)
    add_client(coach, "B", today, program=program, stage=second)
    add_client(coach, "C", today, program=program, stage=second)
    add_client(coach, "Gone", today, program=program, stage=second, status="completed")
    add_client(coach, "Solo", today)
    (progress,) = journey_progress(coach)
    assert progress.program_name == "Leadership" and progress.clients == 3
    assert [(s.stage_name, s.clients) for s in progress.stages] == [
        ("Stage 1", 1),
        ("Stage 2", 2),
        ("Stage 3", 0),
    ]
    assert progress.sessions_typical == 24


def test_sessions_this_week_run_monday_to_sunday(coach, today):
    from trustdesk.trust.sessions import sessions_this_week, week_of

    assert today.weekday() == 0  # the fixed day is a Monday
    assert week_of(today) == (today, today + D(days=6))
    ann = add_client(coach, "Ann", today)
    monday = dt.datetime.combine(today, dt.time(9))
    Session.create(coach=coach, client=ann, scheduled_start=monday + D(days=6, hours=10))
    Session.create(coach=coach, client=ann, scheduled_start=monday, status="held")
    Session.create(coach=coach, client=ann, scheduled_start=monday + D(days=7))  # next week
    Session.create(coach=coach, client=ann, scheduled_start=monday - D(hours=10))  # last week
    Session.create(coach=coach, client=ann, scheduled_start=monday, status="cancelled")
    week = sessions_this_week(coach, today)
    assert [(w.scheduled_start, w.status) for w in week] == [
        (monday, "held"),
        (monday + D(days=6, hours=10), "scheduled"),
    ]
