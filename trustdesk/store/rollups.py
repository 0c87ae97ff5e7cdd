"""What the dashboard needs of each client's history, kept current by the database itself.

A first paint must read a number of rows set by the screen, not by years of history. So
each client has one `client_rollup` row (schema 0017) holding what the lists and counts
need: the last touch that counts, the last inbound touch, the open promises and the
earliest of them (the client's own too), the earliest session still scheduled and the
last missed one. Database triggers on client, touch, commitment and session recompute
the client's row in the same transaction as every write that changes it, whatever
writes it (a form, the command line, an import, a sync, a practice join, a cascade), so
no code path can forget it. Recomputing from the rows costs a few index probes per
write and cannot drift the way counting up and down could.

On PostgreSQL the triggers run with the admin role's rights (SECURITY DEFINER) and
touch only the row of the client just written, which the coach's own write has already
passed the fence to name; coaches may read their rollups and never write them. Before
recomputing, a trigger locks the rollup row: a second terminal writing to the same client
waits, then recomputes from a fresh snapshot that includes the first one's rows.

Values that depend on the day are kept day-free: the latest counting touch of any date,
the earliest scheduled session of any time. The queries use them when today makes them
exact (a last touch not after today, a next session not before now) and ask the rows
otherwise, which only a touch dated in the future or a session awaiting its outcome
needs.

`rebuild_rollups` recomputes every row from the rows in one statement per table, and
`rollup_drift` says which differ (`trustdesk doctor`). Bulk loaders pause the triggers
(`paused_rollups`) and rebuild once at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import peewee

TABLE = "client_rollup"

# The rollup's columns, each with the aggregate over its source rows (SQL shared by both
# backends; `{t}` is the source table's alias, `{true}` the backend's true).
TOUCH_COLUMNS = {
    "last_touch_on": ("touch", "MAX({t}.occurred_on)", "{t}.counts_for_cadence = {true}"),
    "last_inbound_on": ("touch", "MAX({t}.occurred_on)", "{t}.direction = 'inbound'"),
}
COMMITMENT_COLUMNS = {
    "open_promises": ("commitment", "COUNT(*)", "{t}.status = 'open'"),
    "first_open_due_on": ("commitment", "MIN({t}.due_on)", "{t}.status = 'open'"),
    "first_client_due_on": (
        "commitment",
        "MIN({t}.due_on)",
        "{t}.status = 'open' AND {t}.owner = 'client'",
    ),
}
SESSION_COLUMNS = {
    "sessions_held": ("session", "COUNT(*)", "{t}.status = 'held'"),
    "next_session_at": ("session", "MIN({t}.scheduled_start)", "{t}.status = 'scheduled'"),
    # A session the client missed; one the coach called off late is the coach's doing.
    "last_missed_at": (
        "session",
        "MAX({t}.scheduled_start)",
        "{t}.status IN ('no_show', 'late_cancel') "
        "AND ({t}.cancelled_by IS NULL OR {t}.cancelled_by <> 'coach')",
    ),
}
COLUMNS_BY_TABLE = {
    "touch": TOUCH_COLUMNS,
    "commitment": COMMITMENT_COLUMNS,
    "session": SESSION_COLUMNS,
}
ALL_COLUMNS = {**TOUCH_COLUMNS, **COMMITMENT_COLUMNS, **SESSION_COLUMNS}
# A write to these columns of a source table can change its client's rollup.
WATCHED = {
    "touch": ("coach_id", "client_id", "occurred_on", "counts_for_cadence", "direction"),
    "commitment": ("coach_id", "client_id", "status", "due_on", "owner"),
    "session": ("coach_id", "client_id", "status", "scheduled_start", "cancelled_by"),
}
TRIGGER_PREFIX = "trustdesk_rollup_"
REBUILD_FUNCTION = "trustdesk_rebuild_own_rollups"
DATE_COLUMNS = ("last_touch_on", "last_inbound_on", "first_open_due_on", "first_client_due_on")
TIME_COLUMNS = ("next_session_at", "last_missed_at")


def _postgres(database: peewee.Database) -> bool:
    return isinstance(database, peewee.PostgresqlDatabase)


def _true(database: peewee.Database) -> str:
    return "TRUE" if _postgres(database) else "1"


def _schema(database: peewee.Database) -> str:
    # Every name schema-qualified on a practice: nothing else may stand in for a table.
    return "public." if _postgres(database) else ""


def _value(database: peewee.Database, column: str, coach: str, client: str) -> str:
    """A scalar subquery: `column` recomputed for the client named by two SQL expressions."""
    table, aggregate, condition = ALL_COLUMNS[column]
    t = "src"
    where = condition.format(t=t, true=_true(database))
    agg = aggregate.format(t=t)
    # A practice's indexes lead with the coach (store.practice._lead_with_coach), so the
    # coach is named there; a file's lead with the client, which alone names the rows,
    # and naming the coach too could steer SQLite to an index of every client's rows.
    fence = f"{t}.coach_id = {coach} AND " if _postgres(database) else ""
    return (
        f'(SELECT {agg} FROM {_schema(database)}"{table}" AS {t} '
        f"WHERE {fence}{t}.client_id = {client} AND {where})"
    )


def create_table(database: peewee.Database) -> None:
    """The rollup table, empty. On PostgreSQL its reference to the client is made by the
    fence (`fence_rollups`), on (client_id, coach_id) as every reference of a practice is."""
    stamp = "TIMESTAMP" if _postgres(database) else "DATETIME"
    if _postgres(database):
        refs = ""
    else:
        refs = (
            ', FOREIGN KEY ("coach_id") REFERENCES "coach" ("id") ON DELETE CASCADE'
            ', FOREIGN KEY ("client_id") REFERENCES "client" ("id") ON DELETE CASCADE'
        )
    database.execute_sql(
        f'CREATE TABLE IF NOT EXISTS "{TABLE}" ('
        '"coach_id" INTEGER NOT NULL, "client_id" INTEGER NOT NULL, '
        '"last_touch_on" DATE, "last_inbound_on" DATE, '
        '"open_promises" INTEGER NOT NULL DEFAULT 0, '
        '"first_open_due_on" DATE, "first_client_due_on" DATE, '
        f'"sessions_held" INTEGER NOT NULL DEFAULT 0, '
        f'"next_session_at" {stamp}, "last_missed_at" {stamp}, '
        f'PRIMARY KEY ("coach_id", "client_id"){refs})'
    )


# --- the triggers -----------------------------------------------------------------------------


def _sets(database: peewee.Database, columns, coach: str, client: str) -> str:
    """An UPDATE's SET list recomputing `columns` for the client named by two expressions."""
    return ", ".join(
        f'"{column}" = {_value(database, column, coach, client)}' for column in columns
    )


