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

import datetime as dt
import os
import re
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import peewee

from trustdesk import config
from trustdesk.store import rollups
from trustdesk.store.database import (
    HISTORY_TABLE,
    MIGRATIONS_DIR,
    PracticeServer,
    StoreError,
    current_coach,
    first_line,
    inspect_backup,
    known_migrations,
    lock_coach,
    mark_as_trustdesk,
    upgrade_schema,
)
from trustdesk.store.models import (
    ALL_MODELS,
    Client,
    Coach,
    Commitment,
    KeySlot,
    Note,
    Program,
    Prompt,
    db,
)

ADMIN_ROLE = "trustdesk_admin"
COACH_ROLE = "trustdesk_coach"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# The first release whose ON DELETE SET NULL can leave the coach column of a two-column
# reference alone; PostgreSQL 14 and older are out of support.
OLDEST_SERVER = 150000

# Set on each coach's login role in the practice's database (role settings are not
# inherited from trustdesk_coach): a lock another coach holds makes trustdesk fail after
# lock_timeout instead of waiting; a transaction left open is ended; no statement runs on.
COACH_SETTINGS = {
    "lock_timeout": "10s",
    "idle_in_transaction_session_timeout": "1min",
    "statement_timeout": "5min",
}
# Functions that make a large object: kept in a catalog beside every coach's rows, outside
# the fences, and able to fill the disk. trustdesk keeps none.
LARGE_OBJECT_MAKERS = (
    "lo_create(oid)",
    "lo_creat(integer)",
    "lo_import(text)",
    "lo_import(text, oid)",
    "lo_from_bytea(oid, bytea)",
)

# A coach deletes a row of a fenced table only through this function of the table (made
# by setup, see _delete_functions): coaches hold no table-wide DELETE, which would also
# let them LOCK the table in any mode and so hold every other coach up.
DELETE_FUNCTION = "trustdesk_delete_{table}"

# Every table but `coach` carries its coach's id; `coach` is fenced by its own role column.
FENCED_MODELS = tuple(m for m in ALL_MODELS if m is not Coach)
FENCED_TABLES = tuple(m._meta.table_name for m in FENCED_MODELS)
# Every reference from one coach's row to another row (a touch's client, a stage's
# program...): each is checked on (id, coach_id), so it can only point within its coach.
SAME_COACH_REFERENCES = tuple(
    field
    for model in FENCED_MODELS
    for field in model._meta.sorted_fields
    if isinstance(field, peewee.ForeignKeyField) and field.rel_model is not Coach
)


def delete_rows(model: type[peewee.Model], *where: object) -> int:
    """DELETE the rows of `model` that meet every condition in `where`; how many went.

    On a SQLite file, or on a practice as a role that may delete (its administrator), the
    ordinary DELETE. As a coach of a practice, who may not (see _delete_functions), the
    table's delete function, which takes only the coach's own rows; there a condition is
    `field == value` on the row's id (required), its version or its coach, joined by `&`
    (True, an unchecked version, is skipped), and anything else is refused.
    """
    database = db.obj
    table = model._meta.table_name
    if not isinstance(database, peewee.PostgresqlDatabase) or table not in FENCED_TABLES:
        return model.delete().where(*where).execute()
    (may_delete,) = database.execute_sql(
        "SELECT has_table_privilege(%s, 'DELETE')", (f'public."{table}"',)
    ).fetchone()
    if may_delete:
        return model.delete().where(*where).execute()
    wanted: dict[str, list[object]] = {}
    for condition in where:
        _equalities(model, condition, wanted)
    if "id" not in wanted:
        raise TypeError(f"a coach deletes {table} rows by id; got {where!r}")
    if any(len(set(values)) > 1 for values in wanted.values()):
        return 0  # two values for one column: no row meets both
    arguments = [wanted["id"][0]]
    if "version" in wanted:
        arguments.append(wanted["version"][0])
    call = f'public."{DELETE_FUNCTION.format(table=table)}"({", ".join(["%s"] * len(arguments))})'
    if "coach" in wanted:
        # Another coach's id is no row of this coach's: the coach's own row is the only
        # one the fence lets them see.
        call += " FROM public.coach WHERE id = %s"
        arguments.append(wanted["coach"][0])
    found = database.execute_sql(f"SELECT {call}", arguments).fetchone()
    return found[0] if found else 0


