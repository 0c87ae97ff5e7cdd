"""Importing into a practice that already has clients: a row is matched to a client by
any email, then by name (accents and case aside); the whole file is refused with each
match named, or matched clients are skipped or updated, never written over from a stale
copy. Also where a row puts a client on a journey: its program and stage, and programs
the practice lacks."""

from __future__ import annotations

import datetime as dt

import pytest

from trustdesk.config import Settings
from trustdesk.contact_files import ContactFile, ContactRow
from trustdesk.importer import (
    SKIP,
    UPDATE,
    ImportCollided,
    ImportRejected,
    import_clients,
    import_contacts,
)
from trustdesk.store import Client, Program, Stage, StageChange
from trustdesk.store.models import Touch

SETTINGS = Settings(default_ideal_gap_days=10, default_max_gap_days=30)


def contacts(*rows: tuple) -> ContactFile:
    """A read file: each row (cells, emails, phones), from line 2 on."""
    return ContactFile(
        "Google Contacts CSV",
        tuple(
            ContactRow(line, cells, tuple(emails), tuple(phones))
            for line, (cells, emails, phones) in enumerate(rows, start=2)
        ),
        ignored=("Nickname", "Birthday"),
    )


def bring(file: ContactFile, coach, today, **options):
    return import_contacts(file, coach=coach, today=today, settings=SETTINGS, **options)


def refused(file: ContactFile, coach, today, **options) -> list[str]:
    before = _everything()
    with pytest.raises(ImportRejected) as caught:
        bring(file, coach, today, **options)
    assert _everything() == before
    return [str(problem) for problem in caught.value.problems]


def _everything():
    clients = Client.select().order_by(Client.id).dicts()
    return (
        [dict(c) for c in clients],
        Program.select().count(),
        Stage.select().count(),
        StageChange.select().count(),
        Touch.select().count(),
    )


@pytest.fixture
def kwame(coach, today):
    return Client.create(
        coach=coach,
        name="Kwame Mensah",
        email="kwame@example.com",
        more_emails="kwame.m@work.example",
        phone="+44 7700 900123",
        started_on=dt.date(2025, 9, 1),
        contact_preferences="mornings",
    )


@pytest.fixture
def elodie(coach):
    return Client.create(coach=coach, name="Élodie Durand", started_on=dt.date(2025, 10, 1))


@pytest.fixture
def journey(coach):
    program = Program.create(coach=coach, name="Leadership 90", typical_sessions=6)
    stages = [
        Stage.create(coach=coach, program=program, position=n, name=name)
        for n, name in enumerate(("Discover", "Practice", "Integrate"), start=1)
    ]
    return program, stages


# --- matching ------------------------------------------------------------------------


def test_each_row_that_is_a_client_is_named_and_nothing_is_written(coach, today, kwame, elodie):
    Client.update(status="archived").where(Client.id == elodie.id).execute()
    file = contacts(
        ({"name": "Ann Lee"}, ["ann@example.com"], []),
        ({"name": "K. Mensah"}, ["someone@else.example", "KWAME.M@work.example "], []),
        ({"name": "elodie  DURAND"}, [], []),
    )
    assert refused(file, coach, today) == [
        "line 3: 'K. Mensah' is already a client (matched by email 'KWAME.M@work.example' to"
        f" 'Kwame Mensah' (id {kwame.id}))",
        "line 4: 'elodie  DURAND' is already a client (matched by name to 'Élodie Durand'"
        f" (id {elodie.id}); archived)",
    ]
    with pytest.raises(ImportRejected) as caught:
        bring(file, coach, today)
    assert caught.value.already_clients == 2


def test_email_is_matched_before_name(coach, today, kwame, elodie):
    file = contacts(({"name": "Élodie Durand"}, ["kwame@example.com"], []))
    result = bring(file, coach, today, existing=SKIP)
    (row,) = result.rows
    assert (row.action, row.matched_by, row.client_name) == ("skip", "email", "Kwame Mensah")


def test_skip_existing_leaves_them_and_imports_the_rest(coach, today, kwame, elodie):
    file = contacts(
        ({"name": "Ann Lee", "status": "prospect"}, ["ann@example.com"], []),
        ({"name": "Kwame Mensah", "status": "gone"}, ["kwame@example.com"], []),
        ({"name": "Elodie Durand"}, [], []),
    )
    before = {c.id: c.version for c in Client.select()}
    result = bring(file, coach, today, existing=SKIP)
    assert (result.imported, result.updated, result.skipped) == (1, 0, 2)
    assert [(r.line, r.action) for r in result.rows] == [(2, "new"), (3, "skip"), (4, "skip")]
    assert result.kind == "Google Contacts CSV" and result.ignored == ("Nickname", "Birthday")
    # A skipped row's values are not even checked: nothing of it is used.
    assert {c.id: c.version for c in Client.select() if c.id in before} == before
    assert Client.get(Client.name == "Ann Lee").status == "prospect"