def _refresh_sql(database: peewee.Database, table: str, row: str) -> str:
    """One UPDATE recomputing the rollup columns fed by `table` for the client of `row`
    (NEW or OLD inside a trigger)."""
    coach, client = f"{row}.coach_id", f"{row}.client_id"
    sets = _sets(database, COLUMNS_BY_TABLE[table], coach, client)
    return (
        f'UPDATE {_schema(database)}"{TABLE}" SET {sets} '
        f"WHERE coach_id = {coach} AND client_id = {client}"
    )


def _sqlite_triggers() -> list[str]:
    made = [
        f'CREATE TRIGGER "{TRIGGER_PREFIX}client" AFTER INSERT ON "client" BEGIN '
        f'INSERT OR IGNORE INTO "{TABLE}" (coach_id, client_id) VALUES (NEW.coach_id, NEW.id); '
        "END"
    ]
    sqlite = peewee.SqliteDatabase(None)
    for table, watched in WATCHED.items():
        new, old = _refresh_sql(sqlite, table, "NEW"), _refresh_sql(sqlite, table, "OLD")
        columns = ", ".join(f'"{c}"' for c in watched)
        made += [
            f'CREATE TRIGGER "{TRIGGER_PREFIX}{table}_insert" AFTER INSERT ON "{table}" '
            f"BEGIN {new}; END",
            f'CREATE TRIGGER "{TRIGGER_PREFIX}{table}_delete" AFTER DELETE ON "{table}" '
            f"BEGIN {old}; END",
            f'CREATE TRIGGER "{TRIGGER_PREFIX}{table}_update" AFTER UPDATE OF {columns} '
            f'ON "{table}" BEGIN {old}; {new}; END',
        ]
    return made


