"""A practice shared on PostgreSQL: each coach's rows are fenced off by the database itself."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from conftest import FAST_ARGON2
from helpers import PASSPHRASE, one_line_error, pg_url

from trustdesk.store import Client, Note, StoreError, current_coach, open_database
from trustdesk.store.models import ALL_MODELS, Session, Touch, practice_uid
from trustdesk.store.practice import ADMIN_ROLE, add_coach, setup_practice
from trustdesk.trust import contact, promises, sessions
from trustdesk.trust.notes import add_note, read_note
from trustdesk.vault import Vault

DAY = dt.date(2026, 3, 16)
TABLES = sorted(m._meta.table_name for m in ALL_MODELS)


def fill(url: str, who: str) -> dict:
    """Open the practice as one coach and give them a client, a touch, a promise and a note."""
    database = open_database(url)
    try:
        coach = current_coach()
        client = Client.create(coach=coach, name=f"{who}'s client", started_on=DAY)
        contact.log_touch(coach, client.id, channel="call", direction="outbound",
                          summary=f"{who} called", occurred_on=DAY, today=DAY)  # fmt: skip
        promises.add_commitment(coach, client.id, owner="coach", title=f"{who} promised",
                               due_on=DAY, promised_on=DAY)  # fmt: skip
        vault = Vault(coach)
        vault.create(passphrase=PASSPHRASE, use_keyring=False, argon2=FAST_ARGON2)
        note = add_note(vault, client.id, "session", f"What {who}'s client confided.")
        return {"coach": coach.id, "client": client.id, "note": note, "key": vault.key_id}
    finally:
        database.close()


def test_setup_leaves_every_table_owned_by_the_admin_role_and_fenced(pg_practice):
    with psycopg.connect(pg_practice.admin) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), c.relrowsecurity,"
            " c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY(%s)",
            (TABLES,),
        ).fetchall()
    assert sorted(r[0] for r in rows) == TABLES
    for table, owner, enabled, forced in rows:
        assert (owner, enabled, forced) == (ADMIN_ROLE, True, True), table


def test_setup_can_be_run_again(pg_practice):
    database = open_database(pg_practice.admin)  # the admin sees the schema is current
    try:
        assert setup_practice(database) == []
    finally:
        database.close()


def test_as_one_coach_even_raw_sql_cannot_reach_the_others_rows(pg_practice):
    ann = fill(pg_practice.ann, "Ann")
    ben = fill(pg_practice.ben, "Ben")
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        for table in ("client", "touch", "commitment", "note", "key_slot", "coach"):
            column = "id" if table == "coach" else "coach_id"
            seen = {r[0] for r in conn.execute(f"SELECT {column} FROM {table}")}
            assert seen == {ann["coach"]}, table
            assert conn.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = %s", (ben["coach"],)
            ).fetchone() == (0,)
        # Changing or removing Ben's rows touches nothing.
        assert conn.execute("UPDATE client SET name = 'taken' WHERE id = %s",
                            (ben["client"],)).rowcount == 0  # fmt: skip
        # Deleting is refused outright; trustdesk's own way takes nothing of Ben's.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM note WHERE coach_id = %s", (ben["coach"],))
        assert conn.execute("SELECT public.trustdesk_delete_note(%s)",
                            (ben["note"],)).fetchone() == (0,)  # fmt: skip
        # Handing her own rows to Ben is refused too: the policy checks the row after it.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE touch SET coach_id = %s", (ben["coach"],))
        # Writing a row in Ben's name is refused by the policy's check.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO client (coach_id, name, sort_name, email, phone, status, started_on,"
                " ideal_gap_days, max_gap_days, reference_consent, created_at) VALUES"
                " (%s, 'x', 'x', '', '', 'active', '2026-03-16', 7, 21, false, now())",
                (ben["coach"],),
            )
        # Nor can a coach add a coach, or take over another coach's row.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO coach (name, email, created_at, db_role)"
                         " VALUES ('x', '', now(), %s)", (pg_practice.ann_role,))  # fmt: skip
    with psycopg.connect(pg_practice.ben) as conn:
        assert conn.execute("SELECT name FROM client").fetchall() == [("Ben's client",)]
        assert conn.execute("SELECT coach_id FROM touch").fetchall() == [(ben["coach"],)]
        assert conn.execute("SELECT count(*) FROM note").fetchone() == (1,)


def test_a_coach_cannot_switch_the_fence_off(pg_practice):
    fill(pg_practice.ben, "Ben")
    attempts = [
        "ALTER TABLE client DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE note NO FORCE ROW LEVEL SECURITY",
        "DROP POLICY own_rows ON note",
        "CREATE POLICY everything ON note FOR ALL USING (true)",
        f"SET ROLE {ADMIN_ROLE}",
        "ALTER TABLE touch OWNER TO CURRENT_USER",
        "CREATE OR REPLACE FUNCTION trustdesk_coach_id() RETURNS integer LANGUAGE sql"
        " AS $$ SELECT 2 $$",
    ]
    for statement in attempts:
        with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        conn.execute("SET row_security = off")  # allowed, but then a fenced table refuses
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT * FROM note")


def test_a_temporary_table_cannot_stand_in_for_the_coaches(pg_practice):
    """The policies name public.coach: a coach's own `coach` cannot redirect them."""
    fill(pg_practice.ann, "Ann")
    ben = fill(pg_practice.ben, "Ben")
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TEMP TABLE coach (id integer, db_role name)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE public.coach_shadow (id integer)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE coach SET id = %s", (ben["coach"],))
        assert conn.execute("UPDATE coach SET name = 'Ann L.'").rowcount == 1
        assert conn.execute("SELECT count(*) FROM client WHERE coach_id = %s",
                            (ben["coach"],)).fetchone() == (0,)  # fmt: skip


