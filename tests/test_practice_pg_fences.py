"""A shared practice on PostgreSQL, seen by a coach with psql: what the planner, the locks
and the roles could tell or let them do, and how a coach leaves the practice."""

from __future__ import annotations

import threading
import time
import uuid

import peewee
import psycopg
import pytest
from helpers import pg_url

from trustdesk.store import Client, StoreError, open_database
from trustdesk.store.practice import add_coach, setup_practice


@pytest.fixture
def server_role(pg_server_url):
    """Make a throwaway role on the server with the attributes given; dropped afterwards."""
    made: list[str] = []

    def make(attributes: str = "LOGIN", *, member_of: tuple[str, ...] = ()) -> str:
        role = f"cand_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{role}" {attributes}')
            made.append(role)
            for parent in member_of:
                conn.execute(f'GRANT "{parent}" TO "{role}"')
        return role

    yield make
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for role in made:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


# --- 18: only a plain login role can be a coach -----------------------------------------


@pytest.mark.parametrize(
    ("attributes", "member_of", "why"),
    [
        ("LOGIN CREATEROLE", (), "can create roles"),
        ("LOGIN CREATEDB", (), "can create databases"),
        ("LOGIN REPLICATION", (), "can stream replication"),
        ("LOGIN BYPASSRLS", (), "bypasses row-level security"),
        ("LOGIN", ("trustdesk_admin",), "member of trustdesk_admin"),
        ("LOGIN", ("pg_read_all_data",), "member of pg_read_all_data"),
        ("LOGIN", ("pg_monitor",), "member of pg_monitor"),
        ("NOLOGIN", (), "cannot log in"),
    ],
)
def test_add_coach_refuses_a_role_the_fences_would_not_hold(
    pg_practice, server_role, attributes, member_of, why
):
    role = server_role(attributes, member_of=member_of)
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError, match=why) as refused:
            add_coach(database, "Someone", role)
        assert "\n" not in str(refused.value)
        with psycopg.connect(pg_practice.admin) as conn:
            assert conn.execute("SELECT count(*) FROM coach WHERE db_role = %s",
                                (role,)).fetchone() == (0,)  # fmt: skip
            assert conn.execute(
                "SELECT count(*) FROM pg_auth_members WHERE member = %s::regrole"
                " AND roleid = 'trustdesk_coach'::regrole",
                (role,),
            ).fetchone() == (0,)
    finally:
        database.close()


def test_add_coach_refuses_built_in_roles_and_roles_others_can_become(pg_practice, server_role):
    other = server_role("LOGIN")
    shared = server_role("LOGIN")
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute(f'GRANT "{shared}" TO "{other}"')
    database = open_database(pg_practice.admin)
    try:
        with pytest.raises(StoreError, match="cannot log in"):
            add_coach(database, "Reader", "pg_read_all_data")
        with pytest.raises(StoreError, match=f"{other} can act as it"):
            add_coach(database, "Shared", shared)
    finally:
        database.close()


def test_add_coach_takes_a_plain_existing_login_role(pg_practice, server_role):
    role = server_role("LOGIN")
    database = open_database(pg_practice.admin)
    try:
        assert add_coach(database, "Plain", role).db_role == role
    finally:
        database.close()


# --- 17: no coach can hold the practice up ----------------------------------------------


def _setting(conn, name: str) -> str:
    return conn.execute("SELECT current_setting(%s)", (name,)).fetchone()[0]


@pytest.fixture
def short_timeouts(monkeypatch):
    """Timeouts short enough to watch in a test; set before the practice is made."""
    from trustdesk.store import practice

    monkeypatch.setattr(
        practice,
        "COACH_SETTINGS",
        {
            "lock_timeout": "1s",
            "idle_in_transaction_session_timeout": "1s",
            "statement_timeout": "20s",
        },  # fmt: skip
    )