def _postgres_functions(database: peewee.Database) -> list[str]:
    """The trigger functions of a practice, owned by whoever runs setup (the admin role).

    Statement-level, with the rows written as transition tables: a batch of a thousand
    touches (a practice join, an import, a sync) recomputes each client it names once.
    """
    # Each recomputation is a few probes of the client's own index. A bulk write fills
    # tables whose statistics still say "empty", and a plan made on them would scan the
    # whole table for each client: quadratic. With sequential scans off inside the
    # function, the index is used whatever the statistics say.
    header = (
        "RETURNS trigger LANGUAGE plpgsql VOLATILE SECURITY DEFINER "
        "SET search_path = pg_catalog, public SET enable_seqscan = off AS $body$ "
    )
    made = [
        f"CREATE OR REPLACE FUNCTION public.{TRIGGER_PREFIX}client() {header}"
        f"BEGIN INSERT INTO public.{TABLE} (coach_id, client_id) "
        "SELECT n.coach_id, n.id FROM new_rows AS n ON CONFLICT DO NOTHING; "
        "RETURN NULL; END $body$"
    ]
    for table in WATCHED:
        sets = _sets(database, COLUMNS_BY_TABLE[table], "r.coach_id", "r.client_id")
        steps = []
        for when, written in (
            ("TG_OP = 'INSERT'", "SELECT w.coach_id, w.client_id FROM new_rows AS w"),
            ("TG_OP = 'DELETE'", "SELECT w.coach_id, w.client_id FROM old_rows AS w"),
            (
                "TG_OP = 'UPDATE'",
                "SELECT w.coach_id, w.client_id FROM old_rows AS w "
                "UNION SELECT w.coach_id, w.client_id FROM new_rows AS w",
            ),
        ):
            # The rows are locked first, in one order (two writers of the same clients
            # wait rather than deadlock), so the recomputation, a statement of its own,
            # reads with a snapshot taken after any other writer of them committed.
            steps.append(
                f"IF {when} THEN "
                f"PERFORM 1 FROM public.{TABLE} AS r WHERE (r.coach_id, r.client_id) IN "
                f"({written}) ORDER BY r.coach_id, r.client_id FOR UPDATE; "
                f"UPDATE public.{TABLE} AS r SET {sets} "
                f"WHERE (r.coach_id, r.client_id) IN ({written}); "
                "END IF;"
            )
        made.append(
            f"CREATE OR REPLACE FUNCTION public.{TRIGGER_PREFIX}{table}() {header}"
            f"BEGIN {' '.join(steps)} RETURN NULL; END $body$"
        )
    return made


