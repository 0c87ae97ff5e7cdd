"""`trustdesk import` and `export --csv` on the command line, in this process: the help,
the dry run's table, --json, clients already here, --excel and the round trip from one
practice into a new one."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json

import pytest
from exported_rows import read_export

from trustdesk import cli, contact_files

TODAY = "2026-03-16"


@pytest.fixture
def practice(isolated_home):
    """A new SQLite practice with its coach (no notes key: importing needs none)."""
    return _new_practice(isolated_home / "practice.sqlite3")


def _new_practice(path):
    from trustdesk.store import ensure_coach, open_database

    database = open_database(path, create=True)
    ensure_coach("Morgan Reyes")
    database.close()
    return path


@contextlib.contextmanager
def opened(path):
    from trustdesk.store import current_coach, open_database

    database = open_database(path)
    try:
        yield current_coach()
    finally:
        database.close()


def trustdesk(capsys, path, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["--db", str(path), "--today", TODAY, *args])
    out, err = capsys.readouterr()
    return code, out, err


def clients(path) -> list[tuple]:
    from trustdesk.store import Client

    with opened(path):
        query = Client.select(Client.name, Client.email, Client.more_emails, Client.status)
        return list(query.order_by(Client.name).tuples())


def write(tmp_path, text: str, name: str = "contacts.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "name,email,status\nAnn Lee,ann@example.com,prospect\nBo \x1b[31mChen,,\n"


def test_help_lists_formats_and_every_column(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["import", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "Formats, told from the file's content" in out
    for column in contact_files.COLUMNS:
        assert f"\n  {column} " in out
    for option in ("--dry-run", "--skip-existing", "--update", "--with-programs", "--map"):
        assert option in out
    assert contact_files.FORMATS_HELP.rstrip() in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_a_dry_run_shows_the_table_and_writes_nothing(capsys, practice, tmp_path):
    code, out, err = trustdesk(capsys, practice, "import", str(write(tmp_path, GOOD)), "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["line", "name", "email", "phone", "program", "/", "stage",
                                "status", "action"]  # fmt: skip
    assert lines[1].split() == ["2", "Ann", "Lee", "ann@example.com", "prospect", "new"]
    assert lines[2].split() == ["3", "Bo", "\\x1b[31mChen", "active", "new"]
    # Aligned: every column starts where its heading does.
    assert lines[1].index("ann@example.com") == lines[0].index("email")
    assert err == (
        "Would import 2 clients from " + str(tmp_path / "contacts.csv") + " (trustdesk CSV);"
        " nothing was written\n"
    )
    assert clients(practice) == []


def test_a_dry_run_with_problems_lists_them_and_fails(capsys, practice, tmp_path):
    source = write(tmp_path, "name,started_on\nAnn Lee,2026-01-01\n,2026-01-01\nBo Chen,someday\n")
    code, out, err = trustdesk(capsys, practice, "import", str(source), "--dry-run")
    assert code == 1
    assert "Ann Lee" in out and "Bo Chen" not in out
    assert err.splitlines() == [
        "trustdesk: line 3: name is missing",
        "trustdesk: line 4: started_on 'someday' is not a date (use YYYY-MM-DD)",
        "trustdesk: the import would be refused (2 problems to fix first); nothing was written",
    ]
    assert clients(practice) == []


def test_json_result(capsys, practice, tmp_path):
    code, out, err = trustdesk(capsys, practice, "import", str(write(tmp_path, GOOD)), "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == ["format", "imported", "updated", "skipped", "ignored_columns",
                          "programs_added", "dry_run", "clients", "problems"]  # fmt: skip
    assert data["format"] == "trustdesk CSV"
    assert (data["imported"], data["updated"], data["skipped"]) == (2, 0, 0)
    assert data["dry_run"] is False and data["problems"] == []
    assert [(c["line"], c["name"], c["action"]) for c in data["clients"]] == [
        (2, "Ann Lee", "new"),
        (3, "Bo \x1b[31mChen", "new"),
    ]
    assert "\x1b" not in out  # escaped by JSON
    assert len(clients(practice)) == 2

    code, out, err = trustdesk(capsys, practice, "import", str(write(tmp_path, GOOD)), "--json")
    assert code == 1
    data = json.loads(out)
    assert data["imported"] == 0 and len(data["problems"]) == 2
    assert data["problems"][0] == {
        "line": 2,
        "reason": "'Ann Lee' is already a client (matched by email 'ann@example.com')",
    }
    assert err.splitlines() == [
        "trustdesk: nothing was imported (2 problems to fix first); 2 rows are clients"
        " already: --skip-existing leaves them as they are, --update brings the file's"
        " values to them"
    ]


def test_importing_again_refuses_skips_or_updates(capsys, practice, tmp_path):
    source = write(tmp_path, GOOD)
    assert trustdesk(capsys, practice, "import", str(source))[0] == 0
    again = write(
        tmp_path,
        "name,email,status\nANN LEE,ann.lee@work.example,active\nCy Diaz,,\n",
        "again.csv",
    )
    code, _, err = trustdesk(capsys, practice, "import", str(again))
    assert code == 1
    assert err.splitlines()[0] == (
        "trustdesk: line 2: 'ANN LEE' is already a client (matched by name to 'Ann Lee' (id 1))"
    )
    assert len(clients(practice)) == 2

    assert err.splitlines()[-1] == (
        "trustdesk: nothing was imported (1 problem to fix first); 1 row is a client already:"
        " --skip-existing leaves it as it is, --update brings the file's values to it"
    )

    code, _, err = trustdesk(capsys, practice, "import", str(again), "--skip-existing")
    assert code == 0, err
    assert err.startswith(f"Imported 1 client from {again} (trustdesk CSV); updated 0, skipped 1")
    code, _, err = trustdesk(capsys, practice, "import", str(again), "--update")
    assert code == 0, err
    assert "Imported 0 clients" in err and "updated 1, skipped 1" in err
    assert clients(practice)[0] == ("Ann Lee", "ann@example.com", "ann.lee@work.example", "active")

    code, _, err = trustdesk(capsys, practice, "import", str(again), "--update", "--skip-existing")
    assert code == 2 and "not allowed with argument" in err and len(err.splitlines()) == 1


def test_standard_input(capsys, practice, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(GOOD.encode())))
    code, _, err = trustdesk(capsys, practice, "import", "-")
    assert code == 0, err
    assert err.startswith("Imported 2 clients from standard input")


def test_a_missing_file_writes_nothing(capsys, practice, tmp_path):
    code, _, err = trustdesk(capsys, practice, "import", str(tmp_path / "nope.csv"))
    assert code == 2 and err.startswith("trustdesk: cannot read") and len(err.splitlines()) == 1


def test_excel_gets_a_byte_order_mark_and_goes_with_csv_only(capsys, practice, tmp_path):
    assert trustdesk(capsys, practice, "import", str(write(tmp_path, GOOD)))[0] == 0
    out = tmp_path / "for-excel.csv"
    code, _, err = trustdesk(capsys, practice, "export", "--csv", "--excel", "-o", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfname,email,phone,program,stage,status,")
    assert data.count(b"\r\n") == 3
    plain = tmp_path / "plain.csv"
    assert trustdesk(capsys, practice, "export", "--csv", "-o", str(plain))[0] == 0
    assert plain.read_bytes().startswith(b"name,")

    refused = tmp_path / "refused.json"
    code, _, err = trustdesk(capsys, practice, "export", "--excel", "-o", str(refused))
    assert code == 2
    assert err == "trustdesk: --excel goes with --csv (a spreadsheet for Excel)\n"
    assert not refused.exists()


def test_the_table_on_a_terminal_fits_it(monkeypatch):
    from trustdesk.cli.importing import _rich_table
    from trustdesk.importer import PlannedRow

    monkeypatch.setenv("COLUMNS", "80")
    rows = [
        PlannedRow(2, "Ann \x1b[2J" + "Lee " * 20, "new", "ann@example.com", "+1 555 0100",
                   "Leadership Engagement", "Contracting", "active"),
        PlannedRow(3, "Bo Chen", "skip", "bo@example.com", matched_by="email"),
    ]  # fmt: skip
    shown = _rich_table(rows)
    assert "\x1b" not in shown and "Ann \\x1b[" in shown
    assert max(len(line) for line in shown.splitlines()) <= 80
    assert "skip (email)" in shown


# --- the round trip ------------------------------------------------------------------


def _a_practice_with_journeys(path):
    """Programs and stages (one from the starter template), several emails, preferences."""
    from trustdesk.store import Client, Program, Stage
    from trustdesk.trust.journey.templates import import_template, program_templates

    with opened(path) as coach:
        starter = next(t for t in program_templates() if t.name == "Leadership Engagement")
        engagement = import_template(coach, starter)
        third = Stage.get((Stage.program == engagement) & (Stage.position == 3))
        money = Program.create(coach=coach, name="Mindful Money", typical_sessions=4)
        budget = Stage.create(coach=coach, program=money, position=1, name="Budget")
        saving = Stage.create(coach=coach, program=money, position=2, name="Saving")
        Client.create(coach=coach, name="Kwame Mensah", email="kwame@example.com",
                      more_emails="kwame.t@gmail.example\nk@work.example", phone="+44 7700 900123",
                      more_phones="+44 20 7946 0000", program=engagement, stage=third,
                      started_on=dt.date(2025, 9, 1), contact_preferences="mornings, by phone",
                      ideal_gap_days=14, max_gap_days=28)  # fmt: skip
        Client.create(coach=coach, name="Élodie Durand", email="=élodie@example.com",
                      program=money, stage=saving, status="paused",
                      started_on=dt.date(2025, 10, 2))  # fmt: skip
        Client.create(coach=coach, name="Sam Lee", program=money, stage=budget,
                      started_on=dt.date(2026, 1, 5), status="prospect")  # fmt: skip
        Client.create(coach=coach, name="Ann Lee", started_on=dt.date(2026, 2, 1))


def _what_matters(path):
    from trustdesk.store import Client, Program, Stage

    with opened(path):
        programs = {
            p.name: [s.name for s in Stage.select().where(Stage.program == p)
                     .order_by(Stage.position)]
            for p in Program.select()
        }  # fmt: skip
        people = {
            c.name: (
                c.email, c.more_emails, c.phone, c.more_phones,
                c.program.name if c.program else None, c.stage.name if c.stage else None,
                c.status, c.started_on, c.ideal_gap_days, c.max_gap_days, c.contact_preferences,
            )
            for c in Client.select()
        }  # fmt: skip
    return programs, people


def test_an_export_imports_into_a_new_practice_with_programs_and_stages(
    capsys, practice, tmp_path, isolated_home, today
):
    """The importer's half of the round trip: the export as the reader hands it over."""
    from trustdesk.exporter import write_clients_csv
    from trustdesk.importer import ImportRejected, import_contacts

    _a_practice_with_journeys(practice)
    with opened(practice) as coach:
        out = io.StringIO(newline="")
        write_clients_csv(out, coach, excel=True)
    exported = read_export(out.getvalue())
    fresh = _new_practice(isolated_home / "fresh.sqlite3")
    with opened(fresh) as coach:
        from trustdesk.config import Settings

        with pytest.raises(ImportRejected) as caught:
            import_contacts(exported, coach=coach, today=today, settings=Settings())
        assert [str(p) for p in caught.value.problems] == [
            "line 3: programs not in this practice: 'Leadership Engagement' (1 row: line 3),"
            " 'Mindful Money' (2 rows: lines 4, 5); add them, or import with"
            " --with-programs"
        ]
        result = import_contacts(
            exported, coach=coach, today=today, settings=Settings(), with_programs=True
        )
        assert result.imported == 4
    assert _what_matters(fresh) == _what_matters(practice)


def test_export_csv_then_import_into_a_new_practice(capsys, practice, tmp_path, isolated_home):
    _a_practice_with_journeys(practice)
    exported = tmp_path / "clients.csv"
    assert trustdesk(capsys, practice, "export", "--csv", "--excel", "-o", str(exported))[0] == 0
    fresh = _new_practice(isolated_home / "fresh.sqlite3")
    code, _, err = trustdesk(capsys, fresh, "import", str(exported))
    assert code == 1 and "programs not in this practice" in err
    assert clients(fresh) == []
    code, _, err = trustdesk(capsys, fresh, "import", str(exported), "--with-programs")
    assert code == 0, err
    assert "Imported 4 clients" in err and "added programs" in err
    assert _what_matters(fresh) == _what_matters(practice)
    # And again: every client is matched, nothing changes.
    code, _, err = trustdesk(capsys, fresh, "import", str(exported), "--update")
    assert code == 0, err
    assert "updated 0, skipped 4" in err
    assert _what_matters(fresh) == _what_matters(practice)