def test_update_brings_the_files_values_and_merges_emails_and_phones(coach, today, kwame):
    file = contacts(
        (
            {
                "name": "Kwame T. Mensah",
                "status": "paused",
                "ideal_gap_days": "14",
                "contact_preferences": "evenings, by text",
                "started_on": "",
            },
            ["kwame@example.com", "kwame.t@gmail.example", "KWAME@example.com"],
            ["+447700900123", "+44 20 7946 0000"],
        ),
    )
    result = bring(file, coach, today, existing=UPDATE)
    assert (result.imported, result.updated, result.skipped) == (0, 1, 0)
    client = Client.get_by_id(kwame.id)
    # The name stays as trustdesk has it; a blank cell leaves the value.
    assert client.name == "Kwame Mensah"
    assert client.started_on == dt.date(2025, 9, 1)
    assert client.status == "paused"
    assert (client.ideal_gap_days, client.max_gap_days) == (14, 21)
    assert client.contact_preferences == "evenings, by text"
    assert client.email == "kwame@example.com"
    assert client.more_emails == "kwame.m@work.example\nkwame.t@gmail.example"
    assert client.phone == "+44 7700 900123"
    assert client.more_phones == "+44 20 7946 0000"
    assert client.version == kwame.version + 1
    assert Client.select().count() == 1


def test_updating_with_the_same_values_changes_nothing(coach, today, kwame):
    file = contacts(
        ({"name": "Kwame Mensah", "contact_preferences": "mornings"}, ["kwame@example.com"], []),
    )
    result = bring(file, coach, today, existing=UPDATE)
    assert (result.updated, result.skipped) == (0, 1)
    assert Client.get_by_id(kwame.id).version == kwame.version


def test_a_status_move_the_client_cannot_make_is_a_problem(coach, today, kwame):
    Client.update(status="prospect").where(Client.id == kwame.id).execute()
    file = contacts(({"name": "Kwame Mensah", "status": "paused"}, [], []))
    assert refused(file, coach, today, existing=UPDATE) == [
        "line 2: status paused: 'Kwame Mensah' is prospect and cannot become paused"
    ]


def test_a_name_that_two_clients_share_cannot_be_updated(coach, today):
    for _ in range(2):
        Client.create(coach=coach, name="Sam Lee", started_on=today)
    file = contacts(({"name": "sam lee", "status": "paused"}, [], []))
    (problem,) = refused(file, coach, today, existing=UPDATE)
    assert problem.startswith("line 2: 'sam lee' could be any of the clients (matched by name to")
    assert "give the row an email of one of them" in problem
    assert bring(file, coach, today, existing=SKIP).skipped == 1


def test_an_update_moves_the_client_to_the_stage_named(coach, today, kwame, journey):
    program, (discover, practice, _) = journey
    Client.update(program=program, stage=discover).where(Client.id == kwame.id).execute()
    bring(contacts(({"name": "Kwame Mensah", "stage": "practice"}, [], [])), coach, today,
          existing=UPDATE)  # fmt: skip
    client = Client.get_by_id(kwame.id)
    assert (client.program_id, client.stage_id) == (program.id, practice.id)
    (move,) = StageChange.select().where(StageChange.client == kwame.id)
    assert (move.stage_id, move.changed_on) == (practice.id, today)
    # Naming the program the client is on, without a stage, leaves them where they are.
    again = bring(
        contacts(({"name": "Kwame Mensah", "program": "leadership 90"}, [], [])),
        coach,
        today,
        existing=UPDATE,
    )
    assert again.skipped == 1 and Client.get_by_id(kwame.id).stage_id == practice.id


def test_a_form_open_on_an_updated_client_refuses_its_stale_save(coach, today, kwame):
    from trustdesk.trust.clients import client_details, edit_client
    from trustdesk.trust.common import ChangedElsewhere

    opened = client_details(coach, kwame.id)
    bring(contacts(({"name": "Kwame Mensah", "status": "paused"}, [], [])), coach, today,
          existing=UPDATE)  # fmt: skip
    with pytest.raises(ChangedElsewhere):
        edit_client(coach, kwame.id, version=opened.version, contact_preferences="afternoons")
    assert Client.get_by_id(kwame.id).contact_preferences == "mornings"