def _postgres_triggers() -> list[str]:
    function = f"EXECUTE FUNCTION public.{TRIGGER_PREFIX}"
    made = [
        f'CREATE TRIGGER "{TRIGGER_PREFIX}client" AFTER INSERT ON public."client" '
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT {function}client()"
    ]
    for table in WATCHED:
        # A trigger with transition tables takes one event and no column list.
        for event, tables in (
            ("insert", "NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ):
            made.append(
                f'CREATE TRIGGER "{TRIGGER_PREFIX}{table}_{event}" AFTER {event.upper()} '
                f'ON public."{table}" REFERENCING {tables} FOR EACH STATEMENT '
                f"{function}{table}()"
            )
    return made


def _trigger_tables() -> tuple[str, ...]:
    return ("client", *WATCHED)


def drop_triggers(database: peewee.Database) -> None:
    """Take the rollup triggers away (a bulk load; or before making them again)."""
    run = database.execute_sql
    if _postgres(database):
        for table in _trigger_tables():
            for (name,) in run(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND starts_with(tgname, %s)",
                (f'public."{table}"', TRIGGER_PREFIX),
            ).fetchall():
                run(f'DROP TRIGGER "{name}" ON public."{table}"')
        return
    for (name,) in run(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, ?) = ?",
        (len(TRIGGER_PREFIX), TRIGGER_PREFIX),
    ).fetchall():
        run(f'DROP TRIGGER "{name}"')


def install_triggers(database: peewee.Database) -> None:
    """Make the rollup triggers as this version of trustdesk writes them; safe to repeat."""
    drop_triggers(database)
    if _postgres(database):
        statements = [*_postgres_functions(database), *_postgres_triggers()]
        for name in _trigger_tables():
            statements.append(f"REVOKE ALL ON FUNCTION public.{TRIGGER_PREFIX}{name}() FROM PUBLIC")
    else:
        statements = _sqlite_triggers()
    for statement in statements:
        database.execute_sql(statement)


def has_triggers(database: peewee.Database) -> bool:
    """Whether every rollup trigger is there: one on client, and on each source table one
    per event (insert, delete, update), on either backend."""
    if _postgres(database):
        sql = "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND starts_with(tgname, %s)"
        args: tuple = (TRIGGER_PREFIX,)
    else:
        sql = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND substr(name, 1, ?) = ?"
        args = (len(TRIGGER_PREFIX), TRIGGER_PREFIX)
    (n,) = database.execute_sql(sql, args).fetchone()
    return int(n) == 1 + 3 * len(WATCHED)


def fence_rollups(database: peewee.Database, coach_role: str, quote) -> None:
    """On a practice: coaches read their own rollups and never write them; the rollup
    follows its client (reference on client and coach); the triggers are made again."""
    run = database.execute_sql
    coach = quote(coach_role)
    own_id = "(SELECT c.id FROM public.coach AS c WHERE c.db_role = current_user)"
    run(f"ALTER TABLE public.{TABLE} ENABLE ROW LEVEL SECURITY")
    run(f"ALTER TABLE public.{TABLE} FORCE ROW LEVEL SECURITY")
    run(f"DROP POLICY IF EXISTS own_rows ON public.{TABLE}")
    run(
        f"CREATE POLICY own_rows ON public.{TABLE} FOR SELECT TO {coach} "
        f"USING (coach_id = {own_id})"
    )
    run(f"REVOKE ALL ON public.{TABLE} FROM {coach}")
    run(f"GRANT SELECT ON public.{TABLE} TO {coach}")
    for name, parent, columns, parent_columns in (
        (f"{TABLE}_client_same_coach", "client", "client_id, coach_id", "id, coach_id"),
        (f"{TABLE}_coach", "coach", "coach_id", "id"),
    ):
        if not run("SELECT 1 FROM pg_constraint WHERE conname = %s", (name,)).fetchone():
            run(
                f'ALTER TABLE public.{TABLE} ADD CONSTRAINT "{name}" FOREIGN KEY ({columns}) '
                f'REFERENCES public."{parent}" ({parent_columns}) ON DELETE CASCADE'
            )
    install_triggers(database)
    # The one way a coach rebuilds rollups: their own, found by the login role as the
    # delete functions find them (store.practice._delete_functions).
    run(
        f"CREATE OR REPLACE FUNCTION public.{REBUILD_FUNCTION}() RETURNS integer "
        "LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public "
        "AS $body$ DECLARE own integer; made integer; BEGIN "
        "SELECT c.id INTO own FROM public.coach AS c WHERE c.db_role = session_user; "
        "IF own IS NULL THEN RETURN 0; END IF; "
        f"DELETE FROM public.{TABLE} WHERE coach_id = own; "
        f"INSERT INTO public.{TABLE} ({_column_list()}) "
        f"{_recomputed(database, None)} WHERE c.coach_id = own; "
        "GET DIAGNOSTICS made = ROW_COUNT; RETURN made; END $body$"
    )
    run(f"REVOKE ALL ON FUNCTION public.{REBUILD_FUNCTION}() FROM PUBLIC")
    run(f"GRANT EXECUTE ON FUNCTION public.{REBUILD_FUNCTION}() TO {coach}")


# --- rebuilding and checking ------------------------------------------------------------------


def _column_list() -> str:
    return ", ".join(f'"{c}"' for c in ("coach_id", "client_id", *ALL_COLUMNS))


def _recomputed(database: peewee.Database, coach_id: int | None) -> str:
    """A SELECT of every client's rollup as the rows say it should be."""
    values = ", ".join(
        f'{_value(database, column, "c.coach_id", "c.id")} AS "{column}"' for column in ALL_COLUMNS
    )
    where = "" if coach_id is None else f" WHERE c.coach_id = {int(coach_id)}"
    return (
        f"SELECT c.coach_id, c.id AS client_id, {values} "
        f'FROM {_schema(database)}"client" AS c{where}'
    )


def rebuild_rollups(database: peewee.Database, coach_id: int | None = None) -> int:
    """Recompute every rollup (of one coach, or all) from the rows; returns how many.

    Runs in one transaction: a dashboard reading meanwhile sees the old rows or the new.
    """
    where = "" if coach_id is None else f" WHERE coach_id = {int(coach_id)}"
    columns = _column_list()
    with database.atomic():
        database.execute_sql(f'DELETE FROM "{TABLE}"{where}')
        database.execute_sql(f'INSERT INTO "{TABLE}" ({columns}) {_recomputed(database, coach_id)}')
        (n,) = database.execute_sql(f'SELECT count(*) FROM "{TABLE}"{where}').fetchone()
    return int(n)


def rebuild_own_rollups(database: peewee.Database, coach_id: int) -> int:
    """Rebuild one coach's rollups: directly on a file, through the practice's function
    (which rebuilds the logged-in coach's, and theirs only) on PostgreSQL; the triggers
    are made again on a file where they went missing."""
    if not _postgres(database):
        with database.atomic():
            if not has_triggers(database):
                install_triggers(database)
            return rebuild_rollups(database, coach_id)
    with database.atomic():
        (made,) = database.execute_sql(f"SELECT public.{REBUILD_FUNCTION}()").fetchone()
    return int(made or 0)


@dataclass(frozen=True)
class RollupDrift:
    """One client whose rollup differs from their rows: what is kept and what should be."""

    coach_id: int
    client_id: int
    column: str  # "row" when the rollup row itself is missing or left over
    kept: object
    expected: object


def _normal(column: str, value: object) -> object:
    if value is None:
        return None
    if column in DATE_COLUMNS:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value)[:10])
    if column in TIME_COLUMNS:
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        return dt.datetime.fromisoformat(str(value))
    return int(value)


