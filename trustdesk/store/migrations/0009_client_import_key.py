"""Clients gain import_key: which row of an imported spreadsheet made them, unique per coach.

`trustdesk import` checks that no name in the file is a client already, but two imports
of the same file at once both passed that check before either wrote, and every client
was made twice. The key makes the database refuse the second copy of an imported row.
It is set only by the importer: clients added by hand keep NULL, which any number of
rows may share, so two clients with the same name can still be added by hand. It leads
with the coach, as every key of a shared practice does: a uniqueness check looks past
row-level security and must not reach into another coach's rows.
"""


def up(migrator, db):
    db.execute_sql('ALTER TABLE "client" ADD COLUMN "import_key" TEXT')
    db.execute_sql(
        'CREATE UNIQUE INDEX "client_coach_id_import_key" ON "client" ("coach_id", "import_key")'
    )
