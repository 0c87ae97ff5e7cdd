"""A held session is contact: touches gain session_id, the held session they are, and
sessions gain cancelled_by, who called a cancelled one off (client or coach).

Until now a coach who held a session still read "quiet" unless they also logged a touch
for it. From here on, marking a session held writes one counted touch linked to it (and
taking the "held" back takes the touch with it). The link is unique per coach and
session, so two terminals holding the same session at once cannot make two; it leads
with the coach, as every key of a shared practice does. Deleting a session deletes its
touch.

Sessions already held are brought in line here, so an upgraded practice reads the way a
new one does: where a held session's client already has an unlinked "session" touch on
the day it was held (the touch a coach logged by hand, or an older demo wrote), that
touch becomes the session's; otherwise a counted outbound "session" touch is written for
it. Nothing is counted twice, and no touch a coach wrote is changed but for the link.
"""

import datetime as dt

import peewee

SUMMARY = "Session held"


def _day(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def up(migrator, db):
    postgres = isinstance(db, peewee.PostgresqlDatabase)
    run = db.execute_sql
    run('ALTER TABLE "session" ADD COLUMN "cancelled_by" VARCHAR(8)')
    if postgres:
        # A practice's keys lead with the coach, so the reference is made by `practice
        # setup` right after this, on (session_id, coach_id) with ON DELETE CASCADE
        # (store.practice._keep_within_coach), as every reference of a practice is.
        run('ALTER TABLE "touch" ADD COLUMN "session_id" INTEGER')
    else:
        run(
            'ALTER TABLE "touch" ADD COLUMN "session_id" INTEGER '
            'REFERENCES "session" ("id") ON DELETE CASCADE'
        )
    run('CREATE UNIQUE INDEX "touch_coach_id_session_id" ON "touch" ("coach_id", "session_id")')

    mark = "%s" if postgres else "?"
    held = run(
        'SELECT "id", "coach_id", "client_id", "actual_start", "scheduled_start" '
        'FROM "session" WHERE "status" = \'held\' ORDER BY "id"'
    ).fetchall()
    if not held:
        return
    # Unlinked "session" touches by (client, day), oldest first: each is taken once.
    loose: dict[tuple[int, dt.date], list[int]] = {}
    for touch_id, client_id, day in run(
        'SELECT "id", "client_id", "occurred_on" FROM "touch" '
        'WHERE "channel" = \'session\' AND "session_id" IS NULL ORDER BY "id"'
    ).fetchall():
        loose.setdefault((client_id, _day(day)), []).append(touch_id)
    links: list[tuple[int, int]] = []
    new: list[tuple] = []
    for session_id, coach_id, client_id, actual, scheduled in held:
        day = _day(actual if actual is not None else scheduled)
        found = loose.get((client_id, day))
        if found:
            links.append((session_id, found.pop(0)))
        else:
            new.append((coach_id, client_id, day, session_id))
    cursor = db.cursor()
    if links:
        cursor.executemany(f'UPDATE "touch" SET "session_id" = {mark} WHERE "id" = {mark}', links)
    if new:
        marks = ", ".join([mark] * 4)
        cursor.executemany(
            'INSERT INTO "touch" ("coach_id", "client_id", "occurred_on", "session_id", '
            '"channel", "direction", "counts_for_cadence", "summary", "version") '
            f"VALUES ({marks}, 'session', 'outbound', {'TRUE' if postgres else '1'}, "
            f"'{SUMMARY}', 1)",
            new,
        )
