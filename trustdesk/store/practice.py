"""A practice shared on PostgreSQL: the schema, the roles and the fences between coaches.

Each coach logs in as their own database role (peer authentication over the Unix socket
needs no stored password). The tables belong to a separate role, `trustdesk_admin`, so
no coach owns them; every table has row-level security switched on and forced, with a
policy that shows a coach's role only the rows carrying that coach's id. The database,
not trustdesk's queries, keeps one coach out of another's clients and notes: even raw
SQL typed into psql as coach A cannot read or change coach B's rows.

`setup_practice` runs as a role that can create roles (the server's superuser, or the
practice's administrator); `add_coach` adds a coach and their login role.
"""

from __future__ import annotations

import re

import peewee

from trustdesk import config
from trustdesk.store.database import (
    HISTORY_TABLE,
    MIGRATIONS_DIR,
    PracticeServer,
    StoreError,
    upgrade_schema,
)
from trustdesk.store.models import ALL_MODELS, Coach

ADMIN_ROLE = "trustdesk_admin"
COACH_ROLE = "trustdesk_coach"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# Every table but `coach` carries its coach's id; `coach` is fenced by its own role column.
FENCED_TABLES = tuple(m._meta.table_name for m in ALL_MODELS if m is not Coach)


def _require_server(database: peewee.Database) -> PracticeServer:
    if not isinstance(database, PracticeServer):
        raise StoreError(
            "practice commands are for a shared PostgreSQL practice (--db postgresql://...)"
        )
    return database


def _quote(name: str) -> str:
    if not ROLE_NAME.fullmatch(name):
        raise StoreError(
            f"{name!r} cannot be a database role here: use lower-case letters, digits and _"
        )
    return f'"{name}"'


def _database_name(database: peewee.Database) -> str:
    (name,) = database.execute_sql("SELECT current_database()").fetchone()
    return name


def _role_exists(database: peewee.Database, role: str) -> bool:
    found = database.execute_sql("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    return found.fetchone() is not None


def setup_practice(database: peewee.Database) -> list[str]:
    """Create (or bring up to date) the schema, the roles and every policy; safe to repeat.

    Returns the migrations it applied.
    """
    server = _require_server(database)
    try:
        return _setup(server)
    except peewee.ProgrammingError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise StoreError(
            f"cannot set up the practice on {server.url}: {reason} "
            "(run it as the server's superuser, or a role that can create roles)"
        ) from None


def _setup(database: PracticeServer) -> list[str]:
    run = database.execute_sql
    for role, attributes in ((ADMIN_ROLE, "NOLOGIN BYPASSRLS"), (COACH_ROLE, "NOLOGIN")):
        if not _role_exists(database, role):
            run(f"CREATE ROLE {_quote(role)} {attributes}")
    run(f"GRANT {_quote(ADMIN_ROLE)} TO CURRENT_USER")
    run(f"GRANT USAGE, CREATE ON SCHEMA public TO {_quote(ADMIN_ROLE)}")
    run(f"GRANT USAGE ON SCHEMA public TO {_quote(COACH_ROLE)}")
    # Coaches need neither temporary tables nor (before PostgreSQL 15 it was the default)
    # the right to create objects in public; taken away as the database's owner.
    run("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    run(f'REVOKE TEMPORARY ON DATABASE "{_database_name(database)}" FROM PUBLIC')
    # Everything below is created by, and so owned by, the admin role: no coach owns a table.
    run(f"SET ROLE {_quote(ADMIN_ROLE)}")
    try:
        applied = upgrade_schema(database, None, MIGRATIONS_DIR)
        with database.atomic():
            _fence(database)
    finally:
        run("RESET ROLE")
    return applied


def _fence(database: PracticeServer) -> None:
    run = database.execute_sql
    coach = _quote(COACH_ROLE)
    # Every name below is schema-qualified: a coach's own temporary table called "coach"
    # must not be able to stand in for the real one (and coaches may not make one).
    run("ALTER TABLE public.coach ENABLE ROW LEVEL SECURITY")
    run("ALTER TABLE public.coach FORCE ROW LEVEL SECURITY")
    run("DROP POLICY IF EXISTS own_coach_row ON public.coach")
    run(
        f"CREATE POLICY own_coach_row ON public.coach FOR ALL TO {coach} "
        "USING (db_role = current_user) WITH CHECK (db_role = current_user)"
    )
    # Coaches are added by the admin only, and may change only their name and address.
    run(f"REVOKE ALL ON public.coach FROM {coach}")
    run(f"GRANT SELECT, UPDATE (name, email) ON public.coach TO {coach}")
    own_id = "(SELECT c.id FROM public.coach AS c WHERE c.db_role = current_user)"
    for table in FENCED_TABLES:
        run(f'ALTER TABLE public."{table}" ENABLE ROW LEVEL SECURITY')
        run(f'ALTER TABLE public."{table}" FORCE ROW LEVEL SECURITY')
        run(f'DROP POLICY IF EXISTS own_rows ON public."{table}"')
        run(
            f'CREATE POLICY own_rows ON public."{table}" FOR ALL TO {coach} '
            f"USING (coach_id = {own_id}) WITH CHECK (coach_id = {own_id})"
        )
        run(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {coach}')
    run(f'GRANT SELECT ON "{HISTORY_TABLE}" TO {coach}')
    run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {coach}")


def add_coach(database: peewee.Database, name: str, role: str, email: str = "") -> Coach:
    """A coach of the practice, logging in as `role` (made if the server has no such role)."""
    server = _require_server(database)
    if not name.strip():
        raise StoreError("a coach needs a name")
    quoted = _quote(role)
    if role in (ADMIN_ROLE, COACH_ROLE):
        raise StoreError(f"{role} is one of trustdesk's own roles; choose the coach's login")
    found = server.execute_sql(
        "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
    ).fetchone()
    if found is not None and found[0]:
        raise StoreError(
            f"{role} is a superuser or bypasses row-level security; a coach needs a role "
            "the fences apply to"
        )
    # As the admin role, which row-level security lets see every coach.
    server.execute_sql(f"SET ROLE {_quote(ADMIN_ROLE)}")
    try:
        if Coach.select().where(Coach.db_role == role).exists():
            raise StoreError(f"{role} is already a coach of this practice")
        server.execute_sql("RESET ROLE")
        with server.atomic():
            if found is None:
                server.execute_sql(f"CREATE ROLE {quoted} LOGIN")
            server.execute_sql(f"GRANT {_quote(COACH_ROLE)} TO {quoted}")
            server.execute_sql(f"SET LOCAL ROLE {_quote(ADMIN_ROLE)}")
            return Coach.create(
                name=name.strip(), email=email, created_at=config.now(), db_role=role
            )
    finally:
        server.execute_sql("RESET ROLE")