def test_a_client_changed_while_the_import_runs_is_not_written_over(
    coach, today, kwame, monkeypatch
):
    """Another terminal saves the client after the import read it and before it writes."""
    from trustdesk import importer
    from trustdesk.trust.clients import edit_client

    real_plan = importer._plan
    plans = []

    def saved_elsewhere_meanwhile(*args):
        plans.append(real_plan(*args))
        edit_client(coach, kwame.id, contact_preferences="saved in another terminal")
        return plans[-1]

    monkeypatch.setattr(importer, "_plan", saved_elsewhere_meanwhile)
    file = contacts(
        ({"name": "Ann Lee"}, [], []),
        ({"name": "Kwame Mensah", "contact_preferences": "from the file"}, ["k2@example.com"], []),
    )
    with pytest.raises(ImportCollided) as caught:
        bring(file, coach, today, existing=UPDATE)
    assert str(caught.value) == (
        "nothing was imported: the client 'Kwame Mensah' (line 3) was changed elsewhere"
        " while this import ran; import it again"
    )
    assert len(plans) == 1  # refused, not tried again over what was saved
    client = Client.get_by_id(kwame.id)
    assert client.contact_preferences == "saved in another terminal"
    assert client.more_emails == "kwame.m@work.example"
    assert Client.select().count() == 1


def test_skip_existing_looks_again_when_another_import_lands_first(coach, today, monkeypatch):
    """Two `import --skip-existing` of one file at once: the second skips what the first
    brought in, rather than failing."""
    from trustdesk import importer

    real_existing = importer._existing
    raced = []

    def another_import_lands_meanwhile(of_coach):
        if raced:
            return real_existing(of_coach)
        raced.append(True)
        before = real_existing(of_coach)
        import_clients(b"name\nBo Chen\n", coach=coach, today=today, settings=SETTINGS)
        return before

    monkeypatch.setattr(importer, "_existing", another_import_lands_meanwhile)
    file = contacts(({"name": "Ann Lee"}, [], []), ({"name": "Bo Chen"}, [], []))
    result = bring(file, coach, today, existing=SKIP)
    assert (result.imported, result.skipped) == (1, 1)
    assert sorted(c.name for c in Client.select()) == ["Ann Lee", "Bo Chen"]


def test_a_dry_run_writes_nothing_and_says_what_would_happen(coach, today, kwame):
    file = contacts(
        ({"name": "Ann Lee"}, [], []),
        ({"name": "Kwame Mensah", "status": "paused"}, [], []),
        ({"name": "Bo Chen", "started_on": "soon"}, [], []),
    )
    before = _everything()
    result = bring(file, coach, today, existing=UPDATE, dry_run=True)
    assert _everything() == before
    assert result.dry_run and (result.imported, result.updated) == (1, 1)
    assert [(r.line, r.action) for r in result.rows] == [(2, "new"), (3, "update")]
    assert [str(p) for p in result.problems] == [
        "line 4: started_on 'soon' is not a date (use YYYY-MM-DD)"
    ]


def test_several_emails_and_phones_of_a_new_client_are_all_kept(coach, today):
    file = contacts(
        (
            {"name": "Ann Lee", "contact_preferences": "Tuesdays"},
            ["ann@example.com", "ann.lee@work.example", "ANN@example.com"],
            ["+1 555 0100", "+1 555 0199"],
        ),
    )
    bring(file, coach, today)
    ann = Client.get()
    assert (ann.email, ann.more_emails) == ("ann@example.com", "ann.lee@work.example")
    assert (ann.phone, ann.more_phones) == ("+1 555 0100", "+1 555 0199")
    assert ann.contact_preferences == "Tuesdays"
    from trustdesk.trust.clients import client_details

    assert client_details(coach, ann.id).emails == ("ann@example.com", "ann.lee@work.example")


# --- programs and stages -----------------------------------------------------------


def test_a_row_starts_in_the_stage_it_names(coach, today, journey):
    program, (_, practice, _) = journey
    file = contacts(
        ({"name": "Ann Lee", "program": "Leadership 90", "stage": "PRACTICE",
          "started_on": "2026-01-05"}, [], []),
    )  # fmt: skip
    bring(file, coach, today)
    ann = Client.get()
    assert (ann.program_id, ann.stage_id) == (program.id, practice.id)
    (move,) = StageChange.select()
    assert (move.stage_id, move.changed_on) == (practice.id, dt.date(2026, 1, 5))


def test_a_stage_not_in_the_program_or_without_one_is_a_problem(coach, today, journey):
    file = contacts(
        ({"name": "Ann Lee", "program": "Leadership 90", "stage": "Landing"}, [], []),
        ({"name": "Bo Chen", "stage": "Discover"}, [], []),
    )
    assert refused(file, coach, today) == [
        "line 2: stage 'Landing' is not a stage of 'Leadership 90'"
        " (its stages: 'Discover', 'Practice', 'Integrate')",
        "line 3: stage 'Discover' is given without a program",
    ]


