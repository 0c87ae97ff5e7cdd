"""A new practice database written in one go: a million rows in seconds, never half there.

The demo (and the benchmarks through it) builds practices of up to a million touches.
Row-by-row inserts through the models would take minutes, so rows go in as tuples, in
batches, through one INSERT per table that is built here from the models themselves.
The file is private to the build until it is complete, which is what makes the fast,
unsafe settings below harmless: a crash throws the file away, and the place the coach
opens is never touched until the finished file is linked there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import peewee

from trustdesk.store.database import (
    HISTORY_TABLE,
    StoreError,
    mark_as_trustdesk,
    new_private_file,
    open_database,
    private_sidecars,
)
from trustdesk.store.models import db
from trustdesk.store.rollups import paused_rollups

# Left to the database: a row's version starts at 1, a file's coach has no login role,
# and a built client was not imported (no import key).
DATABASE_FILLS = frozenset({"version", "db_role", "import_key"})

BATCH_ROWS = 50_000


def row_columns(model: type[peewee.Model]) -> tuple[str, ...]:
    """The fields a bulk row gives, in order: every one but those the database fills."""
    return tuple(n for n in model._meta.sorted_field_names if n not in DATABASE_FILLS)


def _insert_sql(model: type[peewee.Model], param: str) -> str:
    fields = model._meta.fields
    names = row_columns(model)
    columns = ", ".join(f'"{fields[n].column_name}"' for n in names)
    marks = ", ".join(param for _ in names)
    return f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'


class BulkWriter:
    """Rows waiting per table, written in batches, parents before children.

    A row is a tuple in `row_columns(model)` order. Hot paths append to `waiting(model)`
    themselves and call `flush` when a batch is full; the rest use `add` and `row`.
    """

    def __init__(
        self,
        database: peewee.Database,
        order: Sequence[type[peewee.Model]],
        *,
        batch_rows: int = BATCH_ROWS,
    ) -> None:
        self.database = database
        self.order = tuple(order)
        self.batch_rows = batch_rows
        self.counts: dict[type[peewee.Model], int] = {model: 0 for model in self.order}
        self._waiting: dict[type[peewee.Model], list[tuple]] = {m: [] for m in self.order}
        self._sql = {m: _insert_sql(m, database.param) for m in self.order}

    def row(self, model: type[peewee.Model], **values) -> tuple:
        """A row from named values; for the few rows that are not hot."""
        return tuple(values[name] for name in row_columns(model))

    def waiting(self, model: type[peewee.Model]) -> list[tuple]:
        return self._waiting[model]

    def add(self, model: type[peewee.Model], row: tuple) -> None:
        rows = self._waiting[model]
        rows.append(row)
        if len(rows) >= self.batch_rows:
            self.flush(model)

    def flush(self, upto: type[peewee.Model] | None = None) -> None:
        """Write waiting rows, parents first: a batch of touches may name a waiting client."""
        for model in self.order:
            rows = self._waiting[model]
            if rows:
                self.database.cursor().executemany(self._sql[model], rows)
                self.counts[model] += len(rows)
                rows.clear()
            if model is upto:
                return


@contextmanager
def new_database_built(dest: Path) -> Iterator[peewee.Database]:
    """A new, empty, up-to-date SQLite practice to fill, that appears at `dest` when done.

    The block's writes run in one transaction; if it raises, nothing appears at `dest`
    and nothing is left beside it. The models' proxy points at the new database inside
    the block and is put back as it was found afterwards.
    """
    previous = db.obj
    try:
        with new_private_file(dest) as partial:
            mark_as_trustdesk(partial)
            database = open_database(partial)
            try:
                _fast_writing(database)
                with database.atomic():
                    # Rows go in without a trigger each; every rollup is made at the end.
                    with paused_rollups(database):
                        yield database
                database.execute_sql("ANALYZE")
                _safe_writing(database)
            finally:
                database.close()
            leftovers = [p for p in private_sidecars(partial)[1:] if p.exists()]
            if leftovers:
                raise StoreError(f"building {dest} left {leftovers[0].name} behind; try again")
    finally:
        db.initialize(previous)


def stamp_schema_history(database: peewee.Database, applied: str) -> None:
    """Date every applied migration `applied`, so a built file depends on nothing else."""
    database.execute_sql(f'UPDATE "{HISTORY_TABLE}" SET applied = {database.param}', (applied,))


def _fast_writing(database: peewee.Database) -> None:
    """Fast, unsafe writing while the file is private to the build."""
    for pragma in (
        "journal_mode = memory",
        "synchronous = off",
        "cache_size = -262144",
        "temp_store = memory",
    ):
        database.execute_sql(f"PRAGMA {pragma}")


def _safe_writing(database: peewee.Database) -> None:
    """Back to the settings every other open of the file uses."""
    for pragma in (
        f"journal_mode = {database.safe_journal}",
        "synchronous = normal",
        "cache_size = -2000",
        "temp_store = default",
    ):
        database.execute_sql(f"PRAGMA {pragma}")