def test_a_role_the_fences_do_not_apply_to_cannot_be_a_coach(pg_practice, pg_server_url):
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError, match="postgres is a superuser"):
            add_coach(database, "Root", "postgres")
        with pytest.raises(StoreError, match="one of trustdesk's own roles"):
            add_coach(database, "Admin", ADMIN_ROLE)
    finally:
        database.close()


def test_each_coach_has_their_own_notes_key(pg_practice):
    ann = fill(pg_practice.ann, "Ann")
    ben = fill(pg_practice.ben, "Ben")
    assert ann["key"] != ben["key"]
    database = open_database(pg_practice.ann)
    try:
        vault = Vault(current_coach())
        assert vault.unlock_with_passphrase(PASSPHRASE).unlocked
        assert read_note(vault, ann["note"]).body == "What Ann's client confided."
        assert not Note.select().where(Note.id == ben["note"]).exists()
    finally:
        database.close()


def test_a_role_that_is_not_a_coach_is_told_so(pg_practice, pg_server_url):
    stranger = f"{pg_practice.ann_role}_x"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{stranger}" LOGIN IN ROLE trustdesk_coach')
    try:
        database = open_database(pg_url(pg_practice.admin, user=stranger))
        try:
            with pytest.raises(StoreError, match="not a coach of this practice"):
                current_coach()
        finally:
            database.close()
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP ROLE "{stranger}"')


def test_adding_a_coach_twice_or_with_a_bad_role_is_refused(pg_practice):
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError, match="already a coach"):
            add_coach(database, "Ann Again", pg_practice.ann_role)
        with pytest.raises(StoreError, match="cannot be a database role"):
            add_coach(database, "Robert", 'bobby"; DROP TABLE note; --')
    finally:
        database.close()


