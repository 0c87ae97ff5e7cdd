"""A client is named the way a coach names them: a part of the name, any case, or an id."""

import datetime as dt

import pytest

from trustdesk.store.models import (
    Client,
    Commitment,
    Note,
    Outcome,
    Program,
    Prompt,
    Session,
    Stage,
    StageChange,
    Touch,
)
from trustdesk.store.states import ClientStatus
from trustdesk.trust.clients import (
    LAST_CONTACT_CHANNEL,
    MAX_NAME,
    NoSuchClient,
    add_client,
    delete_client,
    edit_client,
    find_client,
    has_clients,
    list_clients,
    move_client,
    removed_text,
)
from trustdesk.trust.common import ActionError, ChangedElsewhere
from trustdesk.trust.contact import cadence


def _client(coach, name, status=ClientStatus.ACTIVE):
    return Client.create(coach=coach, name=name, status=status, started_on=dt.date(2026, 1, 5))


def test_a_part_of_one_name_any_case_or_accent_finds_the_client(coach):
    elodie = _client(coach, "Élodie Kahananui")
    _client(coach, "Kwame Mensah")
    assert find_client(coach, "elodie").id == elodie.id
    assert find_client(coach, "KAHANA").id == elodie.id
    assert find_client(coach, str(elodie.id)).id == elodie.id


def test_an_ambiguous_name_lists_the_matches(coach):
    _client(coach, "Ann Lee")
    _client(coach, "Joanne Park")
    _client(coach, "Annabel Ortiz")
    with pytest.raises(NoSuchClient) as refused:
        find_client(coach, "nn")
    message = str(refused.value)
    assert "names 3 clients" in message and "Joanne Park (id" in message
    assert find_client(coach, "ann lee").name == "Ann Lee"  # a whole name wins


def test_a_listed_client_wins_over_an_archived_one_and_wildcards_are_letters(coach):
    _client(coach, "Sam Old", ClientStatus.ARCHIVED)
    sam = _client(coach, "Sam New")
    assert find_client(coach, "sam").id == sam.id
    assert find_client(coach, "sam old").status == ClientStatus.ARCHIVED
    with pytest.raises(NoSuchClient, match="no client called '%'"):
        find_client(coach, "%")
    with pytest.raises(NoSuchClient, match="no client name given"):
        find_client(coach, "  ")


def test_the_moves_of_a_clients_life():
    assert ClientStatus.PROSPECT.can_become(ClientStatus.ACTIVE)
    assert ClientStatus.ACTIVE.can_become(ClientStatus.PAUSED)
    assert ClientStatus.PAUSED.can_become(ClientStatus.ACTIVE)
    assert ClientStatus.COMPLETED.can_become(ClientStatus.ARCHIVED)
    assert not ClientStatus.ACTIVE.can_become(ClientStatus.ACTIVE)
    assert not ClientStatus.ARCHIVED.can_become(ClientStatus.PAUSED)
    assert not ClientStatus.ARCHIVED.is_listed and ClientStatus.PAUSED.is_listed


# --- a client's whole life ---------------------------------------------------------------


def _program(coach, name="Leadership", stages=("Discover", "Practise", "Close")):
    program = Program.create(coach=coach, name=name)
    ids = [
        Stage.create(coach=coach, program=program, position=i, name=s).id
        for i, s in enumerate(stages, 1)
    ]
    return program, ids


