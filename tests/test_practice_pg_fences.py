"""A shared practice on PostgreSQL, seen by a coach with psql: what the planner, the locks
and the roles could tell or let them do, and how a coach leaves the practice."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from trustdesk.store import StoreError, open_database
from trustdesk.store.practice import add_coach


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