def test_missing_programs_are_named_once(coach, today):
    file = contacts(
        ({"name": "Ann Lee", "program": "Leadership 90"}, [], []),
        ({"name": "Bo Chen", "program": "Mindful Money"}, [], []),
        ({"name": "Cy Diaz", "program": "leadership 90"}, [], []),
    )
    assert refused(file, coach, today) == [
        "line 2: programs not in this practice: 'Leadership 90' (2 rows: lines 2, 4),"
        " 'Mindful Money' (1 row: line 3); add them, or import with --with-programs"
    ]


def test_with_programs_adds_each_with_the_stages_the_file_names(coach, today):
    file = contacts(
        ({"name": "Ann Lee", "program": "Leadership 90", "stage": "Practice"}, [], []),
        ({"name": "Bo Chen", "program": "Leadership 90", "stage": "Discover"}, [], []),
        ({"name": "Cy Diaz", "program": "leadership 90", "stage": "practice"}, [], []),
        ({"name": "Dee Ellis", "program": "Leadership 90"}, [], []),
    )
    dry = bring(file, coach, today, with_programs=True, dry_run=True)
    assert dry.programs_added == ("Leadership 90",) and Program.select().count() == 0
    result = bring(file, coach, today, with_programs=True)
    assert result.programs_added == ("Leadership 90",)
    (program,) = Program.select()
    stages = [
        s.name for s in Stage.select().where(Stage.program == program).order_by(Stage.position)
    ]
    assert stages == ["Practice", "Discover"]
    where = {c.name: c.stage.name for c in Client.select()}
    assert where == {"Ann Lee": "Practice", "Bo Chen": "Discover", "Cy Diaz": "Practice",
                     "Dee Ellis": "Practice"}  # fmt: skip
    assert StageChange.select().count() == 4


def test_with_programs_takes_the_starter_template_of_that_name(coach, today):
    from trustdesk.trust.journey.templates import program_templates

    starter = next(t for t in program_templates() if t.name == "Leadership Engagement")
    second = starter.stages[1].name
    file = contacts(
        ({"name": "Ann Lee", "program": "leadership engagement", "stage": second}, [], []),
        ({"name": "Bo Chen", "program": "Leadership Engagement"}, [], []),
    )
    bring(file, coach, today, with_programs=True)
    (program,) = Program.select()
    assert program.name == "Leadership Engagement"
    assert Stage.select().where(Stage.program == program).count() == len(starter.stages)
    where = {c.name: c.stage.name for c in Client.select()}
    assert where == {"Ann Lee": second, "Bo Chen": starter.stages[0].name}
    bad = contacts(
        ({"name": "Cy Diaz", "program": "Leadership Engagement", "stage": "Nope"}, [], [])
    )
    assert refused(bad, coach, today)[0].startswith(
        "line 2: stage 'Nope' is not a stage of 'Leadership Engagement'"
    )


def test_an_update_can_put_a_client_on_a_program_the_import_adds(coach, today, kwame):
    file = contacts(
        ({"name": "Kwame Mensah", "program": "Mindful Money", "stage": "Saving"}, [], [])
    )
    assert refused(file, coach, today, existing=UPDATE)[0].startswith(
        "line 2: program not in this practice: 'Mindful Money' (1 row: line 2)"
    )
    result = bring(file, coach, today, existing=UPDATE, with_programs=True)
    assert (result.updated, result.programs_added) == (1, ("Mindful Money",))
    client = Client.get_by_id(kwame.id)
    assert (client.program.name, client.stage.name) == ("Mindful Money", "Saving")
    (move,) = StageChange.select().where(StageChange.client == kwame.id)
    assert (move.stage_id, move.changed_on) == (client.stage_id, today)


def test_two_rows_that_are_one_client_cannot_both_update_it(coach, today, kwame):
    file = contacts(
        ({"name": "Kwame Mensah", "status": "paused"}, ["kwame@example.com"], []),
        ({"name": "K. Mensah", "status": "completed"}, ["kwame.m@work.example"], []),
    )
    assert refused(file, coach, today, existing=UPDATE) == [
        "line 3: 'K. Mensah' is the client 'Kwame Mensah' of line 2 too (matched by email"
        f" 'kwame.m@work.example' to 'Kwame Mensah' (id {kwame.id})); keep one of the rows"
    ]
    assert bring(file, coach, today, existing=SKIP).skipped == 2