def test_the_command_line_sets_up_adds_and_reports(pg_practice, run, passphrase_file):
    result = run("--db", pg_practice.admin, "practice", "setup")
    assert result.returncode == 0, result.stderr.decode()
    assert b"already up to date" in result.stderr
    role = f"{pg_practice.ann_role}_c"
    result = run("--db", pg_practice.admin, "practice", "add-coach", "Cleo Coach", "--role", role)
    assert result.returncode == 0, result.stderr.decode()
    assert b"trustdesk --db postgresql://" in result.stderr and b"user=" not in result.stderr
    cleo = pg_url(pg_practice.admin, user=role)
    try:
        result = run("--db", cleo, "init", "--passphrase-file", str(passphrase_file))
        assert result.returncode == 0, result.stderr.decode()
        result = run("--db", cleo, "report", "--json")
        assert result.returncode == 0, result.stderr.decode()
        assert b"Cleo Coach" in result.stdout
        line = one_line_error(run("--db", pg_practice.ann, "practice", "setup"))
        assert "cannot set up the practice" in line
    finally:
        with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
            conn.execute("DELETE FROM coach WHERE db_role = %s", (role,))
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def test_a_practice_not_set_up_is_named_and_untouched(pg_server_url, run):
    url = pg_url(pg_server_url, dbname="postgres")
    line = one_line_error(run("--db", url, "report"))
    assert "holds no trustdesk practice yet" in line and "practice setup" in line


def test_a_wrong_password_is_never_echoed(pg_server_url, run):
    from urllib.parse import urlsplit

    parts = urlsplit(pg_url(pg_server_url, dbname="postgres"))
    url = f"{parts.scheme}://nobody:s3cret-pw@{parts.netloc.rpartition('@')[2]}{parts.path}"
    url += f"?{parts.query}" if parts.query else ""
    result = run("--db", url, "report")
    assert result.returncode != 0
    assert b"s3cret-pw" not in result.stderr + result.stdout
    assert b"***" in result.stderr


async def test_the_dashboard_as_one_coach_shows_only_their_practice(pg_practice):
    from helpers import settle

    from trustdesk.store.models import Touch
    from trustdesk.trust import contact as acts
    from trustdesk.tui.app import TrustdeskApp
    from trustdesk.tui.screens.client import ClientScreen
    from trustdesk.tui.screens.dashboard import DashboardScreen
    from trustdesk.tui.widgets.virtual_table import VirtualTable

    ann = fill(pg_practice.ann, "Ann")
    fill(pg_practice.ben, "Ben")
    database = open_database(pg_practice.ann)
    try:
        app = TrustdeskApp(database, current_coach())
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, DashboardScreen)
            clients = app.screen.query_one("#clients", VirtualTable)
            assert clients.total == 1 and clients.row_at(0).name == "Ann's client"
            overdue = app.screen.query_one("#overdue", VirtualTable)
            assert overdue.total == 1 and overdue.row_at(0).title == "Ann promised"
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ClientScreen)
            assert app.screen.workspace.client_id == ann["client"]
            # A touch logged in her session is stored in her name; only hers are visible.
            coach = current_coach()
            acts.log_touch(coach, ann["client"], channel="email", direction="inbound",
                           summary="Thanks!", occurred_on=DAY, today=DAY)  # fmt: skip
            assert {t.coach_id for t in Touch.select()} == {ann["coach"]}
    finally:
        database.close()


def _refusal(conn, statement: str, params: tuple) -> tuple[str, str]:
    """What the server answers a refused statement: its error code and its words."""
    with pytest.raises(psycopg.Error) as refused:
        conn.execute(statement, params)
    return refused.value.sqlstate, str(refused.value)


