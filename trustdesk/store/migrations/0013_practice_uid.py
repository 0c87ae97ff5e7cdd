"""The practice gains an identity: a one-row table holding a random UUID.

A calendar file's event UIDs must be unique across every practice a calendar ever
subscribes to, and stay the same from one export to the next so that an updated event
replaces the one before it. Row ids repeat from one practice to another (every SQLite
file numbers from 1), so each UID carries this UUID as well. A backup copies the row,
so a restored practice is the same practice. The row belongs to no coach: on a shared
practice it is made by the administrator's `practice setup`, which then lets coaches
read it and no more (store/practice.py _fence). The CHECK keeps it to one row.
"""

import uuid

import peewee


def up(migrator, db):
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql(
            'CREATE TABLE "practice" ("id" INTEGER NOT NULL PRIMARY KEY CHECK ("id" = 1), '
            '"uid" UUID NOT NULL)'
        )
        db.execute_sql('INSERT INTO "practice" ("id", "uid") VALUES (1, gen_random_uuid())')
    else:
        db.execute_sql(
            'CREATE TABLE "practice" ("id" INTEGER NOT NULL PRIMARY KEY CHECK ("id" = 1), '
            '"uid" VARCHAR(40) NOT NULL)'
        )
        db.execute_sql('INSERT INTO "practice" ("id", "uid") VALUES (1, ?)', (uuid.uuid4().hex,))
