"""Schema 0013: a practice's own UUID, the same for as long as it is the same practice."""

from __future__ import annotations

import shutil
import uuid

import peewee
import pytest

from trustdesk.store import (
    Client,
    backup_database,
    current_coach,
    ensure_coach,
    open_database,
)
from trustdesk.store.database import MIGRATIONS_DIR, restore_database
from trustdesk.store.models import Practice, practice_uid


def test_a_practice_has_one_uid_that_no_coach_can_change_on_a_shared_one(database):
    found = practice_uid()
    assert isinstance(found, uuid.UUID) and found.version == 4
    assert practice_uid() == found
    with pytest.raises(peewee.DatabaseError):  # one row: a second is refused on either side
        with database.atomic():
            Practice.insert(id=2, uid=uuid.uuid4()).execute()
    if isinstance(database, peewee.PostgresqlDatabase):
        for change in (
            Practice.update(uid=uuid.uuid4()),
            Practice.delete(),
            Practice.insert(id=1, uid=uuid.uuid4()),
        ):
            with pytest.raises(peewee.DatabaseError, match="permission denied"):
                with database.atomic():
                    change.execute()
    assert practice_uid() == found


@pytest.mark.sqlite_only
def test_an_older_file_gains_a_uid_and_a_backup_restored_is_the_same_practice(tmp_path):
    before = tmp_path / "before-0013"
    before.mkdir()
    for script in MIGRATIONS_DIR.glob("00[01][0-9]_*.py"):
        if script.name < "0013":
            shutil.copy(script, before)
    path = tmp_path / "td.sqlite3"
    database = open_database(path, create=True, migrations_dir=before)
    assert not database.table_exists("practice")
    database.close()
    database = open_database(path)  # brought up to date
    try:
        mine = practice_uid()
        Client.create(coach=ensure_coach("Morgan Reyes"), name="Ann", started_on="2026-03-16")
        backup_database(database, tmp_path / "copy.sqlite3")
    finally:
        database.close()
    other = open_database(tmp_path / "other.sqlite3", create=True)
    try:
        assert practice_uid() != mine  # another practice, another uid
        restore_database(other, tmp_path / "copy.sqlite3", keep=None)
    finally:
        other.close()
    database = open_database(tmp_path / "other.sqlite3")
    try:
        assert practice_uid() == mine  # restored from the backup: the same practice
    finally:
        database.close()


def test_joining_a_shared_practice_keeps_the_practices_uid(pg_practice, isolated_home, today):
    from trustdesk.demo import DEMO_PASSPHRASE, build_demo
    from trustdesk.store.practice import join_practice
    from trustdesk.vault.vault import BroughtKey

    path = isolated_home / "mine.sqlite3"
    build_demo(path, today=today)
    database = open_database(path)
    try:
        file_uid = practice_uid()
    finally:
        database.close()
    database = open_database(pg_practice.ann)
    try:
        shared = practice_uid()
        join_practice(database, path, lambda s: BroughtKey(s, passphrase=DEMO_PASSPHRASE))
        assert Client.select().where(Client.coach == current_coach()).exists()
        assert practice_uid() == shared != file_uid
    finally:
        database.close()
    database = open_database(pg_practice.ben)  # every coach reads the same one
    try:
        assert practice_uid() == shared
    finally:
        database.close()
