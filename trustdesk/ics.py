"""A calendar file a calendar can subscribe to: the coach's sessions and promises.

Written with `icalendar`, so any calendar reads it. It is made to be exported again and
again (a cron job refreshing a file a calendar subscribes to), so it stays right from one
export to the next:

- Session times are the coach's wall-clock times, kept without a zone; here they carry
  the coach's time zone (TZID, the `time_zone` setting, the system's by default) with a
  VTIMEZONE for it, so every calendar reads 09:30 as 09:30 where the coach is.
- Every event and to-do keeps its UID from one export to the next, and UIDs never repeat
  between practices; SEQUENCE grows with each change, so the newer copy wins.
- What is called off stays in the file for RECENT_DAYS as STATUS:CANCELLED: a
  subscribed calendar keeps whatever simply disappears, so it has to be told.

Text values never hold control characters (RFC 5545 does not allow them): they are shown
as escapes, the way every screen shows them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Todo

from trustdesk import __version__
from trustdesk.literal import visible
from trustdesk.store.models import Client, Coach, Commitment, Session, practice_uid
from trustdesk.store.states import PromiseState, SessionStatus

# How far back the file reaches. A subscribed calendar shows what the file holds, so
# sessions of the past month stay (held ones too, as they happened: the coach's diary
# of last week should not empty itself), and a session called off or a promise closed
# in that time stays long enough, marked so, for every calendar to see it go.
RECENT_DAYS = 30

CALLED_OFF = {
    SessionStatus.CANCELLED: "Cancelled",
    SessionStatus.LATE_CANCEL: "Cancelled late",
    SessionStatus.NO_SHOW: "No-show",
}
TODO_STATUS = {
    PromiseState.OPEN: "NEEDS-ACTION",
    PromiseState.DONE: "COMPLETED",
    PromiseState.DROPPED: "CANCELLED",
}


def _uid(kind: str, row_id: int, practice: uuid.UUID) -> str:
    """The same for the same row of the same practice, export after export; different in
    any other practice. A name made from the practice's id and the row's, not the ids
    themselves: on a shared practice ids are numbered across every coach, and a file put
    where a calendar can fetch it should not show how far that numbering has gone.
    """
    return f"{kind}-{uuid.uuid5(practice, f'{kind} {row_id}')}@trustdesk"


def practice_calendar(
    coach: Coach,
    today: dt.date,
    *,
    time_zone: str = "UTC",
    alarm_minutes: int = 0,
    now: dt.datetime | None = None,
) -> Calendar:
    """The coach's sessions from RECENT_DAYS back on, open promises and recently closed ones.

    `time_zone` is the IANA name of the zone session times are kept in; `alarm_minutes`,
    when above 0, puts a reminder that long before each session still to come. `now`,
    the coach's wall-clock time, tells which sessions are still to come.
    """
    zone = ZoneInfo(time_zone)
    now = now or dt.datetime.combine(today, dt.time.min)
    practice = practice_uid()
    calendar = Calendar()
    calendar.add("prodid", f"-//trustdesk//trustdesk {__version__}//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"trustdesk: {visible(coach.name)}")
    calendar.add("x-wr-timezone", time_zone)
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0)
    since = today - dt.timedelta(days=RECENT_DAYS)
    days: list[dt.date] = [today]

    sessions = (
        Session.select(Session, Client.name)
        .join(Client)
        .where(
            (Session.coach == coach)
            & (Session.scheduled_start >= dt.datetime.combine(since, dt.time.min))
        )
        .order_by(Session.scheduled_start, Session.id)
    )
    for session in sessions:
        start = session.scheduled_start.replace(tzinfo=zone)
        # Minutes that pass, not minutes on the clock: an evening session over a change
        # of the clocks ends when it ends.
        length = dt.timedelta(minutes=session.duration_minutes)
        end = (start.astimezone(dt.UTC) + length).astimezone(zone)
        name = visible(session.client.name)
        event = Event()
        event.add("uid", _uid("session", session.id, practice))
        event.add("dtstamp", stamp)
        event.add("sequence", session.version - 1)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", f"Coaching session: {name}")
        event.add("categories", ["coaching session"])
        called_off = CALLED_OFF.get(SessionStatus(session.status))
        if called_off:
            event.add("status", "CANCELLED")
            who = f" by the {session.cancelled_by}" if session.cancelled_by else ""
            event.add("description", f"{called_off}{who}")
            event.add("transp", "TRANSPARENT")
        else:
            event.add("status", "CONFIRMED")
            if session.status == SessionStatus.HELD:
                event.add("description", "Held")
        if (
            alarm_minutes
            and session.status == SessionStatus.SCHEDULED
            and session.scheduled_start > now
        ):
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", -dt.timedelta(minutes=alarm_minutes))
            alarm.add("description", f"Coaching session with {name} in {alarm_minutes} min")
            event.add_component(alarm)
        calendar.add_component(event)
        days += [start.date(), end.date()]

    for todo in _promises(coach, since, zone, practice, stamp):
        calendar.add_component(todo)
    # Only the zone's rules for the days the file covers: a calendar needs no more.
    calendar.add_missing_timezones(
        first_date=min(days) - dt.timedelta(days=1), last_date=max(days) + dt.timedelta(days=2)
    )
    return calendar


def _promises(
    coach: Coach, since: dt.date, zone: ZoneInfo, practice: uuid.UUID, stamp: dt.datetime
) -> list[Todo]:
    """Open promises, and those kept or dropped since `since`, as to-dos.

    A renegotiated promise is closed and a new one opened with the new due date; to a
    calendar they are one to-do whose due date moved. So each to-do is named after the
    first promise of its line (its UID), and its SEQUENCE counts every change made to
    any promise of the line, which only ever grows (undoing a renegotiation changes the
    first promise once more). The renegotiated ones are not written themselves.
    """
    moved: dict[int, int | None] = {}
    versions: dict[int, int] = {}
    for row_id, earlier, version in (
        Commitment.select(Commitment.id, Commitment.renegotiated_from, Commitment.version)
        .where((Commitment.coach == coach) & (Commitment.status == PromiseState.RENEGOTIATED))
        .tuples()
    ):
        moved[row_id], versions[row_id] = earlier, version
    promises = (
        Commitment.select(Commitment, Client.name)
        .join(Client)
        .where(
            (Commitment.coach == coach)
            & (
                (Commitment.status == PromiseState.OPEN)
                | (
                    Commitment.status.in_([PromiseState.DONE, PromiseState.DROPPED])
                    & (Commitment.done_on >= since)
                )
            )
        )
        .order_by(Commitment.due_on, Commitment.id)
    )
    todos = []
    for promise in promises:
        first, changes, line = promise.id, promise.version - 1, []
        earlier = promise.renegotiated_from_id
        while earlier is not None and earlier in versions and earlier not in line:
            line.append(earlier)
            first, changes = earlier, changes + versions[earlier] - 1
            earlier = moved.get(earlier)
        name, title = visible(promise.client.name), visible(promise.title)
        status = PromiseState(promise.status)
        if promise.owner == "coach":
            summary = f"You promised {name}: {title}"
        else:
            summary = f"{name} promised: {title}"
        todo = Todo()
        todo.add("uid", _uid("promise", first, practice))
        todo.add("dtstamp", stamp)
        todo.add("sequence", changes)
        todo.add("summary", summary)
        details = [summary, f"Promised on {promise.promised_on.isoformat()}"]
        if line:
            details.append(f"Due date moved {len(line)} time{'s' if len(line) > 1 else ''}")
        if promise.done_on is not None and status is not PromiseState.OPEN:
            closed = "Kept" if status is PromiseState.DONE else "Dropped"
            details.append(f"{closed} on {promise.done_on.isoformat()}")
        todo.add("description", "\n".join(details))
        todo.add("due", promise.due_on)
        todo.add("status", TODO_STATUS[status])
        if status is PromiseState.DONE and promise.done_on is not None:
            kept = dt.datetime.combine(promise.done_on, dt.time.min, tzinfo=zone)
            todo.add("completed", kept.astimezone(dt.UTC))
            todo.add("percent-complete", 100)
        todo.add("categories", ["promise"])
        todos.append(todo)
    return todos


def practice_ics(
    coach: Coach,
    today: dt.date,
    *,
    time_zone: str = "UTC",
    alarm_minutes: int = 0,
    now: dt.datetime | None = None,
) -> bytes:
    return practice_calendar(
        coach, today, time_zone=time_zone, alarm_minutes=alarm_minutes, now=now
    ).to_ical()