def test_pointing_at_another_coachs_row_fails_as_if_it_did_not_exist(pg_practice):
    """Foreign-key checks look past row-level security; checked on (id, coach) they tell
    a coach nothing about whether another coach's client exists."""
    ann = fill(pg_practice.ann, "Ann")
    ben = fill(pg_practice.ben, "Ben")
    missing = ben["client"] + 1000
    touch = ("INSERT INTO touch (coach_id, client_id, occurred_on, channel, direction,"
             " counts_for_cadence, summary) VALUES (%s, %s, '2026-03-16', 'call', 'outbound',"
             " true, '')")  # fmt: skip
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        bens = _refusal(conn, touch, (ann["coach"], ben["client"]))
        nobodys = _refusal(conn, touch, (ann["coach"], missing))
        assert bens[0] == nobodys[0] == "23503"  # foreign_key_violation
        assert bens[1].replace(str(ben["client"]), "N") == nobodys[1].replace(str(missing), "N")
        # Moving one of her own rows across fails the same way, and so does a stage move.
        moved = _refusal(conn, "UPDATE touch SET client_id = %s", (ben["client"],))
        assert moved[0] == "23503"
        # Nor can she write an id of her choosing and learn from a duplicate.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO program (id, coach_id, name, summary, typical_sessions)"
                " VALUES (%s, %s, 'mine', '', 0)",
                (ben["client"], ann["coach"]),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE client SET id = %s", (missing,))
        # Her own references still work both ways.
        assert conn.execute("UPDATE touch SET client_id = %s", (ann["client"],)).rowcount == 1


def test_removing_a_stage_clears_it_from_clients_and_sessions_but_keeps_them(pg_practice):
    fill(pg_practice.ann, "Ann")
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        (program,) = conn.execute(
            "INSERT INTO program (coach_id, name, summary, typical_sessions)"
            " SELECT coach_id, 'Path', '', 0 FROM client RETURNING id"
        ).fetchone()
        (stage,) = conn.execute(
            "INSERT INTO stage (coach_id, program_id, position, name, purpose,"
            " typical_sessions, asks_of_client) SELECT coach_id, %s, 1, 'Start', '', 1, ''"
            " FROM client RETURNING id",
            (program,),
        ).fetchone()
        conn.execute("UPDATE client SET program_id = %s, stage_id = %s", (program, stage))
        assert conn.execute("SELECT public.trustdesk_delete_stage(%s)", (stage,)).fetchone() == (1,)
        row = conn.execute("SELECT coach_id IS NOT NULL, program_id, stage_id FROM client")
        assert row.fetchall() == [(True, program, None)]


def test_setup_names_rows_that_already_cross_between_coaches(pg_practice):
    """A practice set up before the references were fenced is checked before fencing."""
    ann = fill(pg_practice.ann, "Ann")
    ben = fill(pg_practice.ben, "Ben")
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute(f"SET ROLE {ADMIN_ROLE}")
        conn.execute("ALTER TABLE touch DROP CONSTRAINT touch_client_id_same_coach")
        conn.execute("UPDATE touch SET client_id = %s WHERE coach_id = %s",
                     (ben["client"], ann["coach"]))  # fmt: skip
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError) as refused:
            setup_practice(database)
        assert str(refused.value) == (
            "1 rows of touch point at another coach's client; "
            "correct them before setting up the practice"
        )
    finally:
        database.close()


def test_a_server_too_old_for_the_fences_is_named(pg_practice, monkeypatch):
    from trustdesk.store import practice

    monkeypatch.setattr(practice, "OLDEST_SERVER", 10**8)
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError) as refused:
            setup_practice(database)
        assert str(refused.value).startswith("a practice needs PostgreSQL 15 or newer; ")
        with psycopg.connect(pg_practice.admin) as conn:
            (shown,) = conn.execute("SHOW server_version").fetchone()
        assert str(refused.value).endswith(f" runs {shown}")
    finally:
        database.close()


# --- a coach's own file, brought in --------------------------------------------------------


def _file_rows(path) -> dict[str, int]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def _note_bodies(path_or_url, passphrase: str) -> dict[str, list[str]]:
    """Note ids, and the notes' words (sorted), opened in the practice `path_or_url` names."""
    database = open_database(path_or_url)
    try:
        vault = Vault(current_coach())
        assert vault.unlock_with_passphrase(passphrase).unlocked
        ids = [n.id for n in Note.select(Note.id)]
        return {
            "ids": sorted(map(str, ids)),
            "words": sorted(read_note(vault, i).body for i in ids),
        }
    finally:
        database.close()


