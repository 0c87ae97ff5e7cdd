"""Clients gain an identity (a UUID) that their notes' seals bind, with the note's kind
and date, so a note moved to another client, kind or date no longer opens.

The numbered id cannot serve: `practice join` renumbers rows. Existing clients are given
a random UUID here; it is unique per coach (a uniqueness check on the UUID alone would
look past row-level security into other coaches' rows). Existing notes keep opening in
their old format until the coach re-seals them (`trustdesk key reseal`, or a rotation).
"""

import uuid

import peewee


def up(migrator, db):
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql('ALTER TABLE "client" ADD COLUMN "uid" UUID')
        db.execute_sql('UPDATE "client" SET "uid" = gen_random_uuid()')
        db.execute_sql('ALTER TABLE "client" ALTER COLUMN "uid" SET NOT NULL')
    else:
        # SQLite adds a column in place only without a computed default; peewee fills it in.
        db.execute_sql('ALTER TABLE "client" ADD COLUMN "uid" VARCHAR(40)')
        ids = [row[0] for row in db.execute_sql('SELECT "id" FROM "client"')]
        for client_id in ids:
            db.execute_sql(
                'UPDATE "client" SET "uid" = ? WHERE "id" = ?', (uuid.uuid4().hex, client_id)
            )
    db.execute_sql('CREATE UNIQUE INDEX "client_coach_id_uid" ON "client" ("coach_id", "uid")')