def _equalities(model: type[peewee.Model], condition: object, wanted: dict) -> None:
    if condition is True:
        return
    if isinstance(condition, peewee.Expression) and condition.op == peewee.OP.AND:
        _equalities(model, condition.lhs, wanted)
        _equalities(model, condition.rhs, wanted)
        return
    if (
        isinstance(condition, peewee.Expression)
        and condition.op == peewee.OP.EQ
        and isinstance(condition.lhs, peewee.Field)
        and condition.lhs.model is model
        and condition.lhs.name in ("id", "version", "coach")
        and (isinstance(condition.rhs, peewee.Model) or not isinstance(condition.rhs, peewee.Node))
    ):
        value = condition.rhs
        if isinstance(value, peewee.Model):  # a row (a Model is a Node too): its id
            value = value.get_id()
        wanted.setdefault(condition.lhs.name, []).append(value)
        return
    raise TypeError(
        f"a coach deletes {model._meta.table_name} rows by id, version and coach only; "
        f"got {condition!r}"
    )


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
        raise StoreError(
            f"cannot set up the practice on {server.url}: {first_line(exc)} "
            "(run it as the server's superuser, or a role that can create roles)"
        ) from None


def _setup(database: PracticeServer) -> list[str]:
    run = database.execute_sql
    (version,) = run("SELECT current_setting('server_version_num')::integer").fetchone()
    if version < OLDEST_SERVER:
        (shown,) = run("SHOW server_version").fetchone()
        raise StoreError(f"a practice needs PostgreSQL 15 or newer; {database.url} runs {shown}")
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
    _revoke_large_objects(database)
    for (role,) in run(
        "SELECT r.rolname FROM pg_auth_members AS m JOIN pg_roles AS r ON r.oid = m.member "
        "WHERE m.roleid = %s::regrole AND r.rolcanlogin",
        (COACH_ROLE,),
    ).fetchall():
        _set_coach_timeouts(database, role)
    # Everything below is created by, and so owned by, the admin role: no coach owns a table.
    run(f"SET ROLE {_quote(ADMIN_ROLE)}")
    try:
        # One transaction: a practice is never left upgraded but fenced the old way.
        with database.atomic():
            applied = upgrade_schema(database, None, MIGRATIONS_DIR)
            _fence(database)
    finally:
        run("RESET ROLE")
    return applied