def test_every_coach_logs_in_with_the_practice_timeouts(pg_practice, server_role):
    from trustdesk.store.practice import COACH_SETTINGS

    role = server_role("LOGIN")
    database = open_database(pg_practice.admin)
    try:
        add_coach(database, "Plain", role)
    finally:
        database.close()
    for url in (pg_practice.ann, pg_practice.ben, pg_url(pg_practice.admin, user=role)):
        with psycopg.connect(url) as conn:
            for name, value in COACH_SETTINGS.items():
                shown = _setting(conn, name)
                with psycopg.connect(pg_practice.admin) as admin:
                    admin.execute(f"SET {name} = '{value}'")
                    assert shown == _setting(admin, name), (url, name)
                assert shown not in ("0", ""), (url, name)


def test_setup_gives_coaches_added_before_it_the_timeouts(pg_practice):
    with psycopg.connect(pg_practice.admin, autocommit=True) as conn:
        conn.execute(f'ALTER ROLE "{pg_practice.ann_role}" RESET ALL')
        conn.execute(f'ALTER ROLE "{pg_practice.ann_role}" IN DATABASE'
                     f' "{conn.info.dbname}" RESET ALL')  # fmt: skip
    database = open_database(pg_practice.admin)
    try:
        setup_practice(database)
    finally:
        database.close()
    with psycopg.connect(pg_practice.ann) as conn:
        assert _setting(conn, "lock_timeout") != "0"
        assert _setting(conn, "idle_in_transaction_session_timeout") != "0"


def test_a_coach_idle_in_a_transaction_is_ended_and_lets_go(short_timeouts, pg_practice):
    idle = psycopg.connect(pg_practice.ann)
    try:
        idle.execute("LOCK TABLE client IN ACCESS EXCLUSIVE MODE")
        time.sleep(2.5)
        with psycopg.connect(pg_practice.ben) as conn:
            assert conn.execute("SELECT count(*) FROM client").fetchone() == (0,)
        with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
            idle.execute("SELECT 1")
    finally:
        idle.close()


def test_a_table_locked_by_another_coach_holds_trustdesk_up_no_longer_than_the_timeout(
    short_timeouts, pg_practice
):
    blocker = psycopg.connect(pg_practice.ann)
    try:
        # A coach may switch their own timeouts off; the other coach's are still theirs.
        blocker.execute("SET idle_in_transaction_session_timeout = 0")
        blocker.execute("LOCK TABLE client IN ACCESS EXCLUSIVE MODE")
        database = open_database(pg_practice.ben)
        try:
            started = time.monotonic()
            with pytest.raises(peewee.OperationalError, match="lock timeout"):
                Client.select().count()
            assert time.monotonic() - started < 5
        finally:
            database.close()
    finally:
        blocker.close()


def test_an_advisory_lock_cannot_hold_up_another_coachs_join(pg_practice, isolated_home, today):
    from trustdesk.demo import DemoSize, build_demo
    from trustdesk.store.practice import join_practice

    path = isolated_home / "ben.sqlite3"
    build_demo(path, today=today, size=DemoSize(clients=2))
    with psycopg.connect(pg_practice.admin) as conn:
        (ben_id,) = conn.execute(
            "SELECT id FROM coach WHERE db_role = %s", (pg_practice.ben_role,)
        ).fetchone()
    blocker = psycopg.connect(pg_practice.ann, autocommit=True)
    try:
        # Every key trustdesk has used for a coach's join, and the coach's id itself.
        for key in (0x7D_0000_0000 + ben_id, ben_id):
            blocker.execute("SELECT pg_advisory_lock(%s)", (key,))
        outcome: list[object] = []

        def join() -> None:
            database = open_database(pg_practice.ben)
            try:
                outcome.append(join_practice(database, path).clients)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome.append(exc)
            finally:
                database.close()

        worker = threading.Thread(target=join, daemon=True)
        worker.start()
        worker.join(timeout=30)
        blocked = worker.is_alive()
    finally:
        blocker.close()
    worker.join(timeout=30)
    assert not blocked, "Ann's advisory lock held Ben's join up"
    assert outcome == [2]


def test_a_coach_cannot_create_large_objects(pg_practice):
    with psycopg.connect(pg_practice.ann, autocommit=True) as conn:
        for statement in (
            "SELECT lo_create(0)",
            "SELECT lo_creat(-1)",
            "SELECT lo_from_bytea(0, 'x')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