def test_add_client_keeps_every_field_and_several_emails_and_phones(coach, today):
    program, (first, second, _) = _program(coach)
    added = add_client(
        coach,
        "  Ana Ruiz  ",
        emails=["ana@work.example", "ana@home.example"],
        phones="+1 555 0100, +1 555 0101",
        program_id=program.id,
        stage_id=second,
        ideal_gap_days=5,
        max_gap_days=10,
        started_on=today - dt.timedelta(days=30),
        status="prospect",
        contact_preferences="Mornings, by text",
        today=today,
    )
    row = Client.get_by_id(added.client_id)
    assert (row.name, row.sort_name, row.email, row.more_emails) == (
        "Ana Ruiz",
        "ana ruiz",
        "ana@work.example",
        "ana@home.example",
    )
    assert (row.phone, row.more_phones) == ("+1 555 0100", "+1 555 0101")
    assert (row.program_id, row.stage_id, row.ideal_gap_days, row.max_gap_days) == (
        program.id,
        second,
        5,
        10,
    )
    assert row.status == "prospect" and row.contact_preferences == "Mornings, by text"
    assert added.emails == ("ana@work.example", "ana@home.example") and added.email == (
        "ana@work.example"
    )
    assert added.stage_name == "Practise" and added.program_name == "Leadership"
    change = StageChange.get(StageChange.client == row.id)
    assert change.stage_id == second and change.changed_on == today - dt.timedelta(days=30)


def test_a_program_alone_starts_at_its_first_stage_and_a_last_contact_is_a_counted_touch(
    coach, today
):
    program, (first, *_) = _program(coach)
    added = add_client(
        coach, "Bo", program_id=program.id, last_contact_on=today - dt.timedelta(days=3)
    )
    assert added.stage_id == first
    touch = Touch.get(Touch.client == added.client_id)
    assert touch.counts_for_cadence and touch.occurred_on == today - dt.timedelta(days=3)
    assert touch.channel == LAST_CONTACT_CHANNEL
    (row,) = cadence(coach, today, client_ids=[added.client_id])
    assert row.days_since_touch == 3


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"name": "  "}, "name is empty"),
        ({"name": "x" * (MAX_NAME + 1)}, f"longer than {MAX_NAME}"),
        ({"name": "Ann\nLee"}, "one line"),
        ({"ideal_gap_days": 0}, "from 1"),
        ({"ideal_gap_days": 9, "max_gap_days": 8}, "shorter than the ideal"),
        ({"emails": ["not an email"]}, "not an email address"),
        ({"phones": ["call me"]}, "no digits"),
        ({"status": "archived"}, "prospect or active"),
        ({"last_contact_on": dt.date(2030, 1, 1)}, "future"),
        ({"stage_id": -1}, "stage no longer exists"),
    ],
)
def test_add_client_refusals_write_nothing(coach, today, changes, match):
    values = {"name": "Cy"} | changes
    with pytest.raises(ActionError, match=match):
        add_client(coach, **values)
    assert Client.select().count() == 0 and Touch.select().count() == 0


def test_a_stage_must_belong_to_the_program(coach, today):
    lead, _ = _program(coach)
    _, (other_stage, *_) = _program(coach, "Health", ("Start",))
    with pytest.raises(ActionError, match="not a stage of 'Leadership'"):
        add_client(coach, "Di", program_id=lead.id, stage_id=other_stage)
    assert Client.select().count() == 0


def test_edit_changes_only_what_is_given_and_records_a_stage_move(coach, today):
    program, (first, second, _) = _program(coach)
    added = add_client(coach, "Eve", emails="eve@a.example", program_id=program.id, today=today)
    edited = edit_client(
        coach,
        added.client_id,
        version=added.version,
        name="Eve Stone",
        stage_id=second,
        max_gap_days=30,
        today=today,
    )
    assert edited.name == "Eve Stone" and edited.emails == ("eve@a.example",)
    assert edited.stage_id == second and edited.max_gap_days == 30 and edited.ideal_gap_days == 7
    assert edited.version == added.version + 1
    assert Client.get_by_id(added.client_id).sort_name == "eve stone"
    moves = [c.stage_id for c in StageChange.select().order_by(StageChange.id)]
    assert moves == [first, second]
    # No program: no stage either.
    assert edit_client(coach, added.client_id, program_id=None).stage_id is None


