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
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import peewee

from trustdesk import config
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
)

ADMIN_ROLE = "trustdesk_admin"
COACH_ROLE = "trustdesk_coach"
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# The first release whose ON DELETE SET NULL can leave the coach column of a two-column
# reference alone; PostgreSQL 14 and older are out of support.
OLDEST_SERVER = 150000

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
    for field in SAME_COACH_REFERENCES:
        _keep_within_coach(database, field)
    run(f'GRANT SELECT ON "{HISTORY_TABLE}" TO {coach}')
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
    run(f'GRANT SELECT, DELETE ON public."{table}" TO {coach}')
    run(f'GRANT INSERT ({columns}), UPDATE ({columns}) ON public."{table}" TO {coach}')


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
    if not run("SELECT 1 FROM pg_constraint WHERE conname = %s", (unique,)).fetchone():
        run(f'ALTER TABLE public."{parent}" ADD CONSTRAINT "{unique}" UNIQUE (id, coach_id)')
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


# --- a coach's own file, brought into the shared practice ------------------------------

JOIN_BATCH = 1000
JOIN_LOCK = 0x7D_0000_0000  # advisory lock keys of `practice join`: this plus the coach's id


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
            # A second join of the same coach waits here, then finds the share in use.
            server.execute_sql("SELECT pg_advisory_xact_lock(%s)", (JOIN_LOCK + coach.id,))
            # The lock `init` takes to make a key: join and init never both fill the share.
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
