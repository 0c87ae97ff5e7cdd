"""Everything the client workspace shows about one client, on a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import FAST_ARGON2

from trustdesk.store.models import (
    Client,
    Coach,
    Commitment,
    Program,
    Session,
    Stage,
    StageChange,
    Touch,
)
from trustdesk.trust.notes import add_note
from trustdesk.trust.workspace import RECENT_TOUCHES, ClientMissing, client_workspace
from trustdesk.vault import Vault

D = dt.timedelta


# --- a tiny builder ------------------------------------------------------------------


def client(coach, today, name="Ann", **kw):
    kw.setdefault("started_on", today - D(days=100))
    return Client.create(coach=coach, name=name, **kw)


def promise(coach, who, today, title, *, due, status="open"):
    return Commitment.create(
        coach=coach,
        client=who,
        owner="coach",
        title=title,
        promised_on=today - D(days=30),
        due_on=today + D(days=due),
        status=status,
        done_on=None if status == "open" else today - D(days=1),
    )


def session(coach, who, start, status="scheduled"):
    return Session.create(coach=coach, client=who, scheduled_start=start, status=status)


def at(day, hour=10):
    return dt.datetime.combine(day, dt.time(hour))


@pytest.fixture
def journey(coach, today):
    """A three-stage program with Ann at stage 2, having reached stages 1 and 2 on known days."""
    program = Program.create(coach=coach, name="Leadership", typical_sessions=6)
    stages = [
        Stage.create(
            coach=coach,
            program=program,
            position=i,
            name=f"Stage {i}",
            purpose=f"purpose {i}",
            asks_of_client=f"ask {i}",
            typical_sessions=i,
        )
        for i in (1, 2, 3)
    ]
    ann = client(coach, today, program=program, stage=stages[1])
    StageChange.create(coach=coach, client=ann, stage=stages[0], changed_on=today - D(days=60))
    StageChange.create(coach=coach, client=ann, stage=stages[1], changed_on=today - D(days=20))
    return ann, stages


# --- the journey -----------------------------------------------------------------------


def test_stages_are_done_current_and_next_with_the_day_each_was_reached(coach, today, journey):
    ann, stages = journey
    ws = client_workspace(coach, ann.id, today)
    assert [(s.position, s.name, s.state, s.reached_on) for s in ws.stages] == [
        (1, "Stage 1", "done", today - D(days=60)),
        (2, "Stage 2", "current", today - D(days=20)),
        (3, "Stage 3", "next", None),
    ]
    assert [(s.purpose, s.asks_of_client, s.typical_sessions) for s in ws.stages][2] == (
        "purpose 3",
        "ask 3",
        3,
    )
    assert (ws.journey.program_name, ws.journey.stage_name, ws.journey.stage_count) == (
        "Leadership",
        "Stage 2",
        3,
    )


def test_a_stage_reached_twice_shows_the_latest_day(coach, today, journey):
    ann, stages = journey
    StageChange.create(coach=coach, client=ann, stage=stages[1], changed_on=today - D(days=2))
    ws = client_workspace(coach, ann.id, today)
    assert ws.stages[1].reached_on == today - D(days=2)


def test_a_client_in_a_program_with_no_stage_yet_has_every_stage_next(coach, today, journey):
    _, stages = journey
    ben = client(coach, today, name="Ben", program=stages[0].program)
    ws = client_workspace(coach, ben.id, today)
    assert [s.state for s in ws.stages] == ["next", "next", "next"]
    assert all(s.reached_on is None for s in ws.stages)


def test_a_client_without_a_program_has_no_stages(coach, today):
    ws = client_workspace(coach, client(coach, today).id, today)
    assert ws.stages == ()
    assert ws.journey.program_name is None


# --- sessions, promises, touches -----------------------------------------------------------


def test_sessions_come_newest_first(coach, today):
    ann = client(coach, today)
    old = session(coach, ann, at(today - D(days=14)), "held")
    upcoming = session(coach, ann, at(today + D(days=7)))
    recent = session(coach, ann, at(today - D(days=7)), "no_show")
    session(coach, client(coach, today, name="Ben"), at(today))  # someone else's
    ws = client_workspace(coach, ann.id, today)
    assert [s.session_id for s in ws.sessions] == [upcoming.id, recent.id, old.id]
    assert [s.status for s in ws.sessions] == ["scheduled", "no_show", "held"]
    assert ws.sessions[0].scheduled_start == at(today + D(days=7))
    assert ws.journey.sessions_held == 1


def test_open_promises_come_before_closed_ones(coach, today):
    ann = client(coach, today)
    promise(coach, ann, today, "done late", due=-9, status="done")
    promise(coach, ann, today, "open soon", due=2)
    promise(coach, ann, today, "dropped", due=4, status="dropped")
    promise(coach, ann, today, "open overdue", due=-3)
    promise(coach, client(coach, today, name="Ben"), today, "not Ann's", due=1)
    ws = client_workspace(coach, ann.id, today)
    statuses = [p.status for p in ws.promises]
    assert statuses[:2] == ["open", "open"]
    assert sorted(statuses[2:]) == ["done", "dropped"]
    assert {p.title for p in ws.promises} == {"done late", "open soon", "dropped", "open overdue"}


def test_among_open_promises_the_most_overdue_comes_first(coach, today):
    ann = client(coach, today)
    promise(coach, ann, today, "later", due=10)
    promise(coach, ann, today, "overdue", due=-3)
    promise(coach, ann, today, "soon", due=2)
    ws = client_workspace(coach, ann.id, today)
    assert [p.title for p in ws.promises] == ["overdue", "soon", "later"]


def test_touches_are_newest_first_and_only_the_most_recent(database, coach, today):
    """A client with years of contact must not load every touch into the workspace."""
    ann = client(coach, today)
    n = RECENT_TOUCHES + 5
    Touch.insert_many(
        [
            {
                "coach": coach.id,
                "client": ann.id,
                "occurred_on": today - D(days=n - i),
                "channel": "email",
                "direction": "outbound",
                "summary": f"t{i}",
            }
            for i in range(n)
        ]
    ).execute()
    same_day_first = Touch.create(
        coach=coach, client=ann, occurred_on=today, channel="call", direction="inbound"
    )
    same_day_second = Touch.create(
        coach=coach, client=ann, occurred_on=today, channel="reply", direction="inbound"
    )
    ws = client_workspace(coach, ann.id, today)
    assert len(ws.touches) == RECENT_TOUCHES
    assert [t.touch_id for t in ws.touches[:2]] == [same_day_second.id, same_day_first.id]
    days = [t.occurred_on for t in ws.touches]
    assert days == sorted(days, reverse=True)
    assert ws.touches[-1].summary == f"t{n - RECENT_TOUCHES + 2}"
    assert ws.contact_weeks.counts[-1] == 2 + 6  # today's two and the six days before


# --- notes ---------------------------------------------------------------------------------


def test_notes_are_listed_newest_first_without_their_words(coach, today):
    ann = client(coach, today)
    ben = client(coach, today, name="Ben")
    vault = Vault(coach)
    vault.create(passphrase="long enough passphrase", use_keyring=False, argon2=FAST_ARGON2)
    older = add_note(
        vault, ann.id, "goal", "wants to lead the Lisbon office", written_on=today - D(days=9)
    )
    newer = add_note(vault, ann.id, "regret", "left the startup too soon", written_on=today)
    add_note(vault, ben.id, "belief", "not Ann's note", written_on=today)
    ws = client_workspace(coach, ann.id, today)
    assert [n.id for n in ws.notes] == [newer, older]
    assert [(n.kind, n.written_on, n.client_id) for n in ws.notes] == [
        ("regret", today, ann.id),
        ("goal", today - D(days=9), ann.id),
    ]
    assert ws.notes[1].length == len(b"wants to lead the Lisbon office")
    shown = repr(ws.notes)
    assert "Lisbon" not in shown and "startup" not in shown
    assert not any(hasattr(n, "body") for n in ws.notes)


def test_notes_are_listed_while_the_vault_is_locked(coach, today):
    ann = client(coach, today)
    vault = Vault(coach)
    vault.create(passphrase="long enough passphrase", use_keyring=False, argon2=FAST_ARGON2)
    add_note(vault, ann.id, "goal", "a private goal", written_on=today)
    vault.lock()
    assert len(client_workspace(coach, ann.id, today).notes) == 1


# --- who and what ------------------------------------------------------------------------------


def test_a_missing_client_raises_client_missing(coach, today):
    with pytest.raises(ClientMissing):
        client_workspace(coach, 999_999, today)


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_another_coachs_client_is_missing(coach, today):
    other = Coach.create(name="Other Coach")
    theirs = client(other, today, name="Theirs")
    with pytest.raises(ClientMissing):
        client_workspace(coach, theirs.id, today)


@pytest.mark.parametrize("status", ["prospect", "paused", "completed"])
def test_cadence_is_none_for_a_client_who_is_not_active(coach, today, status):
    who = client(coach, today, status=status)
    ws = client_workspace(coach, who.id, today)
    assert ws.cadence is None
    assert ws.status == status


def test_cadence_for_an_active_client(coach, today):
    ann = client(coach, today, email="ann@example.com", phone="+44 1", snoozed_until=None)
    Touch.create(
        coach=coach,
        client=ann,
        occurred_on=today - D(days=8),
        channel="email",
        direction="outbound",
    )
    ws = client_workspace(coach, ann.id, today)
    assert (ws.cadence.client_id, ws.cadence.state, ws.cadence.days_since_touch) == (
        ann.id,
        "due",
        8,
    )
    assert (ws.name, ws.email, ws.phone, ws.started_on) == (
        "Ann",
        "ann@example.com",
        "+44 1",
        today - D(days=100),
    )
    assert (ws.ideal_gap_days, ws.max_gap_days, ws.snoozed_until) == (7, 21, None)


def test_a_snoozed_client_shows_snoozed(coach, today):
    ann = client(coach, today, snoozed_until=today + D(days=4), started_on=today - D(days=90))
    ws = client_workspace(coach, ann.id, today)
    assert ws.cadence.state == "snoozed"
    assert ws.snoozed_until == today + D(days=4)


def test_a_name_with_markup_comes_back_as_stored(coach, today):
    name = "[bold]Ann[/] \x1b[31m\u202e"
    ws = client_workspace(coach, client(coach, today, name=name).id, today)
    assert ws.name == name and ws.journey.client_name == name