def _revoke_large_objects(database: PracticeServer) -> None:
    """No coach makes a large object. The functions belong to the server's superuser, so
    only a superuser running setup can take them back from PUBLIC."""
    run = database.execute_sql
    (superuser,) = run("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    if superuser:
        for function in LARGE_OBJECT_MAKERS:
            run(f"REVOKE EXECUTE ON FUNCTION pg_catalog.{function} FROM PUBLIC")


def _set_coach_timeouts(database: PracticeServer, role: str) -> None:
    where = f'IN DATABASE "{_database_name(database)}"'
    for name, value in COACH_SETTINGS.items():
        database.execute_sql(f"ALTER ROLE {_quote(role)} {where} SET {name} = '{value}'")


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
    for model in FENCED_MODELS:
        _grant_rows(database, model)
    _delete_functions(database)
    for field in SAME_COACH_REFERENCES:
        _keep_within_coach(database, field)
    # Schema 0017: read by coaches, written by the triggers alone.
    if run("SELECT to_regclass('public.client_rollup')").fetchone()[0] is not None:
        rollups.fence_rollups(database, COACH_ROLE, _quote)
    _lead_with_coach(database)
    _hide_statistics(database)
    run(f'GRANT SELECT ON "{HISTORY_TABLE}" TO {coach}')
    # The practice's own id (schema 0013): one row, no coach's, read by every coach.
    if run("SELECT to_regclass('public.practice')").fetchone()[0] is not None:
        run(f"GRANT SELECT ON public.practice TO {coach}")
    # USAGE only: enough to number new rows, not to read how far a sequence has gone.
    run(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {coach}")
    run(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {coach}")


def _grant_rows(database: PracticeServer, model: type[peewee.Model]) -> None:
    """Let coaches read and write rows, but never choose a numbered id themselves.

    Ids are unique across the practice, so writing another coach's id would be refused
    as a duplicate and so tell that the row exists. Ids come from the sequence instead.
    """
    table, coach = model._meta.table_name, _quote(COACH_ROLE)
    columns = ", ".join(
        f'"{f.column_name}"'
        for f in model._meta.sorted_fields
        if not isinstance(f, peewee.AutoField)
    )
    run = database.execute_sql
    run(f'REVOKE ALL ON public."{table}" FROM {coach}')
    # Column grants, and no table-wide DELETE: either would let a coach LOCK the table.
    run(f'GRANT SELECT ON public."{table}" TO {coach}')
    run(f'GRANT INSERT ({columns}), UPDATE ({columns}) ON public."{table}" TO {coach}')


def _delete_functions(database: PracticeServer) -> None:
    """Make, for each fenced table, the one way a coach deletes its rows.

    PostgreSQL lets a role with table-wide DELETE (or UPDATE, or TRUNCATE) take any lock
    on the table: `LOCK TABLE touch IN ACCESS EXCLUSIVE MODE` in psql, with the idle
    timeout switched off, would hold every other coach up. So coaches hold no DELETE;
    `public.trustdesk_delete_<table>(id [, version])`, owned by the admin role and run
    with its rights, deletes the row with that id (and version, when given) only if it
    is the calling coach's. The coach is found as the policies find it, by the role's
    name, but from session_user (inside the function current_user is its owner): the
    login role, which only a superuser can change, and coaches are members of no other
    coach's role. Another coach's id, like a missing one, deletes nothing and says
    nothing. References to the row are cascaded or cleared as usual. Made again at
    every setup, from the catalog, so the id and version columns follow migrations.
    """
    run = database.execute_sql
    own_id = "(SELECT c.id FROM public.coach AS c WHERE c.db_role = session_user)"
    wanted: dict[str, tuple[str, str]] = {}  # function: (its arguments, the table's WHERE)
    for table in FENCED_TABLES:
        typed = dict(
            run(
                "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attname IN ('id', 'version') "
                "AND NOT attisdropped",
                (f'public."{table}"',),
            ).fetchall()
        )
        arguments = f"row_id {typed['id']}"
        where = f"t.id = row_id AND t.coach_id = {own_id}"
        if "version" in typed:
            arguments += f", row_version {typed['version']}"
            where += " AND (row_version IS NULL OR t.version = row_version)"
        wanted[DELETE_FUNCTION.format(table=table)] = (arguments, where)
    # One function per table, with the arguments of today's schema: any other goes.
    for name, signature, arguments in run(
        "SELECT p.proname, p.oid::regprocedure::text, "
        "pg_get_function_identity_arguments(p.oid) FROM pg_proc AS p "
        "JOIN pg_namespace AS n ON n.oid = p.pronamespace AND n.nspname = 'public' "
        "WHERE starts_with(p.proname, %s)",
        (DELETE_FUNCTION.format(table=""),),
    ).fetchall():
        if name not in wanted or wanted[name][0] != arguments:
            run(f"DROP FUNCTION {signature}")
    for table in FENCED_TABLES:
        name = DELETE_FUNCTION.format(table=table)
        arguments, where = wanted[name]
        function = f'public."{name}"'
        if "row_version" in arguments:
            arguments += " DEFAULT NULL"
        run(
            f"CREATE OR REPLACE FUNCTION {function}({arguments}) RETURNS integer "
            "LANGUAGE sql VOLATILE SECURITY DEFINER "
            "SET search_path = pg_catalog, public "
            f'AS $$ WITH gone AS (DELETE FROM public."{table}" AS t WHERE {where} '
            "RETURNING 1) SELECT count(*)::integer FROM gone $$"
        )
        run(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
        run(f"GRANT EXECUTE ON FUNCTION {function} TO {_quote(COACH_ROLE)}")


def _keep_within_coach(database: PracticeServer, field: peewee.ForeignKeyField) -> None:
    """Make a reference check the coach as well as the id.

    A foreign-key check looks past row-level security: with the id alone, a coach could
    learn whether another coach's client 42 exists by pointing a touch of their own at
    it. Checked on (id, coach_id), pointing at any row but one's own fails the same way.
    """
    table = field.model._meta.table_name
    parent = field.rel_model._meta.table_name
    column = field.column_name
    name = f"{table}_{column}_same_coach"
    run = database.execute_sql
    if run("SELECT 1 FROM pg_constraint WHERE conname = %s", (name,)).fetchone():
        return
    (crossing,) = run(
        f'SELECT count(*) FROM public."{table}" AS x JOIN public."{parent}" AS p '
        f'ON p.id = x."{column}" WHERE p.coach_id <> x.coach_id'
    ).fetchone()
    if crossing:
        raise StoreError(
            f"{crossing} rows of {table} point at another coach's {parent}; "
            "correct them before setting up the practice"
        )
    unique = f"{parent}_id_coach"
    if not _has_unique_on(database, parent, {"id", "coach_id"}):
        run(f'ALTER TABLE public."{parent}" ADD CONSTRAINT "{unique}" UNIQUE (coach_id, id)')
    for (old,) in run(
        "SELECT c.conname FROM pg_constraint AS c JOIN pg_attribute AS a "
        "ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) "
        "WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND a.attname = %s "
        "AND cardinality(c.conkey) = 1",
        (f'public."{table}"', column),
    ).fetchall():
        run(f'ALTER TABLE public."{table}" DROP CONSTRAINT "{old}"')
    on_delete = "CASCADE" if field.on_delete == "CASCADE" else f'SET NULL ("{column}")'
    run(
        f'ALTER TABLE public."{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("{column}", coach_id) '
        f'REFERENCES public."{parent}" (id, coach_id) ON DELETE {on_delete}'
    )


def _key_columns(database: PracticeServer, table: str, kind: str) -> set[str]:
    """The columns of the primary key (kind "p") of `table`."""
    (names,) = database.execute_sql(
        "SELECT array_agg(a.attname::text) FROM pg_constraint AS k JOIN pg_attribute AS a "
        "ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) "
        "WHERE k.conrelid = %s::regclass AND k.contype = %s",
        (f'public."{table}"', kind),
    ).fetchone()
    return set(names or ())


def _has_unique_on(database: PracticeServer, table: str, columns: set[str]) -> bool:
    """Whether a primary key or unique constraint of `table` is on exactly these columns."""
    for (names,) in database.execute_sql(
        "SELECT array_agg(a.attname::text) FROM pg_constraint AS k JOIN pg_attribute AS a "
        "ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) "
        "WHERE k.conrelid = %s::regclass AND k.contype IN ('p', 'u') GROUP BY k.oid",
        (f'public."{table}"',),
    ).fetchall():
        if set(names) == columns:
            return True
    return False


def _lead_with_coach(database: PracticeServer) -> None:
    """Make every index of every fenced table begin with coach_id, kept so after any migration.

    Row-level security adds `coach_id = <the coach's id>` to every query. When an index
    begins with another column (a client's id, a date, the row id), a scan reads through
    it every coach's matching rows and only then drops the ones the policy hides, and
    EXPLAIN ANALYZE counts them ("Rows Removed by Filter"): a coach could count another
    coach's promises to client 42, or find which days they touched anyone. Led by
    coach_id, the policy is part of the index condition and no other coach's row is read.
    """
    run = database.execute_sql
    found = run(
        "SELECT c.relname, x.relname, i.indexrelid, k.oid, k.contype, i.indisunique, "
        "pg_get_expr(i.indpred, i.indrelid), "
        "ARRAY(SELECT pg_get_indexdef(i.indexrelid, n, false) "
        "      FROM generate_series(1, i.indnkeyatts) AS n ORDER BY n) "
        "FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid "
        "JOIN pg_class AS x ON x.oid = i.indexrelid "
        "JOIN pg_namespace AS s ON s.oid = c.relnamespace AND s.nspname = 'public' "
        "LEFT JOIN pg_constraint AS k ON k.conindid = i.indexrelid AND k.conrelid = c.oid "
        "AND k.contype IN ('p', 'u') "
        "WHERE c.relname = ANY (%s) ORDER BY k.contype = 'p' DESC, 1, 2",
        (list(FENCED_TABLES),),
    ).fetchall()
    for table, index, index_oid, constraint, kind, unique, predicate, columns in found:
        # A unique key on the primary key's columns (made for references on the id and
        # the coach before the primary key led with the coach) is dropped: the references
        # move to the primary key.
        twin = kind == "u" and _key_columns(database, table, "p") == set(columns)
        if columns[0] == "coach_id" and not twin:
            continue
        led = ", ".join(["coach_id", *(c for c in columns if c != "coach_id")])
        if constraint is None:
            run(f'DROP INDEX public."{index}"')
            where = f" WHERE {predicate}" if predicate else ""
            made = "UNIQUE INDEX" if unique else "INDEX"
            run(f'CREATE {made} "{index}" ON public."{table}" ({led}){where}')
            continue
        # A key that references point at: they are set aside and made again on the new one.
        references = run(
            "SELECT f.conrelid::regclass::text, f.conname, pg_get_constraintdef(f.oid), "
            "EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = f.confrelid "
            "        AND a.attnum = ANY (f.confkey) AND a.attname = 'coach_id') "
            "FROM pg_constraint AS f WHERE f.contype = 'f' AND f.conindid = %s",
            (index_oid,),
        ).fetchall()
        if not all(with_coach for *_, with_coach in references):
            # A reference on the id alone needs this key as it is; it is checked with the
            # coach first (_keep_within_coach), and the key follows at the next setup.
            continue
        for child, name, *_ in references:
            run(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"')
        run(f'ALTER TABLE public."{table}" DROP CONSTRAINT "{index}"')
        if kind == "p":
            run(f'ALTER TABLE public."{table}" ADD CONSTRAINT "{index}" PRIMARY KEY ({led})')
        elif not _has_unique_on(database, table, {"coach_id", *columns}):
            run(f'ALTER TABLE public."{table}" ADD CONSTRAINT "{index}" UNIQUE ({led})')
        for child, name, definition, _ in references:
            run(f'ALTER TABLE {child} ADD CONSTRAINT "{name}" {definition}')


# What coaches write: free text (titles, summaries, names, addresses), sealed bodies and
# identifiers, but not a choice among a few fixed values (a status, a channel: varchar of
# at most 16 characters), whose statistics tell only how the whole practice divides among
# them. Dates and numbers keep their statistics: without them the planner misjudges
# every date range of the dashboard and the report (a hash join becomes a nested loop
# that grows with the square of the practice).
FREE_TEXT_COLUMN = (
    "a.atttypid IN ('text'::regtype, 'bytea'::regtype) "
    "OR (a.atttypid = 'character varying'::regtype AND a.atttypmod NOT BETWEEN 5 AND 20)"
)


def _hide_statistics(database: PracticeServer) -> None:
    """Keep the planner from gathering statistics on what coaches wrote.

    ANALYZE keeps, per column, the most common values and a histogram over every coach's
    rows; a coach reading EXPLAIN's row estimates for `title = '...'` or `title >= '...'`
    could recover another coach's promise titles, touch summaries and outcomes. Every
    free-text column of a fenced table (FREE_TEXT_COLUMN) that is not a key (primary or
    foreign key, or what a policy keys on) gets a statistics target of 0, and statistics
    already gathered on it are dropped (changing a column to its own type drops them,
    rewriting nothing).
    """
    run = database.execute_sql
    for table, column, target, typed, gathered in run(
        "SELECT c.relname, a.attname, a.attstattarget, format_type(a.atttypid, a.atttypmod), "
        "EXISTS (SELECT 1 FROM pg_stats AS s WHERE s.schemaname = 'public' "
        "        AND s.tablename = c.relname AND s.attname = a.attname) "
        "FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname = ANY (%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = c.oid "
        "    AND k.contype IN ('p', 'f') AND a.attnum = ANY (k.conkey)) "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.classid = 'pg_policy'::regclass "
        "    AND d.refobjid = c.oid AND d.refobjsubid = a.attnum) "
        f"AND ({FREE_TEXT_COLUMN}) "
        "ORDER BY 1, 2",
        (["coach", *FENCED_TABLES],),
    ).fetchall():
        if target != 0:
            run(f'ALTER TABLE public."{table}" ALTER COLUMN "{column}" SET STATISTICS 0')
        if gathered:
            run(f'ALTER TABLE public."{table}" ALTER COLUMN "{column}" TYPE {typed}')


def add_coach(database: peewee.Database, name: str, role: str, email: str = "") -> Coach:
    """A coach of the practice, logging in as `role` (made if the server has no such role)."""
    server = _require_server(database)
    if not name.strip():
        raise StoreError("a coach needs a name")
    quoted = _quote(role)
    if role in (ADMIN_ROLE, COACH_ROLE):
        raise StoreError(f"{role} is one of trustdesk's own roles; choose the coach's login")
    found = _role_exists(server, role)
    if found:
        problem = _unfit_for_coach(server, role)
        if problem:
            raise StoreError(
                f"{role} {problem}; a coach needs a plain login role whose only membership "
                f"is {COACH_ROLE}"
            )
    # As the admin role, which row-level security lets see every coach.
    server.execute_sql(f"SET ROLE {_quote(ADMIN_ROLE)}")
    try:
        if Coach.select().where(Coach.db_role == role).exists():
            raise StoreError(f"{role} is already a coach of this practice")
        server.execute_sql("RESET ROLE")
        with server.atomic():
            if not found:
                server.execute_sql(f"CREATE ROLE {quoted} LOGIN")
            server.execute_sql(f"GRANT {_quote(COACH_ROLE)} TO {quoted}")
            _set_coach_timeouts(server, role)
            server.execute_sql(f"SET LOCAL ROLE {_quote(ADMIN_ROLE)}")
            return Coach.create(
                name=name.strip(), email=email, created_at=config.now(), db_role=role
            )
    finally:
        server.execute_sql("RESET ROLE")


# What makes a role more than a coach: each one would let it past the fences.
_ROLE_POWERS = (
    ("rolsuper", "is a superuser"),
    ("rolbypassrls", "bypasses row-level security"),
    ("rolcreaterole", "can create roles (and so grant itself others)"),
    ("rolcreatedb", "can create databases"),
    ("rolreplication", "can stream replication (a copy of every coach's rows)"),
)


def _unfit_for_coach(database: PracticeServer, role: str) -> str | None:
    """Why an existing role cannot be a coach, or None for a plain login role."""
    run = database.execute_sql
    columns = ", ".join(column for column, _ in _ROLE_POWERS)
    row = run(f"SELECT rolcanlogin, {columns} FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not row[0]:
        return "cannot log in (a built-in or group role)"
    for held, (_, why) in zip(row[1:], _ROLE_POWERS, strict=True):
        if held:
            return why
    (owner,) = run(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    if owner == role:
        return "owns this database"
    parents = [
        name
        for (name,) in run(
            "SELECT g.rolname FROM pg_auth_members AS m JOIN pg_roles AS g ON g.oid = m.roleid "
            "JOIN pg_roles AS r ON r.oid = m.member WHERE r.rolname = %s ORDER BY 1",
            (role,),
        )
        if name != COACH_ROLE
    ]
    if parents:
        return f"is a member of {', '.join(parents)}"
    members = [
        name
        for (name,) in run(
            "SELECT r.rolname FROM pg_auth_members AS m JOIN pg_roles AS g ON g.oid = m.roleid "
            "JOIN pg_roles AS r ON r.oid = m.member WHERE g.rolname = %s ORDER BY 1",
            (role,),
        )
    ]
    if members:
        return f"is granted to other roles: {', '.join(members)} can act as it"
    return None


# --- a coach's own file, brought into the shared practice ------------------------------

JOIN_BATCH = 1000


@dataclass(frozen=True)
class Joined:
    """What a coach's file brought into their share of the practice."""

    clients: int
    notes: int
    recovery_code: str | None = None  # a new one, when the file's notes key came in


class FileKey(Protocol):
    """What join needs of the file's notes key, opened by the vault (see vault.BroughtKey)."""

    def reseal_note(self, old_id, new_id, client_uid, kind, written_on, sealed) -> bytes: ...

    def make_slots(self, coach: Coach) -> str: ...


def join_practice(
    database: peewee.Database,
    source: Path,
    open_key: Callable[[list[dict]], FileKey] | None = None,
) -> Joined:
    """Bring the coach's own SQLite practice into their (empty) share of this one.

    Run as the coach, so every row lands inside their fence. Ids are the practice's own,
    never the file's: each reference is mapped to the new id of the row it pointed at,
    and notes and key slots get new UUIDs too (an id the coach supplied could clash with,
    and so reveal or block, another coach's row). As each sealed body is bound to its
    row's id, `open_key` opens the file's notes key from its slots (with the passphrase
    or recovery code the coach gave) to seal each note anew for its new id, and makes the
    coach's slots afresh. All or nothing.
    """
    server = _require_server(database)
    source = source.expanduser()
    if not source.is_file():
        raise StoreError(f"no trustdesk database at {source}; nothing was brought in")
    held = inspect_backup(source, MIGRATIONS_DIR, doing="nothing was brought in")
    if held.schema != max(known_migrations(MIGRATIONS_DIR)):  # not newer: inspect refuses that
        raise StoreError(
            f"{source} is at an older schema; open it once to bring it up to date "
            f"(trustdesk --db {source} report), then join again"
        )
    conn = sqlite3.connect(f"{source.absolute().as_uri()}?mode=ro", uri=True)
    try:
        conn.execute("BEGIN")  # one snapshot of the file, whatever writes to it meanwhile
        coaches = [r[0] for r in conn.execute("SELECT id FROM coach")]
        if len(coaches) != 1:
            raise StoreError(f"{source} holds {len(coaches)} coaches; join brings in one")
        slots = [
            dict(zip(("id", "kind", "key_id", "wrapped_key", "params"), row, strict=True))
            for row in conn.execute(
                "SELECT id, kind, key_id, wrapped_key, params FROM key_slot WHERE coach_id = ?",
                (coaches[0],),
            )
        ]
        (notes,) = conn.execute(
            "SELECT count(*) FROM note WHERE coach_id = ?", (coaches[0],)
        ).fetchone()
        if notes and (open_key is None or not slots):
            raise StoreError(
                f"{source} holds {notes} sealed notes: bring them in with the passphrase or "
                "recovery code that opens them; nothing was brought in"
            )
        key = open_key(slots) if open_key is not None and slots else None
        coach = current_coach()
        with server.atomic():
            # A second join of the same coach waits here, then finds the share in use. The
            # lock is on the coach's own row, which no other coach can see, let alone lock
            # (an advisory lock's key is open to every coach); it is the lock `init` takes
            # to make a key, so join and init never both fill the share.
            lock_coach(coach, exclusive=True)
            _require_empty_share(coach)
            return _bring(conn, coaches[0], coach, key)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read {source}: {exc}; nothing was brought in") from None
    except KeyError:
        raise StoreError(
            f"{source} has a row that points at one it does not hold; nothing was brought in"
        ) from None
    except (peewee.IntegrityError, peewee.DataError) as exc:
        raise StoreError(
            f"the practice refused a row of {source} ({first_line(exc)}); nothing was brought in"
        ) from None
    finally:
        conn.close()


def _require_empty_share(coach: Coach) -> None:
    held = {
        "clients": Client.select().where(Client.coach == coach).count(),
        "programs": Program.select().where(Program.coach == coach).count(),
        "notes keys": KeySlot.select().where(KeySlot.coach == coach).count(),
    }
    found = ", ".join(f"{n} {what}" for what, n in held.items() if n)
    if found:
        raise StoreError(
            f"your share of this practice already holds {found}; a file can be brought "
            "into a share only before it is used (and before init)"
        )


def _bring(conn: sqlite3.Connection, old_coach: int, coach: Coach, key: FileKey | None) -> Joined:
    new_ids: dict[type[peewee.Model], dict[int, int]] = {}
    client_uids: dict[int, uuid.UUID] = {}
    later: list[tuple[int, int]] = []  # (commitment, the one it was renegotiated from)
    brought: dict[type[peewee.Model], int] = {}
    for model in FENCED_MODELS:
        if model is KeySlot:
            continue  # made anew below, with new ids, by the opened key
        fields = [f for f in model._meta.sorted_fields if f.name != "coach"]
        numbered = isinstance(model._meta.primary_key, peewee.AutoField)
        columns = ", ".join(f'"{f.column_name}"' for f in fields)
        cursor = conn.execute(
            f'SELECT {columns} FROM "{model._meta.table_name}" WHERE coach_id = ? ORDER BY 1',
            (old_coach,),
        )
        mapped = new_ids.setdefault(model, {})
        existing = _existing_prompts(coach) if model is Prompt else {}
        while batch := cursor.fetchmany(JOIN_BATCH):
            old_ids, values = [], []
            for raw in batch:
                row = {f.name: f.python_value(v) for f, v in zip(fields, raw, strict=True)}
                old = row.pop("id") if numbered else row["id"]
                if model is Client:
                    client_uids[old] = row["uid"]
                elif model is Note and key is not None:
                    row["id"] = uuid.uuid4()
                    row["body_sealed"] = key.reseal_note(
                        old,
                        row["id"],
                        client_uids[row["client"]],
                        row["kind"],
                        row["written_on"],
                        row["body_sealed"],
                    )
                if model is Prompt and (row["title"], row["body"]) in existing:
                    mapped[old] = existing[(row["title"], row["body"])]
                    continue
                for f in fields:
                    if isinstance(f, peewee.ForeignKeyField) and row[f.name] is not None:
                        if f.rel_model is model:  # renegotiated from: set once all are in
                            later.append((old, row[f.name]))
                            row[f.name] = None
                        else:
                            row[f.name] = new_ids[f.rel_model][row[f.name]]
                row["coach"] = coach.id
                old_ids.append(old)
                values.append(row)
            if not values:
                continue
            brought[model] = brought.get(model, 0) + len(values)
            insert = model.insert_many(values)
            if numbered:
                # PostgreSQL returns the new ids in the order of the rows inserted.
                made = insert.returning(model._meta.primary_key).tuples().execute()
                mapped.update(zip(old_ids, (r[0] for r in made), strict=True))
            else:
                insert.execute()
    commitments = new_ids[Commitment]
    for old, earlier in later:
        # Linking them is not an edit: the version stays as it was in the file.
        Commitment.update(renegotiated_from=commitments[earlier], version=Commitment.version).where(
            Commitment.id == commitments[old]
        ).execute()
    code = key.make_slots(coach) if key is not None else None
    return Joined(clients=brought.get(Client, 0), notes=brought.get(Note, 0), recovery_code=code)


def _existing_prompts(coach: Coach) -> dict[tuple[str, str], int]:
    """The coach's prompts already here (the library, once the prompts screen opened)."""
    query = Prompt.select(Prompt.title, Prompt.body, Prompt.id).where(Prompt.coach == coach)
    return {(title, body): pid for title, body, pid in query.tuples()}


# --- the coaches of a practice, and a coach leaving it ------------------------------------


@dataclass(frozen=True)
class CoachEntry:
    """A coach of the practice, as its administrator sees them."""

    id: int
    name: str
    email: str
    role: str
    created_at: str
    clients: int
    can_log_in: bool  # the role exists, may log in and still carries trustdesk_coach


def _as_admin(server: PracticeServer, local: bool = False) -> None:
    """Act as trustdesk_admin, which sees every coach's rows; refused to coaches."""
    try:
        server.execute_sql(f"SET {'LOCAL ' if local else ''}ROLE {_quote(ADMIN_ROLE)}")
    except peewee.ProgrammingError:
        raise StoreError(
            f"only the practice's administrator (a member of {ADMIN_ROLE}) can do this; "
            "nothing was changed"
        ) from None


def list_coaches(database: peewee.Database) -> list[CoachEntry]:
    server = _require_server(database)
    _as_admin(server)
    try:
        rows = server.execute_sql(
            "SELECT c.id, c.name, c.email, c.db_role, c.created_at, "
            "(SELECT count(*) FROM public.client AS x WHERE x.coach_id = c.id), "
            "EXISTS (SELECT 1 FROM pg_roles AS r JOIN pg_auth_members AS m ON m.member = r.oid "
            "        WHERE r.rolname = c.db_role AND r.rolcanlogin AND m.roleid = %s::regrole) "
            "FROM public.coach AS c ORDER BY c.name, c.id",
            (COACH_ROLE,),
        ).fetchall()
    finally:
        server.execute_sql("RESET ROLE")
    return [
        CoachEntry(i, name, email, role or "", str(created), clients, bool(can))
        for i, name, email, role, created, clients, can in rows
    ]


@dataclass(frozen=True)
class Removed:
    """What `remove_coach` took out of the practice, and where it was kept."""

    name: str
    clients: int
    notes: int
    kept_in: Path


def remove_coach(database: peewee.Database, role: str, dest: Path) -> Removed:
    """Take a coach out of the practice, after keeping their whole share in a new file.

    One transaction, on one snapshot: the coach's row is locked (so no row of theirs can
    be added meanwhile), every row of theirs is copied into `dest`, a new trustdesk SQLite
    file only its owner can read (their sealed notes and key slots too, so the notes open
    from it with their passphrase or recovery code, and `practice join` can bring it into
    another practice), and only once the file is written and synced are their rows
    deleted, trustdesk_coach taken from the role and its practice settings cleared. So the
    role, if it is ever a coach again, starts from an empty share. All or nothing: on any
    failure the practice is unchanged and the file is removed.
    """
    server = _require_server(database)
    quoted = _quote(role)
    dest = dest.expanduser()
    _create_private_file(dest)
    try:
        with server.atomic():
            # One snapshot for every table read below.
            server.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            _as_admin(server, local=True)
            found = server.execute_sql(
                "SELECT id, name FROM public.coach WHERE db_role = %s FOR UPDATE", (role,)
            ).fetchone()
            if found is None:
                raise StoreError(f"{role} is not a coach of this practice; nothing was removed")
            coach_id, name = found
            counts = _copy_share(server, coach_id, dest)
            server.execute_sql("DELETE FROM public.coach WHERE id = %s", (coach_id,))
            server.execute_sql("RESET ROLE")
            if _role_exists(server, role):
                server.execute_sql(f"REVOKE {_quote(COACH_ROLE)} FROM {quoted}")
                server.execute_sql(
                    f'ALTER ROLE {quoted} IN DATABASE "{_database_name(server)}" RESET ALL'
                )
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    finally:
        server.execute_sql("RESET ROLE")
    return Removed(name=name, clients=counts[Client], notes=counts[Note], kept_in=dest)


def _create_private_file(path: Path) -> None:
    """A new, empty file only its owner can read; never through a link, never over a file."""
    if not path.parent.is_dir():
        raise StoreError(f"cannot write {path}: folder {path.parent} does not exist")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise StoreError(
            f"{path} already exists (or is a link); choose a new name; nothing was removed"
        ) from None
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror}; nothing was removed") from None
    os.close(fd)


def _as_sqlite(value: object) -> object:
    """A value read from PostgreSQL as trustdesk's models keep it in a SQLite file."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return str(value)
    return value


def _copy_share(server: PracticeServer, coach_id: int, dest: Path) -> dict[type, int]:
    """Copy one coach's rows, ids and all, into the empty file at `dest` (a trustdesk
    database at the current schema, holding that coach alone)."""
    mark_as_trustdesk(dest)
    target = peewee.SqliteDatabase(str(dest), pragmas={"foreign_keys": 1})
    try:
        upgrade_schema(target, None, MIGRATIONS_DIR)
    finally:
        target.close()
    counts: dict[type, int] = {}
    conn = sqlite3.connect(dest)
    try:
        with conn:
            for model in ALL_MODELS:
                fields = model._meta.sorted_fields
                columns = ", ".join(f'"{f.column_name}"' for f in fields)
                owner = "id" if model is Coach else "coach_id"
                cursor = server.execute_sql(
                    f'SELECT {columns} FROM public."{model._meta.table_name}" '
                    f"WHERE {owner} = %s ORDER BY 1",
                    (coach_id,),
                )
                insert = (
                    f'INSERT INTO "{model._meta.table_name}" ({columns}) '
                    f"VALUES ({', '.join('?' for _ in fields)})"
                )
                counts[model] = 0
                while batch := cursor.fetchmany(JOIN_BATCH):
                    rows = [tuple(map(_as_sqlite, row)) for row in batch]
                    if model is Coach:  # a file's coach logs in as no role
                        role_at = [f.name for f in fields].index("db_role")
                        rows = [r[:role_at] + (None,) + r[role_at + 1 :] for r in rows]
                    conn.executemany(insert, rows)
                    counts[model] += len(rows)
        problems = conn.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise StoreError(
                f"the copy in {dest} would leave {len(problems)} rows pointing nowhere; "
                "nothing was removed"
            )
    finally:
        conn.close()
    fd = os.open(dest, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return counts
