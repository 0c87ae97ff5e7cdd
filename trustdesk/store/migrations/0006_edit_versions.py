"""Programs, their stages and the coach's prompts gain a version, as the records of
0004 did: an edit made from an older copy (another window, another terminal) is
refused and offered again over what was saved, never written over it.
"""

VERSIONED_TABLES = ("program", "stage", "prompt")


def up(migrator, db):
    for table in VERSIONED_TABLES:
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1')
