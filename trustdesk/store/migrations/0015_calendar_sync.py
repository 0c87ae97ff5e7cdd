"""Sessions gain calendar_key, and calendar sources remember what they held: sessions that
come from the coach's calendar (`trustdesk calendar sync`).

`session.calendar_key` names the calendar event a session is: the event's UID, with the
day of the occurrence for a recurring one. NULL for sessions scheduled by hand, which a
unique index lets be many. Unique per coach and client: reading the same calendar twice,
or from two terminals at once, makes one session per event per client, and a group event
makes one session for each client on it.

`calendar_source` keeps, per coach and calendar (an .ics file or a vdir folder), what the
last sync found there: each file's size and modification time, so an unchanged file is
not read again, and the sessions each event gave, so an event deleted from the calendar
cancels its sessions still to come. Its row is also what two syncs of one calendar take
turns on. On a practice, `trustdesk practice setup` runs this, fences the new table like
every other and grants the new columns to coaches.
"""

from peewee import *


def up(migrator, db):
    run = db.execute_sql
    run('ALTER TABLE "session" ADD COLUMN "calendar_key" TEXT')
    run(
        'CREATE UNIQUE INDEX "session_coach_id_client_id_calendar_key" '
        'ON "session" ("coach_id", "client_id", "calendar_key")'
    )

    class Coach(Model):
        class Meta:
            database = db
            table_name = "coach"

    class CalendarSource(Model):
        coach = ForeignKeyField(Coach, on_delete="CASCADE")
        path = TextField()
        mark = TextField(default="{}")
        synced_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "calendar_source"
            indexes = ((("coach", "path"), True),)

    db.create_tables([CalendarSource])