def rollup_drift(database: peewee.Database, coach_id: int | None = None) -> list[RollupDrift]:
    """Every difference between the kept rollups and the rows, client by client."""
    columns = tuple(ALL_COLUMNS)
    where = "" if coach_id is None else f" WHERE coach_id = {int(coach_id)}"
    names = ", ".join(f'"{c}"' for c in columns)
    kept = {
        (row[0], row[1]): row[2:]
        for row in database.execute_sql(
            f'SELECT coach_id, client_id, {names} FROM "{TABLE}"{where}'
        ).fetchall()
    }
    drift: list[RollupDrift] = []
    for row in database.execute_sql(_recomputed(database, coach_id)).fetchall():
        key, expected = (row[0], row[1]), row[2:]
        have = kept.pop(key, None)
        if have is None:
            drift.append(RollupDrift(key[0], key[1], "row", None, "missing"))
            continue
        for column, old, new in zip(columns, have, expected, strict=True):
            if _normal(column, old) != _normal(column, new):
                drift.append(
                    RollupDrift(key[0], key[1], column, _normal(column, old), _normal(column, new))
                )
    for (coach, client), _ in sorted(kept.items()):
        drift.append(RollupDrift(coach, client, "row", "left over", None))
    return sorted(drift, key=lambda d: (d.coach_id, d.client_id, d.column))


@contextmanager
def paused_rollups(database: peewee.Database) -> Iterator[None]:
    """For a bulk load: no trigger per row while the block writes; every rollup rebuilt
    and the triggers made again when it is done (in the caller's transaction, if any)."""
    drop_triggers(database)
    try:
        yield
    finally:
        install_triggers(database)
    rebuild_rollups(database)
