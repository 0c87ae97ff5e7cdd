"""Touches gain source and message_id: contact that logs itself from mail on the server.

`source` says where a touch came from: '' for one the coach logged (every existing touch),
'mail' for one `trustdesk mail sync` read from a message, 'sent' for a prompt trustdesk
sent by email. `message_id` is that message's Message-ID (or, for a message without one,
a hash of its headers): unique per coach and client, so reading the same mail twice, or
from two terminals at once, logs one touch per message per client, and a reply can find
the prompt it answers by the Message-ID it names. NULL for touches typed by hand, which
a unique index lets be many. On a practice, `trustdesk practice setup` runs this and
grants the new columns to coaches with the others.
"""


def up(migrator, db):
    run = db.execute_sql
    run('ALTER TABLE "touch" ADD COLUMN "source" VARCHAR(16) NOT NULL DEFAULT \'\'')
    run('ALTER TABLE "touch" ADD COLUMN "message_id" TEXT')
    run(
        'CREATE UNIQUE INDEX "touch_coach_id_client_id_message_id" '
        'ON "touch" ("coach_id", "client_id", "message_id")'
    )
