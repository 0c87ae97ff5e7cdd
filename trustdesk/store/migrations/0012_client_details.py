"""Clients become records a coach edits: a version, so an edit made from an older copy
(another window, another terminal) is refused instead of overwriting what was saved in
the meantime, as 0004 and 0006 did for the other edited records; the emails and phone
numbers beyond the first (one a line: the first, in `email` and `phone`, is the one
used); and how the client likes to be reached. Every column is added in place with a
constant default, no table rebuild, on SQLite and PostgreSQL alike. On a practice,
`practice setup` applies it and then grants the new columns to coaches (_grant_rows
reads the model's fields) and remakes the client's delete function with a version.
"""


def up(migrator, db):
    for column in ("more_emails", "more_phones", "contact_preferences"):
        db.execute_sql(f'ALTER TABLE "client" ADD COLUMN "{column}" TEXT NOT NULL DEFAULT \'\'')
    db.execute_sql('ALTER TABLE "client" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1')