def test_an_edit_from_a_stale_copy_is_refused_and_changes_nothing(coach, today):
    added = add_client(coach, "Fay", today=today)
    edit_client(coach, added.client_id, version=added.version, phones=["555 0199"])
    with pytest.raises(ChangedElsewhere):
        edit_client(coach, added.client_id, version=added.version, name="Fay Old")
    with pytest.raises(ChangedElsewhere):
        move_client(coach, added.client_id, "paused", version=added.version)
    row = Client.get_by_id(added.client_id)
    assert (row.name, row.phone, row.status) == ("Fay", "555 0199", "active")


def test_edit_refuses_a_maximum_below_the_ideal_kept(coach, today):
    added = add_client(coach, "Gus", ideal_gap_days=10, max_gap_days=20, today=today)
    with pytest.raises(ActionError, match="shorter than the ideal"):
        edit_client(coach, added.client_id, max_gap_days=9)
    assert Client.get_by_id(added.client_id).max_gap_days == 20


def test_move_client_follows_the_moves_of_a_life(coach, today):
    added = add_client(coach, "Hal", status="prospect", today=today)
    with pytest.raises(ActionError, match="prospect and cannot become paused"):
        move_client(coach, added.client_id, "paused")
    for status in ("active", "paused", "active", "completed", "archived", "active"):
        assert move_client(coach, added.client_id, status).status == status
    with pytest.raises(ActionError, match="already active"):
        move_client(coach, added.client_id, "active")


def test_archived_clients_leave_the_list_but_not_the_database(coach, today):
    kept = add_client(coach, "Ida", today=today)
    gone = add_client(coach, "Jo", today=today)
    move_client(coach, gone.client_id, "archived")
    assert [e.name for e in list_clients(coach)] == ["Ida"]
    assert [e.name for e in list_clients(coach, [ClientStatus.ARCHIVED])] == ["Jo"]
    assert has_clients(coach) and kept.client_id


def _history(coach, client_id, today):
    prompt = Prompt.create(coach=coach, title="Wins", body="What went well?")
    Touch.create(
        coach=coach, client=client_id, occurred_on=today, channel="email", direction="outbound"
    )
    Touch.create(
        coach=coach,
        client=client_id,
        occurred_on=today,
        channel="journal_prompt",
        direction="outbound",
        prompt=prompt,
    )
    first = Commitment.create(
        coach=coach, client=client_id, owner="coach", title="Plan", promised_on=today, due_on=today
    )
    Commitment.create(
        coach=coach,
        client=client_id,
        owner="coach",
        title="Plan again",
        promised_on=today,
        due_on=today,
        renegotiated_from=first,
    )
    Session.create(
        coach=coach, client=client_id, scheduled_start=dt.datetime.combine(today, dt.time(9))
    )
    Outcome.create(coach=coach, client=client_id, achieved_on=today, title="Promoted")
    Note.create(coach=coach, client=client_id, kind="goal", written_on=today, body_sealed=b"sealed")
    return prompt


def test_delete_client_removes_every_record_of_theirs_and_nothing_else(coach, today):
    program, _ = _program(coach)
    gone = add_client(coach, "Kai Moana", program_id=program.id, today=today)
    kept = add_client(coach, "Lee", program_id=program.id, today=today)
    prompt = _history(coach, gone.client_id, today)
    _history(coach, kept.client_id, today)
    with pytest.raises(ActionError, match="does not match"):
        delete_client(coach, gone.client_id, "Kai")
    assert Client.select().count() == 2
    deleted = delete_client(coach, gone.client_id, "kai  moana", version=gone.version)
    assert deleted.name == "Kai Moana"
    assert deleted.removed == {
        "session": 1,
        "promise": 2,
        "touch": 2,
        "note": 1,
        "outcome": 1,
        "stage move": 1,
    }
    assert removed_text(deleted) == (
        "1 session, 2 promises, 2 touches, 1 note, 1 outcome, 1 stage move"
    )
    assert [c.name for c in Client.select()] == ["Lee"]
    for model in (Session, Commitment, Touch, Note, Outcome, StageChange):
        assert {r.client_id for r in model.select()} == {kept.client_id}, model
    assert Prompt.get_by_id(prompt.id)  # the prompt itself is the coach's, not the client's
    assert Program.get_by_id(program.id)


