"""Coaches gain the database role they log in as, for a shared PostgreSQL practice.

Row-level security finds the coach whose `db_role` is the connected role and lets that
role see only rows with that coach's id. In a SQLite file, which holds one coach, the
column stays empty.
"""


def up(migrator, db):
    db.execute_sql('ALTER TABLE "coach" ADD COLUMN "db_role" TEXT')
    db.execute_sql('CREATE UNIQUE INDEX "coach_db_role" ON "coach" ("db_role")')
