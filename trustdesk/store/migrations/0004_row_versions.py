"""Records a coach edits in a form gain a version, so an edit made from an older copy is
refused instead of overwriting what was saved in the meantime (another window, another
terminal). Existing rows start at version 1; the column is added in place, with no
table rebuild, on SQLite and PostgreSQL alike.
"""

VERSIONED_TABLES = ("session", "commitment", "touch", "outcome", "note")


def up(migrator, db):
    for table in VERSIONED_TABLES:
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1')
