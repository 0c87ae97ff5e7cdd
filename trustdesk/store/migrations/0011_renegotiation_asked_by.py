"""Promises gain asked_by: who asked for a renegotiation, the client or the coach.

An early, honest renegotiation is part of keeping one's word; counting them needs to know
who asked as well as when (a renegotiated promise already keeps the day it was moved, in
done_on, and its old due date). Existing rows, renegotiated or not, keep '' (not known).
On a practice, `trustdesk practice setup` runs this and grants the new column to coaches
with the others (the column grants are made from the model's fields).
"""


def up(migrator, db):
    db.execute_sql(
        'ALTER TABLE "commitment" ADD COLUMN "asked_by" VARCHAR(8) NOT NULL DEFAULT \'\''
    )