def test_delete_from_a_stale_copy_is_refused(coach, today):
    added = add_client(coach, "Max", today=today)
    edit_client(coach, added.client_id, phones="555 0123")
    with pytest.raises(ChangedElsewhere):
        delete_client(coach, added.client_id, "Max", version=added.version)
    assert Client.select().count() == 1


def test_an_archived_client_leaves_every_current_list_but_not_the_past(coach, today):
    """Two clients with the same history; the archived one is gone from every list and
    pane, and still counted in follow-through and written in an export."""
    import io
    import json

    from trustdesk.config import Settings
    from trustdesk.exporter import write_json_export
    from trustdesk.trust.dashboard import client_page, summary
    from trustdesk.trust.journey.outcomes import references
    from trustdesk.trust.journey.programs import list_programs
    from trustdesk.trust.promises import count_overdue, follow_through, overdue_promises
    from trustdesk.trust.sessions import sessions_this_week

    program, _ = _program(coach)
    ids = {}
    for name in ("Kept Client", "Gone Client"):
        cid = add_client(coach, name, program_id=program.id, today=today).client_id
        ids[name] = cid
        Client.update(reference_consent=True).where(Client.id == cid).execute()
        Commitment.create(
            coach=coach,
            client=cid,
            owner="coach",
            title="Late",
            promised_on=today - dt.timedelta(days=20),
            due_on=today - dt.timedelta(days=10),
        )
        Commitment.create(
            coach=coach,
            client=cid,
            owner="coach",
            title="Kept",
            promised_on=today - dt.timedelta(days=20),
            due_on=today - dt.timedelta(days=12),
            done_on=today - dt.timedelta(days=13),
            status="done",
        )
        Session.create(
            coach=coach, client=cid, scheduled_start=dt.datetime.combine(today, dt.time(15))
        )
    before = follow_through(coach, today, owner="coach", days=90, practice_only=True)
    move_client(coach, ids["Gone Client"], "archived")

    assert [r.name for r in client_page(coach, today).rows] == ["Kept Client"]
    assert client_page(coach, today, name_filter="gone").total == 0
    assert [p.client_name for p in overdue_promises(coach, today)] == ["Kept Client"]
    assert count_overdue(coach, today) == 1
    assert summary(coach, today, Settings()).overdue == 1
    assert [c.client_name for c in cadence(coach, today)] == ["Kept Client"]
    assert [s.client_name for s in sessions_this_week(coach, today)] == ["Kept Client"]
    assert [r.client_name for r in references(coach)] == ["Kept Client"]
    assert [p.active_clients for p in list_programs(coach)] == [1]
    # The past keeps them.
    after = follow_through(coach, today, owner="coach", days=90, practice_only=True)
    assert after.practice == before.practice and after.practice.counted == 4
    out = io.StringIO()
    write_json_export(out, coach)
    assert "Gone Client" in {c["name"] for c in json.loads(out.getvalue())["tables"]["client"]}


def test_an_edit_keeps_a_client_on_their_program_without_a_stage(coach, today):
    program, (first, *_) = _program(coach)
    added = add_client(coach, "Nia", today=today)
    Client.update(program=program.id).where(Client.id == added.client_id).execute()
    edited = edit_client(coach, added.client_id, program_id=program.id, stage_id=None, name="Nia B")
    assert (edited.program_id, edited.stage_id) == (program.id, None)
    assert StageChange.select().count() == 0
    # Onto another program: its first stage, recorded.
    other, (other_first, *_) = _program(coach, "Health", ("Start", "Keep"))
    moved = edit_client(coach, added.client_id, program_id=other.id)
    assert moved.stage_id == other_first and StageChange.select().count() == 1
