"""Programs, stages, a client's place on the journey, outcomes and references, on a fixed clock."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import QueryCounter

from trustdesk.store.models import (
    Client,
    Coach,
    Outcome,
    Program,
    Session,
    Stage,
    StageChange,
)
from trustdesk.trust import journey as j
from trustdesk.trust.common import ActionError

D = dt.timedelta


# --- a tiny builder ------------------------------------------------------------------------


def client(coach, today, name="Ann", **kw):
    kw.setdefault("started_on", today - D(days=100))
    return Client.create(coach=coach, name=name, **kw)


def at(day, hour=10):
    return dt.datetime.combine(day, dt.time(hour))


def held(coach, who, day, stage, status="held", late=0):
    return Session.create(
        coach=coach,
        client=who,
        scheduled_start=at(day),
        actual_start=at(day) + D(minutes=late) if status == "held" else None,
        status=status,
        stage=stage,
    )


def positions(program_id):
    return [
        (s.name, s.position)
        for s in Stage.select().where(Stage.program == program_id).order_by(Stage.position)
    ]


@pytest.fixture
def program(coach):
    """'Leadership' with stages A, B, C at positions 1, 2, 3."""
    pid = j.create_program(coach, "Leadership", "Lead well", 6)
    for name, n in (("A", 1), ("B", 2), ("C", 3)):
        j.add_stage(coach, pid, name, f"purpose {name}", n, f"ask {name}")
    return pid


def stage_id(program_id, name):
    return Stage.get((Stage.program == program_id) & (Stage.name == name)).id


@pytest.fixture
def other_coach(database):
    return Coach.create(name="Someone Else")


# --- programs ------------------------------------------------------------------------------


def test_create_and_list_programs(coach, today, program):
    other = j.create_program(coach, "  Career change  ", "", 0)
    client(coach, today, program=program, status="active")
    client(coach, today, name="Ben", program=program, status="completed")
    listed = j.list_programs(coach)
    assert [(p.name, p.stage_count, p.active_clients, p.typical_sessions) for p in listed] == [
        ("Career change", 0, 0, 0),
        ("Leadership", 3, 1, 6),
    ]
    assert listed[0].program_id == other and listed[1].summary == "Lead well"


def test_program_detail_lists_stages_in_order_with_clients_at_each(coach, today, program):
    client(coach, today, program=program, stage=stage_id(program, "B"))
    detail = j.program_detail(coach, program)
    assert (detail.name, detail.summary, detail.typical_sessions, detail.active_clients) == (
        "Leadership",
        "Lead well",
        6,
        1,
    )
    assert [(s.position, s.name, s.typical_sessions, s.clients_here) for s in detail.stages] == [
        (1, "A", 1, 0),
        (2, "B", 2, 1),
        (3, "C", 3, 0),
    ]
    assert (detail.stages[0].purpose, detail.stages[0].asks_of_client) == ("purpose A", "ask A")


def test_edit_program(coach, program):
    j.edit_program(coach, program, name="Leading", summary="New summary", typical_sessions=8)
    p = Program.get_by_id(program)
    assert (p.name, p.summary, p.typical_sessions) == ("Leading", "New summary", 8)
    # Its own name, in other letters, is not a clash.
    j.edit_program(coach, program, name="LEADING", summary="", typical_sessions=8)


@pytest.mark.parametrize(
    ("name", "typical", "message"),
    [
        ("   ", 4, "the program's name is empty"),
        ("leadership", 4, "there is already a program called 'Leadership'"),
        ("New", -1, "from 0 to 500"),
        ("New", 501, "from 0 to 500"),
    ],
)
def test_program_refusals(coach, program, name, typical, message):
    before = Program.select().count()
    with pytest.raises(j.JourneyError, match=message):
        j.create_program(coach, name, "", typical)
    assert Program.select().count() == before


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_programs_of_another_coach_are_out_of_reach(coach, other_coach, program):
    with pytest.raises(ActionError, match="that program no longer exists"):
        j.program_detail(other_coach, program)
    with pytest.raises(ActionError, match="that program no longer exists"):
        j.add_stage(other_coach, program, "D")
    with pytest.raises(ActionError, match="that stage no longer exists"):
        j.remove_stage(other_coach, stage_id(program, "A"))
    assert j.list_programs(other_coach) == []


# --- stages --------------------------------------------------------------------------------


def test_add_stage_at_the_end_or_at_a_position(coach, program):
    j.add_stage(coach, program, "D")
    j.add_stage(coach, program, "First", position=1)
    j.add_stage(coach, program, "Middle", position=3)
    assert positions(program) == [
        ("First", 1),
        ("A", 2),
        ("Middle", 3),
        ("B", 4),
        ("C", 5),
        ("D", 6),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "the stage's name is empty"),
        ({"name": "a"}, "already has a stage called 'A'"),
        ({"name": "D", "typical_sessions": 0}, "from 1 to 100"),
        ({"name": "D", "position": 5}, "a position from 1 to 4"),
        ({"name": "D", "position": 0}, "a position from 1 to 4"),
        ({"name": "D", "purpose": "x" * 2001}, "longer than 2000"),
    ],
)
def test_stage_refusals(coach, program, kwargs, message):
    with pytest.raises(j.JourneyError, match=message):
        j.add_stage(coach, program, **kwargs)
    assert positions(program) == [("A", 1), ("B", 2), ("C", 3)]


def test_edit_stage(coach, program):
    b = stage_id(program, "B")
    j.edit_stage(coach, b, name="Bee", purpose="p", typical_sessions=4, asks_of_client="q")
    s = Stage.get_by_id(b)
    assert (s.name, s.purpose, s.typical_sessions, s.asks_of_client, s.position) == (
        "Bee",
        "p",
        4,
        "q",
        2,
    )
    with pytest.raises(j.JourneyError, match="already has a stage called 'A'"):
        j.edit_stage(coach, b, name="A", purpose="", typical_sessions=1, asks_of_client="")


def test_moving_stages_keeps_positions_unique_and_contiguous(coach, program):
    c = stage_id(program, "C")
    assert j.move_stage(coach, c, up=True) == 2
    assert positions(program) == [("A", 1), ("C", 2), ("B", 3)]
    assert j.move_stage(coach, c, up=True) == 1
    assert positions(program) == [("C", 1), ("A", 2), ("B", 3)]
    with pytest.raises(j.JourneyError, match="already the first"):
        j.move_stage(coach, c, up=True)
    j.move_stage(coach, c, up=False)
    j.move_stage(coach, c, up=False)
    assert positions(program) == [("A", 1), ("B", 2), ("C", 3)]
    with pytest.raises(j.JourneyError, match="already the last"):
        j.move_stage(coach, c, up=False)
    assert positions(program) == [("A", 1), ("B", 2), ("C", 3)]


def test_every_reordering_keeps_positions_one_to_n(coach, program):
    """Add, move and remove in a fixed pattern; after each step, positions are exactly 1..n."""
    ids = [stage_id(program, n) for n in "ABC"]
    for i in range(8):
        ids.append(j.add_stage(coach, program, f"S{i}", position=1 + (i * 2) % (len(ids) + 1)))
        for k in range(3):
            try:
                j.move_stage(coach, ids[(i * 5 + k) % len(ids)], up=(i + k) % 2 == 0)
            except j.JourneyError:
                pass  # already first or last
        if i % 3 == 2:
            j.remove_stage(coach, ids.pop(i % len(ids)))
        assert [p for _, p in positions(program)] == list(range(1, len(ids) + 1))
    assert len(ids) == 3 + 8 - 2


def test_removing_a_stage_closes_the_gap(coach, program):
    j.remove_stage(coach, stage_id(program, "A"))
    assert positions(program) == [("B", 1), ("C", 2)]
    j.add_stage(coach, program, "D", position=2)
    assert positions(program) == [("B", 1), ("D", 2), ("C", 3)]


def test_a_stage_with_clients_or_history_is_not_removed(coach, today, program):
    a, b, c = (stage_id(program, n) for n in "ABC")
    ann = client(coach, today, program=program, stage=b)
    with pytest.raises(j.JourneyError, match="1 client is at this stage; move them"):
        j.remove_stage(coach, b)
    StageChange.create(coach=coach, client=ann, stage=a, changed_on=today)
    with pytest.raises(j.JourneyError, match=r"this stage has history \(1 stage move\)"):
        j.remove_stage(coach, a)
    held(coach, ann, today, c, status="scheduled")
    with pytest.raises(j.JourneyError, match=r"history \(1 session\)"):
        j.remove_stage(coach, c)
    assert positions(program) == [("A", 1), ("B", 2), ("C", 3)]


# --- moving a client --------------------------------------------------------------------


def test_moving_a_client_records_the_day_and_sets_the_stage(coach, today, program):
    a, b = stage_id(program, "A"), stage_id(program, "B")
    ann = client(coach, today)
    later = held(coach, ann, today + D(days=3), None, status="scheduled")
    earlier = held(coach, ann, today - D(days=30), None)
    j.move_client_to_stage(coach, ann.id, a, today - D(days=10), today=today)
    j.move_client_to_stage(coach, ann.id, b, today, today=today)
    ann = Client.get_by_id(ann.id)
    assert (ann.program_id, ann.stage_id) == (program, b)
    moves = [
        (m.stage_id, m.changed_on)
        for m in StageChange.select().where(StageChange.client == ann).order_by(StageChange.id)
    ]
    assert moves == [(a, today - D(days=10)), (b, today)]
    # Sessions from the day of the move count towards the new stage; earlier ones stay.
    assert Session.get_by_id(later.id).stage_id == b
    assert Session.get_by_id(earlier.id).stage_id is None


def test_a_stage_of_another_program_moves_the_client_onto_it(coach, today, program):
    other = j.create_program(coach, "Career", "", 4)
    first = j.add_stage(coach, other, "Explore")
    ann = client(coach, today, program=program, stage=stage_id(program, "A"))
    j.move_client_to_stage(coach, ann.id, first, today, today=today)
    ann = Client.get_by_id(ann.id)
    assert (ann.program_id, ann.stage_id) == (other, first)


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_stage_move_refusals(coach, other_coach, today, program):
    a, b = stage_id(program, "A"), stage_id(program, "B")
    ann = client(coach, today, program=program, stage=a)
    StageChange.create(coach=coach, client=ann, stage=a, changed_on=today - D(days=5))
    with pytest.raises(j.JourneyError, match="cannot be dated in the future"):
        j.move_client_to_stage(coach, ann.id, b, today + D(days=1), today=today)
    with pytest.raises(j.JourneyError, match="already at that stage"):
        j.move_client_to_stage(coach, ann.id, a, today, today=today)
    with pytest.raises(j.JourneyError, match="last stage move was on 2026-03-11"):
        j.move_client_to_stage(coach, ann.id, b, today - D(days=6), today=today)
    theirs = Program.create(coach=other_coach, name="Theirs")
    their_stage = Stage.create(coach=other_coach, program=theirs, position=1, name="X")
    with pytest.raises(j.JourneyError, match="that stage no longer exists"):
        j.move_client_to_stage(coach, ann.id, their_stage.id, today, today=today)
    with pytest.raises(j.JourneyError, match="that client no longer exists"):
        j.move_client_to_stage(other_coach, ann.id, b, today, today=today)
    assert Client.get_by_id(ann.id).stage_id == a
    assert StageChange.select().count() == 1


def test_the_future_is_judged_by_the_fixed_clock(coach, today, program):
    ann = client(coach, today)
    with pytest.raises(j.JourneyError, match="future"):
        j.move_client_to_stage(coach, ann.id, stage_id(program, "A"), today + D(days=1))


# --- progress ------------------------------------------------------------------------------


def test_stage_progress_states_dates_and_sessions_per_stage(coach, today, program):
    a, b, c = (stage_id(program, n) for n in "ABC")
    ann = client(coach, today, program=program, stage=b)
    StageChange.create(coach=coach, client=ann, stage=a, changed_on=today - D(days=40))
    StageChange.create(coach=coach, client=ann, stage=b, changed_on=today - D(days=14))
    held(coach, ann, today - D(days=35), a)
    held(coach, ann, today - D(days=7), b)
    held(coach, ann, today - D(days=21), b, late=3)  # held before: out of order on purpose
    held(coach, ann, today - D(days=1), b, status="no_show")
    held(coach, ann, today + D(days=7), b, status="scheduled")
    held(coach, ann, today - D(days=50), None)  # before any stage
    held(coach, client(coach, today, name="Ben"), today, b)  # someone else's
    progress = j.stage_progress(coach, ann.id)
    assert [(p.name, p.state, p.reached_on, p.sessions_held) for p in progress] == [
        ("A", "done", today - D(days=40), 1),
        ("B", "current", today - D(days=14), 2),
        ("C", "next", None, 0),
    ]
    assert progress[1].held_on == (today - D(days=21), today - D(days=7))
    assert [p.sessions_words for p in progress] == [
        "1 of 1 session",
        "2 of 2 sessions",
        "0 of 3 sessions",
    ]
    assert (progress[2].purpose, progress[2].asks_of_client, progress[2].position) == (
        "purpose C",
        "ask C",
        3,
    )


def test_progress_without_a_stage_or_program(coach, today, program):
    ben = client(coach, today, name="Ben", program=program)
    assert [p.state for p in j.stage_progress(coach, ben.id)] == ["next", "next", "next"]
    assert j.stage_progress(coach, client(coach, today, name="Cy").id) == ()


def test_stage_progress_runs_a_fixed_number_of_queries(coach, today, program, database):
    b = stage_id(program, "B")
    small = client(coach, today, program=program, stage=b)
    big = client(coach, today, name="Big", program=program, stage=b)
    held(coach, small, today - D(days=1), b)
    for i in range(40):
        held(coach, big, today - D(days=100 - i), stage_id(program, "ABC"[i % 3]))
        StageChange.create(coach=coach, client=big, stage=b, changed_on=today - D(days=100 - i))
    counts = []
    for who in (small, big):
        with QueryCounter(database) as counter:
            j.stage_progress(coach, who.id)
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 4


# --- outcomes and references --------------------------------------------------------------


def test_outcomes_added_edited_and_removed(coach, today):
    ann = client(coach, today)
    first = j.add_outcome(coach, ann.id, today - D(days=9), "Promoted", "To team lead")
    second = j.add_outcome(coach, ann.id, today, "Ran the offsite", "", today=today)
    journey = j.client_journey(coach, ann.id)
    assert [o.title for o in journey.outcomes] == ["Ran the offsite", "Promoted"]
    j.edit_outcome(
        coach, first, achieved_on=today - D(days=2), title="Promoted!", detail="", today=today
    )
    o = Outcome.get_by_id(first)
    assert (o.achieved_on, o.title, o.detail) == (today - D(days=2), "Promoted!", "")
    j.remove_outcome(coach, second)
    assert [o.outcome_id for o in j.client_journey(coach, ann.id).outcomes] == [first]


@pytest.mark.sqlite_only  # a second coach; on PostgreSQL see test_practice_pg.py
def test_outcome_refusals(coach, other_coach, today):
    ann = client(coach, today)
    with pytest.raises(j.JourneyError, match="the outcome is empty"):
        j.add_outcome(coach, ann.id, today, "  ", "")
    with pytest.raises(j.JourneyError, match="cannot be dated in the future"):
        j.add_outcome(coach, ann.id, today + D(days=1), "Later", "", today=today)
    oid = j.add_outcome(coach, ann.id, today, "Done", "")
    with pytest.raises(j.JourneyError, match="that outcome no longer exists"):
        j.remove_outcome(other_coach, oid)
    with pytest.raises(j.JourneyError, match="that client no longer exists"):
        j.set_reference_consent(other_coach, ann.id, True)
    assert Outcome.select().count() == 1


def test_references_list_only_consenting_clients_newest_outcome_first(coach, today):
    ann = client(coach, today, name="Ann", reference_consent=True)
    ben = client(coach, today, name="Ben")
    cy = client(coach, today, name="Cy")
    dee = client(coach, today, name="Dee")
    j.add_outcome(coach, ann.id, today - D(days=30), "Ann old", "")
    j.add_outcome(coach, ann.id, today - D(days=3), "Ann new", "detail")
    j.add_outcome(coach, ben.id, today, "Ben secret", "")
    j.add_outcome(coach, cy.id, today - D(days=1), "Cy", "")
    j.set_reference_consent(coach, cy.id, True)
    j.set_reference_consent(coach, dee.id, True)  # no outcome yet: listed last
    refs = j.references(coach)
    assert [(r.client_name, [o.title for o in r.outcomes]) for r in refs] == [
        ("Cy", ["Cy"]),
        ("Ann", ["Ann new", "Ann old"]),
        ("Dee", []),
    ]
    assert refs[1].outcomes[0].detail == "detail" and refs[1].latest == today - D(days=3)
    j.set_reference_consent(coach, cy.id, False)
    assert [r.client_name for r in j.references(coach)] == ["Ann", "Dee"]
    assert Client.get_by_id(cy.id).reference_consent is False


def test_references_run_one_query(coach, today, database, program):
    for i in range(30):
        who = client(coach, today, name=f"C{i}", reference_consent=i % 2 == 0, program=program)
        for k in range(i % 4):
            j.add_outcome(coach, who.id, today - D(days=k + i), f"O{i}.{k}", "")
    with QueryCounter(database) as counter:
        refs = j.references(coach)
    assert counter.count == 1
    assert len(refs) == 15 and all(r.program_name == "Leadership" for r in refs)
