"""Importing clients from a spreadsheet: all rows or none, and problems a coach can find."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys

import peewee
import pytest
from exported_rows import read_export
from helpers import delete_every_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustdesk.config import Settings
from trustdesk.importer import (
    ImportCollided,
    ImportProblem,
    ImportRejected,
    import_clients,
    import_contacts,
)
from trustdesk.store import Client, Program, Stage, StageChange, db

SETTINGS = Settings(default_ideal_gap_days=10, default_max_gap_days=30)


def run_import(text: str | bytes, coach, today, practice_settings: Settings = SETTINGS):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_clients(data, coach=coach, today=today, settings=practice_settings)


def rejected(text: str | bytes, coach, today) -> list[str]:
    """The problems, as the coach would read them, after checking nothing was written."""
    before = Client.select().count()
    with pytest.raises(ImportRejected) as caught:
        run_import(text, coach, today)
    assert Client.select().count() == before
    return [str(problem) for problem in caught.value.problems]


def csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue()


@pytest.fixture
def journeys(coach):
    """Two programs; the first stage is deliberately not the first one created."""
    leadership = Program.create(coach=coach, name="Leadership Reset", typical_sessions=8)
    Stage.create(coach=coach, program=leadership, position=2, name="Practice")
    discover = Stage.create(coach=coach, program=leadership, position=1, name="Discover")
    Program.create(coach=coach, name="Career Pivot", typical_sessions=6)
    return leadership, discover


def test_good_file_imports_every_row_with_defaults(coach, today):
    result = run_import(
        "Name, Email ,phone\nAnn Lee,ann@example.com,+44 7700 900123\nBo Chen,,\nCy Diaz\n",
        coach,
        today,
    )
    assert (result.imported, result.updated, result.skipped, result.problems) == (3, 0, 0, ())
    assert result.kind == "trustdesk CSV" and not result.dry_run
    assert [(row.line, row.name, row.action) for row in result.rows] == [
        (2, "Ann Lee", "new"),
        (3, "Bo Chen", "new"),
        (4, "Cy Diaz", "new"),
    ]
    clients = list(Client.select().order_by(Client.id))
    assert [c.name for c in clients] == ["Ann Lee", "Bo Chen", "Cy Diaz"]
    ann = clients[0]
    assert (ann.email, ann.phone) == ("ann@example.com", "+44 7700 900123")
    for client in clients:
        assert client.coach_id == coach.id
        assert client.status == "active"
        assert client.started_on == today
        assert (client.ideal_gap_days, client.max_gap_days) == (10, 30)
        assert client.program is None and client.stage is None
    assert StageChange.select().count() == 0


def test_given_values_are_used(coach, today):
    run_import(
        "name,status,started_on,ideal_gap_days,max_gap_days\nAnn Lee, Paused ,2025-11-03,14,28\n",
        coach,
        today,
    )
    ann = Client.get()
    assert ann.status == "paused"
    assert ann.started_on == dt.date(2025, 11, 3)
    assert (ann.ideal_gap_days, ann.max_gap_days) == (14, 28)


def test_program_sets_first_stage_and_records_the_change(coach, today, journeys):
    leadership, discover = journeys
    run_import(
        "name,program,started_on\nAnn Lee,leadership reset,2026-01-05\nBo Chen,Career Pivot,\n",
        coach,
        today,
    )
    ann = Client.get(Client.name == "Ann Lee")
    assert ann.program_id == leadership.id
    assert ann.stage_id == discover.id
    change = StageChange.get(StageChange.client == ann)
    assert (change.stage_id, change.changed_on, change.coach_id) == (
        discover.id,
        dt.date(2026, 1, 5),
        coach.id,
    )
    # A program with no stages yet gives no stage and no history.
    bo = Client.get(Client.name == "Bo Chen")
    assert bo.program.name == "Career Pivot" and bo.stage is None
    assert StageChange.select().count() == 1


def test_each_bad_row_is_reported_on_its_line(coach, today, journeys):
    Client.create(coach=coach, name="Dee Ellis", started_on=today)
    text = (
        "name,started_on,ideal_gap_days,max_gap_days,program,status\n"  # 1
        "   ,,,,,\n"  # 2
        "Ann Lee,2026-13-01,,,,\n"  # 3
        'Bo Chen,,"a long note\n'  # 4
        'over two lines",,,\n'  # 5
        "Cy Diaz,,-3,,,\n"  # 6
        "Ed Fox,,,twelve,,\n"  # 7
        "Flo Gray,,14,7,,\n"  # 8
        "Gus Hale,,,,Mindful Money,\n"  # 9
        "Hal Ives,,,,,gone\n"  # 10
        " dee ELLIS ,,,,,\n"  # 11
        "Ida Jones,,,,,\n"  # 12
        "IDA JONES,,,,,\n"  # 13
        "Lee, Ann,2026-01-01,,,,\n"  # 14
        "Jo Kim,,40,,,\n"  # 15
    )
    assert rejected(text, coach, today) == [
        "line 2: name is missing",
        "line 3: started_on '2026-13-01' is not a date (use YYYY-MM-DD)",
        "line 4: ideal_gap_days 'a long note\\nover two lines' is not a whole number of days",
        "line 6: ideal_gap_days '-3' is negative",
        "line 7: max_gap_days 'twelve' is not a whole number of days",
        "line 8: max_gap_days 7 is smaller than ideal_gap_days 14",
        "line 9: program not in this practice: 'Mindful Money' (1 row: line 9); add it,"
        " or import with --with-programs",
        "line 10: status 'gone' is not one of: prospect, active, paused, completed, archived",
        "line 11: ' dee ELLIS ' is already a client (matched by name to 'Dee Ellis' (id 1))",
        "line 13: 'IDA JONES' is already on line 12",
        "line 14: 7 values but the header has 6 columns "
        "(put quotes around a value that contains a comma)",
        "line 15: max_gap_days 30 (the default) is smaller than ideal_gap_days 40",
    ]


def test_two_rows_sharing_an_email_are_named_with_both_lines(coach, today):
    text = (
        "name,email\n"
        "Zoe Quinn,zoe@example.com\n"  # 2
        "Ann Lee,ann@example.com\n"  # 3
        "Z. Quinn,ZOE@example.com ::: zq@example.com\n"  # 4
    )
    assert rejected(text, coach, today) == [
        "line 4: 'Z. Quinn' has the email 'ZOE@example.com' of 'Zoe Quinn' on line 2;"
        " keep one of the rows"
    ]


def test_an_imported_row_is_refused_twice_by_the_database_itself(coach, today):
    run_import("name\nAnn Lee\n", coach, today)
    with pytest.raises(peewee.IntegrityError), db.atomic():
        Client.create(coach=coach, name="Ann Lee", started_on=today, import_key="ann lee")
    assert Client.select().count() == 1


def test_clients_added_by_hand_may_share_an_imported_clients_name(coach, today):
    run_import("name\nAnn Lee\n", coach, today)
    Client.create(coach=coach, name="Ann Lee", started_on=today)
    Client.create(coach=coach, name="Ann Lee", started_on=today)
    assert Client.select().where(Client.name == "Ann Lee").count() == 3


def test_a_renamed_imported_client_is_not_imported_again(coach, today):
    run_import("name\nAnn Lee\nBo Chen\n", coach, today)
    Client.update(name="Ann Lee-Moreau", sort_name="ann lee-moreau").where(
        Client.name == "Ann Lee"
    ).execute()
    assert rejected("name\nann lee\nCy Diaz\n", coach, today) == [
        "line 2: 'ann lee' is already a client (imported before; now called 'Ann Lee-Moreau')"
    ]


def test_clients_added_while_the_file_is_checked_stop_the_whole_import(coach, today, monkeypatch):
    """Another import lands after this one read the clients and before it writes."""
    from trustdesk import importer

    real_taken = importer._existing
    raced = []

    def another_import_lands_meanwhile(of_coach):
        if raced:
            return real_taken(of_coach)
        raced.append(True)
        before = real_taken(of_coach)
        run_import("name\nBo Chen\nCy Diaz\n", coach, today)
        return before

    monkeypatch.setattr(importer, "_existing", another_import_lands_meanwhile)
    with pytest.raises(ImportCollided) as caught:
        run_import("name\nAnn Lee\nBo Chen\ncy diaz\n", coach, today)
    assert str(caught.value) == (
        "nothing was imported: 2 of the 3 clients of this file were added while this import"
        " ran (the first on line 3); import it again to see which"
    )
    assert sorted(c.name for c in Client.select()) == ["Bo Chen", "Cy Diaz"]


def test_every_problem_in_a_row_is_reported(coach, today):
    problems = rejected("name,started_on,status\n,01/02/2026,lost\n", coach, today)
    assert problems == [
        "line 2: name is missing",
        "line 2: started_on '01/02/2026' is not a date (use YYYY-MM-DD)",
        "line 2: status 'lost' is not one of: prospect, active, paused, completed, archived",
    ]


def test_one_bad_row_among_good_ones_writes_nothing(coach, today):
    rows = [["name", "started_on"]] + [[f"Client {i}", "2026-01-01"] for i in range(50)]
    rows[30][1] = "2026-02-30"
    assert rejected(csv_text(rows), coach, today) == [
        "line 31: started_on '2026-02-30' is not a date (use YYYY-MM-DD)"
    ]
    assert Client.select().count() == 0


def test_a_bad_row_writes_nothing_even_with_a_program(coach, today, journeys):
    rejected("name,program\nAnn Lee,Leadership Reset\n,Leadership Reset\n", coach, today)
    assert StageChange.select().count() == 0


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "line 1: the file has no client rows"),
        ("\n\n", "line 1: the file has no client rows"),
        ("name,email\n", "line 1: the file has no client rows"),
        ("name,email\n\n,\n", "line 1: the file has no client rows"),
        ("email\nann@example.com\n", "line 1: the header has no name column"),
    ],
)
def test_header_and_empty_files(coach, today, text, problem):
    assert rejected(text, coach, today) == [problem]


def test_a_problem_of_the_header_writes_nothing(coach, today):
    """What the header may hold is the reader's to say (test_contact_files); whatever it
    refuses, nothing is imported."""
    problems = rejected("name,email,\nAnn Lee,a,\n", coach, today)
    assert problems == ["line 1: column 3 has no name in the header; name it or delete it"]


def test_broken_quotes_are_reported_where_the_record_starts(coach, today):
    assert rejected('name,email\nAnn Lee,"ann@example.com\nBo Chen,b\n', coach, today) == [
        "line 2: a quote opened on this line is never closed"
    ]
    assert rejected('name,email\n"Ann" Lee,a\nBo Chen,b\n', coach, today) == [
        "line 2: a closing quote is followed by more text; inside a quoted value, write a "
        'quote twice ("")'
    ]


def test_quote_inside_an_unquoted_name_is_kept(coach, today):
    run_import('name\nAnn "Annie" Lee\n"Bo ""B"" Chen"\n', coach, today)
    assert [c.name for c in Client.select().order_by(Client.id)] == [
        'Ann "Annie" Lee',
        'Bo "B" Chen',
    ]


def test_blank_lines_do_not_shift_line_numbers(coach, today):
    text = 'name,email\r\n\r\n"Ann\r\nLee",a\r\n,,\r\nBo Chen,b\r\n\r\n\r\n,x\r\n'
    assert rejected(text, coach, today) == ["line 9: name is missing"]


def test_byte_order_mark_is_accepted(coach, today):
    run_import(b"\xef\xbb\xbfname,email\r\nAnn Lee,ann@example.com\r\n", coach, today)
    assert Client.get().name == "Ann Lee"


def test_latin1_bytes_are_rejected_by_line(coach, today):
    data = "name\nAnn Lee\nRen\xe9e Roy\nBo Chen\nZo\xeb \xc5berg\n".encode("latin-1")
    problems = rejected(data, coach, today)
    # (The reader may also name the likely encoding between the two.)
    assert [p.split(";")[0] for p in problems] == [
        "line 3: text is not UTF-8 (byte 0xe9 at column 4)",
        "line 5: text is not UTF-8 (byte 0xeb at column 3)",
    ]
    assert all(p.endswith("save the spreadsheet as CSV UTF-8") for p in problems)


def test_utf16_file_is_rejected_not_stored_with_nuls(coach, today):
    problems = rejected("name\nAnn Lee\n".encode("utf-16-le"), coach, today)
    assert problems[0].startswith("line 1: text has a NUL character at column 2")


def test_unusual_text_is_stored_exactly(coach, today):
    names = [
        "[bold]Ann[/] [link=https://example.com]Lee[/link]",
        "Bo\x1b[31mChen\x07",
        "\u202eCy Diaz\u200f",
        "Dee 🧭 Ellis",
        "  Ed Fox  ",
        "Flo\tGray\r\nsecond line",
        "G" * 120,
    ]
    emails = ["[red]ann[/]@example.com", " bo@example.com ", "", "", "", "", ""]
    phones = ["\u2066+1 555 0100\u2069", "", "", "", "", "", "="]
    run_import(
        csv_text([["name", "email", "phone"], *zip(names, emails, phones, strict=True)]),
        coach,
        today,
    )
    stored = Client.select(Client.name).order_by(Client.id).tuples()
    assert [name for (name,) in stored] == names
    assert [(c.email, c.phone) for c in Client.select().order_by(Client.id)] == list(
        zip(emails, phones, strict=True)
    )


def test_reasons_never_carry_raw_control_characters(coach, today):
    (problem,) = rejected("name,status\nAnn,\x1b[2J\u202egone\n", coach, today)
    assert "\x1b" not in problem and "\u202e" not in problem
    assert problem.startswith("line 2: status '\\x1b[2J\\u202egone' is not one of")


def test_problem_text_and_summary():
    problem = ImportProblem(4, "name is missing")
    assert str(problem) == "line 4: name is missing"
    error = ImportRejected([ImportProblem(9, "b"), problem])
    assert [p.line for p in error.problems] == [4, 9]
    assert str(error) == "nothing was imported: the file has 2 problems"


names_without_nul = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=60
).filter(lambda name: name.strip() != "")


@settings(
    max_examples=60,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    names=st.lists(
        names_without_nul, min_size=1, max_size=5, unique_by=lambda n: n.strip().casefold()
    )
)
def test_any_name_round_trips(coach, today, names):
    delete_every_row(Client)
    result = run_import(csv_text([["name"], *([name] for name in names)]), coach, today)
    assert result.imported == len(names)
    stored = [name for (name,) in Client.select(Client.name).order_by(Client.id).tuples()]
    assert stored == names


def test_ten_thousand_rows_import_in_one_go(coach, today, journeys):
    """Their speed is measured by tests/perf, not here."""
    Client.create(coach=coach, name="Already Here", started_on=today)
    rows = [["name", "email", "program", "started_on"]]
    rows += [
        [f"Client {i:05}", f"c{i}@example.com", "Leadership Reset" if i % 2 else "", "2026-01-02"]
        for i in range(10_000)
    ]
    result = run_import(csv_text(rows), coach, today)
    assert result.imported == 10_000
    assert Client.select().count() == 10_001
    assert StageChange.select().count() == 5_000
    _, discover = journeys
    assert Client.select().where(Client.stage == discover).count() == 5_000


def test_importer_does_not_load_textual():
    code = "import sys, trustdesk.importer; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# A spreadsheet runs a cell as a formula when, after any blank or invisible characters,
# it starts with = + - @ or their fullwidth and small forms.
_SPREADSHEET_BLANKS = " \t\r\n\x0b\x0c\xa0\u3000\u200b\ufeff\u2060\u202e"
_FORMULA_SIGNS = "=+-@\uff1d\uff0b\uff0d\uff20\ufe62\ufe63\ufe66\ufe6b\u2212"


def _runs_as_formula(cell: str) -> bool:
    rest = cell.lstrip(_SPREADSHEET_BLANKS)
    return rest[:1] in set(_FORMULA_SIGNS)


cell_texts = st.builds(
    lambda lead, sign, rest: lead + sign + rest,
    st.text(alphabet=st.sampled_from(list(_SPREADSHEET_BLANKS + "'")), max_size=3),
    st.sampled_from(["", *_FORMULA_SIGNS]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
)


@pytest.mark.parametrize(
    "text",
    [
        " =1+1",
        "\xa0=1+1",
        "\u3000=1+1",
        "\u200b=1+1",
        "\ufeff=1+1",
        "\n=1+1",
        "\x0b=1+1",
        "\x0c=1+1",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff20SUM(A1)",
    ],
)
def test_hidden_formula_starts_are_neutralised(text):
    from trustdesk.exporter import spreadsheet_safe

    assert spreadsheet_safe(text) == "'" + text


@settings(
    max_examples=150,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(email=cell_texts, phone=cell_texts)
def test_any_text_cell_round_trips_through_export_and_import(coach, today, email, phone):
    from trustdesk.exporter import write_clients_csv

    delete_every_row(Client)
    Client.create(coach=coach, name="Round Trip", email=email, phone=phone, started_on=today)
    out = io.StringIO(newline="")
    write_clients_csv(out, coach)
    for row in csv.reader(io.StringIO(out.getvalue(), newline="")):
        assert not any(_runs_as_formula(cell) for cell in row), row
    delete_every_row(Client)
    import_contacts(read_export(out.getvalue()), coach=coach, today=today, settings=SETTINGS)
    assert Client.select(Client.email, Client.phone).tuples().get() == (email, phone)


@settings(
    max_examples=60,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(email=cell_texts, phone=cell_texts)
def test_any_text_cell_round_trips_through_the_reader_too(coach, today, email, phone):
    from trustdesk.exporter import write_clients_csv

    delete_every_row(Client)
    Client.create(coach=coach, name="Round Trip", email=email, phone=phone, started_on=today)
    out = io.StringIO(newline="")
    write_clients_csv(out, coach)
    delete_every_row(Client)
    run_import(out.getvalue(), coach, today)
    assert Client.select(Client.email, Client.phone).tuples().get() == (email, phone)


def test_a_typed_apostrophe_before_a_formula_sign_comes_back(coach, today):
    from trustdesk.exporter import write_clients_csv

    Client.create(coach=coach, name="Quoted", email="'=1+1", phone="''x", started_on=today)
    out = io.StringIO(newline="")
    write_clients_csv(out, coach)
    delete_every_row(Client)
    import_contacts(read_export(out.getvalue()), coach=coach, today=today, settings=SETTINGS)
    assert Client.select(Client.email, Client.phone).tuples().get() == ("'=1+1", "''x")


# --- history: the last contact and the next session -----------------------------------


def test_last_contact_logs_one_counted_touch_so_no_one_starts_quiet(coach, today):
    from trustdesk.store import Touch
    from trustdesk.store.states import CadenceState
    from trustdesk.trust.contact import cadence

    run_import(
        "name,started_on,last_contact_on\nAnn Lee,2025-06-01,2026-03-12\nBo Chen,2025-06-01,\n",
        coach,
        today,
    )
    ann = Client.get(Client.name == "Ann Lee")
    (touch,) = Touch.select().where(Touch.client == ann)
    assert touch.occurred_on == dt.date(2026, 3, 12)
    assert (touch.channel, touch.direction) == ("call", "outbound")
    assert touch.counts_for_cadence is True
    assert touch.summary == "imported: last contact"
    assert (touch.coach_id, touch.version, touch.prompt_id) == (coach.id, 1, None)
    assert Touch.select().count() == 1
    states = {c.client_name: (c.state, c.days_since_touch) for c in cadence(coach, today)}
    assert states["Ann Lee"] == (CadenceState.OK, 4)
    # Without the column the client is measured from the start, as before: quiet.
    assert states["Bo Chen"][0] == CadenceState.QUIET


def test_next_session_is_scheduled_at_the_time_given(coach, today, journeys):
    from trustdesk.store import Session

    _, discover = journeys
    run_import(
        "name,program,next_session\n"
        "Ann Lee,Leadership Reset,2026-03-18 10:30\n"
        "Bo Chen,,wed 9.15\n"
        "Cy Diaz,,\n",
        coach,
        today,
    )
    sessions = {s.client.name: s for s in Session.select()}
    assert set(sessions) == {"Ann Lee", "Bo Chen"}
    ann = sessions["Ann Lee"]
    assert ann.scheduled_start == dt.datetime(2026, 3, 18, 10, 30)
    assert (ann.status, ann.duration_minutes, ann.stage_id) == ("scheduled", 60, discover.id)
    assert (ann.coach_id, ann.version, ann.actual_start, ann.late_minutes) == (
        coach.id,
        1,
        None,
        None,
    )
    assert sessions["Bo Chen"].scheduled_start == dt.datetime(2026, 3, 18, 9, 15)
    assert sessions["Bo Chen"].stage_id is None


def test_history_in_the_wrong_tense_is_refused_on_its_line(coach, today):
    from trustdesk.store import Session, Touch

    text = (
        "name,last_contact_on,next_session\n"  # 1
        "Ann Lee,2026-03-17,\n"  # 2: contact tomorrow
        "Bo Chen,,2026-03-13 10:00\n"  # 3: a session last Friday
        "Cy Diaz,,2026-03-20\n"  # 4: no time
        "Dee Ellis,,03/04 10:00\n"  # 5: ambiguous
        "Ed Fox,16 March 2026,\n"  # 6: not ISO
        "Flo Gray,2026-03-16,2026-03-17 09:00\n"  # 7: fine
    )
    problems = rejected(text, coach, today)
    assert problems[0] == (
        "line 2: last_contact_on 2026-03-17 is in the future (today is 2026-03-16)"
    )
    assert problems[1] == "line 3: next_session 2026-03-13 10:00 is in the past"
    assert problems[2].startswith("line 4: next_session '2026-03-20': ")
    assert problems[2].endswith("(use YYYY-MM-DD HH:MM)")
    assert problems[3].startswith("line 5: next_session '03/04 10:00': ")
    assert problems[4] == "line 6: last_contact_on '16 March 2026' is not a date (use YYYY-MM-DD)"
    assert len(problems) == 5
    assert Touch.select().count() == 0
    assert Session.select().count() == 0


def test_names_are_capped_at_the_client_forms_length(coach, today):
    from trustdesk.trust.clients import MAX_NAME

    assert MAX_NAME == 120
    longest = "A" * MAX_NAME
    too_long = "B" * (MAX_NAME + 1)
    problems = rejected(f"name\n{longest}\n{too_long}\n", coach, today)
    shown = repr("B" * 40 + "…")
    assert problems == [f"line 3: name {shown} is longer than 120 characters (it has 121)"]
    run_import(f"name\n{longest}\n  Cy  \n", coach, today)
    assert Client.select().count() == 2


def test_the_same_file_with_history_is_refused_the_second_time(coach, today):
    from trustdesk.store import Session, Touch

    text = "name,last_contact_on,next_session\nAnn Lee,2026-03-10,2026-03-19 14:00\n"
    run_import(text, coach, today)
    assert rejected(text, coach, today) == [
        "line 2: 'Ann Lee' is already a client (matched by name)"
    ]
    assert (Client.select().count(), Touch.select().count(), Session.select().count()) == (1, 1, 1)


def test_a_failed_session_insert_takes_back_clients_and_touches(coach, today, monkeypatch):
    from trustdesk import importer
    from trustdesk.store import Session, Touch

    real = importer._insert

    def refused(fields, rows):
        if fields[0].model is Session and rows:
            raise peewee.IntegrityError("the disk said no")
        real(fields, rows)

    monkeypatch.setattr(importer, "_insert", refused)
    text = "name,last_contact_on,next_session\nAnn Lee,2026-03-10,2026-03-19 14:00\n"
    with pytest.raises(Exception, match="nothing was imported"):
        run_import(text, coach, today)
    assert (Client.select().count(), Touch.select().count(), Session.select().count()) == (0, 0, 0)


def test_a_future_start_reads_starts_in_days_never_a_negative_gap(coach, today):
    from trustdesk.trust.contact import cadence
    from trustdesk.trust.report import build_report, report_json, report_text

    run_import("name,started_on\nAnn Lee,2026-03-21\n", coach, today)
    (ann,) = cadence(coach, today)
    assert ann.days_since_touch == -5 and ann.state == "ok"
    report = build_report(coach, today, SETTINGS)
    assert "Ann Lee" not in report_text(report)
    assert "-5" not in str(report_json(report))