def demo_key(slots):
    from trustdesk.demo import DEMO_PASSPHRASE
    from trustdesk.vault.vault import BroughtKey

    return BroughtKey(slots, passphrase=DEMO_PASSPHRASE)


def test_a_coachs_own_file_joins_their_share_whole(pg_practice, isolated_home, today):
    from trustdesk.config import Settings
    from trustdesk.demo import DEMO_PASSPHRASE, build_demo
    from trustdesk.store.models import Commitment
    from trustdesk.store.practice import join_practice
    from trustdesk.trust.dashboard import summary
    from trustdesk.trust.prompts import ensure_library

    path = isolated_home / "mine.sqlite3"
    build_demo(path, today=today)
    before = _file_rows(path)
    database = open_database(path)
    try:
        mine = summary(current_coach(), today, Settings())
    finally:
        database.close()
    fill(pg_practice.ben, "Ben")  # another coach, whose rows stay as they are

    database = open_database(pg_practice.ann)
    try:
        # Opening the prompts screen first copied the library in: the file's copies of the
        # same prompts are matched to them, not doubled.
        assert ensure_library(current_coach()) > 0
        joined = join_practice(database, path, demo_key)
        coach = current_coach()
        assert (joined.clients, joined.notes) == (before["client"], before["note"])
        for model in ALL_MODELS:
            if model._meta.table_name != "coach":
                held = model.select().where(model.coach == coach).count()
                assert held == before[model._meta.table_name], model
        assert summary(coach, today, Settings()) == mine  # the same practice, counted the same way
        # Every reference points within the share, renegotiated promises at their first.
        for promise in Commitment.select().where(Commitment.renegotiated_from.is_null(False)):
            first = Commitment.get_by_id(promise.renegotiated_from_id)
            assert (first.client_id, first.status) == (promise.client_id, "renegotiated")
    finally:
        database.close()
    # The same words, each note under an id the practice gave it, not the file's.
    here, there = (
        _note_bodies(pg_practice.ann, DEMO_PASSPHRASE),
        _note_bodies(path, DEMO_PASSPHRASE),
    )
    assert here["words"] == there["words"]
    assert not set(here["ids"]) & set(there["ids"])
    assert _file_rows(path) == before  # the file itself is left as it was
    with psycopg.connect(pg_practice.ben) as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone() == (1,)


def test_joining_is_refused_into_a_used_share_and_leaves_nothing_half_done(
    pg_practice, isolated_home, today, monkeypatch
):
    import peewee

    from trustdesk.demo import build_demo
    from trustdesk.store import practice

    path = isolated_home / "mine.sqlite3"
    build_demo(path, today=today)
    clients = _file_rows(path)["client"]
    database = open_database(pg_practice.ann)
    try:
        # A failure late on (the notes come last but one) takes everything back.
        monkeypatch.setattr(practice, "JOIN_BATCH", 7)
        real = Note.insert_many

        def server_gone(*args, **kwargs):
            raise peewee.OperationalError("the server went away")

        monkeypatch.setattr(Note, "insert_many", server_gone)
        with pytest.raises(peewee.OperationalError):
            practice.join_practice(database, path, demo_key)
        monkeypatch.setattr(Note, "insert_many", real)
        coach = current_coach()
        for model in ALL_MODELS:
            if model._meta.table_name != "coach":
                assert model.select().where(model.coach == coach).count() == 0, model
        practice.join_practice(database, path, demo_key)  # in batches of 7, all mapped
        with pytest.raises(StoreError) as refused:
            practice.join_practice(database, path, demo_key)
        assert str(refused.value).startswith(
            f"your share of this practice already holds {clients} clients, 3 programs, "
            "2 notes keys; "
        )
    finally:
        database.close()


