"""Opening, protecting, upgrading and backing up the database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import textwrap

import peewee
import pytest

from trustdesk.store import (
    APPLICATION_ID,
    StoreError,
    backup_database,
    ensure_coach,
    open_database,
)
from trustdesk.store.database import MIGRATIONS_DIR
from trustdesk.store.models import Client


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_database_is_private_even_under_a_permissive_umask(tmp_path):
    os.umask(0o000)
    path = tmp_path / "fresh" / "nested" / "td.sqlite3"
    database = open_database(path, create=True)
    ensure_coach("Morgan")
    Client.create(coach=1, name="Ann", started_on="2026-01-01")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    for sidecar in (f"{path}-wal", f"{path}-shm"):
        assert mode(sidecar) == 0o600
    database.close()


def test_the_database_is_marked_as_trustdesk_and_uses_wal(tmp_path):
    path = tmp_path / "td.sqlite3"
    database = open_database(path, create=True)
    assert database.execute_sql("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert database.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    database.close()


def test_opening_without_create_never_makes_a_file(tmp_path):
    path = tmp_path / "missing.sqlite3"
    with pytest.raises(StoreError, match="no trustdesk database.*trustdesk init"):
        open_database(path)
    assert not path.exists()


@pytest.mark.parametrize("loose", [0o640, 0o604, 0o660])
def test_a_database_others_can_read_is_refused_with_the_fix(tmp_path, loose):
    path = tmp_path / "td.sqlite3"
    open_database(path, create=True).close()
    os.chmod(path, loose)
    with pytest.raises(StoreError) as err:
        open_database(path)
    assert f"chmod 600 '{path}'" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_loose_wal_file_is_refused_too(tmp_path):
    path = tmp_path / "td.sqlite3"
    open_database(path, create=True).close()
    wal = tmp_path / "td.sqlite3-wal"
    wal.write_bytes(b"")
    os.chmod(wal, 0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        open_database(path)


@pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")
def test_a_database_owned_by_someone_else_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "td.sqlite3"
    open_database(path, create=True).close()
    os.chown(path, 65534, 65534)
    with pytest.raises(StoreError, match="belongs to another user.*chown"):
        open_database(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is a text file\n" * 10, b"\x00" * 4096],
    ids=["empty", "text", "zeros"],
)
def test_a_file_that_is_not_a_database_is_refused_and_untouched(tmp_path, content):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(StoreError, match="not a trustdesk database"):
        open_database(path)
    assert path.read_bytes() == content
    assert not (tmp_path / "notes.sqlite3-wal").exists()


def test_another_programs_sqlite_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    os.chmod(path, 0o600)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a trustdesk database"):
        open_database(path)
    assert path.read_bytes() == before


def test_a_schema_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "td.sqlite3"
    database = open_database(path, create=True)
    database.execute_sql(
        "INSERT INTO schema_migration (name, applied) VALUES ('0099_from_the_future', '2030-01-01')"
    )
    database.close()
    with pytest.raises(StoreError, match="newer trustdesk.*0099_from_the_future"):
        open_database(path)


def migrations_with_an_upgrade(tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    (directory / "0002_client_pronouns.py").write_text(
        textwrap.dedent(
            """
            from peewee import TextField

            def up(migrator, db):
                migrator.migrate(
                    migrator.add_column("client", "pronouns", TextField(default="")))
            """
        )
    )
    return directory


def test_an_upgrade_writes_a_private_backup_first_and_keeps_the_data(tmp_path):
    path = tmp_path / "td.sqlite3"
    open_database(path, create=True)
    ensure_coach("Morgan")
    Client.create(coach=1, name="Ann", started_on="2026-01-01")
    Client._meta.database.close()

    database = open_database(path, migrations_dir=migrations_with_an_upgrade(tmp_path))
    columns = [c.name for c in database.get_columns("client")]
    assert "pronouns" in columns
    assert database.execute_sql("SELECT name FROM client").fetchall() == [("Ann",)]
    database.close()

    backups = list(tmp_path.glob("td.sqlite3.before-0002_client_pronouns-*"))
    assert len(backups) == 1
    assert mode(backups[0]) == 0o600
    old = sqlite3.connect(backups[0])
    assert "pronouns" not in [r[1] for r in old.execute("PRAGMA table_info(client)")]
    assert old.execute("SELECT name FROM client").fetchall() == [("Ann",)]
    old.close()


def test_a_failed_upgrade_leaves_the_database_as_it_was(tmp_path):
    path = tmp_path / "td.sqlite3"
    open_database(path, create=True)
    ensure_coach("Morgan")
    Client._meta.database.close()
    directory = migrations_with_an_upgrade(tmp_path)
    (directory / "0003_broken.py").write_text(
        "def up(migrator, db):\n    db.execute_sql('ALTER TABLE nowhere ADD COLUMN x')\n"
    )
    with pytest.raises(Exception, match="nowhere"):
        open_database(path, migrations_dir=directory)
    database = open_database(path)  # the shipped migrations: still exactly schema 0001
    assert "pronouns" not in [c.name for c in database.get_columns("client")]
    database.close()


def test_a_fresh_database_gets_no_upgrade_backup(tmp_path):
    open_database(tmp_path / "td.sqlite3", create=True).close()
    assert sorted(p.name for p in tmp_path.iterdir() if "before" in p.name) == []


def test_backup_is_private_complete_and_checked(tmp_path, database, coach):
    Client.create(coach=coach, name="Ann", started_on="2026-01-01")
    dest = tmp_path / "backup.sqlite3"
    backup_database(database, dest)
    assert mode(dest) == 0o600
    conn = sqlite3.connect(dest)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT name FROM client").fetchall() == [("Ann",)]
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    open_database(dest).close()  # a backup opens as a trustdesk database


def test_backup_never_overwrites_and_leaves_nothing_on_failure(tmp_path, database):
    dest = tmp_path / "exists.sqlite3"
    dest.write_bytes(b"keep me")
    with pytest.raises(StoreError, match="already exists"):
        backup_database(database, dest)
    assert dest.read_bytes() == b"keep me"
    with pytest.raises(StoreError, match="does not exist"):
        backup_database(database, tmp_path / "no" / "such" / "dir.sqlite3")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_text_is_stored_exactly(database, coach):
    name = (
        "[bold]Ann[/] \x1b[2J \u202eevil\u202c \x00 Zo\u00eb \U0001f469\u200d\U0001f467 "
        + "x" * 1000
    )
    client = Client.create(coach=coach, name=name, started_on="2026-01-01")
    assert Client.get_by_id(client.id).name == name


def test_upgrading_from_the_first_schema_fills_the_name_key(tmp_path):
    first_only = tmp_path / "first"
    first_only.mkdir()
    shutil.copy(MIGRATIONS_DIR / "0001_initial.py", first_only)
    path = tmp_path / "td.sqlite3"
    database = open_database(path, create=True, migrations_dir=first_only)
    database.execute_sql("INSERT INTO coach (name, email, created_at) VALUES ('M', '', '2026')")
    for name in ("Élodie Kahananui", "ZOË  Walker"):
        database.execute_sql(
            "INSERT INTO client (coach_id, name, email, phone, status, started_on, "
            "ideal_gap_days, max_gap_days, reference_consent, created_at) "
            "VALUES (1, ?, '', '', 'active', '2026-01-01', 7, 21, 0, '2026')",
            (name,),
        )
    # Rows that point at clients: an upgrade must never take them with it.
    database.execute_sql(
        "INSERT INTO touch (coach_id, client_id, occurred_on, channel, direction, "
        "counts_for_cadence, summary) VALUES (1, 1, '2026-03-01', 'email', 'outbound', 1, 'x')"
    )
    database.execute_sql(
        "INSERT INTO commitment (coach_id, client_id, owner, title, promised_on, due_on, "
        "status, reason) VALUES (1, 2, 'coach', 'Send it', '2026-03-01', '2026-03-05', 'open', '')"
    )
    database.execute_sql(
        "INSERT INTO session (coach_id, client_id, scheduled_start, duration_minutes, status) "
        "VALUES (1, 1, '2026-03-02 10:00:00', 60, 'scheduled')"
    )
    database.execute_sql(
        "INSERT INTO note (id, coach_id, client_id, kind, written_on, updated_at, body_sealed) "
        "VALUES ('0123456789abcdef0123456789abcdef', 1, 2, 'goal', '2026-03-01', '2026', x'00')"
    )
    database.close()

    database = open_database(path)
    keys = database.execute_sql("SELECT name, sort_name FROM client ORDER BY id").fetchall()
    assert keys == [("Élodie Kahananui", "elodie kahananui"), ("ZOË  Walker", "zoe walker")]
    for table in ("touch", "commitment", "session", "note"):
        assert database.execute_sql(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 1, table
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []
    assert list(tmp_path.glob("td.sqlite3.before-0002_client_sort_name-*"))
    database.close()


def test_an_open_database_whose_file_vanished_is_not_recreated(tmp_path):
    path = tmp_path / "td.sqlite3"
    database = open_database(path, create=True)
    database.close()
    path.rename(tmp_path / "moved.sqlite3")
    with pytest.raises(peewee.OperationalError):
        with database.connection_context():
            database.execute_sql("SELECT 1 FROM client")
    assert not path.exists()


def test_upgrading_to_0008_gives_every_client_its_own_identity(tmp_path):
    before = tmp_path / "before-0008"
    before.mkdir()
    for script in MIGRATIONS_DIR.glob("000[1-7]_*.py"):
        shutil.copy(script, before)
    path = tmp_path / "td.sqlite3"
    database = open_database(path, create=True, migrations_dir=before)
    database.execute_sql("INSERT INTO coach (name, email, created_at) VALUES ('M', '', '2026')")
    for name in ("Ann", "Bo", "Cy"):
        database.execute_sql(
            "INSERT INTO client (coach_id, name, sort_name, email, phone, status, started_on, "
            "ideal_gap_days, max_gap_days, reference_consent, created_at) "
            "VALUES (1, ?, ?, '', '', 'active', '2026-01-01', 7, 21, 0, '2026')",
            (name, name.lower()),
        )
    database.close()
    database = open_database(path)
    try:
        uids = [c.uid for c in Client.select()]
        assert len(uids) == 3 and None not in uids and len(set(uids)) == 3
        assert Client.create(coach=1, name="Dee", started_on="2026-01-02").uid not in uids
    finally:
        database.close()