def test_join_names_what_it_cannot_take(pg_practice, isolated_home, run, today):
    import sqlite3

    from trustdesk.demo import DemoSize, build_demo

    path = isolated_home / "two.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=3))
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO coach (name, email, created_at) VALUES ('Other', '', '2026-01-01')")
    conn.commit()
    conn.close()
    line = one_line_error(run("--db", pg_practice.ann, "practice", "join", str(path)))
    assert line == f"trustdesk: {path} holds 2 coaches; join brings in one"
    line = one_line_error(run("--db", pg_practice.ann, "practice", "join", "absent.sqlite3"))
    assert "no trustdesk database at absent.sqlite3; nothing was brought in" in line
    (isolated_home / "not.sqlite3").write_text("hello")
    line = one_line_error(run("--db", pg_practice.ann, "practice", "join", "not.sqlite3"))
    assert "nothing was brought in" in line
    line = one_line_error(run("--db", str(path), "practice", "join", str(path)))
    assert "practice commands are for a shared PostgreSQL practice" in line


def test_join_from_the_command_line(pg_practice, isolated_home, run, today, demo_passphrase_file):
    from trustdesk.demo import DemoSize, build_demo

    path = isolated_home / "small.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=6))
    line = one_line_error(run("--db", pg_practice.ann, "practice", "join", str(path)))
    assert line == "trustdesk: no terminal to ask for your passphrase; use --passphrase-file PATH"
    wrong = isolated_home / "wrong"
    wrong.write_text("not the demo passphrase\n")
    wrong.chmod(0o600)
    line = one_line_error(
        run("--db", pg_practice.ann, "practice", "join", str(path), "--passphrase-file", str(wrong))
    )
    assert (
        line
        == f"trustdesk: that passphrase does not open the notes in {path}; nothing was brought in"
    )
    result = run(
        "--db", pg_practice.ann, "practice", "join", str(path),
        "--passphrase-file", str(demo_passphrase_file),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    said = result.stderr.decode()
    assert said.startswith("Brought 6 clients and ")
    assert f"{path} is unchanged: keep it as a backup, or remove it.\n" in said
    assert "Recovery code: " in result.stdout.decode()
    result = run("--db", pg_practice.ann, "report", "--json")
    assert result.returncode == 0, result.stderr.decode()


def test_ids_in_a_joined_file_are_never_the_practices_ids(
    pg_practice, isolated_home, run, today, demo_passphrase_file
):
    """The demo's notes and key slots have the same ids in every build, as a file a coach
    made to probe would: two coaches bring the same file in, both whole, and no note or
    slot id of the file is used, so neither learns of nor blocks the other's rows."""
    from trustdesk.demo import DEMO_PASSPHRASE, DemoSize, build_demo

    path = isolated_home / "demo.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=4))
    join = ("practice", "join", str(path), "--passphrase-file", str(demo_passphrase_file))
    assert run("--db", pg_practice.ann, *join).returncode == 0
    result = run("--db", pg_practice.ben, *join)
    assert result.returncode == 0, result.stderr.decode()
    database = open_database(path)
    try:
        from trustdesk.store.models import KeySlot

        file_ids = {str(n.id) for n in Note.select(Note.id)} | {
            str(s.id) for s in KeySlot.select(KeySlot.id)
        }
    finally:
        database.close()
    with psycopg.connect(pg_practice.admin) as conn:
        held = {
            str(r[0]) for r in conn.execute("SELECT id FROM note UNION SELECT id FROM key_slot")
        }
        (coaches,) = conn.execute("SELECT count(DISTINCT coach_id) FROM note").fetchone()
    assert coaches == 2 and held and not held & file_ids
    for url in (pg_practice.ann, pg_practice.ben):
        assert (
            _note_bodies(url, DEMO_PASSPHRASE)["words"]
            == _note_bodies(path, DEMO_PASSPHRASE)["words"]
        )


def test_a_row_the_practice_refuses_is_one_line_and_nothing_comes_in(
    pg_practice, isolated_home, run, today, demo_passphrase_file
):
    """A value the server will not store (a status longer than its column) is refused
    in one line, and the coach keeps an empty share."""
    import sqlite3

    from trustdesk.demo import DemoSize, build_demo

    path = isolated_home / "demo.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=4))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE client SET status = ? WHERE id = (SELECT max(id) FROM client)",
                     ("x" * 40,))  # fmt: skip
    line = one_line_error(
        run("--db", pg_practice.ben, "practice", "join", str(path),
            "--passphrase-file", str(demo_passphrase_file))
    )  # fmt: skip
    assert line.startswith(f"trustdesk: the practice refused a row of {path} (")
    assert line.endswith("; nothing was brought in")
    with psycopg.connect(pg_practice.ben) as conn:
        for table in ("client", "touch", "note", "key_slot", "program", "prompt"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


# Fenced tables made by migrations after 0005 (0015: calendar_source, 0016: mail_source).
LATER_TABLES = {"calendar_source", "mail_source"}


def test_a_practice_set_up_by_the_previous_release_is_brought_up_to_date(
    pg_server_url, tmp_path, monkeypatch
):
    """Schema 0005 with table-wide grants and id-only references: setup moves it on."""
    import shutil
    import uuid

    from trustdesk.store import practice
    from trustdesk.store.database import MIGRATIONS_DIR, connect_server
    from trustdesk.store.models import db

    older = tmp_path / "migrations"
    older.mkdir()
    for script in sorted(MIGRATIONS_DIR.glob("000[1-5]_*.py")):
        shutil.copy(script, older)
    suffix = uuid.uuid4().hex[:10]
    name, ann = f"td_old_{suffix}", f"ann_{suffix}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    admin = pg_url(pg_server_url, dbname=name)
    try:
        with monkeypatch.context() as old:
            old.setattr(practice, "MIGRATIONS_DIR", older)
            old.setattr(practice, "SAME_COACH_REFERENCES", ())
            # That release fenced the tables it had: not those later schemas made.
            kept = tuple(
                m for m in practice.FENCED_MODELS if m._meta.table_name not in LATER_TABLES
            )
            old.setattr(practice, "FENCED_MODELS", kept)
            old.setattr(practice, "FENCED_TABLES", tuple(m._meta.table_name for m in kept))
            old.setattr(
                practice,
                "_grant_rows",
                lambda database, model: database.execute_sql(
                    f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{model._meta.table_name}"'
                    f" TO {practice.COACH_ROLE}"
                ),
            )
            database = connect_server(admin)
            db.initialize(database)
            try:
                practice.setup_practice(database)
                add_coach(database, "Morgan Reyes", ann)
            finally:
                database.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"SET ROLE {ADMIN_ROLE}")
            conn.execute(
                "INSERT INTO client (coach_id, name, sort_name, email, phone, status,"
                " started_on, ideal_gap_days, max_gap_days, reference_consent, created_at)"
                " SELECT id, 'Kept', 'kept', '', '', 'active', '2026-03-02', 7, 21, false,"
                " now() FROM coach"
            )
            conn.execute(
                "INSERT INTO session (coach_id, client_id, scheduled_start, actual_start,"
                " late_minutes, duration_minutes, status)"
                " SELECT coach_id, id, '2026-03-02 10:00', '2026-03-02 10:00', 0, 60, 'held'"
                " FROM client"
            )
        database = connect_server(admin)
        db.initialize(database)
        try:
            applied = practice.setup_practice(database)
        finally:
            database.close()
        assert applied == [
            "0006_edit_versions",
            "0007_stage_position_per_coach",
            "0008_client_identity",
            "0009_client_import_key",
            "0010_session_contact",
            "0011_renegotiation_asked_by",
            "0012_client_details",
            "0013_practice_uid",
            "0014_touch_source",
            "0015_calendar_sync",
            "0016_mail_source",
            "0017_client_rollup",
        ]
        database = open_database(pg_url(admin, user=ann))
        try:
            (kept,) = Client.select().where(Client.coach == current_coach())
            assert kept.name == "Kept" and kept.uid is not None
            assert practice_uid() is not None  # made by 0013, granted to coaches by setup
            contact.log_touch(current_coach(), kept.id, channel="call", direction="outbound",
                              summary="", occurred_on=DAY, today=DAY)  # fmt: skip
            # 0017 filled the rollups from the rows, and the triggers keep them.
            from trustdesk.store.models import ClientRollup

            (rollup,) = ClientRollup.select().where(ClientRollup.client == kept.id)
            assert (rollup.last_touch_on, rollup.open_promises) == (DAY, 0)
            # The session held before the upgrade is contact now, and a coach can hold,
            # cancel (saying who) and un-hold with the new columns.
            (held,) = Session.select().where(Session.client == kept.id)
            (touch,) = Touch.select().where(Touch.session == held.id)
            assert (touch.channel, str(touch.occurred_on)) == ("session", "2026-03-02")
            sessions.set_session_status(current_coach(), held.id, "late_cancel",
                                        cancelled_by="client")  # fmt: skip
            assert not Touch.select().where(Touch.session == held.id).exists()
            sessions.set_session_status(current_coach(), held.id, "held")
            assert Touch.select().where(Touch.session == held.id).count() == 1
            # Calendar sync (0015): its session column and its table are the coach's too.
            from trustdesk import calendar_sync, config

            ics = tmp_path / "cal.ics"
            ics.write_text(
                "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:u1\n"
                "DTSTART:20260303T100000Z\nSUMMARY:Kept\nEND:VEVENT\nEND:VCALENDAR\n"
            )
            by_name = config.Settings(time_zone="UTC", calendar_match_summary=True)
            first, again = (
                calendar_sync.sync_calendars(current_coach(), [str(ics)], settings=by_name,
                                             today=DAY)
                for _ in range(2)
            )  # fmt: skip
            assert (first.scheduled, again.scheduled, again.sources[0].files_unchanged) == (
                1, 0, 1)  # fmt: skip
            assert Session.select().where(Session.calendar_key == "u1").count() == 1
        finally:
            database.close()
        with psycopg.connect(admin) as conn:
            names = {r[0] for r in conn.execute("SELECT conname FROM pg_constraint")}
            # The table-wide DELETE of that release (which let a coach LOCK a table) is gone.
            assert conn.execute("SELECT has_table_privilege(%s, 'touch', 'DELETE')",
                                (ann,)).fetchone() == (False,)  # fmt: skip
        assert {"touch_client_id_same_coach", "stage_program_id_same_coach"} <= names
        assert "touch_session_id_same_coach" in names
        assert "touch_client_id_fkey" not in names
        with psycopg.connect(admin) as conn:
            # Every key of a fenced table now leads with the coach, as a new practice's do.
            leading = conn.execute(
                "SELECT i.indexrelid::regclass::text FROM pg_index AS i"
                " JOIN pg_class AS c ON c.oid = i.indrelid AND c.relrowsecurity"
                " JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE c.relname <> 'coach' AND a.attname <> 'coach_id'"
            ).fetchall()
        assert leading == []
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{ann}"')


def test_sealed_notes_come_in_only_with_the_key_that_opens_them(pg_practice, isolated_home, today):
    from trustdesk.demo import DemoSize, build_demo
    from trustdesk.store.practice import join_practice
    from trustdesk.vault import VaultError
    from trustdesk.vault.vault import BroughtKey

    path = isolated_home / "mine.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=3))
    database = open_database(pg_practice.ann)
    try:
        with pytest.raises(StoreError, match="sealed notes: bring them in with the passphrase"):
            join_practice(database, path)
        with pytest.raises(VaultError, match="does not open the notes"):
            join_practice(database, path, lambda s: BroughtKey(s, passphrase="not it"))
        assert Client.select().where(Client.coach == current_coach()).count() == 0
    finally:
        database.close()
